"""Reading the event inputs in Spark tasks next to the worker pool and a serial read.

    python bench/spark_reading.py                    # 1M events
    python bench/spark_reading.py --events 250000 1000000 --master local[2]

For each size: generated CloudTrail in gzipped delivery form (bench/scan_throughput.py's
generator, cached under --data), read into a DuckDB engine three ways (load_events: in
this process, by the worker pool, in Spark tasks of a local session); prints seconds
and events per second of each, Spark against the pool, and whether the three gave the
same accounting and the same merged digest. Only the read is timed, not the rules (the
evaluation on Spark is bench/spark_scale.py's). The Spark session is started before the
timing (its start is a fixed cost, 20 to 100 s on a loaded 2-core machine).
Figures go in bench/README.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from scan_throughput import generate

MERGED = (
    "SELECT store_id, principal, caller, day, sum(events), min(min_event_id), "
    "max(max_event_id) FROM access_parts GROUP BY ALL ORDER BY ALL"
)


def protected(target: Path) -> Any:
    """The protected keys of the generated inventory, as a scan finds them."""
    from borderwatch.api import load_policy
    from borderwatch.evaluate.duckdb_engine import DuckDBEngine
    from borderwatch.evaluate.reference import load_reference_tables, protected_keys
    from borderwatch.ingest.reference import classified, read_stores
    from borderwatch.inventory.locations import LocationRegistry
    from borderwatch.inventory.placement import resolve_stores

    policy = load_policy(target / "policy.yaml")
    locations = LocationRegistry.load_builtin()
    stores = classified(read_stores([target / "inventory.csv"], [], [], [], policy), policy)
    engine = DuckDBEngine()
    load_reference_tables(engine, policy, resolve_stores(stores, locations), locations)
    return protected_keys(engine)


def read(target: Path, keys: Any, workers: int, session: Any) -> dict[str, Any]:
    """One read of the gzipped form: seconds, events, accounting and merged digest."""
    from borderwatch.evaluate.duckdb_engine import DuckDBEngine
    from borderwatch.ingest.events import load_events
    from borderwatch.ingest.expansion import expand_inputs
    from borderwatch.registry import load_plugins
    from borderwatch.runtime.options import ScanOptions

    files = expand_inputs([target / "gz"])
    engine = DuckDBEngine()
    started = time.perf_counter()
    load = load_events(
        engine,
        load_plugins().sources,
        (),
        keys=keys,
        files=files,
        options=ScanOptions(workers=workers),
        spark=session,
    )
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "events": load.events_total,
        "files": len(files),
        "same": (load.inputs, load.quarantined, engine.connection.execute(MERGED).fetchall()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--data", type=Path, default=Path("/tmp/borderwatch-bench"))
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args(argv)

    from borderwatch.evaluate.spark_engine import start_session

    session = start_session(args.master)
    try:
        for events in args.events:
            target = generate(args.data, events)
            keys = protected(target)
            runs = {
                "serial": read(target, keys, 1, None),
                "pool": read(target, keys, 2, None),
                "spark": read(target, keys, 2, session),
            }
            files = runs["serial"]["files"]
            print(f"{events:,} events, {files:,} gzipped files")
            for name, run in runs.items():
                rate = run["events"] / run["seconds"]
                print(f"  {name:<7} {run['seconds']:7.1f} s  {rate:10,.0f} events/s")
            print(f"  spark / pool: {runs['spark']['seconds'] / runs['pool']['seconds']:.2f}x")
            same = runs["serial"]["same"] == runs["pool"]["same"] == runs["spark"]["same"]
            print(f"  same accounting and merged digest: {same}")
    finally:
        session.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
