"""Benchmark: scans of a large inventory and of a long copy chain, in bounded time and memory.

    .venv/bin/python bench/inventory_scale.py --rows 1000000 --baseline-rows 100000 \
        --chain 10000

Each scan runs `borderwatch scan` in a child process (so its peak RSS is its own) on a
generated inventory CSV: `--rows` stores across AWS regions, one in five protected and
one in ten outside the approved country, every twentieth a copy of an earlier store. The
baseline is the same scan of `--baseline-rows` rows, measured in the same run, so the
ratio says whether time and memory grow linearly (a ratio near rows / baseline-rows). A
naive floor is printed too: reading the same CSV with the csv module into dicts.
The chain scan reads `--chain` stores, each a copy of the one before.
Printed per scan: wall time, peak RSS of the child, report.html and findings.json sizes.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "ap-southeast-1", "us-east-2")
POLICY = """\
borderwatch: policy/v1
name: bench
version: "1"
data_classes:
  us_user_data:
    storage:
      approved:
        - country: US
    access:
      prohibited_countries: [dsp_countries_of_concern]
"""


def write_inventory_with_copies(path: Path, rows: int) -> None:
    """`rows` stores; every twentieth a copy of the store ten before it."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(
            ["store_id", "provider", "region", "service", "data_classes", "records", "copy_of"]
        )
        for n in range(rows):
            # Protected stores (one in five) go round the regions too: one in ten stores is
            # protected data outside the approved country.
            region = REGIONS[(n // 5) % len(REGIONS)] if n % 5 == 0 else REGIONS[n % 3]
            classes = "us_user_data" if n % 5 == 0 else ""
            parent = f"store-{n - 10:07d}" if n % 20 == 19 else ""
            out.writerow([f"store-{n:07d}", "aws", region, "s3", classes, n % 1000, parent])


def write_chain(path: Path, links: int) -> None:
    """`links` stores, each a copy of the one before; the first holds protected data."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["store_id", "provider", "region", "service", "data_classes", "copy_of"])
        for n in range(links):
            region = "us-east-1" if n % 2 == 0 else "eu-west-1"
            parent = f"link-{n - 1:05d}" if n else ""
            out.writerow(
                [f"link-{n:05d}", "aws", region, "s3", "" if n else "us_user_data", parent]
            )


def scan(policy: Path, inventory: Path, out: Path) -> dict[str, float]:
    """One `borderwatch scan` in a child process: seconds, peak RSS (MB), output sizes."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    code = "import sys; from borderwatch.cli import main; sys.exit(main())"
    args = ["scan", "--policy", str(policy), "--inventory", str(inventory)]
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *args, "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"scan failed ({done.returncode}): {done.stderr[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak <= before:
        # ru_maxrss of children is the largest child so far: a smaller child than an
        # earlier one does not show. Scans run smallest first, so this does not happen.
        peak = before
    return {
        "seconds": seconds,
        "peak_mb": peak / 1024,
        "report_mb": (out / "report.html").stat().st_size / 1e6,
        "findings_mb": (out / "findings.json").stat().st_size / 1e6,
    }


def naive_read(inventory: Path) -> float:
    """Seconds to read the CSV into a list of dicts: the floor of any reader."""
    started = time.perf_counter()
    with inventory.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    return time.perf_counter() - started


def _line(name: str, figures: dict[str, float]) -> str:
    return (
        f"{name:34} {figures['seconds']:8.1f} s  peak RSS {figures['peak_mb']:7.0f} MB  "
        f"report.html {figures['report_mb']:7.2f} MB  findings.json "
        f"{figures['findings_mb']:7.2f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--baseline-rows", type=int, default=100_000)
    parser.add_argument("--chain", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bw-inventory-scale-") as folder:
        where = Path(folder)
        policy = where / "policy.yaml"
        policy.write_text(POLICY, encoding="utf-8")
        results: dict[str, dict[str, float]] = {}
        # Smallest first: RUSAGE_CHILDREN's maxrss only ever grows (see scan()).
        for name, writer, size in (
            ("chain", write_chain, args.chain),
            ("baseline", write_inventory_with_copies, args.baseline_rows),
            ("large", write_inventory_with_copies, args.rows),
        ):
            inventory = where / f"{name}.csv"
            writer(inventory, size)
            results[name] = scan(policy, inventory, where / f"out-{name}")
            results[name]["naive_read"] = naive_read(inventory)
            os.remove(inventory)
        base, large, chain = results["baseline"], results["large"], results["chain"]
        scale = args.rows / args.baseline_rows
        print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
        print(_line(f"inventory {args.baseline_rows:,} rows", base))
        print(_line(f"inventory {args.rows:,} rows", large))
        print(_line(f"copy chain {args.chain:,} links", chain))
        print(
            f"ratios {args.rows:,} / {args.baseline_rows:,} rows (x{scale:g} the rows): "
            f"time x{large['seconds'] / base['seconds']:.1f}, "
            f"peak RSS x{large['peak_mb'] / base['peak_mb']:.1f}, "
            f"report x{large['report_mb'] / base['report_mb']:.1f}"
        )
        print(
            f"naive csv.DictReader of the same CSV: {base['naive_read']:.1f} s "
            f"({args.baseline_rows:,} rows), {large['naive_read']:.1f} s ({args.rows:,} rows); "
            f"scan / naive read at {args.rows:,} rows: "
            f"x{large['seconds'] / large['naive_read']:.1f}"
        )


if __name__ == "__main__":
    main()
