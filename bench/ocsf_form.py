"""The generated CloudTrail of bench/scan_throughput.py in a second form: OCSF Parquet.

    from ocsf_form import ocsf_parquet
    folder = ocsf_parquet(generate(root, events))      # root/events-N/ocsf/*.parquet

Amazon Security Lake stores CloudTrail as OCSF API Activity (class 6003) in Parquet;
borderwatch reads it with its `ocsf` source (sources/ocsf.py). The same events as the
gzipped delivery form, record for record: each record of the gz files (read back, in
file order) becomes one OCSF row whose canonical event (what the `ocsf` source makes
of it) equals the CloudTrail one's: the principal and its aliases in actor.user (uid,
name, email_addr, credential_uid; the generator's principals have at most three
aliases), the resource keys as resources[].uid, readOnly as activity_id 2 (Read) or 3
(Update). The record without an eventTime stays without one (quarantined in both
forms). A check below refuses to write a row whose canonical event would differ.

Written once and cached beside the gz form (a manifest says for which generation);
several files, so a reader can split the work by file.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq

OCSF_VERSION = 1
EVENTS_PER_FILE = 1_000_000
ROWS_PER_GROUP = 100_000
_ALIAS_FIELDS = ("name", "email_addr", "credential_uid")

_STRING = pa.string()
OCSF_SCHEMA = pa.schema(
    [
        ("class_uid", pa.int32()),
        ("activity_id", pa.int32()),
        ("time", pa.timestamp("ms", tz="UTC")),
        ("metadata", pa.struct([("uid", _STRING), ("version", _STRING)])),
        (
            "cloud",
            pa.struct(
                [
                    ("provider", _STRING),
                    ("region", _STRING),
                    ("account", pa.struct([("uid", _STRING)])),
                ]
            ),
        ),
        (
            "api",
            pa.struct(
                [
                    ("operation", _STRING),
                    ("service", pa.struct([("name", _STRING)])),
                    ("response", pa.struct([("error", _STRING)])),
                ]
            ),
        ),
        (
            "actor",
            pa.struct(
                [
                    (
                        "user",
                        pa.struct(
                            [
                                ("uid", _STRING),
                                ("type", _STRING),
                                *((name, _STRING) for name in _ALIAS_FIELDS),
                            ]
                        ),
                    )
                ]
            ),
        ),
        ("src_endpoint", pa.struct([("ip", _STRING)])),
        ("http_request", pa.struct([("user_agent", _STRING)])),
        ("resources", pa.list_(pa.struct([("uid", _STRING)]))),
    ]
)


def ocsf_parquet(target: Path, workers: int | None = None) -> Path:
    """target/ocsf: the events of target/gz as OCSF Parquet files (cached)."""
    folder = target / "ocsf"
    # Beside the folder, not in it: the folder is the scan's input, file for file.
    manifest = target / "ocsf-manifest.json"
    generated = json.loads((target / "manifest.json").read_text())
    wanted = {"from": generated, "version": OCSF_VERSION}
    if manifest.exists() and json.loads(manifest.read_text()) == wanted:
        return folder
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*.parquet"):
        old.unlink()
    files = sorted((target / "gz").rglob("*.json.gz"))
    parts = max(1, -(-int(generated["events"]) // EVENTS_PER_FILE))
    groups = [files[i * len(files) // parts : (i + 1) * len(files) // parts] for i in range(parts)]
    jobs = [(group, folder / f"part-{i:05d}.parquet") for i, group in enumerate(groups) if group]
    with ProcessPoolExecutor(max_workers=workers or os.cpu_count()) as pool:
        rows = sum(pool.map(_write_part, *zip(*jobs, strict=True)))
    manifest.write_text(json.dumps(wanted))
    print(f"wrote {rows:,} OCSF rows in {len(jobs)} Parquet files under {folder}")
    return folder


def _write_part(gz_files: list[Path], out: Path) -> int:
    """Convert the records of `gz_files`, in order, into one Parquet file."""
    from borderwatch.sources.cloudtrail_record import normalise
    from borderwatch.sources.ocsf import normalise as ocsf_normalise

    decoder = msgspec.json.Decoder()
    written = 0
    pending: list[dict[str, Any]] = []
    with pq.ParquetWriter(out, OCSF_SCHEMA, compression="zstd") as writer:
        for path in gz_files:
            for record in decoder.decode(gzip.decompress(path.read_bytes()))["Records"]:
                # The broken record (no eventTime) is converted as it is otherwise.
                event = normalise({"eventTime": "1970-01-01T00:00:00Z", **record})
                row = ocsf_row(record, event)
                if row["time"] is not None and written < 1000:
                    # The first rows of each file are read back as the ocsf source will.
                    _check_same_event(event, ocsf_normalise(row))
                pending.append(row)
                written += 1
                if len(pending) >= ROWS_PER_GROUP:
                    writer.write_table(pa.Table.from_pylist(pending, OCSF_SCHEMA))
                    pending.clear()
        if pending:
            writer.write_table(pa.Table.from_pylist(pending, OCSF_SCHEMA))
    return written


def ocsf_row(record: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """The OCSF API Activity row of one CloudTrail record (`event`: its canonical form)."""
    aliases = list(event["principal_aliases"])
    if len(aliases) > len(_ALIAS_FIELDS):
        raise ValueError(f"{len(aliases)} aliases do not fit OCSF's actor.user: {aliases}")
    user = {"uid": event["principal"], "type": event["principal_type"]}
    padded = aliases + [None] * (len(_ALIAS_FIELDS) - len(aliases))
    user.update(zip(_ALIAS_FIELDS, padded, strict=True))
    read_only = event["read_only"]
    return {
        "class_uid": 6003,
        "activity_id": 2 if read_only else 3 if read_only is False else 99,
        "time": _time(record.get("eventTime")),
        "metadata": {"uid": event["event_id"], "version": "1.1.0"},
        "cloud": {
            "provider": "AWS",
            "region": event["region"],
            "account": {"uid": event["account"]},
        },
        "api": {
            "operation": event["action"],
            "service": {"name": event["service"]},
            "response": {"error": event["error_code"]},
        },
        "actor": {"user": user},
        "src_endpoint": {"ip": event["caller"]},
        "http_request": {"user_agent": event["user_agent"]},
        "resources": [{"uid": key} for key in event["resources"]],
    }


def _time(value: str | None) -> dt.datetime | None:
    # The record the generator breaks on purpose has no eventTime: it stays without one.
    return dt.datetime.fromisoformat(value) if value else None


def _check_same_event(cloudtrail: dict[str, Any], ocsf: dict[str, Any]) -> None:
    for name, value in cloudtrail.items():
        if ocsf.get(name) != value:
            raise ValueError(f"OCSF row differs in {name}: {ocsf.get(name)!r} != {value!r}")
