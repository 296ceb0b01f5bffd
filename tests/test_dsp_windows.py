"""The Data Security Program's rolling windows and subject ids.

evaluate/dsp_windows.py counts the distinct subjects of the 365-day window ending on
every day from steps; here it must equal, on every day, the count taken the slow way
(each window's subjects gathered and counted), for any history, read in one slice or in
many. Subject ids come from resource names by the store's pattern (ingest/subjects.py).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from borderwatch.evaluate.dsp_windows import windows_table
from borderwatch.evaluate.duckdb_engine import DuckDBEngine
from borderwatch.ingest.subjects import WHOLE_STORE, hash_subjects, subject_column

START = dt.date(2025, 1, 1)

# (day offset, subject; 0 = the whole store, volume 50) of one counterparty and category.
accesses = st.lists(st.tuples(st.integers(0, 800), st.integers(0, 6)), min_size=1, max_size=40)


def _windows(
    rows: list[tuple[int, int]], slice_rows: int = 1_000_000, counterparty: str = "entity:x"
) -> dict[dt.date, int]:
    table = _windows_of({counterparty: rows}, slice_rows)
    return table[counterparty]


def _windows_of(
    by_counterparty: dict[str, list[tuple[int, int]]], slice_rows: int
) -> dict[str, dict[dt.date, int]]:
    rows = [(c, d, s) for c, accesses in by_counterparty.items() for d, s in accesses]
    reach = pa.table(
        {
            "counterparty": [c for c, _, _ in rows],
            "category": ["biometric"] * len(rows),
            "day": pa.array([START + dt.timedelta(days=d) for _, d, _ in rows], pa.date32()),
            "subject": pa.array([s for _, _, s in rows], pa.int64()),
            "store_id": ["s"] * len(rows),
            "store_subjects": pa.array([50] * len(rows), pa.int64()),
        }
    )
    engine = DuckDBEngine()
    try:
        engine.create_table("dsp_reach", reach)
        table = windows_table(engine, slice_rows).to_pylist()
    finally:
        engine.close()
    found: dict[str, dict[dt.date, int]] = {c: {} for c in by_counterparty}
    for r in table:
        found[r["counterparty"]][r["window_to"]] = r["named_subjects"] + r["whole_store_subjects"]
    return found


def _slow(rows: list[tuple[int, int]], day: int) -> int:
    """Distinct subjects in the window ending on `day` (day-364 .. day), counted directly."""
    inside = {s for d, s in rows if day - 364 <= d <= day}
    return len(inside - {WHOLE_STORE}) + (50 if WHOLE_STORE in inside else 0)


@settings(max_examples=60, deadline=None)
@given(accesses, st.sampled_from([1_000_000, 3]))
def test_every_days_window_equals_the_count_taken_directly(
    rows: list[tuple[int, int]], slice_rows: int
) -> None:
    steps = _windows(rows, slice_rows)
    assert steps  # a step on every access day at least
    current = 0
    for day in range(0, 800 + 366):
        current = steps.get(START + dt.timedelta(days=day), current)
        assert current == _slow(rows, day), day


@settings(max_examples=40, deadline=None)
@given(accesses, accesses, st.sampled_from([1_000_000, 3]))
def test_counterparties_are_counted_apart_across_slices(
    first: list[tuple[int, int]], second: list[tuple[int, int]], slice_rows: int
) -> None:
    # Two counterparties share subject ids; each one's windows are its own, however the
    # rows fall into slices (each slice's steps are summed per group and day, then merged).
    found = _windows_of({"entity:a": first, "entity:b": second}, slice_rows)
    for counterparty, rows in (("entity:a", first), ("entity:b", second)):
        current = 0
        for day in range(0, 800 + 366):
            current = found[counterparty].get(START + dt.timedelta(days=day), current)
            assert current == _slow(rows, day), (counterparty, day)


def test_day_365_is_in_the_window_and_day_366_is_out() -> None:
    steps = _windows([(0, 1), (364, 2), (365, 3)])
    assert steps[START + dt.timedelta(days=364)] == 2  # days 1 and 365
    assert steps[START + dt.timedelta(days=365)] == 2  # day 1 has left, day 366 came


def test_subjects_come_from_the_stores_pattern_and_a_read_without_one_is_whole() -> None:
    resources = pa.array(
        [
            ["arn:aws:s3:::bank/genomes/17/reads.bam", "bank"],
            ["arn:aws:s3:::bank/genomes/17/other.bam", "bank"],
            ["arn:aws:s3:::bank/exports/all.tar", "bank"],
            ["bank"],
            ["arn:aws:s3:::plain/x"],
            ["arn:aws:s3:::other/genomes/17/reads.bam"],
        ],
        pa.list_(pa.string()),
    )
    actions = pa.array(
        ["GetObject", "GetObject", "GetObject", "GetBucketAcl", "GetObject", "GetObject"]
    )
    patterns = ("genomes/(?P<subject>[0-9]+)/", None, False)
    codes = np.array([0, 0, 0, 0, 1, 2])
    rows, subjects = subject_column(resources, actions, codes, patterns)
    seventeen = hash_subjects(pa.array(["17"])).to_pylist()[0]
    assert rows.tolist() == [0, 1, 2, 3, 4, 5]  # one subject each: one row each
    assert subjects.to_pylist() == [seventeen, seventeen, WHOLE_STORE, None, WHOLE_STORE, None]
    assert seventeen not in (None, WHOLE_STORE)


def test_a_row_naming_several_subjects_comes_once_per_distinct_subject() -> None:
    """A batch (S3 DeleteObjects, a BatchGetItem, an event listing several objects)
    names every subject it reached, not only the first."""
    resources = pa.array(
        [
            ["bank", "arn:aws:s3:::bank/genomes/1/a", "arn:aws:s3:::bank/genomes/2/a"],
            ["arn:aws:s3:::bank/genomes/3/a"],
            ["bank", "arn:aws:s3:::bank/genomes/4/a", "arn:aws:s3:::bank/genomes/4/b"],
            ["bank"],
            ["arn:aws:s3:::bank/genomes/5/a", "arn:aws:s3:::bank/genomes/6/b"],
        ],
        pa.list_(pa.string()),
    )
    actions = pa.array(["DeleteObjects", "GetObject", "GetObject", "GetObject", "ListTags"])
    patterns = ("genomes/(?P<subject>[0-9]+)/",)
    rows, subjects = subject_column(resources, actions, np.zeros(5, dtype=np.int64), patterns)
    hashed = dict(zip("123456", hash_subjects(pa.array(list("123456"))).to_pylist(), strict=True))
    got: dict[int, list[int | None]] = {}
    for row, subject in zip(rows.tolist(), subjects.to_pylist(), strict=True):
        got.setdefault(row, []).append(subject)
    assert rows.tolist() == sorted(rows.tolist())
    assert got == {
        0: sorted([hashed["1"], hashed["2"]]),
        1: [hashed["3"]],
        2: [hashed["4"]],  # two objects of one subject: one subject
        3: [WHOLE_STORE],
        4: [None],  # a configuration action reaches no subject
    }
