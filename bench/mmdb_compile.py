"""Benchmark: reading every network of a large mmdb into range intervals.

    .venv/bin/python bench/mmdb_compile.py

Compares `geo.mmdb.read_mmdb` (each distinct record read once, bounds from the prefix
length) with a baseline in the same run that reads each network's record afresh and
takes its bounds from `ipaddress` (`broadcast_address`), as read_mmdb did before. Both
must give the same intervals before any figure is printed. Default database: the real
ip-location-db file (7.8 MB, 1.3M nodes, plain `country_code` records).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import maxminddb

from borderwatch.enrich.geo.mmdb import _record, read_mmdb
from borderwatch.enrich.geo.table import Interval

DEFAULT_DB = (
    Path(__file__).resolve().parents[2]
    / "shared/data/real/ip-location-db/geo-whois-asn-country.mmdb"
)


def baseline(path: Path) -> tuple[list[Interval], list[Interval]]:
    """Every network with its record read afresh and ipaddress's own bounds."""
    v4: list[Interval] = []
    v6: list[Interval] = []
    with maxminddb.open_database(str(path), maxminddb.MODE_AUTO) as reader:
        for network, data in reader:
            record = _record(data)
            start, end = int(network.network_address), int(network.broadcast_address)
            (v4 if network.version == 4 else v6).append(Interval(start, end, record))
    return v4, v6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mmdb", type=Path, default=DEFAULT_DB)
    args = parser.parse_args()

    started = time.perf_counter()
    old = baseline(args.mmdb)
    old_seconds = time.perf_counter() - started

    started = time.perf_counter()
    found = read_mmdb(args.mmdb)
    new_seconds = time.perf_counter() - started

    same = old == (found.v4, found.v6)
    count = len(found.v4) + len(found.v6)
    print(f"{args.mmdb.name}: {count:,} networks, identical intervals: {same}")
    if not same:
        raise SystemExit(1)
    print(f"baseline (record per network, ipaddress bounds): {old_seconds:8.2f} s")
    print(f"read_mmdb (distinct records once, prefix bounds): {new_seconds:8.2f} s")
    print(f"ratio: {old_seconds / new_seconds:.1f}x")


if __name__ == "__main__":
    main()
