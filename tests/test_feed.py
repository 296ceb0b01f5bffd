"""The feed audit end to end: the feed reader and its mapping, the counts, the policy's
feed_audit section, and scans with real feed log files (JSON lines and Parquet)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from borderwatch.api import scan
from borderwatch.cli import main
from borderwatch.errors import PolicyError
from borderwatch.ingest.feed import feed_counts
from borderwatch.model.scan import ScanResult
from borderwatch.policy import load_policy
from borderwatch.sources.feed import load_feed_mapping
from borderwatch.sources.generic import GenericSource
from borderwatch.sources.mapping import MappingError
from policykit import us_data_policy
from readerkit import fuzz_settings, read_with

DAY = dt.date(2026, 11, 2)  # the baseline's first day; the comparison starts 7 days on

MAPPING = """\
name: test-feed
input: {input}
columns:
  event_time: served_at
  viewer_region: viewer.region
  item: item.id
  topic: item.topic
  source_country: item.country
  creator: item.creator
  position: pos
  manual: heated
  intervention_reason: reason
"""


def feed_policy(name: str, *, tests: bool = True, cap: str | None = "0.02") -> str:
    text = us_data_policy(name) + "feed_audit:\n"
    if tests:
        text += f"""\
  tests:
    - id: country-share
      attribute: source_country
      baseline: {{from: {DAY}, to: {DAY + dt.timedelta(days=6)}}}
      comparison: {{from: {DAY + dt.timedelta(days=7)}, to: {DAY + dt.timedelta(days=13)}}}
      min_effect: 0.02
      alpha: 0.01
      max_distance: 0.2
      registered: 2026-10-01
"""
    if cap is not None:
        text += f"""\
  intervention:
    cap: {cap}
    approved:
      - reason: safety-notice
        approver: J. Roe
        ticket: SEC-1
        expires: {DAY + dt.timedelta(days=9)}
"""
    return text


def served(
    day: dt.date,
    country: str,
    count: int,
    *,
    reason: str | None = None,
    heated: bool = False,
    first_item: int = 0,
) -> Iterator[dict[str, Any]]:
    """`count` served records of one day and source country."""
    for index in range(count):
        record: dict[str, Any] = {
            "served_at": f"{day}T{index % 24:02d}:{index % 60:02d}:00Z",
            "viewer": {"region": "US-CA" if index % 2 else "US-NY"},
            "item": {
                "id": f"item-{country}-{first_item + index % 50}",
                "topic": ("music", "news")[index % 2],
                "country": country,
                "creator": f"creator-{index % 7}",
            },
            "pos": 1 + index % 20,
        }
        if heated:
            record["heated"] = True
        if reason is not None:
            record["reason"] = reason
        yield record


def boosted_feed(shares: dict[str, float], boost: str, points: float, daily: int) -> list[dict]:
    """Seven baseline days at `shares`, seven comparison days with `boost` gaining
    `points` from the others in proportion; exact counts per day."""
    rest = 1 - shares[boost]
    after = {c: s + points if c == boost else s * (rest - points) / rest for c, s in shares.items()}
    records: list[dict] = []
    for offset in range(14):
        day = DAY + dt.timedelta(days=offset)
        for country, share in (shares if offset < 7 else after).items():
            records.extend(served(day, country, round(share * daily)))
    return records


def write_jsonl(path: Path, records: list[dict], extra_lines: tuple[str, ...] = ()) -> Path:
    lines = [json.dumps(r) for r in records] + list(extra_lines)
    path.write_text("\n".join(lines) + "\n")
    return path


def write_mapping(tmp_path: Path, kind: str = "jsonl") -> Path:
    path = tmp_path / f"feed-{kind}.yaml"
    path.write_text(MAPPING.format(input=kind))
    return path


def write_policy(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path


def feed_scan(
    tmp_path: Path, policy: str, feed: list[Path], mapping: Path | None = None
) -> ScanResult:
    return scan(
        policy=write_policy(tmp_path, policy),
        feed=feed,
        feed_mapping=mapping or write_mapping(tmp_path),
        out=tmp_path / "out",
        as_of=DAY + dt.timedelta(days=14),
    )


def of_rule(result: ScanResult, rule: str) -> list[Any]:
    return [f for f in result.findings if f.rule == rule]


SHARES = {"US": 0.4, "GB": 0.2, "CN": 0.15, "DE": 0.15, "IN": 0.1}


# --- the reader -------------------------------------------------------------------------


def test_bad_feed_records_are_quarantined_with_their_line_and_counted(tmp_path: Path) -> None:
    good = list(served(DAY, "US", 3))
    no_time = {**good[0]}
    del no_time["served_at"]
    bad_position = {**good[0], "pos": 0}
    text_position = {**good[0], "pos": "top"}
    bad_flag = {**good[0], "heated": "maybe"}
    deep = {**good[0], "pos": 2**63 + 5}  # beyond a 64-bit integer
    path = write_jsonl(
        tmp_path / "feed.jsonl",
        [*good, no_time, bad_position, text_position, bad_flag],
        ('{"served_at": ', "[1, 2]", json.dumps(deep)),
    )
    read = read_with(load_feed_mapping(write_mapping(tmp_path)), path)
    assert read.read == 10
    assert len(read.rows) == 3
    reasons = {q.position: q.reason for q in read.quarantined}
    assert set(reasons) == {f"line {n}" for n in range(4, 11)}
    assert "beyond 1,000,000,000" in reasons["line 10"]
    assert "time missing" in reasons["line 4"]
    assert "position 0 is not a whole number of 1 or more" in reasons["line 5"]
    assert "'top'" in reasons["line 6"]
    assert "manual flag 'maybe'" in reasons["line 7"]
    assert "invalid JSON" in reasons["line 8"]
    assert "expected an object" in reasons["line 9"]
    row = read.rows[0]
    assert row["source_country"] == "US" and row["topic"] == "music"
    assert row["item"] == "item-US-0" and row["position"] == 1 and row["manual"] is False


def test_a_reason_makes_a_view_manual_whatever_its_flag_says(tmp_path: Path) -> None:
    records = [
        *served(DAY, "US", 1, reason="safety-notice"),
        *served(DAY, "US", 1, heated=True),
        {**next(served(DAY, "US", 1)), "heated": 0},
        {**next(served(DAY, "US", 1)), "heated": "1"},
    ]
    read = read_with(
        load_feed_mapping(write_mapping(tmp_path)), write_jsonl(tmp_path / "f.jsonl", records)
    )
    assert [(r["manual"], r["intervention_reason"]) for r in read.rows] == [
        (True, "safety-notice"),
        (True, None),
        (False, None),
        (True, None),
    ]


def test_a_feed_mapping_names_every_mistake_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\ninput: jsonl\ncolumns:\n  served: served_at\n  principal: user\n")
    with pytest.raises(MappingError) as caught:
        load_feed_mapping(path)
    messages = [(p.location.line, p.message) for p in caught.value.problems]
    assert (4, "'served' is not a field of a feed record") in messages
    assert (5, "'principal' is not a field of a feed record") in messages
    assert any("event_time" in message for _, message in messages)


def test_parquet_and_json_lines_give_the_same_counts(tmp_path: Path) -> None:
    # First, so that pyarrow's schema (from the first row) has the reason column.
    records = list(served(DAY, "US", 3, reason="safety-notice"))
    records += boosted_feed(SHARES, "CN", 0.05, 200)
    jsonl = write_jsonl(tmp_path / "feed.jsonl", records)
    parquet = tmp_path / "feed.parquet"
    pq.write_table(pa.Table.from_pylist(records), parquet)
    from_json = read_with(load_feed_mapping(write_mapping(tmp_path)), jsonl, batch_size=500)
    from_parquet = read_with(load_feed_mapping(write_mapping(tmp_path, "parquet")), parquet)
    assert from_json.read == from_parquet.read == len(records)

    def counts(rows: list[dict]) -> dict[str, list[dict]]:
        table = pa.Table.from_pylist(rows)
        return {
            name: sorted(t.to_pylist(), key=lambda r: json.dumps(r, default=str))
            for name, t in feed_counts(table).items()
        }

    assert counts(from_json.rows) == counts(from_parquet.rows)
    days = counts(from_json.rows)["feed_days"]
    assert sum(d["views"] for d in days) == len(records)
    assert sum(d["manual_views"] for d in days) == 3


# --- the policy section -----------------------------------------------------------------


def test_feed_audit_mistakes_are_named_at_their_line(tmp_path: Path) -> None:
    text = (
        feed_policy("mistakes")
        .replace("attribute: source_country", "attribute: colour")
        .replace("cap: 0.02", "cap: 0.0000000001")
    )
    with pytest.raises(PolicyError) as caught:
        load_policy(write_policy(tmp_path, text))
    found = {(p.location.line, p.message) for p in caught.value.problems}
    lines = text.splitlines()
    attribute_line = next(i for i, line in enumerate(lines, 1) if "colour" in line)
    assert any(line == attribute_line and "colour" in msg for line, msg in found), found
    cap_line = next(i for i, line in enumerate(lines, 1) if "cap:" in line)
    assert any(line == cap_line and "decimal" in msg for line, msg in found), found


def test_overlapping_windows_are_refused(tmp_path: Path) -> None:
    later = f"from: {DAY + dt.timedelta(days=7)}"
    text = feed_policy("overlap").replace(later, f"from: {DAY + dt.timedelta(days=3)}")
    with pytest.raises(PolicyError) as caught:
        load_policy(write_policy(tmp_path, text))
    assert any("overlap" in p.message for p in caught.value.problems)


def test_a_test_registered_after_its_comparison_began_is_refused(tmp_path: Path) -> None:
    text = feed_policy("late").replace(
        "registered: 2026-10-01", f"registered: {DAY + dt.timedelta(days=8)}"
    )
    with pytest.raises(PolicyError) as caught:
        load_policy(write_policy(tmp_path, text))
    assert any("not pre-registered" in p.message for p in caught.value.problems)


def test_the_examples_in_the_docs_are_valid(tmp_path: Path) -> None:
    text = (Path(__file__).resolve().parents[1] / "docs" / "oversight.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(next(b for b in blocks if b.startswith("name: clipstream-feed")))
    assert load_feed_mapping(mapping).name == "clipstream-feed"
    section = next(b for b in blocks if b.startswith("feed_audit:"))
    policy = load_policy(write_policy(tmp_path, us_data_policy("docs") + section))
    assert policy.feed_audit is not None and policy.feed_audit.intervention is not None
    assert [t.attribute for t in policy.feed_audit.tests] == ["source_country"]
    assert str(policy.feed_audit.intervention.cap) == "0.0002"


def test_the_cap_keeps_the_decimal_the_policy_wrote(tmp_path: Path) -> None:
    policy = load_policy(write_policy(tmp_path, feed_policy("cap", cap="0.0002")))
    assert policy.feed_audit is not None and policy.feed_audit.intervention is not None
    assert str(policy.feed_audit.intervention.cap) == "0.0002"


# --- scans ------------------------------------------------------------------------------


def test_a_planted_boost_is_found_end_to_end_from_a_feed_log(tmp_path: Path) -> None:
    feed = write_jsonl(tmp_path / "feed.jsonl", boosted_feed(SHARES, "CN", 0.05, 1000))
    result = feed_scan(tmp_path, feed_policy("boost", cap=None), [feed])
    shifts = of_rule(result, "feed.exposure-shift")
    assert [f.resource for f in shifts] == ["country-share: source_country=CN"]
    evidence = shifts[0].evidence
    assert evidence["baseline_views"] == 7 * 150 and evidence["comparison_views"] == 7 * 200
    # 1,000 a day before; after, the others' scaled shares round to 999 a day.
    assert (evidence["baseline_total"], evidence["comparison_total"]) == (7000, 6993)
    assert evidence["effect"] == pytest.approx(200 / 999 - 0.15)
    assert evidence["p_adjusted"] < 0.01 and evidence["p_value"] <= evidence["p_adjusted"]
    assert evidence["declaration"]["min_effect"] == 0.02
    assert evidence["declaration"]["baseline"] == f"{DAY} to {DAY + dt.timedelta(days=6)}"
    assert evidence["declaration"]["registered"] == "2026-10-01"
    assert "from 15.00% to 20.02% (+5.02 percentage points;" in shifts[0].message
    feed_input = next(i for i in result.inputs if i.kind == "feed")
    assert (feed_input.records_read, feed_input.accepted) == (13993, 13993)


def test_an_unshifted_feed_raises_nothing(tmp_path: Path) -> None:
    feed = write_jsonl(tmp_path / "feed.jsonl", boosted_feed(SHARES, "CN", 0.0, 1000))
    result = feed_scan(tmp_path, feed_policy("flat", cap=None), [feed])
    assert not [f for f in result.findings if f.rule.startswith(("feed.", "coverage.feed"))]


def test_a_manual_share_above_the_cap_is_found_exactly_and_one_at_it_is_not(
    tmp_path: Path,
) -> None:
    at_cap, above = DAY, DAY + dt.timedelta(days=1)
    records = [
        *served(at_cap, "US", 4900),
        *served(at_cap, "US", 100, reason="safety-notice"),  # 100 / 5000 = 0.02: at the cap
        *served(above, "US", 4899),
        *served(above, "US", 101, reason="safety-notice"),  # 101 / 5000 = 0.0202
    ]
    feed = write_jsonl(tmp_path / "feed.jsonl", records)
    result = feed_scan(tmp_path, feed_policy("cap", tests=False, cap="0.02"), [feed])
    over = of_rule(result, "feed.intervention-share")
    assert [f.resource for f in over] == [f"feed day {above}"]
    assert over[0].evidence == {
        "day": str(above),
        "views": 5000,
        "manual_views": 101,
        "share": 0.0202,
        "cap": "0.02",
    }
    assert over[0].count == 101
    assert not of_rule(result, "feed.unapproved-intervention")


def test_interventions_off_the_approved_list_are_found(tmp_path: Path) -> None:
    expired_day = DAY + dt.timedelta(days=10)  # the approval's last day is DAY + 9
    records = [
        *served(DAY, "US", 10_000),
        *served(DAY, "US", 2, reason="safety-notice"),
        *served(DAY, "CN", 3, reason="<b>editorial</b> boost"),
        *served(DAY, "CN", 1, heated=True, first_item=7),
        *served(expired_day, "US", 10_000),
        *served(expired_day, "US", 4, reason="safety-notice"),
    ]
    feed = write_jsonl(tmp_path / "feed.jsonl", records)
    result = feed_scan(tmp_path, feed_policy("interventions", tests=False), [feed])
    found = {f.resource: f for f in of_rule(result, "feed.unapproved-intervention")}
    assert set(found) == {"<b>editorial</b> boost", "safety-notice", None}
    assert found["<b>editorial</b> boost"].evidence["status"] == "not-approved"
    assert found["<b>editorial</b> boost"].count == 3
    assert found["<b>editorial</b> boost"].evidence["sample_items"] == [
        "item-CN-0",
        "item-CN-1",
        "item-CN-2",
    ]
    expired = found["safety-notice"]
    assert expired.evidence["status"] == "approval-expired"
    assert (expired.count, expired.first_seen) == (4, str(expired_day))
    assert found[None].evidence["status"] == "no-reason"
    assert found[None].evidence["sample_items"] == ["item-CN-7"]
    # Hostile text from the log stays text in the HTML report.
    html = (tmp_path / "out" / "report.html").read_text()
    assert "<b>editorial</b>" not in html and "&lt;b&gt;editorial&lt;/b&gt;" in html


def test_a_test_whose_window_has_no_views_is_a_coverage_gap(tmp_path: Path) -> None:
    baseline_only = [
        r
        for r in boosted_feed(SHARES, "CN", 0.0, 100)
        if r["served_at"] < str(DAY + dt.timedelta(days=7))
    ]
    feed = write_jsonl(tmp_path / "feed.jsonl", baseline_only)
    result = feed_scan(tmp_path, feed_policy("gap", cap=None), [feed])
    gaps = of_rule(result, "coverage.feed-no-data")
    assert [f.resource for f in gaps] == ["feed test country-share"]
    assert gaps[0].evidence["empty_windows"] == ["comparison"]
    assert not of_rule(result, "feed.exposure-shift")
    assert result.verdict != "pass"
    assert gaps[0] in result.coverage_gaps()


def test_a_window_with_a_day_without_views_is_a_gap_but_the_test_runs(tmp_path: Path) -> None:
    lost = str(DAY + dt.timedelta(days=10))  # a comparison day whose delivery is missing
    records = [r for r in boosted_feed(SHARES, "CN", 0.05, 1000) if r["served_at"][:10] != lost]
    feed = write_jsonl(tmp_path / "feed.jsonl", records)
    result = feed_scan(tmp_path, feed_policy("lost-day", cap=None), [feed])
    [gap] = of_rule(result, "coverage.feed-no-data")
    assert (gap.resource, gap.count, gap.first_seen) == ("feed test country-share", 1, lost)
    assert gap.evidence["missing_days"] == [lost]
    assert "1 day(s) of its windows" in gap.message
    # The test still ran on the days there are, and says so in the summary.
    assert [f.resource for f in of_rule(result, "feed.exposure-shift")] == [
        "country-share: source_country=CN"
    ]
    assert result.feed_tests[0].days_missing == 1
    assert result.verdict == "fail"


def test_a_declared_feed_audit_without_a_feed_is_a_coverage_gap(tmp_path: Path) -> None:
    result = scan(policy=write_policy(tmp_path, feed_policy("nofeed")), out=tmp_path / "out")
    gaps = {f.resource for f in of_rule(result, "coverage.feed-no-data")}
    assert gaps == {"feed test country-share", "feed intervention cap"}


def test_a_feed_folder_with_a_fifo_lists_it_as_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "feed"
    folder.mkdir()
    write_jsonl(folder / "day.jsonl", boosted_feed(SHARES, "CN", 0.0, 100))
    os.mkfifo(folder / "pipe.jsonl")
    result = feed_scan(tmp_path, feed_policy("fifo", cap=None), [folder])
    feed_inputs = {Path(i.path).name: i for i in result.inputs if i.kind == "feed"}
    assert set(feed_inputs) == {"day.jsonl", "pipe.jsonl"}
    assert feed_inputs["pipe.jsonl"].format == "skipped"
    assert feed_inputs["pipe.jsonl"].note.startswith("skipped: ")
    assert feed_inputs["day.jsonl"].accepted == 1400


def test_the_cli_reads_the_feed_and_refuses_a_feed_without_its_mapping(tmp_path: Path) -> None:
    feed = write_jsonl(tmp_path / "feed.jsonl", boosted_feed(SHARES, "CN", 0.05, 300))
    policy = write_policy(tmp_path, feed_policy("cli", cap=None))
    args = ["scan", "--policy", str(policy), "--quiet", "--feed", str(feed)]
    refused = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "a")])
    assert refused.exit_code == 2
    assert "--feed needs --feed-mapping" in refused.output
    mapping = write_mapping(tmp_path)
    ran = CliRunner().invoke(
        main, [*args, "--feed-mapping", str(mapping), "--out", str(tmp_path / "b")]
    )
    assert ran.exit_code == 1, ran.output
    findings = json.loads((tmp_path / "b" / "findings.json").read_text())
    assert "country-share: source_country=CN" in {f["resource"] for f in findings}
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    feed_inputs = [i for i in summary["inputs"] if i["kind"] == "feed"]
    assert feed_inputs[0]["records_read"] == feed_inputs[0]["accepted"] == 4193
    [outcome] = summary["feed_tests"]
    assert outcome["test_id"] == "country-share" and outcome["status"] == "tested"
    assert outcome["shifted_values"] == ["CN"] and outcome["raised"] is True
    assert (outcome["baseline_total"], outcome["comparison_total"]) == (2100, 2093)
    assert outcome["values_tested"] == 5


def test_a_test_that_ran_and_found_nothing_is_in_the_summary(tmp_path: Path) -> None:
    feed = write_jsonl(tmp_path / "feed.jsonl", boosted_feed(SHARES, "CN", 0.0, 200))
    result = feed_scan(tmp_path, feed_policy("quiet", cap=None), [feed])
    [outcome] = result.feed_tests
    assert (outcome.status, outcome.raised, outcome.values_tested) == ("tested", False, 5)
    assert outcome.distance is not None and outcome.distance < 0.01
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["feed_tests"][0]["raised"] is False


def test_a_feed_without_a_feed_audit_is_read_and_said_not_judged(tmp_path: Path) -> None:
    feed = write_jsonl(tmp_path / "feed.jsonl", list(served(DAY, "US", 5, reason="x")))
    result = feed_scan(tmp_path, us_data_policy("no-audit"), [feed])
    assert not [f for f in result.findings if f.rule.startswith(("feed.", "coverage.feed"))]
    assert any("5 served recommendation(s) were read" in note for note in result.notes)
    assert result.feed_tests == ()


# --- properties -------------------------------------------------------------------------

_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=8,
)
_FIELD_VALUES = {
    "served_at": st.sampled_from(["2026-11-02T10:00:00Z", "yesterday", "", 1.7e9]) | _JSON_VALUES,
    "pos": st.integers(-2, 30)
    | st.sampled_from(["3", "1.5", "top", 2**63 + 5, 10**12, "1e400"])
    | _JSON_VALUES,
    "heated": st.sampled_from([True, False, "true", 1, 0, "0", "maybe"]) | _JSON_VALUES,
    "reason": st.text(max_size=8) | _JSON_VALUES,
    "item": st.fixed_dictionaries({}, optional={"id": _JSON_VALUES, "country": _JSON_VALUES}),
}


@fuzz_settings(60)
@given(
    records=st.lists(
        st.fixed_dictionaries({}, optional=_FIELD_VALUES) | _JSON_VALUES, min_size=1, max_size=12
    )
)
def test_any_json_record_is_read_or_quarantined_never_lost(
    tmp_path: Path, records: list[Any]
) -> None:
    # A good record first: the file is JSON lines (a lone "[...]" would be one document).
    records = [next(served(DAY, "US", 1)), *records]
    path = write_jsonl(tmp_path / "fuzz.jsonl", records)
    source = load_feed_mapping(write_mapping(tmp_path))
    read = read_with(source, path, batch_size=5)  # checks every batch's accounting
    assert read.read == len(records)
    assert len(read.rows) + len(read.quarantined) == len(records)
    for row in read.rows:
        assert row["event_time"] is not None
        assert row["position"] is None or row["position"] >= 1
        assert isinstance(row["manual"], bool)


@fuzz_settings(40)
@given(data=st.data())
def test_counts_of_any_split_sum_to_the_counts_of_the_whole(
    tmp_path: Path, data: st.DataObject
) -> None:
    """Counts are sums: the pieces of any split into batches add up to the whole's."""
    records = data.draw(
        st.lists(
            st.tuples(
                st.integers(0, 3),
                st.sampled_from(["US", "CN", None]),
                st.sampled_from([None, "safety-notice", "boost"]),
                st.booleans(),
            ),
            min_size=1,
            max_size=40,
        )
    )
    rows = [
        {
            **next(served(DAY + dt.timedelta(days=day), country or "US", 1)),
            **({"item": {"id": "i1"}} if country is None else {}),
            **({"reason": reason} if reason else {}),
            "heated": heated,
        }
        for day, country, reason, heated in records
    ]
    path = write_jsonl(tmp_path / "split.jsonl", rows)
    whole = read_with(load_feed_mapping(write_mapping(tmp_path)), path, batch_size=1000)
    table = pa.Table.from_pylist(whole.rows)
    cut = data.draw(st.integers(0, table.num_rows))
    pieces = [feed_counts(table.slice(0, cut)), feed_counts(table.slice(cut))]

    def summed(tables: list[pa.Table], keys: tuple[str, ...]) -> dict[tuple, tuple]:
        total: dict[tuple, tuple] = {}
        for t in tables:
            for row in t.to_pylist():
                key = tuple(row[k] for k in keys)
                sums = tuple(v for k, v in row.items() if k not in keys)
                old = total.get(key, (0,) * len(sums))
                total[key] = tuple(a + b for a, b in zip(old, sums, strict=True))
        return total

    keys = {
        "feed_views": ("day", "viewer_region", "attribute", "value"),
        "feed_days": ("day",),
        "feed_interventions": ("day", "reason", "item"),
    }
    once = feed_counts(table)
    for name, key in keys.items():
        assert summed([p[name] for p in pieces], key) == summed([once[name]], key)
    assert sum(once["feed_days"]["views"].to_pylist()) == len(records)
    assert sum(once["feed_days"]["manual_views"].to_pylist()) == sum(
        1 for _, _, reason, heated in records if reason or heated
    )


def _both_ways(source: Any, path: Path) -> tuple[Any, Any]:
    """The column-wise read and the record-by-record read of one file, comparable."""

    def comparable(batches: list[Any]) -> tuple[list[dict], list[tuple[str, str]], int]:
        for batch in batches:
            assert batch.records_read == batch.events.num_rows + len(batch.quarantined)
        rows = [row for batch in batches for row in batch.events.to_pylist()]
        quarantined = [(q.position, q.reason) for b in batches for q in b.quarantined]
        return (
            sorted(rows, key=lambda row: row["input_record"]),
            sorted(quarantined),
            sum(batch.records_read for batch in batches),
        )

    fast = comparable(list(source.read(path, batch_size=7)))
    slow = comparable(list(GenericSource.read(source, path, batch_size=7)))
    return fast, slow


@fuzz_settings(60)
@given(
    records=st.lists(
        st.fixed_dictionaries({}, optional=_FIELD_VALUES) | _JSON_VALUES, min_size=1, max_size=30
    ),
    blank=st.booleans(),
)
def test_column_wise_reading_gives_what_record_by_record_reading_gives(
    tmp_path: Path, records: list[Any], blank: bool
) -> None:
    """The fast path (sources/feed_columns.py) reads the same rows, with the same numbers,
    and quarantines the same records for the same reasons as the per-record reader."""
    records = [next(served(DAY, "US", 1)), *records]
    lines = [json.dumps(r) for r in records]
    if blank:
        lines.insert(2, "")
    path = tmp_path / "fuzz.jsonl"
    path.write_text("\n".join(lines) + "\n")
    fast, slow = _both_ways(load_feed_mapping(write_mapping(tmp_path)), path)
    assert fast == slow


def test_column_wise_reading_of_parquet_and_of_clean_lines_matches(tmp_path: Path) -> None:
    records = list(served(DAY, "US", 3, reason="safety-notice"))
    records += boosted_feed(SHARES, "CN", 0.05, 50)
    records += [{**records[0], "pos": 0}, {**records[0], "served_at": "2026-11-02T10:00:00+01:00"}]
    jsonl = write_jsonl(tmp_path / "feed.jsonl", records)
    fast, slow = _both_ways(load_feed_mapping(write_mapping(tmp_path)), jsonl)
    assert fast == slow and len(fast[0]) == len(records) - 1
    parquet = tmp_path / "feed.parquet"
    pq.write_table(pa.Table.from_pylist(records), parquet)
    fast, slow = _both_ways(load_feed_mapping(write_mapping(tmp_path, "parquet")), parquet)
    assert fast == slow and len(fast[0]) == len(records) - 1
