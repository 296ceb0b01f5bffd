"""Shared checks for log readers: read with accounting, sniff isolation, random damage.

Imported by the reader tests as `from readerkit import ...` (tests/ is on sys.path, as
for tests/browser.py).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from borderwatch.model.events import QuarantinedRecord
from borderwatch.sources.cloudtrail import CloudTrailSource
from borderwatch.sources.inputs import head_bytes

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
PANTHER = REAL / "panther-analysis" / "rule-test-logs"
CLOUDTRAIL = (
    REAL
    / "aws-cloudtrail-processing-library"
    / "src/test/resources/resources/SerializerTestFile.json"
)
OTHER_SAMPLES = {
    "cloudtrail": CLOUDTRAIL,
    "gcp-audit": PANTHER / "GCP.AuditLog.jsonl",
    "azure-activity": PANTHER / "Azure.MonitorActivity.jsonl",
    "entra": PANTHER / "Azure.Audit.jsonl",
    "okta": PANTHER / "Okta.SystemLog.jsonl",
}

# Random damage to a valid file: byte edits, an optional gzip layer, an optional cut.
CORRUPTION = dict(
    form=st.sampled_from(["lines", "array", "lines-gz", "array-gz"]),
    edits=st.lists(
        st.tuples(st.integers(min_value=0, max_value=10_000), st.binary(min_size=0, max_size=4)),
        max_size=6,
    ),
    cut=st.one_of(st.none(), st.integers(min_value=1, max_value=10_000)),
)


@dataclass
class Read:
    read: int
    rows: list[dict[str, Any]]
    quarantined: list[QuarantinedRecord]


def read_with(source: Any, path: Path) -> Read:
    """Read a whole file, checking the accounting of every batch."""
    batches = list(source.read(path, batch_size=7))
    for batch in batches:
        assert batch.records_read == batch.events.num_rows + len(batch.quarantined)
    rows = [row for b in batches for row in b.events.to_pylist()]
    quarantined = [q for b in batches for q in b.quarantined]
    return Read(sum(b.records_read for b in batches), rows, quarantined)


def json_lines(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def by_record(got: Read, number: int) -> dict[str, Any]:
    return next(r for r in got.rows if r["input_record"] == number)


def corrupt(data: bytes, edits: list[tuple[int, bytes]], cut: int | None, gz: bool) -> bytes:
    buffer = bytearray(data)
    for offset, replacement in edits:
        at = offset % max(len(buffer), 1)
        buffer[at : at + len(replacement)] = replacement
    if gz:
        buffer = bytearray(gzip.compress(bytes(buffer)))
    if cut is not None:
        buffer = buffer[: max(1, cut % len(buffer))]
    return bytes(buffer)


def check_sniff_isolation(source: Any, own_samples: list[Path]) -> None:
    """The source claims its own samples and none of the other formats'; CloudTrail
    does not claim its samples."""
    for name, path in OTHER_SAMPLES.items():
        if name != source.name:
            assert not source.sniff(path, head_bytes(path)), name
    for path in own_samples:
        assert source.sniff(path, head_bytes(path)), path
        assert not CloudTrailSource().sniff(path, head_bytes(path)), path


def check_corruption(
    source: Any,
    good: list[dict[str, Any]],
    wrap: Callable[[list[dict[str, Any]]], Any],
    folder: Path,
    form: str,
    edits: list[tuple[int, bytes]],
    cut: int | None,
) -> None:
    """Damaged copies of a valid file never raise, and read = accepted + quarantined."""
    if form.startswith("lines"):
        data = "\n".join(json.dumps(r) for r in good).encode()
    else:
        data = json.dumps(wrap(good), indent=1).encode()
    path = folder / f"corrupt-{form}.json"
    path.write_bytes(corrupt(data, edits, cut, form.endswith("gz")))
    got = read_with(source, path)
    assert got.read == len(got.rows) + len(got.quarantined)
    assert len(got.rows) <= len(good)
