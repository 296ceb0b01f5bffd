"""The demo company's feed: two weeks of served recommendations with a planted boost.

ClipStream's policy declares, in advance, one exposure test on the items' source
country: the reviewed baseline is the week before last (14 to 8 days ago), the comparison the
last week. In the comparison week the items from one source country (BOOSTED) get five
percentage points more of the views, taken from every other country in proportion: a
steering the test must find, while no other country's share moves by the two points
the policy says matter. The views per country and day are exact (not drawn at random),
so the finding does not depend on the seed; which items, creators, topics and positions
carry them is random.

A few items a day are placed by hand for a reason the policy approves, below the cap:
they are not findings. One record is broken (no time): quarantined and counted.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path

import msgspec

from borderwatch.demo.company import Planted

BOOSTED = "CN"
BOOST = 0.05
# Organic shares of views by the items' source country.
SHARES: dict[str, float] = {
    "US": 0.25,
    "GB": 0.20,
    "DE": 0.20,
    "IN": 0.15,
    BOOSTED: 0.10,
    "BR": 0.10,
}
TOPICS = ("music", "sports", "comedy", "news", "gaming", "food")
REGIONS = ("US-CA", "US-NY", "US-TX", "US-FL")
VIEWS_PER_DAY = 2_000
MANUAL_PER_DAY = 1
APPROVED_REASON = "public-safety-notice"
TEST_ID = "source-country-share"

MAPPING_YAML = """\
# How borderwatch reads ClipStream's served-recommendation log (JSON lines).
name: clipstream-feed
description: ClipStream served recommendations (fictional)
input: jsonl
columns:
  event_time: served_at
  viewer_region: viewer.region
  item: item.id
  topic: item.topic
  source_country: item.source_country
  creator: item.creator
  position: position
  manual: heated
  intervention_reason: heat_reason
"""


def windows(today: dt.date) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]]:
    """(baseline, comparison): each seven whole days, ending yesterday for comparison."""
    comparison = (today - dt.timedelta(days=7), today - dt.timedelta(days=1))
    baseline = (today - dt.timedelta(days=14), today - dt.timedelta(days=8))
    return baseline, comparison


def policy_yaml(today: dt.date) -> str:
    """The policy's feed_audit section, to append to the company's policy."""
    (base_from, base_to), (comp_from, comp_to) = windows(today)
    return f"""\
feed_audit:
  tests:
    - id: {TEST_ID}
      description: Whose content is shown, by the items' source country
      attribute: source_country
      baseline: {{from: {base_from}, to: {base_to}}}
      comparison: {{from: {comp_from}, to: {comp_to}}}
      min_effect: 0.02
      alpha: 0.01
      max_distance: 0.1
      registered: {base_from - dt.timedelta(days=30)}
  intervention:
    cap: 0.001
    approved:
      - reason: {APPROVED_REASON}
        approver: Security committee (J. Roe, chair)
        ticket: SEC-5120
        description: Pinned public-safety notices during emergencies
"""


def planted() -> list[Planted]:
    """What the feed plants: the boosted source country's exposure."""
    return [Planted("feed.exposure-shift", f"{TEST_ID}: source_country={BOOSTED}")]


def write_feed(root: Path, *, seed: int, today: dt.date) -> tuple[Path, Path]:
    """Write the feed log and its mapping under root; returns (feed, mapping)."""
    feed, mapping = root / "feed.jsonl", root / "feed-mapping.yaml"
    mapping.write_text(MAPPING_YAML, encoding="utf-8")
    encoder = msgspec.json.Encoder()
    with feed.open("wb") as out:
        for record in _records(random.Random(seed + 20), today):
            out.write(encoder.encode(record) + b"\n")
    return feed, mapping


def _records(rng: random.Random, today: dt.date) -> Iterator[dict[str, object]]:
    (base_from, _), (comp_from, comp_to) = windows(today)
    boosted = _boosted(SHARES)
    day = base_from
    while day <= comp_to:
        shares = boosted if day >= comp_from else SHARES
        countries = [c for c, share in shares.items() for _ in range(round(share * VIEWS_PER_DAY))]
        rng.shuffle(countries)
        for index, country in enumerate(countries):
            yield _record(rng, day, country, manual=index < MANUAL_PER_DAY)
        if day == base_from:
            broken = _record(rng, day, "US", manual=False)
            del broken["served_at"]  # a broken delivery: quarantined, never guessed
            yield broken
        day += dt.timedelta(days=1)


def _boosted(shares: dict[str, float]) -> dict[str, float]:
    """The boosted country gains BOOST; every other country gives in proportion."""
    rest = 1 - shares[BOOSTED]
    scale = (rest - BOOST) / rest
    return {c: s + BOOST if c == BOOSTED else s * scale for c, s in shares.items()}


def _record(rng: random.Random, day: dt.date, country: str, *, manual: bool) -> dict[str, object]:
    seconds = rng.randrange(86_400)
    served = dt.datetime.combine(day, dt.time(), dt.UTC) + dt.timedelta(seconds=seconds)
    record: dict[str, object] = {
        "served_at": served.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "viewer": {"region": rng.choice(REGIONS)},
        "item": {
            "id": f"v{rng.randrange(10**9):09d}",
            "topic": rng.choice(TOPICS),
            "source_country": country,
            "creator": f"creator-{country.lower()}-{rng.randrange(40):02d}",
        },
        "position": rng.randint(1, 30),
        "heated": manual,
    }
    if manual:
        record["heat_reason"] = APPROVED_REASON
    return record
