"""MaxMind DB sources: known answers, a cross-check against maxminddb, broken files."""

from __future__ import annotations

import ipaddress
import random
from pathlib import Path

import maxminddb
import pytest

from borderwatch.enrich.geo import SourceSpec, compile_source, lookup
from borderwatch.enrich.geo.sources import CompiledSource
from borderwatch.errors import InputError

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
TEST_DATA = REAL / "maxmind-test-db" / "test-data"
DATABASES = ["GeoIP2-Country-Test.mmdb", "GeoIP2-City-Test.mmdb", "GeoLite2-City-Test.mmdb"]


def _source(name: str) -> CompiledSource:
    spec = SourceSpec("mmdb", TEST_DATA / name)
    return CompiledSource(spec.source_id, compile_source(spec))


@pytest.mark.parametrize("name", DATABASES)
def test_known_answers(name: str) -> None:
    ips = ["81.2.69.142", "67.43.156.13", "89.160.20.128", "216.160.83.56", "2a02:cf40::1"]
    got = lookup(ips, _source(name))
    assert got.column("country").to_pylist() == ["GB", "BT", "SE", "US", "NO"]
    assert got.column("country_kind").to_pylist() == ["located"] * 5
    # The test data says located and registered country differ here on purpose.
    assert got.column("registered_country").to_pylist()[:4] == ["US", "RO", "DE", "GB"]


def _sample_addresses(reader: maxminddb.Reader) -> list[str]:
    out: list[str] = []
    for network, _ in reader:
        first, last = int(network.network_address), int(network.broadcast_address)
        for value in (first, last, (first + last) // 2):
            out.append(
                str(
                    ipaddress.ip_address(value)
                    if network.version == 4
                    else ipaddress.IPv6Address(value)
                )
            )
    return out


def _iso(record: object, key: str) -> str | None:
    if not isinstance(record, dict) or not isinstance(record.get(key), dict):
        return None
    return record[key].get("iso_code")


@pytest.mark.parametrize("name", DATABASES)
def test_every_network_matches_maxminddb(name: str) -> None:
    reader = maxminddb.open_database(str(TEST_DATA / name))
    addresses = _sample_addresses(reader)
    # Plus random addresses, most of them in no network, and IPv4-mapped forms.
    rng = random.Random(7)
    addresses += [str(ipaddress.IPv4Address(rng.getrandbits(32))) for _ in range(2000)]
    addresses += [str(ipaddress.IPv6Address(rng.getrandbits(128))) for _ in range(500)]
    addresses += [f"::ffff:{a}" for a in addresses[:50] if ":" not in a]
    got = lookup(addresses, _source(name))
    located = got.column("country").to_pylist()
    kinds = got.column("country_kind").to_pylist()
    registered = got.column("registered_country").to_pylist()
    assert sum(":" in a for a in addresses) > 500 and sum("." in a for a in addresses) > 2000
    differ = 0
    for i, address in enumerate(addresses):
        record = reader.get(address)
        want_located = _iso(record, "country")
        want_registered = _iso(record, "registered_country")
        assert registered[i] == want_registered, address
        if want_located:
            assert (located[i], kinds[i]) == (want_located, "located"), address
        elif want_registered:
            assert (located[i], kinds[i]) == (want_registered, "registered"), address
        else:
            assert located[i] is None, address
        differ += bool(want_located and want_registered and want_located != want_registered)
    assert differ > 10  # located and registered really differ in this data


def test_six_to_four_alias_answers_like_ipv4() -> None:
    source = _source("GeoIP2-Country-Test.mmdb")
    assert source.table.alias_6to4
    six_to_four = ipaddress.IPv6Address(
        (0x2002 << 112) | (int(ipaddress.IPv4Address("81.2.69.142")) << 80)
    )
    got = lookup([str(six_to_four), "::ffff:81.2.69.142"], source)
    assert got.column("country").to_pylist() == ["GB", "GB"]


def test_anonymous_ip_flags_match_maxminddb(tmp_path: Path) -> None:
    # No Anonymous-IP test database is in the shared data, so write one in that layout.
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(ip_version=6, database_type="GeoIP2-Anonymous-IP", ipv4_compatible=True)
    rows = {
        "1.2.0.0/16": {"is_anonymous": True, "is_anonymous_vpn": True},
        "1.2.3.0/24": {"is_anonymous": True, "is_tor_exit_node": True},
        "81.2.69.0/24": {
            "is_anonymous": True,
            "is_anonymous_vpn": True,
            "is_hosting_provider": True,
            "is_public_proxy": True,
            "is_residential_proxy": True,
            "is_tor_exit_node": True,
        },
        "186.30.236.0/24": {"is_anonymous": True, "is_public_proxy": True},
        "2001:218::/32": {"is_anonymous": True, "is_hosting_provider": True},
    }
    for prefix, record in rows.items():
        writer.insert_network(IPSet([prefix]), record)
    path = tmp_path / "GeoIP2-Anonymous-IP-Test.mmdb"
    writer.to_db_file(str(path))

    reader = maxminddb.open_database(str(path))
    addresses = [*_sample_addresses(reader), "1.2.3.4", "1.2.4.4", "9.9.9.9", "2001:218::1"]
    got = lookup(addresses, CompiledSource("anon", compile_source(SourceSpec("mmdb", path))))
    flags = got.column("anonymiser").to_pylist()
    names = ["anonymous", "vpn", "hosting", "public_proxy", "residential_proxy", "tor"]
    fields = [
        "is_anonymous",
        "is_anonymous_vpn",
        "is_hosting_provider",
        "is_public_proxy",
        "is_residential_proxy",
        "is_tor_exit_node",
    ]
    for address, text in zip(addresses, flags, strict=True):
        record = reader.get(address) or {}
        want = [n for n, f in zip(names, fields, strict=True) if record.get(f)]
        assert (text.split(",") if text else []) == want, address
    assert flags[addresses.index("1.2.3.4")] == "anonymous,tor"  # most specific prefix wins
    assert flags[addresses.index("1.2.4.4")] == "anonymous,vpn"


@pytest.mark.parametrize(
    "name",
    [
        "MaxMind-DB-test-broken-pointers-24.mmdb",
        "MaxMind-DB-test-broken-search-tree-24.mmdb",
        "GeoIP2-City-Test-Invalid-Node-Count.mmdb",
    ],
)
def test_broken_database_is_an_input_error(name: str) -> None:
    path = TEST_DATA / name
    assert path.is_file()
    with pytest.raises(InputError) as caught:
        compile_source(SourceSpec("mmdb", path))
    assert caught.value.problems[0].location.path == str(path)
    assert "MaxMind DB" in str(caught.value)


def test_not_an_mmdb_is_an_input_error(tmp_path: Path) -> None:
    bogus = tmp_path / "x.mmdb"
    bogus.write_text("hello")
    with pytest.raises(InputError, match=r"x\.mmdb"):
        compile_source(SourceSpec("mmdb", bogus))
    with pytest.raises(InputError, match=r"missing\.mmdb"):
        compile_source(SourceSpec("mmdb", tmp_path / "missing.mmdb"))
