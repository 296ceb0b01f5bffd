"""The scan on the Spark engine (local[2]) next to the DuckDB engine, on the same data.

    python bench/spark_scale.py                      # 5M and 20M events (long)
    python bench/spark_scale.py --events 250000 1000000
    python bench/spark_scale.py --forms gz --engines spark    # one form, one engine
    python bench/spark_scale.py --conf spark.sql.shuffle.partitions=16

For each size, the same generated CloudTrail events in two forms, both written once and
cached under --data (generation is never timed):
- gz: gzipped delivery files ({"Records": [...]}, one per region and hour; the generator
  of bench/scan_throughput.py);
- parquet: the same records as OCSF API Activity Parquet files, as Amazon Security Lake
  stores CloudTrail (bench/ocsf_form.py), read by the `ocsf` source.
Each form is scanned once per engine. Printed: seconds, events per second, Spark's time
against DuckDB's, whether every scan of a size found the same access findings (both
engines, both forms), and how each engine's time grows from the smallest size to the
largest against the growth of the events (linear or better is the goal). The Spark
session is started once, before any scan, and its start is printed apart. Figures go in
bench/README.md.

Whatever the Spark engine does at the time it runs is measured: the scan goes through
`api.scan(engine="spark")` exactly as `borderwatch scan --engine spark` does (docs/spark.md
says which stages run on Spark).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from ocsf_form import ocsf_parquet
from scan_throughput import NOW, generate

ENGINES = ("duckdb", "spark")
FORMS = ("gz", "parquet")


def scan(target: Path, events: Path, engine: str, out: Path) -> dict[str, Any]:
    """One scan of `events` with `engine`: seconds, events and access findings."""
    from borderwatch import api

    started = time.perf_counter()
    result = api.scan(
        policy=target / "policy.yaml",
        inventory=[target / "inventory.csv"],
        identities=[target / "identities.csv"],
        events=[events],
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


def measure(
    data: Path, events: int, forms: list[str], engines: list[str]
) -> dict[tuple[str, str], dict[str, Any]]:
    """Every form scanned by every engine, at one size."""
    target = generate(data, events)
    inputs = {"gz": target / "gz", "parquet": ocsf_parquet(target)}
    return {
        (form, engine): scan(target, inputs[form], engine, data / f"out-{events}-{form}-{engine}")
        for form in forms
        for engine in engines
    }


def report(events: int, got: dict[tuple[str, str], dict[str, Any]]) -> None:
    forms = sorted({form for form, _ in got}, key=FORMS.index)
    engines = sorted({engine for _, engine in got}, key=ENGINES.index)
    for form in forms:
        for engine in engines:
            figures = got[(form, engine)]
            rate = figures["events"] / figures["seconds"]
            print(
                f"{events:>12,} events  {form:<7} {engine:<6}  {figures['seconds']:8.1f} s  "
                f"{rate:>12,.0f} events/s"
            )
        if len(engines) == 2:
            ratio = got[(form, "spark")]["seconds"] / got[(form, "duckdb")]["seconds"]
            print(f"{'':>12}         {form:<7} spark/duckdb time {ratio:.2f}")
    findings = [figures["findings"] for figures in got.values()]
    counted = {figures["events"] for figures in got.values()}
    same = all(f == findings[0] for f in findings)
    print(
        f"{'':>12}         same access findings in all {len(got)} scans: {same}; "
        f"events read: {counted}"
    )


def growth(sizes: list[tuple[int, dict[tuple[str, str], dict[str, Any]]]]) -> None:
    (small, first), (large, last) = sizes[0], sizes[-1]
    for key in first:
        grew = last[key]["seconds"] / first[key]["seconds"]
        verdict = "linear or less" if grew <= large / small else "MORE than linear"
        print(
            f"{key[0]:<7} {key[1]:<6}: {small:,} -> {large:,} events ({large / small:.1f}x): "
            f"time {grew:.2f}x ({verdict})"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, nargs="+", default=[5_000_000, 20_000_000])
    parser.add_argument("--data", type=Path, default=Path("/tmp/borderwatch-bench"))
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--forms", nargs="+", choices=FORMS, default=list(FORMS))
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument(
        "--conf", action="append", default=[], metavar="KEY=VALUE", help="a Spark setting"
    )
    args = parser.parse_args(argv)
    from borderwatch.evaluate.spark_engine import start_session

    for events in sorted(args.events):  # generated (or found cached) before any timing
        ocsf_parquet(generate(args.data, events))
    started = time.perf_counter()
    settings = dict(item.split("=", 1) for item in args.conf)
    session = start_session(args.master, settings)
    print(f"Spark session on {args.master}: {time.perf_counter() - started:.1f} s to start")
    sizes = []
    for events in sorted(args.events):
        got = measure(args.data, events, args.forms, args.engines)
        sizes.append((events, got))
        report(events, got)
    if len(sizes) > 1:
        growth(sizes)
    session.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
