"""The access digest merges exactly: any split into pieces gives the groups of all events.

The reference is the definition written once in SQL over every event
(digestkit.groups_at_once).
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from borderwatch.ingest.digest import (
    DIGEST_SCHEMA,
    ProtectedKeys,
    _list_key,
    access_rows,
    aggregate,
)
from borderwatch.model.events import EVENT_SCHEMA
from digestkit import groups_at_once, merged_groups

KEYS = ProtectedKeys.from_pairs(
    [("bucket-a", "A"), ("arn:aws:s3:::bucket-a", "A"), ("tbl", "T"), ("tbl", "T2")]
)
_BASE = dt.datetime(2026, 3, 1, 23, 0, tzinfo=dt.UTC)

_small = st.sampled_from(["x", "y", "", "a|1:b", "1:a"])
_event = st.fixed_dictionaries(
    {
        "event_id": st.sampled_from(["e1", "e2", "e3", "e1"]),
        "minutes": st.integers(0, 180),
        "principal": st.none() | _small,
        "principal_aliases": st.none() | st.lists(st.none() | _small, max_size=2),
        "caller": st.none() | st.sampled_from(["1.2.3.4", "5.6.7.8"]),
        "region": st.none() | st.sampled_from(["us-east-1", "eu-west-1"]),
        "action": st.none() | st.sampled_from(["GetObject", "PutItem"]),
        "claimed_country": st.none() | st.sampled_from(["US", "CN"]),
        "resources": st.none()
        | st.lists(
            st.sampled_from(["bucket-a", "arn:aws:s3:::bucket-a", "tbl", "other"]),
            max_size=3,
        ),
        "error_code": st.none() | st.just("AccessDenied"),
    }
)


def _events(rows: list[dict[str, Any]]) -> pa.Table:
    full = []
    for number, row in enumerate(rows, 1):
        item: dict[str, Any] = {name: None for name in EVENT_SCHEMA.names}
        item.update({k: v for k, v in row.items() if k != "minutes"})
        item.update(
            event_time=_BASE + dt.timedelta(minutes=row["minutes"]),
            source_format="test",
            input_path="memory",
            input_record=number,
            provider="aws",
        )
        full.append(item)
    return pa.Table.from_pylist(full, schema=EVENT_SCHEMA)


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(_event, max_size=30), cuts=st.lists(st.integers(0, 30), max_size=4))
def test_any_split_merges_to_the_groups_of_all_events(
    rows: list[dict[str, Any]], cuts: list[int]
) -> None:
    events = _events(rows)
    bounds = sorted({0, len(rows), *[min(c, len(rows)) for c in cuts]})
    pieces = [
        aggregate(access_rows(events.slice(a, b - a), KEYS), threads=False)
        for a, b in itertools.pairwise(bounds)
    ]
    merged = aggregate(pa.concat_tables([DIGEST_SCHEMA.empty_table(), *pieces]))
    assert merged.schema == DIGEST_SCHEMA
    expected = groups_at_once(events, KEYS)
    assert merged_groups(merged) == expected
    # aggregate() leaves exactly one row per group, wherever the pieces were cut.
    assert merged.num_rows == len(expected)


def test_a_refused_request_and_an_unprotected_store_are_not_accesses() -> None:
    events = _events(
        [
            {"event_id": "ok", "minutes": 0, "resources": ["tbl", "other"], "error_code": None},
            {"event_id": "no", "minutes": 0, "resources": ["tbl"], "error_code": "Denied"},
            {"event_id": "x", "minutes": 0, "resources": ["other"], "error_code": None},
            {"event_id": "b", "minutes": 1, "resources": ["bucket-a", "arn:aws:s3:::bucket-a"]},
        ]
    )
    rows = access_rows(events, KEYS).to_pylist()
    # "tbl" names two stores; the bucket is named twice by one event and counts once.
    assert sorted((r["store_id"], r["min_event_id"]) for r in rows) == [
        ("A", "b"),
        ("T", "ok"),
        ("T2", "ok"),
    ]
    assert {r["events"] for r in rows} == {1}


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (["a|1:b"], ["a", "b"]),
        ([], None),
        ([], [""]),
        ([None], []),
        ([None], ["~"]),
        (["1:a"], ["a"]),
    ],
)
def test_list_keys_differ_exactly_when_lists_differ(
    left: list[str | None] | None, right: list[str | None] | None
) -> None:
    keys = _list_key(pa.array([left, right, left], pa.list_(pa.string()))).to_pylist()
    assert keys[0] == keys[2]
    assert keys[0] != keys[1]


def test_the_fingerprint_follows_the_pairs() -> None:
    same = ProtectedKeys.from_pairs(
        [("tbl", "T2"), ("arn:aws:s3:::bucket-a", "A"), ("tbl", "T"), ("bucket-a", "A")]
    )
    other = ProtectedKeys.from_pairs([("tbl", "T"), ("bucket-a", "A")])
    assert same.fingerprint == KEYS.fingerprint  # order of the pairs does not matter
    assert same.fingerprint != other.fingerprint
    shifted = ProtectedKeys.from_pairs([("ab", "c")])
    assert shifted.fingerprint != ProtectedKeys.from_pairs([("a", "bc")]).fingerprint
