"""What counting coverage while reading costs, next to building the access digest.

Every batch a digester digests is also counted per (source, provider, account, region,
day) and per protected store named (ingest/coverage.py). This prints the time of both
on the same batches of demo CloudTrail events, and their ratio, measured in one run.

    .venv/bin/python bench/coverage_cost.py --events 300000
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

from borderwatch.demo.company import PROTECTED_STORES, STORES
from borderwatch.demo.run import write_inputs
from borderwatch.ingest.coverage import coverage_rows
from borderwatch.ingest.digest import ProtectedKeys, access_rows
from borderwatch.ingest.expansion import expand_inputs
from borderwatch.runtime.options import ScanOptions
from borderwatch.sources.cloudtrail import CloudTrailSource


def _events(count: int) -> tuple[pa.Table, float]:
    """The demo's events, and the seconds the CloudTrail reader took to parse them."""
    with tempfile.TemporaryDirectory() as folder:
        now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
        inputs = write_inputs(Path(folder), events=count, seed=7, now=now)
        source = CloudTrailSource()
        started = time.perf_counter()
        paths = [item.path for item in expand_inputs([inputs.cloudtrail])]
        # The way a scan reads delivered files: pooled (sources/cloudtrail.py read_many).
        tables = [batch.events for _, batch in source.read_many(paths) if batch.events.num_rows]
        parsed = time.perf_counter() - started
    return pa.concat_tables(tables).combine_chunks(), parsed


def _best(runs: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    events, parse_s = _events(args.events)
    protected = {s.store_id for s in STORES if s.store_id in PROTECTED_STORES or s.copy_of}
    keys = ProtectedKeys.from_pairs((store, store) for store in sorted(protected))
    size = ScanOptions().digest_events  # the batches a digester digests at a time
    batches = [events.slice(start, size) for start in range(0, events.num_rows, size)]
    # What a digester does per batch: which stores each event names (once), then the digest.
    touched = [keys.touched(batch.column("resources").combine_chunks()) for batch in batches]

    def digest() -> None:
        for batch in batches:
            access_rows(batch, keys, keys.touched(batch.column("resources").combine_chunks()))

    def count() -> None:
        for batch, names in zip(batches, touched, strict=True):
            coverage_rows(batch, keys, names)

    digest_s = _best(args.runs, digest)
    coverage_s = _best(args.runs, count)
    print(f"{events.num_rows:,} demo CloudTrail events in {len(batches)} batches")
    print(f"parse (CloudTrail reader, one run):            {parse_s:.3f} s")
    print(f"access digest (touched + access_rows), best of {args.runs}: {digest_s:.3f} s")
    print(f"coverage counts (coverage_rows), best of {args.runs}:       {coverage_s:.3f} s")
    print(f"coverage / digest: {coverage_s / digest_s:.2f}")
    print(f"coverage / (parse + digest): {coverage_s / (parse_s + digest_s):.2f}")


if __name__ == "__main__":
    main()
