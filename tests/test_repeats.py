"""Events read more than once: the sample of event ids and what it tells."""

from __future__ import annotations

import pyarrow as pa

from borderwatch.engine.duckdb_engine import DuckDBEngine
from borderwatch.engine.repeats import (
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
    # Three of six sampled events repeat: half of all events, estimated.
    assert found.estimate(1000) == 500
    warning = found.warning(1000)
    assert warning is not None
    assert "3 of the 6 events checked" in warning
    assert "'x00' in acct/a.json and org/a.json." in warning
    assert "about 500 repeats (50.0%)" in warning


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
