"""OCSF API Activity (class_uid 6003), as Amazon Security Lake and OCSF exporters store it.

Shapes read:
- Parquet files (Security Lake's layout), read in record batches, never whole;
- JSON lines, a JSON array or a single object of OCSF records.

Only API Activity records become events; a record of another OCSF class is quarantined
with its class, so a mixed export is accounted for in full. A Parquet file whose footer or
data cannot be read is quarantined whole (or from the failing row on) with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from borderwatch.sources.base import SourceBatch
from borderwatch.sources.batches import BatchBuilder
from borderwatch.sources.cloudtrail_record import resource_keys
from borderwatch.sources.jsondoc import Normaliser, add_record
from borderwatch.sources.jsonsource import JsonRecordSource
from borderwatch.sources.record import (
    RecordError,
    content_id,
    in_utc,
    kind_of,
    obj,
    parse_time,
    per_record,
    quoted,
    text,
    text_at,
    unique,
)

NAME = "ocsf"
API_ACTIVITY = 6003
PARQUET_MAGIC = b"PAR1"

# OCSF API Activity activity_id: 1 Create, 2 Read, 3 Update, 4 Delete.
_READ_ACTIVITIES = frozenset({2})
_WRITE_ACTIVITIES = frozenset({1, 3, 4})
_STATUS_FAILURE = 2


class OcsfSource(JsonRecordSource):
    """Reads OCSF API Activity records (Parquet or JSON) into canonical events."""

    name = NAME
    description = "OCSF API Activity (6003): Amazon Security Lake Parquet, or JSON lines"

    def sniff(self, path: Path, head: bytes) -> bool:
        if head.startswith(PARQUET_MAGIC):
            try:
                names = set(pq.read_schema(path).names)
            except (pa.ArrowException, OSError, ValueError):
                return False
            return "class_uid" in names and ("api" in names or "activity_id" in names)
        return super().sniff(path, head)

    def recognises(self, head: bytes) -> bool:
        return b'"class_uid"' in head and b'"api"' in head and b'"metadata"' in head

    def normaliser(self, path: Path) -> Normaliser:
        return normalise

    def read(self, path: Path, batch_size: int = 50_000) -> Iterator[SourceBatch]:
        with path.open("rb") as stream:
            magic = stream.read(4)
        if magic == PARQUET_MAGIC:
            yield from read_parquet(path, NAME, normalise, batch_size=batch_size)
            return
        yield from super().read(path, batch_size)


def read_parquet(
    path: Path,
    source_format: str,
    normalise_row: Any,
    *,
    batch_size: int = 50_000,
    columns: list[str] | None = None,
    builder: BatchBuilder | None = None,
) -> Iterator[SourceBatch]:
    """Yield batches from a Parquet file, a row at a time through `normalise_row`.

    Rows are numbered from 1 across the file; damage stops reading and is quarantined
    with the first row that could not be read. `builder`: where the rows go (default: a
    builder of canonical events for `path`).
    """
    builder = builder or BatchBuilder(source_format, str(path))
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        builder.quarantine("whole file", f"unreadable Parquet file: {exc}", b"")
        yield builder.flush()
        return
    row = 0
    try:
        for record_batch in parquet.iter_batches(
            batch_size=min(batch_size, 10_000), columns=columns
        ):
            for item in _python_rows(record_batch):
                row += 1
                if isinstance(item, _Unconvertible):
                    builder.quarantine(f"row {row}", item.reason, b"")
                else:
                    add_record(builder, normalise_row, item, f"row {row}", row)
                if builder.rows >= batch_size:
                    yield builder.flush()
    except (pa.ArrowException, OSError, ValueError) as exc:
        builder.quarantine(
            f"row {row + 1} to end of file",
            f"damaged Parquet data: {exc}; rows after this point are lost",
            b"",
        )
    finally:
        parquet.close()
    yield builder.flush()


@dataclass(frozen=True)
class _Unconvertible:
    """A Parquet row holding a value Python cannot (a timestamp in year 0 or 10000)."""

    reason: str


def _python_rows(record_batch: pa.RecordBatch) -> list[dict[str, Any] | _Unconvertible]:
    """The rows as dicts; a row with a value Python cannot hold stands alone, refused.

    Parquet timestamps reach years Python's datetime does not (0, 10000 and beyond):
    converting the whole batch would fail for one such row, so the batch is then
    converted row by row and only that row is refused.
    """
    try:
        return list(record_batch.to_pylist())
    except (OverflowError, ValueError):
        pass
    rows: list[dict[str, Any] | _Unconvertible] = []
    for index in range(record_batch.num_rows):
        try:
            rows.append(record_batch.slice(index, 1).to_pylist()[0])
        except (OverflowError, ValueError) as exc:
            reason = f"a value outside what can be read (years 1 to 9999): {quoted(str(exc))}"
            rows.append(_Unconvertible(reason))
    return rows


@per_record
def normalise(item: Any) -> dict[str, Any]:
    """The canonical columns of one OCSF API Activity record."""
    if not isinstance(item, dict):
        raise RecordError(f"record is {kind_of(item)}, expected a JSON object")
    class_uid = item.get("class_uid")
    if class_uid is not None and class_uid != API_ACTIVITY:
        raise RecordError(f"OCSF class_uid {class_uid!r} is not API Activity ({API_ACTIVITY})")
    api = obj(item, "api")
    if class_uid is None and not api:
        raise RecordError("not an OCSF API Activity record: no class_uid and no api")
    user = obj(obj(item, "actor"), "user")
    names = unique(
        [
            text(user, "uid"),
            text(user, "name"),
            text(user, "email_addr"),
            text(user, "credential_uid"),
            text_at(item, "actor", "session", "issuer"),
        ]
    )
    endpoint = obj(item, "src_endpoint")
    location = obj(endpoint, "location")
    country = text(location, "country")
    provider = text_at(item, "cloud", "provider")
    activity = item.get("activity_id")
    return {
        "event_id": text_at(item, "metadata", "uid") or content_id(item),
        "event_time": _event_time(item),
        "provider": provider.lower() if provider else None,
        "account": text_at(item, "cloud", "account", "uid"),
        "region": text_at(item, "cloud", "region"),
        "service": text_at(item, "api", "service", "name"),
        "action": text(api, "operation"),
        "principal": names[0] if names else None,
        "principal_aliases": names[1:],
        "principal_type": text(user, "type"),
        "caller": text(endpoint, "ip") or text(endpoint, "domain") or text(endpoint, "svc_name"),
        "claimed_country": country.upper() if country else None,
        "claimed_location": ", ".join(unique([text(location, "city"), text(location, "region")]))
        or None,
        "user_agent": text_at(item, "http_request", "user_agent"),
        "resources": _resources(item),
        "read_only": True
        if activity in _READ_ACTIVITIES
        else False
        if activity in _WRITE_ACTIVITIES
        else None,
        "error_code": _error_code(item, api),
    }


def _event_time(item: dict[str, Any]) -> datetime:
    for field in ("time", "time_dt"):
        value = item.get(field)
        if isinstance(value, datetime):
            return in_utc(value, field)
        if value is not None:
            return parse_time(value, field, epoch=True)
    raise RecordError("time missing: an event without a time cannot be judged")


def _resources(item: dict[str, Any]) -> list[str]:
    listed = item.get("resources")
    if listed is None:
        return []
    if not isinstance(listed, list):
        raise RecordError(f"resources is {kind_of(listed)}, expected a list")
    keys: list[str | None] = []
    for entry in listed:
        if not isinstance(entry, dict):
            continue
        for field in ("uid", "name"):
            value = text(entry, field)
            if value:
                keys.extend(resource_keys(value))
    return unique(keys)


def _error_code(item: dict[str, Any], api: dict[str, Any]) -> str | None:
    response = obj(api, "response")
    error = text(response, "error")
    if error:
        return error
    code = response.get("code")
    if isinstance(code, int) and not isinstance(code, bool) and code >= 400:
        return str(code)
    if item.get("status_id") == _STATUS_FAILURE:
        return text(item, "status_code") or text(item, "status") or "Failure"
    return None


# For readers that convert Parquet rows themselves (sources/feed.py's column-wise path).
python_rows = _python_rows
Unconvertible = _Unconvertible
