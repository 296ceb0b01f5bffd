"""Events read more than once: the sample of event ids and what it tells."""

from __future__ import annotations

import pyarrow as pa

from borderwatch.evaluate.duckdb_engine import DuckDBEngine
from borderwatch.ingest.repeats import (
    SAMPLE_SCHEMA,
    TABLE,
    Repeats,
    find_repeats,
    sample_of,
)


def test_the_sample_keeps_the_ids_ending_in_the_suffix_with_their_input() -> None:
    events = pa.table(
        {
            "event_id": ["a-100", "a-101", None, "b-200", "00-a"],
            "input_path": ["x", "x", "x", "y", "y"],
            "caller": ["1.1.1.1"] * 5,
        }
    )
    sample = sample_of(events)
    assert sample.schema == SAMPLE_SCHEMA
    assert sample.to_pylist() == [
        {"event_id": "a-100", "input_path": "x"},
        {"event_id": "b-200", "input_path": "y"},
    ]


def _found(rows: list[tuple[str, str]]) -> Repeats:
    engine = DuckDBEngine()
    try:
        engine.create_table(
            TABLE,
            pa.table(
                {"event_id": [r[0] for r in rows], "input_path": [r[1] for r in rows]},
                schema=SAMPLE_SCHEMA,
            ),
        )
        return find_repeats(engine)
    finally:
        engine.close()


def test_repeats_count_every_copy_after_the_first() -> None:
    found = _found(
        [
            ("y00", "org/a.json"),
            ("x00", "acct/a.json"),
            ("x00", "org/a.json"),
            ("y00", "org/a.json"),
            ("y00", "acct/b.json"),
            ("z00", "acct/c.json"),
        ]
    )
    assert found == Repeats(6, 3, "x00", ("acct/a.json", "org/a.json"))
    # Three of six sampled events repeat: half of all events, estimated...
    assert found.estimate(1000) == 500
    warning = found.warning(1000)
    assert warning is not None
    assert "3 of the 6 events checked" in warning
    assert "'x00' in acct/a.json and org/a.json." in warning
    # ... but three repeats say too little: the estimate is withheld.
    assert "about 500" not in warning and "include some repeats" in warning
    assert "under 30" in warning and "run --exact-repeats" in warning


def test_enough_repeats_give_an_estimate_with_a_95_percent_interval() -> None:
    # 40 of 400 sampled events repeat: 10%, known to about +-3 points.
    repeats = Repeats(400, 40, "x00", ("a.json", "b.json"))
    low, high = repeats.interval(100_000)
    assert low < repeats.estimate(100_000) == 10_000 < high
    # Clopper-Pearson for 40 of 400: 7.24% to 13.37%.
    assert (low, high) == (7_241, 13_368)
    warning = repeats.warning(100_000)
    assert warning is not None
    assert "about 10,000 repeats (10.0%; 95% interval 7,241 to 13,368)" in warning
    # A larger sample narrows the interval around the same share.
    wider = Repeats(4_000, 400).interval(100_000)
    assert low < wider[0] < wider[1] < high
    # Never below the repeats seen, which are certain.
    assert Repeats(30, 30).interval(10) == (30, 30)


def test_the_cause_named_is_that_of_the_format_read() -> None:
    trails = Repeats(400, 40, "x00", ("a",), ("cloudtrail",)).warning(1000) or ""
    assert "Two trails delivering the same events" in trails
    workspace = Repeats(400, 40, "x00", ("a",), ("gworkspace",)).warning(1000) or ""
    assert "trail" not in workspace and "Reports API pulls" in workspace
    unknown = Repeats(400, 40, "x00", ("a",), ()).warning(1000) or ""
    assert "trail" not in unknown and "The same logs exported or copied twice" in unknown
    both = Repeats(400, 40, "x00", ("a",), ("cloudtrail", "okta")).causes()
    assert "two trails" in both and "System Log pulls" in both


def test_the_formats_of_the_inputs_holding_repeats_are_found() -> None:
    engine = DuckDBEngine()
    try:
        rows = [("x00", "ct/a.json"), ("x00", "ct/b.json"), ("y00", "okta/c.json")]
        engine.create_table(
            TABLE,
            pa.table(
                {"event_id": [r[0] for r in rows], "input_path": [r[1] for r in rows]},
                schema=SAMPLE_SCHEMA,
            ),
        )
        formats = {"ct/a.json": "cloudtrail", "ct/b.json": "cloudtrail", "okta/c.json": "okta"}
        assert find_repeats(engine, formats).formats == ("cloudtrail",)
    finally:
        engine.close()


def test_no_repeats_no_warning_and_an_empty_sample_estimates_nothing() -> None:
    assert _found([("x00", "a"), ("y00", "a")]) == Repeats(2, 0)
    assert _found([]).warning(10) is None
    assert Repeats(0, 0).estimate(10) == 0


def test_an_id_from_the_logs_is_shown_quoted_and_cut() -> None:
    hostile = "<script>x</script>\n" * 10 + "00"
    warning = Repeats(2, 1, hostile, ("a.json",)).warning(2)
    assert warning is not None
    assert "\n" not in warning  # quoted: a newline shows as \n
    assert "..." in warning and hostile not in warning
    assert "in a.json (twice in one input)" in warning
    # Never fewer than the repeats actually seen, whatever the scaling says.
    assert Repeats(100, 1, "x00", ("a",)).estimate(10) == 1
