"""Four weekly scans of ClipStream into one history, with planted changes (`demo --weeks`).

Each week's logs hold that week's traffic only, and the planted actors act on chosen
weeks, so the history must say:

- week 2: wang.lei stopped reading profiles from China: his finding is **resolved**;
  chen.jie starts reading them from China: a **new** finding.
- week 3: wang.lei is back: his finding is **reopened**; the emergency exception for
  li.na expired after week 2 (it was **expiring** in weeks 1 and 2), so her finding,
  muted until then, is open (**lapsed**).
- every week: the legacy copies in Singapore and Virginia hold fewer records (residency
  migration progress), nothing else changes.

The default `demo` is untouched: this module writes its own inputs through the same
company and traffic.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from borderwatch import api
from borderwatch.api import ProgressCallback
from borderwatch.demo import company as co
from borderwatch.demo.run import DemoInputs, write_cloudtrail
from borderwatch.demo.traffic import Access, generate
from borderwatch.errors import UsageError
from borderwatch.model.scan import ScanResult

WEEKS = 4
HISTORY_FOLDER = "history"
KEY_FOLDER = "keys"  # the demo's ledger key pair; a real deployment keeps its key elsewhere
# Records left in the legacy locations at each week's inventory (migration progress).
LEGACY_RECORDS = (12_500_000, 9_000_000, 5_000_000, 1_500_000)
# The planted actors and the weeks each one acts in; the others act every week.
CHEN_JIE = next(p for p in co.CN_STAFF if p.user == "chen.jie")
_EVERY_WEEK = tuple(range(1, WEEKS + 1))
_ACTIVE_WEEKS = {
    co.WANG_LEI.arn: (1, 3, 4),
    CHEN_JIE.arn: (2, 3, 4),
    co.ZHANG_WEI.arn: _EVERY_WEEK,
    co.LI_NA.arn: _EVERY_WEEK,
    co.CONTRACTOR_ARN: _EVERY_WEEK,
    co.LEGACY_SYNC_ARN: _EVERY_WEEK,
}
# The exception lapses this many days after the end of week 2.
EXCEPTION_DAYS_AFTER_WEEK_2 = 3


@dataclass(frozen=True)
class WeekRun:
    """One week: its number, the day it judged on, where its outputs are, the result."""

    week: int
    as_of: dt.date
    out: Path
    result: ScanResult


def week_ends(now: dt.datetime, weeks: int = WEEKS) -> list[dt.datetime]:
    """The end of each week, the last one `now` (on the hour)."""
    now = now.replace(minute=0, second=0, microsecond=0)
    return [now - dt.timedelta(days=7 * (weeks - 1 - k)) for k in range(weeks)]


def exception_expiry(now: dt.datetime) -> dt.date:
    """The last day the planted exception applies: three days after week 2 ends."""
    return week_ends(now)[1].date() + dt.timedelta(days=EXCEPTION_DAYS_AFTER_WEEK_2)


def week_accesses(week: int, end: dt.datetime, *, events: int, seed: int) -> Iterator[Access]:
    """The accesses of the 7 days before `end`, with the planted actors on their weeks."""
    start = end - dt.timedelta(days=7)
    # The generator spreads its traffic over 30 days; ask for enough to keep `events`.
    generated = list(generate(events * 30 // 7, seed + week, end))
    templates = {arn: [a for a in generated if a.principal == arn] for arn in _ACTIVE_WEEKS}
    # chen.jie's background work (metrics, public videos, denied tries), from China.
    chen_background = templates[CHEN_JIE.arn]
    for access in generated:
        if access.when < start or access.principal in _ACTIVE_WEEKS:
            continue
        yield access
    # The planted actors' generated accesses, moved into the week, on their weeks only.
    for arn, weeks in _ACTIVE_WEEKS.items():
        if week not in weeks or arn == CHEN_JIE.arn:
            continue
        for index, access in enumerate(templates[arn][:5]):
            yield dataclasses.replace(access, when=start + dt.timedelta(hours=13 + 29 * index))
    # chen.jie: his China address, now reading the profiles table.
    if week in _ACTIVE_WEEKS[CHEN_JIE.arn]:
        for index, access in enumerate(chen_background[:4]):
            yield dataclasses.replace(
                access,
                store=co.PROFILES,
                action="GetItem",
                error=None,
                when=start + dt.timedelta(hours=30 + 24 * index),
            )


def write_week(
    root: Path, week: int, end: dt.datetime, *, events: int, seed: int, expires: dt.date
) -> DemoInputs:
    """Write one week's policy, inventory, identities and CloudTrail under root."""
    root.mkdir(parents=True, exist_ok=True)
    inputs = DemoInputs(
        policy=root / "policy.yaml",
        inventory=root / "inventory.csv",
        identities=root / "identities.csv",
        cloudtrail=root / "cloudtrail",
    )
    inputs.policy.write_text(co.policy_yaml(end.date(), expires=expires), encoding="utf-8")
    legacy = LEGACY_RECORDS[min(week, len(LEGACY_RECORDS)) - 1]
    stores = tuple(
        dataclasses.replace(s, records=legacy) if s.store_id in (co.LEGACY_SG, co.LEGACY_VA) else s
        for s in co.STORES
    )
    inputs.inventory.write_text(co.inventory_csv(stores), encoding="utf-8")
    inputs.identities.write_text(co.identities_csv(), encoding="utf-8")
    write_cloudtrail(
        inputs.cloudtrail, week_accesses(week, end, events=events, seed=seed), seed, end
    )
    return inputs


def run_weeks(
    out: Path,
    *,
    events: int = 20_000,
    seed: int = 7,
    now: dt.datetime | None = None,
    progress: ProgressCallback | None = None,
) -> list[WeekRun]:
    """Scan four weeks into out/week-N, each recorded in the history out/history."""
    now = now or dt.datetime.now(dt.UTC)
    expires = exception_expiry(now)
    history = out / HISTORY_FOLDER
    if history.exists() and any(history.iterdir()):
        # The planted statuses hold for a history of these four weeks only.
        raise UsageError(f"{history} already holds a history: give demo --weeks a new --out")
    # The ledger beside the history is signed, so the board report shows a head signature
    # that `borderwatch verify out/history --key out/keys/ledger.pem.pub` checks.
    key, _ = api.keygen(out / KEY_FOLDER / "ledger.pem", force=True)
    runs: list[WeekRun] = []
    for week, end in enumerate(week_ends(now), start=1):
        folder = out / f"week-{week}"
        inputs = write_week(folder / "inputs", week, end, events=events, seed=seed, expires=expires)
        result = api.scan(
            policy=inputs.policy,
            inventory=[inputs.inventory],
            identities=[inputs.identities],
            events=[inputs.cloudtrail],
            out=folder,
            as_of=end.date(),
            context=api.new_context(progress=progress),
            history=history,
            sign_key=key,
        )
        runs.append(WeekRun(week, end.date(), folder, result))
    return runs
