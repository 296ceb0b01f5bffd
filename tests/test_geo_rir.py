"""RIR delegated files and ipverse lists: compiled lookups equal a plain reference."""

from __future__ import annotations

import bisect
import ipaddress
import random
from pathlib import Path

import iptocc
import pytest

from borderwatch.enrich.geo import SourceSpec, compile_source, lookup
from borderwatch.enrich.geo.sources import CompiledSource
from borderwatch.errors import InputError

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
RIR = REAL / "rir-delegated" / "rir-mirror"


def _reference(path: Path) -> dict[int, list[tuple[int, int, str]]]:
    """Straightforward parse: (first, last, cc) per family, sorted by first address."""
    out: dict[int, list[tuple[int, int, str]]] = {4: [], 6: []}
    for line in path.read_text().splitlines():
        parts = line.split("|")
        if len(parts) < 7 or parts[2] not in ("ipv4", "ipv6") or parts[1] in ("*", ""):
            continue
        if parts[6] not in ("allocated", "assigned"):
            continue
        if parts[2] == "ipv4":
            first = int(ipaddress.IPv4Address(parts[3]))
            out[4].append((first, first + int(parts[4]) - 1, parts[1]))
        else:
            net = ipaddress.IPv6Network(f"{parts[3]}/{parts[4]}")
            out[6].append((int(net.network_address), int(net.broadcast_address), parts[1]))
    for rows in out.values():
        rows.sort()
    return out


def _expected(rows: list[tuple[int, int, str]], value: int) -> str | None:
    i = bisect.bisect_right(rows, (value, float("inf"), "")) - 1
    return rows[i][2] if i >= 0 and rows[i][0] <= value <= rows[i][1] else None


@pytest.mark.parametrize("name", ["afrinic", "lacnic"])
def test_delegated_lookup_equals_reference_and_mostly_iptocc(name: str) -> None:
    path = RIR / f"delegated-{name}-extended-latest"
    table = compile_source(SourceSpec("rir", path))
    assert table.provenance.file_date == "2023-03-23" and table.provenance.date_origin == "file"
    assert not table.problems
    ref = _reference(path)
    rng = random.Random(2024)
    addresses: list[str] = []
    values: list[tuple[int, int]] = []
    for _ in range(20_000):
        family = 4 if rng.random() < 0.7 else 6
        first, last, _cc = rng.choice(ref[family])
        value = rng.choice([first, last, rng.randint(first, last)])
        values.append((family, value))
        addresses.append(
            str(ipaddress.IPv4Address(value) if family == 4 else ipaddress.IPv6Address(value))
        )
    # and some outside any allocation, which must be null
    got = lookup(addresses, CompiledSource(name, table)).column("country").to_pylist()
    want = [_expected(ref[f], v) for f, v in values]
    assert got == want
    assert all(got)
    assert set(
        lookup(addresses[:10], CompiledSource(name, table)).column("country_kind").to_pylist()
    ) == {"registered"}
    theirs = iptocc.country_code(addresses)
    agree = sum(a == b for a, b in zip(got, theirs, strict=True)) / len(got)
    print(f"{name}: agreement with iptocc {agree:.2%}")
    assert agree >= 0.95


def test_unallocated_space_is_null() -> None:
    table = compile_source(SourceSpec("rir", RIR / "delegated-afrinic-extended-latest"))
    got = lookup(["8.8.8.8", "2001:4860::8888", "10.0.0.1"], CompiledSource("a", table))
    assert got.column("country").to_pylist() == [None, None, None]


def test_bad_lines_are_problems_and_md5_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "delegated-test-extended-latest"
    path.write_text(
        "2|test|20240101|3|19700101|20240101|+0000\n"
        "test|*|ipv4|*|2|summary\n"
        "test|ZA|ipv4|196.0.0.0|768|20000101|allocated|X\n"  # 3 x /24, not a power of two
        "test|ZA|ipv4|not-an-ip|256|20000101|allocated|X\n"
        "test||ipv4|197.0.0.0|256|20000101|available|X\n"
        "test|KE|ipv6|2c0f:f000::|32|20000101|assigned|X\n"
        "garbage\n"
    )
    table = compile_source(SourceSpec("rir", path))
    assert [p.location.line for p in table.problems] == [4, 7]
    got = lookup(
        ["196.0.2.255", "196.0.3.0", "2c0f:f000:1::1", "197.0.0.1"], CompiledSource("t", table)
    )
    assert got.column("country").to_pylist() == ["ZA", None, "KE", None]
    (tmp_path / (path.name + ".md5")).write_text(f"MD5 ({path.name}) = {'0' * 32}")
    with pytest.raises(InputError, match="checksum"):
        compile_source(SourceSpec("rir", path))


def test_ipverse_registration_country() -> None:
    table = compile_source(SourceSpec("rir", REAL / "ipverse-rir-ip"))
    assert table.ranges_v4 > 10_000 and table.ranges_v6 > 10_000
    got = lookup(
        ["81.2.69.142", "196.1.0.1", "200.1.1.1", "AWS Internal"], CompiledSource("ipv", table)
    )
    assert got.column("country").to_pylist() == ["GB", "MU", "VE", None]
