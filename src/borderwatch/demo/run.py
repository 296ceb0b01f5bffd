"""`borderwatch demo`: write ClipStream's inputs, scan them, check the planted problems."""

from __future__ import annotations

import datetime as dt
import gzip
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from borderwatch import api
from borderwatch.api import ProgressCallback
from borderwatch.demo import company as co
from borderwatch.demo import dsp, feed, oversight
from borderwatch.demo.traffic import Access, generate, to_record
from borderwatch.model.scan import ScanResult


@dataclass
class DemoOutcome:
    """The scan result and how it compares with what was planted."""

    result: ScanResult
    expected: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DemoInputs:
    policy: Path
    inventory: Path
    identities: Path
    cloudtrail: Path
    # The feed log and its mapping (demo/feed.py); None where a demo writes no feed.
    feed: Path | None = None
    feed_mapping: Path | None = None


def write_inputs(root: Path, *, events: int, seed: int, now: dt.datetime) -> DemoInputs:
    """Write the policy, inventory, identities and a delivered CloudTrail tree under root."""
    root.mkdir(parents=True, exist_ok=True)
    inputs = DemoInputs(
        policy=root / "policy.yaml",
        inventory=root / "inventory.csv",
        identities=root / "identities.csv",
        cloudtrail=root / "cloudtrail",
        feed=root / "feed.jsonl",
        feed_mapping=root / "feed-mapping.yaml",
    )
    policy = (
        dsp.with_dsp(co.policy_yaml(now.date()))
        + oversight.policy_block()
        + feed.policy_yaml(now.date())
    )
    inputs.policy.write_text(policy, encoding="utf-8")
    feed.write_feed(root, seed=seed, today=now.date())
    inputs.inventory.write_text(co.inventory_csv(), encoding="utf-8")
    inputs.identities.write_text(co.identities_csv(), encoding="utf-8")
    _write_cloudtrail(inputs.cloudtrail, events, seed, now)
    oversight.write_inputs(root, now.date())
    return inputs


def _write_cloudtrail(root: Path, events: int, seed: int, now: dt.datetime) -> None:
    write_cloudtrail(root, generate(events, seed, now), seed, now)


def write_cloudtrail(root: Path, accesses: Iterable[Access], seed: int, now: dt.datetime) -> None:
    """One gzipped {"Records": [...]} file per region and hour, in S3 delivery layout."""
    by_file: dict[tuple[str, str], list[Access]] = defaultdict(list)
    regions = {s.store_id: s.region for s in co.STORES}
    for access in accesses:
        by_file[(regions[access.store], access.when.strftime("%Y%m%dT%H00Z"))].append(access)
    rng = random.Random(seed + 1)
    encoder = msgspec.json.Encoder()
    for index, ((region, stamp), accesses) in enumerate(sorted(by_file.items())):
        accesses.sort(key=lambda a: a.when)
        records = [to_record(a, rng) for a in accesses]
        if index == 0:
            # One record as a broken trail delivers it: no eventTime. It must be
            # quarantined and counted, not dropped and not fatal.
            broken = to_record(accesses[0], rng)
            del broken["eventTime"]
            records.append(broken)
        folder = root / "AWSLogs" / co.ACCOUNT / "CloudTrail" / region
        folder = folder / stamp[0:4] / stamp[4:6] / stamp[6:8]
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{co.ACCOUNT}_CloudTrail_{region}_{stamp}_{rng.getrandbits(32):08x}.json.gz"
        (folder / name).write_bytes(gzip.compress(encoder.encode({"Records": records}), 5))
    digest = root / "AWSLogs" / co.ACCOUNT / "CloudTrail-Digest" / "us-east-1"
    digest.mkdir(parents=True, exist_ok=True)
    (digest / f"{co.ACCOUNT}_CloudTrail-Digest_us-east-1_{now:%Y%m%dT%H%M}Z.json.gz").write_bytes(
        gzip.compress(
            encoder.encode(
                {
                    "awsAccountId": co.ACCOUNT,
                    "digestStartTime": (now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "digestEndTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "digestPublicKeyFingerprint": "0" * 32,
                    "digestSignatureAlgorithm": "SHA256withRSA",
                    "logFiles": [],
                }
            )
        )
    )


def run_demo(
    out: Path,
    *,
    events: int = 300_000,
    seed: int = 7,
    progress: ProgressCallback | None = None,
    now: dt.datetime | None = None,
    options: api.ScanOptions | None = None,
) -> DemoOutcome:
    """Generate the demo company under out/inputs, scan it into out, compare with the plan.

    `options` tune the scan (the engine among them: the parity tests run the demo on
    each engine); None: the defaults."""
    now = (now or dt.datetime.now(dt.UTC)).replace(minute=0, second=0, microsecond=0)
    inputs = write_inputs(out / "inputs", events=events, seed=seed, now=now)
    bulk = dsp.write_inputs(out / "inputs", now)  # ten months of a contractor's reads
    context = api.new_context(progress=progress)
    reviewed = oversight.scan_inputs(out / "inputs")
    result = api.scan(
        policy=inputs.policy,
        inventory=[inputs.inventory, bulk.inventory],
        identities=[inputs.identities, bulk.identities],
        events=[inputs.cloudtrail, bulk.cloudtrail],
        out=out,
        as_of=now.date(),
        context=context,
        # Coverage is judged over the month of the company's traffic; the contractor's
        # earlier months count for the DSP windows only.
        window=((now - dt.timedelta(days=30)).date(), now.date()),
        attestations=reviewed.attestations,
        deployments=reviewed.deployments,
        model_stores=reviewed.model_stores,
        feed=[inputs.feed] if inputs.feed else [],
        feed_mapping=inputs.feed_mapping,
        options=options,
    )
    return compare(result)


def compare(result: ScanResult) -> DemoOutcome:
    """Match findings to the planted problems on rule, subject and status."""
    planted = co.planted() + dsp.planted() + feed.planted()
    expected = {(p.rule, p.resource, p.principal, p.country, p.status): p for p in planted}
    found = {
        (f.rule, f.resource, f.principal, f.country, f.status.value): f for f in result.findings
    }
    return DemoOutcome(
        result=result,
        expected=[p.describe() for p in planted],
        missing=[p.describe() for key, p in expected.items() if key not in found],
        unexpected=[
            f"{f.rule}: {f.resource} {f.principal or ''} {f.country or ''} ({f.status.value})"
            for key, f in found.items()
            if key not in expected
        ],
    )
