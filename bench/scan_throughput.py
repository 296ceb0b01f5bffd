"""Benchmark: borderwatch's full scan against the parse floor and a naive baseline.

    .venv/bin/python bench/scan_throughput.py --events 2000000

Generates the demo company's CloudTrail (borderwatch.demo) in two forms: delivered
(gzipped {"Records": [...]} files, one per region and hour, S3 layout) and JSON lines
(a few large files). For each form it measures, each in a fresh subprocess:

- scan: borderwatch.api.scan (parse, enrich, evaluate, write every output);
- floor: the fastest plain reader of the same files into only the columns the scan
  needs, no enrichment and no rules: DuckDB read_json with explicit columns, and a
  typed msgspec decode (Structs with only the needed fields) across all cores;
- naive: a pure-Python loop (json, one iptocc lookup per address, dicts).

The access findings (rule, resource, principal, country, count) of every scan and of
the naive loop must be identical, and the floor readers must see every record, before
any figure is printed. Every measurement runs --repeat times in rounds and the fastest
run counts. Peak memory (VmHWM of a fresh scan process, and the largest of its workers)
is measured at --sizes, in every form. The test suite never runs this file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import msgspec
from isal import igzip

HERE = Path(__file__).resolve().parent
GENERATOR_VERSION = 2
JSONL_FILES = 4
NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)  # fixed: inputs are cached and reproducible


# ---------------------------------------------------------------- input generation


def generate(root: Path, events: int, seed: int = 7) -> Path:
    """Write policy, inventory, identities, gz/ and jsonl/ under root/<events>; cached."""
    from borderwatch.demo import company as co
    from borderwatch.demo.traffic import generate as accesses
    from borderwatch.demo.traffic import to_record

    target = root / f"events-{events}"
    manifest = target / "manifest.json"
    wanted = {"events": events, "seed": seed, "version": GENERATOR_VERSION}
    if manifest.exists() and json.loads(manifest.read_text()) == wanted:
        return target
    started = time.perf_counter()
    target.mkdir(parents=True, exist_ok=True)
    (target / "policy.yaml").write_text(co.policy_yaml(NOW.date()), encoding="utf-8")
    (target / "inventory.csv").write_text(co.inventory_csv(), encoding="utf-8")
    (target / "identities.csv").write_text(co.identities_csv(), encoding="utf-8")
    encoder = msgspec.json.Encoder()
    rng = random.Random(seed + 1)
    regions = {s.store_id: s.region for s in co.STORES}
    start = NOW - dt.timedelta(days=30)
    step = 30 * 86400 / max(events, 1)
    jsonl_dir = target / "jsonl"
    jsonl_dir.mkdir(exist_ok=True)
    lines = [(jsonl_dir / f"part-{i:02d}.jsonl").open("wb") for i in range(JSONL_FILES)]
    hour: dict[str, list[bytes]] = defaultdict(list)
    current = ""
    first_file = True

    def flush(stamp: str) -> None:
        nonlocal first_file
        for region, records in sorted(hour.items()):
            folder = target / "gz" / "AWSLogs" / co.ACCOUNT / "CloudTrail" / region
            folder = folder / stamp[0:4] / stamp[4:6] / stamp[6:8]
            folder.mkdir(parents=True, exist_ok=True)
            name = f"{co.ACCOUNT}_CloudTrail_{region}_{stamp}_{rng.getrandbits(32):08x}.json.gz"
            body = b'{"Records":[' + b",".join(records) + b"]}"
            (folder / name).write_bytes(gzip.compress(body, 6))
        hour.clear()
        first_file = False

    # Times are spread evenly over 30 days in generation order, so files fill one after
    # the other and generation streams (the demo's random times would need all in memory).
    for index, access in enumerate(accesses(events, seed, NOW)):
        when = start + dt.timedelta(seconds=index * step)
        record = to_record(access, rng)
        record["eventTime"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        stamp = when.strftime("%Y%m%dT%H00Z")
        if stamp != current and hour:
            flush(current)
        current = stamp
        data = encoder.encode(record)
        if index == 0:
            # As a broken trail delivers it: no eventTime; quarantined, never dropped.
            broken = dict(record)
            del broken["eventTime"]
            broken["eventID"] = "broken-" + record["eventID"]
            bad = encoder.encode(broken)
            hour[regions[access.store]].append(bad)
            lines[0].write(bad + b"\n")
        hour[regions[access.store]].append(data)
        lines[index * JSONL_FILES // max(events, 1)].write(data + b"\n")
    if hour:
        flush(current)
    for handle in lines:
        handle.close()
    manifest.write_text(json.dumps(wanted))
    print(f"generated {events:,} events in {time.perf_counter() - started:.0f} s under {target}")
    return target


def event_paths(target: Path, form: str) -> list[Path]:
    from borderwatch.ingest.expansion import expand_inputs

    return [f.path for f in expand_inputs([target / form])]


# ---------------------------------------------------------------- measurements (children)


# The CloudTrail fields the scan reads, as DuckDB types. SQL cannot import the reader's
# Record (sources/cloudtrail_fast.py), so its top-level names are written again here and
# checked against Record before every run. The reader keeps userIdentity as raw JSON and
# decodes each distinct one once, which read_json cannot: this floor reads it as a STRUCT
# of the identity fields the scan uses. Inside resources and requestParameters it names
# the fields these generated files hold (the reader also knows other spellings).
_DUCK_RECORD = (
    "STRUCT(eventID VARCHAR, eventTime VARCHAR, eventSource VARCHAR, eventName VARCHAR, "
    "awsRegion VARCHAR, sourceIPAddress VARCHAR, userAgent VARCHAR, errorCode VARCHAR, "
    "readOnly BOOLEAN, recipientAccountId VARCHAR, "
    "userIdentity STRUCT(type VARCHAR, arn VARCHAR, accountId VARCHAR, userName VARCHAR, "
    "principalId VARCHAR, invokedBy VARCHAR, sessionContext STRUCT(sessionIssuer "
    "STRUCT(arn VARCHAR, userName VARCHAR)), onBehalfOf STRUCT(userId VARCHAR)), "
    'resources STRUCT("ARN" VARCHAR)[], requestParameters STRUCT(bucketName VARCHAR, '
    'tableName VARCHAR, "resourceArn" VARCHAR))'
)


def floor_duckdb(target: Path, form: str) -> dict[str, Any]:
    import duckdb

    from borderwatch.sources.cloudtrail_fast import Record

    # Every field of the reader's Record but the EventBridge envelope (none in these files).
    named = {name for name, _ in _duck_fields(_DUCK_RECORD[len("STRUCT(") : -1])}
    if named != set(Record.__struct_fields__) - {"detail"}:
        raise SystemExit("MISMATCH: the DuckDB floor's fields differ from the reader's Record")
    con = duckdb.connect()
    pattern = str(target / form / "**" / ("*.json.gz" if form == "gz" else "*.jsonl"))
    if form == "gz":
        # Digest files (no Records) are part of the tree; read_json sees Records as NULL.
        source = (
            f"(SELECT unnest(Records) AS r FROM read_json('{pattern}', "
            f"columns={{'Records': '{_DUCK_RECORD}[]'}}, format='unstructured', "
            "maximum_object_size=1073741824))"
        )
    else:
        fields = _DUCK_RECORD[len("STRUCT(") : -1]
        source = (
            f"(SELECT struct_pack(*COLUMNS(*)) AS r FROM read_json('{pattern}', "
            f"format='newline_delimited', columns={_duck_columns(fields)}))"
        )
    started = time.perf_counter()
    con.execute(f"CREATE TABLE floor AS SELECT r.* FROM {source}")
    elapsed = time.perf_counter() - started
    rows = con.execute("SELECT count(*) FROM floor").fetchone()
    return {"seconds": elapsed, "records": int(rows[0]) if rows else 0}


def _duck_columns(fields: str) -> str:
    """'a T, b STRUCT(..)' -> {'a': 'T', 'b': 'STRUCT(..)'} at top-level commas."""
    return "{" + ", ".join(f"'{n}': '{t}'" for n, t in _duck_fields(fields)) + "}"


def _duck_fields(fields: str) -> list[tuple[str, str]]:
    """'a T, "b" STRUCT(..)' -> [('a', 'T'), ('b', 'STRUCT(..)')] at top-level commas."""
    parts, depth, item = [], 0, ""
    for ch in fields:
        if ch == "," and depth == 0:
            parts.append(item.strip())
            item = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        item += ch
    parts.append(item.strip())
    pairs = [p.split(" ", 1) for p in parts]
    return [(n.strip('"'), t) for n, t in pairs]


def floor_msgspec(target: Path, form: str) -> dict[str, Any]:
    from concurrent.futures import ProcessPoolExecutor

    files = [str(p) for p in event_paths(target, form)]
    started = time.perf_counter()
    with ProcessPoolExecutor(os.cpu_count() or 1) as pool:
        workers = os.cpu_count() or 1
        chunk = max(1, len(files) // (8 * workers))
        records = sum(pool.map(_msgspec_file, files, chunksize=chunk))
    return {"seconds": time.perf_counter() - started, "records": records}


def _msgspec_file(name: str) -> int:
    """Decode one file into Arrow columns of the needed fields; return the row count.

    The Structs are the reader's own (sources/cloudtrail_fast.py): the floor decodes
    exactly the fields the scan decodes. Like the reader, it keeps userIdentity as raw
    JSON and decodes each distinct one once per file (identities repeat); what the
    reader does beyond that (normalising, enriching, rules) is left out.
    """
    import pyarrow as pa
    from msgspec.structs import astuple

    from borderwatch.sources.cloudtrail_fast import Record, RecordsFile
    from borderwatch.sources.cloudtrail_record import RESOURCE_PARAMETERS

    data = Path(name).read_bytes()
    if data[:2] == b"\x1f\x8b":
        # ISA-L, as the scan inflates: the floor must not be slower at this than it.
        data = igzip.decompress(data)
    if name.endswith(".jsonl"):
        decoder = msgspec.json.Decoder(Record)
        records = [decoder.decode(line) for line in data.splitlines() if line]
    else:
        records = msgspec.json.Decoder(RecordsFile).decode(data).Records
    generic = msgspec.json.Decoder()
    identities: dict[bytes, tuple[Any, ...]] = {}
    no_parameters = (None,) * len(RESOURCE_PARAMETERS)
    columns: dict[str, list[Any]] = defaultdict(list)
    for r in records:
        raw = bytes(r.userIdentity)
        u = identities.get(raw)
        if u is None:
            value = generic.decode(raw) or {}
            u = identities[raw] = tuple(
                value.get(k) for k in ("type", "arn", "userName", "principalId")
            )
        columns["event_id"].append(r.eventID)
        columns["event_time"].append(r.eventTime)
        columns["service"].append(r.eventSource)
        columns["action"].append(r.eventName)
        columns["region"].append(r.awsRegion)
        columns["caller"].append(r.sourceIPAddress)
        columns["user_agent"].append(r.userAgent)
        columns["error_code"].append(r.errorCode)
        columns["read_only"].append(r.readOnly)
        columns["account"].append(r.recipientAccountId)
        columns["identity_type"].append(u[0])
        columns["identity_arn"].append(u[1])
        columns["identity_user"].append(u[2])
        columns["identity_principal_id"].append(u[3])
        columns["resources"].append([x.ARN or x.arn for x in r.resources or ()])
        p = r.requestParameters
        columns["parameters"].append(list(astuple(p) if p is not None else no_parameters))
    table = pa.table({k: pa.array(v) for k, v in columns.items()})
    return table.num_rows


def scan(target: Path, form: str, out: Path) -> dict[str, Any]:
    from borderwatch import api

    started = time.perf_counter()
    result = api.scan(
        policy=target / "policy.yaml",
        inventory=[target / "inventory.csv"],
        identities=[target / "identities.csv"],
        events=[target / form],
        out=out,
        as_of=NOW.date(),
    )
    elapsed = time.perf_counter() - started
    findings = [
        [f.rule, f.resource, f.principal, f.country, f.count]
        for f in result.findings
        if f.rule.startswith("access.")
    ]
    read = sum(i.records_read for i in result.inputs if i.kind == "events")
    return {
        "seconds": elapsed,
        "events": result.events_total,
        "records": read,
        "quarantined": sum(i.quarantined for i in result.inputs if i.kind == "events"),
        "findings": sorted(findings, key=repr),
    }


def naive(target: Path, form: str) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    from naive_baseline import naive_scan

    files = event_paths(target, form)
    started = time.perf_counter()
    found = naive_scan(
        target / "policy.yaml", target / "inventory.csv", target / "identities.csv", files
    )
    elapsed = time.perf_counter() - started
    findings = [[*key, count] for key, count in found.items()]
    return {"seconds": elapsed, "findings": sorted(findings, key=repr)}


def _cpus() -> int:
    return len(os.sched_getaffinity(0))


def _total_kib(got: dict[str, Any], workers: int) -> int:
    return int(got["peak_kib"] + workers * got["worker_peak_kib"])


def peak_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child(args: argparse.Namespace) -> None:
    target, form = Path(args.target), args.form
    if args.child == "scan":
        with tempfile.TemporaryDirectory() as out:
            result = scan(target, form, Path(out))
    elif args.child == "duckdb":
        result = floor_duckdb(target, form)
    elif args.child == "msgspec":
        result = floor_msgspec(target, form)
    else:
        result = naive(target, form)
    result["peak_kib"] = peak_kib()
    # The largest peak of any worker process (reaped by now): the scan's memory is the
    # main process plus one such peak per core at most.
    result["worker_peak_kib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps(result))


def run_child(kind: str, target: Path, form: str) -> dict[str, Any]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            kind,
            "--target",
            str(target),
            "--form",
            form,
        ],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- driver


def best_of(
    kinds: tuple[str, ...], target: Path, form: str, repeat: int
) -> dict[str, dict[str, Any]]:
    """Each measurement `repeat` times, in rounds (a slow spell of this shared machine
    then touches every kind alike); the fastest run of each counts. Every run must give
    the same findings and records as the first."""
    runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
    for _ in range(repeat):
        for kind in kinds:
            runs[kind].append(run_child(kind, target, form))
    best = {}
    for kind, got in runs.items():
        for run in got[1:]:
            for field in ("findings", "records"):
                if run.get(field) != got[0].get(field):
                    raise SystemExit(f"MISMATCH: {kind} on {form} differs between runs ({field})")
        best[kind] = min(got, key=lambda run: run["seconds"])
    return best


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>12,.0f} events/s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--forms", default="gz,jsonl")
    parser.add_argument("--sizes", default="1000000,5000000", help="events, for peak memory")
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "bw-bench"))
    parser.add_argument("--skip-naive", action="store_true", help="(for quick iterations)")
    parser.add_argument(
        "--repeat", type=int, default=2, help="rounds of every measurement; the best counts"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    parser.add_argument("--form", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args)
        return 0
    workdir = Path(args.workdir)
    forms = [f for f in args.forms.split(",") if f]
    target = generate(workdir, args.events)
    kinds = ("duckdb", "msgspec", "scan", *(() if args.skip_naive else ("naive",)))
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for form in forms:
        results[form] = best_of(kinds, target, form, max(args.repeat, 1))
    sizes = [int(s) for s in args.sizes.split(",") if s]
    # {form: {size: measured}}: every form, since they differ (a few large JSON-lines
    # files make a worker task of one large file).
    memory: dict[str, dict[int, dict[str, Any]]] = {form: {} for form in forms}
    for size in sizes:
        sized = generate(workdir, size)
        for form in forms:
            memory[form][size] = run_child("scan", sized, form)

    # Same findings everywhere before any speed is printed.
    ok = True
    reference = results[forms[0]]["scan"]["findings"]
    for form, got in results.items():
        for kind in ("scan", "naive"):
            if kind in got and got[kind]["findings"] != reference:
                ok = False
                print(f"MISMATCH: {kind} on {form} gives different findings")
        records = got["scan"]["records"]
        for kind in ("duckdb", "msgspec"):
            if got[kind]["records"] != records:
                ok = False
                print(
                    f"MISMATCH: {kind} floor read {got[kind]['records']:,} records, "
                    f"scan read {records:,}"
                )
    print(
        f"access findings identical (scan on {', '.join(forms)}"
        f"{', naive' if not args.skip_naive else ''}): {ok} ({len(reference)} findings)"
    )
    for row in reference:
        print("   ", row)
    if not ok:
        return 1
    print(f"\n{args.events:,} events, {os.cpu_count()} cores")
    for form, got in results.items():
        events = got["scan"]["records"]
        floor_kind = min(("duckdb", "msgspec"), key=lambda k: got[k]["seconds"])
        floor = got[floor_kind]["seconds"]
        files = len(event_paths(target, form))
        print(
            f"\n[{form}] {files:,} files, {events:,} records "
            f"({got['scan']['quarantined']} quarantined)"
        )
        for kind, label in (
            ("scan", "borderwatch scan"),
            ("duckdb", "floor: duckdb read_json"),
            ("msgspec", "floor: msgspec typed, all cores"),
            ("naive", "naive loop"),
        ):
            if kind in got:
                s = got[kind]["seconds"]
                print(f"  {label:<32} {s:8.2f} s {rate(events, s)}")
        scan_s = got["scan"]["seconds"]
        print(f"  scan / floor ({floor_kind}): {floor / scan_s:.1%} of floor speed")
        if "naive" in got:
            print(f"  scan vs naive: {got['naive']['seconds'] / scan_s:.1f}x faster")
    for form, by_size in memory.items():
        if by_size:
            print_memory(form, by_size)
    return 0


def print_memory(form: str, memory: dict[int, dict[str, Any]]) -> None:
    """Peak memory of the scan at each size, and the ratio of the largest to the smallest."""
    print(f"\npeak memory of the scan (VmHWM, fresh process, {form} form)")
    workers = _cpus()
    for size, measured in memory.items():
        print(
            f"  {size:>10,} events: main {measured['peak_kib'] / 1024:6.0f} MiB, largest "
            f"worker {measured['worker_peak_kib'] / 1024:4.0f} MiB, main + {workers} workers "
            f"at most {_total_kib(measured, workers) / 1024:6.0f} MiB "
            f"({measured['seconds']:.1f} s)"
        )
    if len(memory) >= 2:
        low, high = memory[min(memory)], memory[max(memory)]
        print(
            f"  ratio {max(memory):,} / {min(memory):,}: main "
            f"{high['peak_kib'] / low['peak_kib']:.2f}, main + workers "
            f"{_total_kib(high, workers) / _total_kib(low, workers):.2f}"
        )


if __name__ == "__main__":
    sys.exit(main())
