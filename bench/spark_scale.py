"""The scan on the Spark engine (local[2]) next to the DuckDB engine, on the same data.

    python bench/spark_scale.py                      # 5M and 20M events (long)
    python bench/spark_scale.py --events 250000 1000000

For each size: generated CloudTrail in gzipped delivery form (bench/scan_throughput.py's
generator, cached under --data), scanned once per engine; prints seconds and events per
second of each, Spark against DuckDB, whether both found the same access findings, and
how the time grows from the smallest size to the largest against the growth of the
events (linear or better is the goal). Figures go in bench/README.md.

What is on Spark today: the views and rules (docs/spark.md). Reading and digesting the
logs runs on the driver for both engines, so the difference is the engine's share
(session start, one Spark job per view and rule). Parquet input is not measured: the
generator writes gzip and JSON lines only, and no Parquet reader runs inside Spark yet.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from scan_throughput import NOW, generate


def scan(target: Path, engine: str, out: Path) -> dict[str, Any]:
    """One scan of the gzipped form with `engine`: seconds, events and access findings."""
    from borderwatch import api

    started = time.perf_counter()
    result = api.scan(
        policy=target / "policy.yaml",
        inventory=[target / "inventory.csv"],
        identities=[target / "identities.csv"],
        events=[target / "gz"],
        out=out,
        as_of=NOW.date(),
        options=api.ScanOptions(engine=engine),
    )
    return {
        "seconds": time.perf_counter() - started,
        "events": result.events_total,
        "findings": sorted(
            (f.rule, f.resource, f.principal, f.country, f.count)
            for f in result.findings
            if f.rule.startswith("access.")
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, nargs="+", default=[5_000_000, 20_000_000])
    parser.add_argument("--data", type=Path, default=Path("/tmp/borderwatch-bench"))
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args(argv)
    from borderwatch.evaluate.spark_engine import start_session

    started = time.perf_counter()
    session = start_session(args.master)
    print(f"Spark session on {args.master}: {time.perf_counter() - started:.1f} s to start")
    rows = []
    for events in sorted(args.events):
        target = generate(args.data, events)
        got = {e: scan(target, e, args.data / f"out-{events}-{e}") for e in ("duckdb", "spark")}
        same = got["duckdb"]["findings"] == got["spark"]["findings"]
        rows.append((events, got))
        for engine, figures in got.items():
            rate = figures["events"] / figures["seconds"]
            print(
                f"{events:>12,} events  {engine:<6}  {figures['seconds']:8.1f} s  "
                f"{rate:>12,.0f} events/s"
            )
        ratio = got["spark"]["seconds"] / got["duckdb"]["seconds"]
        print(f"{'':>12}         spark/duckdb time {ratio:.2f}; same findings: {same}")
    if len(rows) > 1:
        (small, first), (large, last) = rows[0], rows[-1]
        for engine in ("duckdb", "spark"):
            growth = last[engine]["seconds"] / first[engine]["seconds"]
            verdict = "linear or less" if growth <= large / small else "MORE than linear"
            print(
                f"{engine}: {small:,} -> {large:,} events ({large / small:.1f}x): "
                f"time {growth:.2f}x ({verdict})"
            )
    session.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
