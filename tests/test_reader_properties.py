"""Properties every registered reader holds, whatever a record holds.

For every source in the registry (a reader registered later is covered without editing
this file): records read = accepted + quarantined, in every batch, and no exception
escapes, on (a) valid JSON lines whose values hypothesis makes hostile (wrong types,
times outside years 1 to 9999, control characters, lone surrogates, deep nesting, huge
numbers) around the reader's own good records, which must all still be accepted, and
(b) real sample records of every format with their bytes damaged, perhaps gzipped and
cut short. Examples are few per reader (about 30 s for the file on 2 cores); the fuzz
run in bench/fuzz_readers.py goes further.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostilekit import (
    HOSTILE_EPOCHS,
    HOSTILE_TIMES,
    REAL_SAMPLES,
    WRITTEN_SEEDS,
    read_lines,
    readers,
    seed_lines,
)
from readerkit import CLOUDTRAIL, read_with

READERS = sorted(readers())
SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

_TEXTS = [
    "",
    "-",
    "\x00",
    "\ud800",
    "\udfff",
    "\x1b[2J\x1b]0;PASS\x07",
    "\u202e\u200b",
    "arn:aws:s3:::",
    "arn:aws:iam::1:role/x",
    "999.1.1.1",
    "::ffff:1.2.3.4",
    "1.2.3.4, 5.6.7.8",
    "2026-01-01T00:00:00Z",
    "A" * 70_000,
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from([*HOSTILE_TIMES, *_TEXTS]),
    st.sampled_from(HOSTILE_EPOCHS),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=10,
)
DEEP = st.integers(min_value=500, max_value=5_000)


def _keys(value: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if not isinstance(value, dict):
        return []
    found: list[tuple[str, ...]] = []
    for key, item in value.items():
        found.append((*prefix, key))
        found.extend(_keys(item, (*prefix, key)))
    return found


def _hostile_line(record: dict[str, Any], data: st.DataObject) -> bytes:
    """The record with a few values (or the whole record) replaced, as one JSON line."""
    record = json.loads(json.dumps(record))
    keys = _keys(record)
    for _ in range(data.draw(st.integers(1, 4))):
        where = data.draw(st.sampled_from(keys)) if keys else ()
        value = data.draw(VALUES)
        if not where:
            record = value
            break
        holder = record
        for key in where[:-1]:
            holder = holder.get(key) if isinstance(holder, dict) else None
        if isinstance(holder, dict):
            holder[where[-1]] = value
    line = json.dumps(record).encode()
    if data.draw(st.booleans()) and line.startswith(b"{"):
        depth = data.draw(DEEP)
        line = b'{"deep": ' + b"[" * depth + b"]" * depth + b", " + line[1:]
    return line


@pytest.mark.parametrize("name", READERS)
@SETTINGS
@given(data=st.data())
def test_hostile_values_only_ever_quarantine_their_record(
    name: str, data: st.DataObject, tmp_path: Path
) -> None:
    good = seed_lines(name, tmp_path)
    first = json.loads(good[0])
    hostile = [_hostile_line(first, data) for _ in range(data.draw(st.integers(1, 3)))]
    lines = [*good, *hostile]
    got = read_lines(readers()[name], tmp_path / "hostile.jsonl", lines)
    assert got.read == len(lines)
    accepted = {row["input_record"] for row in got.rows}
    assert accepted >= set(range(1, len(good) + 1))
    for q in got.quarantined:
        assert q.position.startswith("line ") and q.reason


def _samples() -> list[Path]:
    return [CLOUDTRAIL, *REAL_SAMPLES.values()]


def _mutate(original: bytes, data: st.DataObject) -> bytes:
    buffer = bytearray(original)
    for _ in range(data.draw(st.integers(0, 8))):
        at = data.draw(st.integers(0, max(len(buffer) - 1, 0)))
        action = data.draw(st.sampled_from(["set", "insert", "delete"]))
        chunk = data.draw(
            st.sampled_from([b"\x00", b"\xff", b"\xc3", b"\\ud800", b"[", b"{", b'"', b"\n"])
            | st.binary(max_size=4)
        )
        if action == "set":
            buffer[at : at + len(chunk)] = chunk
        elif action == "insert":
            buffer[at:at] = chunk
        else:
            del buffer[at : at + len(chunk)]
    blob = bytes(buffer)
    if data.draw(st.booleans()):
        blob = gzip.compress(blob)
    if blob and data.draw(st.booleans()):
        blob = blob[: data.draw(st.integers(1, len(blob)))]
    return blob


@pytest.mark.parametrize("name", READERS)
@SETTINGS
@given(data=st.data())
def test_damaged_real_records_never_raise(name: str, data: st.DataObject, tmp_path: Path) -> None:
    own = REAL_SAMPLES.get(name)
    sample = own if own and data.draw(st.booleans()) else data.draw(st.sampled_from(_samples()))
    original = sample.read_bytes()[:6000]
    if name in WRITTEN_SEEDS and data.draw(st.booleans()):
        original = json.dumps(WRITTEN_SEEDS[name]).encode() + b"\n" + original[:2000]
    path = tmp_path / "damaged.json"
    path.write_bytes(_mutate(original, data))
    got = read_with(readers()[name], path)
    assert got.read == len(got.rows) + len(got.quarantined)
