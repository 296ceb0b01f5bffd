"""Shared checks for log readers: read with accounting, sniff isolation, random damage.

Imported by the reader tests as `from readerkit import ...` (tests/ is on sys.path, as
for tests/browser.py).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NamedTuple

from hypothesis import HealthCheck, settings
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
HONEYBUCKET = REAL / "otrf-security-datasets" / "AWS_S3_HoneyBucketLogs.csv"
# Every real sample of a format some reader claims: a reader refuses all but its own.
ALL_SAMPLES = [
    *OTHER_SAMPLES.values(),
    PANTHER / "AWS.CloudTrail.jsonl",
    PANTHER / "Microsoft365.Audit.AzureActiveDirectory.jsonl",
    PANTHER / "Amazon.EKS.Audit.jsonl",
    PANTHER / "GitHub.Audit.jsonl",
    PANTHER / "GSuite.ActivityEvent.jsonl",
    PANTHER / "AWS.S3ServerAccess.jsonl",
    PANTHER / "scenario_AWS.S3ServerAccess.jsonl",
    HONEYBUCKET,
]


def fuzz_settings(max_examples: int = 40) -> settings:
    """Hypothesis settings for the damage tests, which write into pytest's tmp_path."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )


# Random damage to a valid file: byte edits, an optional gzip layer, an optional cut.
CORRUPTION = dict(
    form=st.sampled_from(["lines", "array", "lines-gz", "array-gz"]),
    edits=st.lists(
        st.tuples(st.integers(min_value=0, max_value=10_000), st.binary(min_size=0, max_size=4)),
        max_size=6,
    ),
    cut=st.one_of(st.none(), st.integers(min_value=1, max_value=10_000)),
)


class Read(NamedTuple):
    read: int
    rows: list[dict[str, Any]]
    quarantined: list[QuarantinedRecord]


def read_with(source: Any, path: Path, batch_size: int = 7) -> Read:
    """Read a whole file, checking the accounting of every batch."""
    batches = list(source.read(path, batch_size=batch_size))
    for batch in batches:
        assert batch.records_read == batch.events.num_rows + len(batch.quarantined)
    rows = [row for b in batches for row in b.events.to_pylist()]
    quarantined = [q for b in batches for q in b.quarantined]
    return Read(sum(b.records_read for b in batches), rows, quarantined)


def json_lines(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def by_record(got: Read, number: int) -> dict[str, Any]:
    return next(r for r in got.rows if r["input_record"] == number)


def overwrite(data: bytes, edits: list[tuple[int, int]]) -> bytes:
    """`data` with the byte at each offset (modulo its length) set to a value."""
    buffer = bytearray(data)
    for offset, value in edits:
        buffer[offset % len(buffer)] = value
    return bytes(buffer)


def check_byte_damage(
    source: Any,
    data: st.DataObject,
    original: bytes,
    path: Path,
    batch_size: int = 7,
    gzip_layer: bool = True,
) -> list[tuple[int, int]]:
    """A copy of `original` with random bytes overwritten, cut short and (if `gzip_layer`)
    perhaps gzipped and cut again, reads without raising and accounts for every record.
    Returns the edits, for damaging another form of the same records alike."""
    edits = data.draw(
        st.lists(st.tuples(st.integers(0, len(original) - 1), st.integers(0, 255)), max_size=8)
    )
    corrupted = overwrite(original, edits)
    blob = corrupted[: data.draw(st.integers(1, len(corrupted)))]
    if gzip_layer and data.draw(st.booleans()):
        whole = gzip.compress(blob)
        blob = whole[: data.draw(st.integers(1, len(whole)))]
    write_and_read(source, path, blob, batch_size)
    return edits


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


def write_and_read(source: Any, path: Path, data: bytes, batch_size: int = 7) -> Read:
    """Write `data` to `path` and read it back: every record read is accepted or quarantined."""
    path.write_bytes(data)
    got = read_with(source, path, batch_size)
    assert got.read == len(got.rows) + len(got.quarantined)
    return got


def check_sniff_isolation(
    source: Any, own_samples: list[Path], others: Iterable[Path] | None = None
) -> None:
    """The source claims its own samples and none of `others` (by default the samples of
    OTHER_SAMPLES' other formats); CloudTrail does not claim its samples."""
    if others is None:
        others = [path for name, path in OTHER_SAMPLES.items() if name != source.name]
    for path in others:
        if path not in own_samples:
            assert not source.sniff(path, head_bytes(path)), path.name
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
    got = write_and_read(source, path, corrupt(data, edits, cut, form.endswith("gz")))
    assert len(got.rows) <= len(good)
