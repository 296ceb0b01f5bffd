"""Address parsing, hostile values, the compiled-table cache and the `geo` commands."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import numpy as np
import pyarrow as pa
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from borderwatch.commands.geo import geo
from borderwatch.enrich.geo import SourceSpec, load_source, lookup, lookup_all, parse_addresses
from borderwatch.enrich.geo.sources import IptoccSource

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
COUNTRY_DB = REAL / "maxmind-test-db" / "test-data" / "GeoIP2-Country-Test.mmdb"
AWS = REAL / "cloud-ip-ranges" / "aws-ip-ranges.json"

HOSTILE = [
    "AWS Internal",
    "ec2.amazonaws.com",
    "",
    None,
    "[bold red]81.2.69.142[/]",
    "81.2.69.142\x00",
    "1.2.3.4.5",
    "999.1.1.1",
    "1.2.3.4:123456",
    "::ffff:zzzz",
    "2001:db8::1::1",
    "-1.2.3.4",
    "８１.2.69.142",
]


def test_ports_brackets_and_mapped_forms_parse_like_the_caller_module() -> None:
    values = [
        "1.2.3.4:443",
        "[2001:db8::1]:443",
        " 81.2.69.142 ",
        "010.1.1.1",
        "::ffff:81.2.69.142",
        "fe80::1%eth0",
    ]
    assert parse_addresses(values).to_strings().to_pylist() == [
        "1.2.3.4",
        "2001:db8::1",
        "81.2.69.142",
        "10.1.1.1",
        "81.2.69.142",
        "fe80::1",
    ]


def test_hostile_values_look_up_as_null(tmp_path: Path) -> None:
    source = load_source(SourceSpec("mmdb", COUNTRY_DB), tmp_path)
    got = lookup(HOSTILE, source)
    assert got.num_rows == len(HOSTILE)
    assert got.column("country").null_count == len(HOSTILE)
    assert parse_addresses(HOSTILE).family.tolist() == [0] * len(HOSTILE)
    mixed = ["81.2.69.142:443", *HOSTILE, "[2a02:cf40::1]:443"]
    table = lookup_all(
        pa.chunked_array([pa.array(mixed[:5]), pa.array(mixed[5:])]), [IptoccSource(), source]
    )
    countries = table.column("GeoIP2-Country-Test.country").to_pylist()
    assert countries[0] == "GB" and countries[-1] == "NO" and set(countries[1:-1]) == {None}


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**128 - 1), st.text(max_size=20))
def test_parse_agrees_with_ipaddress(v4: int, v6: int, junk: str) -> None:
    v6_text = str(ipaddress.IPv6Address(v6))
    parsed = parse_addresses([str(ipaddress.IPv4Address(v4)), v6_text, junk])
    assert int(parsed.v4[0]) == v4 and parsed.family[0] == 4
    mapped = ipaddress.IPv6Address(v6).ipv4_mapped
    if mapped is None:
        assert parsed.family[1] == 6
        assert (int(parsed.v6_hi[1]) << 64 | int(parsed.v6_lo[1])) == v6
    else:
        assert parsed.family[1] == 4 and int(parsed.v4[1]) == int(mapped)
    try:
        expected = ipaddress.ip_address(junk.strip())
    except ValueError:
        expected = None
    if expected is None and parsed.family[2] != 0:
        # only ports, brackets and zones make more values valid than ipaddress takes
        assert any(c in junk for c in ":[%")


def test_second_load_reuses_the_cache(tmp_path: Path) -> None:
    first = load_source(SourceSpec("provider", AWS), tmp_path)
    assert not first.table.from_cache
    assert len(list(tmp_path.glob("provider-*.npz"))) == 1
    second = load_source(SourceSpec("provider", AWS), tmp_path)
    assert second.table.from_cache
    assert second.table.provenance == first.table.provenance
    assert (second.table.v4_start == first.table.v4_start).all()
    ips = ["3.4.12.4", "2600:1f14::1", "8.8.8.8"]
    assert lookup(ips, second).equals(lookup(ips, first))


def test_cache_dir_from_environment(tmp_path: Path) -> None:
    import os

    old = os.environ.get("BORDERWATCH_CACHE_DIR")
    os.environ["BORDERWATCH_CACHE_DIR"] = str(tmp_path / "env")
    try:
        load_source(SourceSpec("mmdb", COUNTRY_DB))
    finally:
        if old is None:
            del os.environ["BORDERWATCH_CACHE_DIR"]
        else:
            os.environ["BORDERWATCH_CACHE_DIR"] = old
    assert list((tmp_path / "env").glob("mmdb-*.npz"))


def test_cli_build_and_lookup(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["--mmdb", str(COUNTRY_DB), "--provider-ranges", str(AWS), "--cache-dir", str(tmp_path)]
    built = runner.invoke(geo, ["build", *args])
    assert built.exit_code == 0, built.output
    assert "GeoIP2-Country-Test" in built.output and "b37601903448683d" in built.output
    assert "compiled" in built.output
    again = runner.invoke(geo, ["build", *args])
    assert "reused" in again.output
    found = runner.invoke(geo, ["lookup", "81.2.69.142", "3.4.12.4", "[bold]x[/bold]", *args])
    assert found.exit_code == 0, found.output
    assert "GB located (registered US)" in found.output
    assert "aws eu-west-1 (IE)" in found.output
    assert "[bold]x[/bold]" in found.output  # printed as text, not as markup


def test_cli_broken_database_exits_2(tmp_path: Path) -> None:
    broken = REAL / "maxmind-test-db" / "test-data" / "MaxMind-DB-test-broken-search-tree-24.mmdb"
    result = CliRunner().invoke(geo, ["build", "--mmdb", str(broken), "--cache-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "broken-search-tree" in result.output
    assert "Traceback" not in result.output


def test_long_columns_are_parsed_in_slices_with_the_same_result() -> None:
    import random

    from borderwatch.enrich.geo.addresses import _SLICE_ROWS

    rng = random.Random(5)
    values: list[str | None] = []
    for i in range(_SLICE_ROWS + 12_345):
        kind = i % 5
        if kind < 3:
            values.append(".".join(str(rng.randrange(256)) for _ in range(4)))
        elif kind == 3:
            values.append(f"2001:db8::{rng.randrange(65536):x}")
        else:
            values.append(rng.choice(["AWS Internal", None, "1.2.3.4:443", ""]))
    whole = parse_addresses(values)
    pieces = [parse_addresses(values[i : i + 5000]) for i in range(0, len(values), 5000)]
    for name in ("family", "v4", "v6_hi", "v6_lo"):
        assert (getattr(whole, name) == np.concatenate([getattr(p, name) for p in pieces])).all()


def test_a_nul_character_is_not_an_address_and_does_not_raise() -> None:
    assert parse_addresses([":\x00", "::1\x00", "1.2.3.4\x00"]).family.tolist() == [0, 0, 0]
