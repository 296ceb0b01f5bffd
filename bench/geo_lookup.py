"""Benchmark: vectorised range-table lookup vs a per-address maxminddb loop.

    .venv/bin/python bench/geo_lookup.py --n 2000000

Addresses are drawn with a fixed seed: 90% IPv4, 10% IPv6; half of each family inside
networks of the database (so a fair share are hits), half uniformly at random. Both
paths must give identical countries on every address before any figure is printed.
"""

from __future__ import annotations

import argparse
import ipaddress
import time
from pathlib import Path

import maxminddb
import numpy as np
import pyarrow as pa

from borderwatch.enrich.geo import SourceSpec, compile_source, lookup
from borderwatch.enrich.geo.sources import CompiledSource
from borderwatch.enrich.geo.table import search_128
from borderwatch.inventory.locations import LocationRegistry

DEFAULT_DB = (
    Path(__file__).resolve().parents[2]
    / "shared/data/real/maxmind-test-db/test-data/GeoIP2-Country-Test.mmdb"
)


def addresses(db: Path, n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    with maxminddb.open_database(str(db)) as reader:
        nets = [net for net, _ in reader]
    v4 = [n_ for n_ in nets if n_.version == 4]
    v6 = [n_ for n_ in nets if n_.version == 6]
    n6 = n // 10
    n4 = n - n6
    out: list[str] = []
    # IPv4: half inside networks, half uniform; formatted with numpy-free f-strings once.
    inside = rng.integers(0, len(v4), n4 // 2)
    offsets = rng.random(n4 // 2)
    firsts = np.array([int(x.network_address) for x in v4], dtype=np.float64)
    sizes = np.array([x.num_addresses for x in v4], dtype=np.float64)
    values = (firsts[inside] + np.floor(offsets * sizes[inside])).astype(np.uint64)
    values = np.concatenate([values, rng.integers(0, 2**32, n4 - n4 // 2, dtype=np.uint64)])
    out += [f"{v >> 24}.{(v >> 16) & 255}.{(v >> 8) & 255}.{v & 255}" for v in values.tolist()]
    for k in range(n6):
        if k % 2 == 0:
            net = v6[int(rng.integers(0, len(v6)))]
            value = int(net.network_address) + int(rng.integers(0, 2**62)) % net.num_addresses
        else:
            value = (
                (0x2000 << 112) | int(rng.integers(0, 2**62)) << 64 | int(rng.integers(0, 2**62))
            )
        out.append(str(ipaddress.IPv6Address(value)))
    order = rng.permutation(len(out))
    return [out[i] for i in order.tolist()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2_000_000)
    parser.add_argument("--seed", type=int, default=20240229)
    parser.add_argument("--mmdb", type=Path, default=DEFAULT_DB)
    args = parser.parse_args()

    values = addresses(args.mmdb, args.n, args.seed)
    column = pa.array(values, pa.string())
    source = CompiledSource("mmdb", compile_source(SourceSpec("mmdb", args.mmdb)))
    registry = LocationRegistry.load_builtin()
    print(f"{len(values):,} addresses ({sum(':' in v for v in values):,} IPv6) on {args.mmdb.name}")

    runs = []
    for _ in range(3):  # the first run also pays for fresh memory pages; report both
        start = time.perf_counter()
        answer = lookup(column, source, registry)
        runs.append(time.perf_counter() - start)
    first_s, vector_s = runs[0], min(runs)
    ours = answer.column("country").to_pylist()

    reader = maxminddb.open_database(str(args.mmdb), maxminddb.MODE_MMAP_EXT)
    start = time.perf_counter()
    theirs = [reader.get(v) for v in values]
    loop_s = time.perf_counter() - start

    def located(record: object) -> str | None:
        if not isinstance(record, dict):
            return None
        for key in ("country", "registered_country"):
            if isinstance(record.get(key), dict):
                return record[key].get("iso_code")
        return None

    expected = [located(r) for r in theirs]
    mismatches = sum(a != b for a, b in zip(ours, expected, strict=True))
    hits = sum(e is not None for e in expected)
    print(f"identical countries: {mismatches == 0} ({mismatches} mismatches, {hits:,} hits)")
    if mismatches:
        raise SystemExit(1)
    n = len(values)
    print(f"vectorised lookup, best of 3: {vector_s:7.3f} s {n / vector_s:13,.0f} addresses/s")
    print(f"vectorised lookup, first run: {first_s:7.3f} s {n / first_s:13,.0f} addresses/s")
    print(f"maxminddb .get() loop:        {loop_s:7.3f} s {n / loop_s:13,.0f} addresses/s")
    print(f"ratio: {loop_s / vector_s:.1f}x (first run: {loop_s / first_s:.1f}x)")
    # IPv6 search layout: two uint64 halves (used) vs numpy S16 byte strings.
    _compare_v6_layouts(source, values)


def _compare_v6_layouts(source: CompiledSource, values: list[str]) -> None:
    table = source.table
    parsed = [ipaddress.IPv6Address(v) for v in values if ":" in v]
    q_hi = np.array([int(a) >> 64 for a in parsed], dtype=np.uint64)
    q_lo = np.array([int(a) & (2**64 - 1) for a in parsed], dtype=np.uint64)
    q_s16 = np.array([a.packed for a in parsed], dtype="S16")
    s_hi, s_lo = table.v6_start
    starts_s16 = np.array(
        [
            int(h).to_bytes(8, "big") + int(lo).to_bytes(8, "big")
            for h, lo in zip(s_hi, s_lo, strict=True)
        ],
        dtype="S16",
    )
    start = time.perf_counter()
    a = search_128(s_hi, s_lo, q_hi, q_lo)
    two_halves = time.perf_counter() - start
    start = time.perf_counter()
    b = np.searchsorted(starts_s16, q_s16, side="right") - 1
    s16 = time.perf_counter() - start
    assert (a == b).all()
    print(
        f"IPv6 search of {len(parsed):,} in {len(s_hi):,} ranges: "
        f"hi/lo uint64 {two_halves * 1e3:.1f} ms, S16 {s16 * 1e3:.1f} ms"
    )


if __name__ == "__main__":
    main()
