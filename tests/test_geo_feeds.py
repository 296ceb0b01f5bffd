"""Geofeeds, anonymiser lists and cloud providers' published ranges."""

from __future__ import annotations

from pathlib import Path

import pytest

from borderwatch.enrich.geo import SourceSpec, compile_source, lookup
from borderwatch.enrich.geo.sources import CompiledSource
from borderwatch.errors import InputError

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
CLOUD = REAL / "cloud-ip-ranges"


def _source(kind: str, path: Path) -> CompiledSource:
    return CompiledSource(path.stem, compile_source(SourceSpec(kind, path)))


def test_geofeed_keeps_good_rows_and_reports_bad_ones(tmp_path: Path) -> None:
    path = tmp_path / "feed.csv"
    path.write_text(
        "# self-published geofeed\n"
        "\n"
        "192.0.2.0/24,NL,NL-NH,Amsterdam,1098 XH\n"
        "192.0.2.128/25,BE,BE-BRU,Brussels,\n"  # nested: the more specific prefix wins
        "not-a-prefix,DE,,,\n"
        "198.51.100.0/24,Germany,,,\n"
        "2001:db8::/32,US,US-NJ,North Bergen,07047\n"
        "   # indented comment\n"
    )
    table = compile_source(SourceSpec("geofeed", path))
    assert [
        (p.location.line, "prefix" in p.message or "country" in p.message) for p in table.problems
    ] == [
        (5, True),
        (6, True),
    ]
    got = lookup(
        ["192.0.2.1", "192.0.2.200", "2001:db8::5", "198.51.100.1"], CompiledSource("f", table)
    )
    assert got.column("country").to_pylist() == ["NL", "BE", "US", None]
    assert got.column("country_kind").to_pylist() == ["located", "located", "located", None]
    assert got.column("subdivision").to_pylist() == ["NL-NH", "BE-BRU", "US-NJ", None]
    assert got.column("city").to_pylist() == ["Amsterdam", "Brussels", "North Bergen", None]


def test_real_geofeeds() -> None:
    got = lookup(["5.101.96.1", "24.144.64.9"], _source("geofeed", CLOUD / "digitalocean.csv"))
    assert got.column("country").to_pylist() == ["NL", "US"]
    linode = _source("provider", CLOUD / "linode.txt")
    assert linode.table.provenance.source == "provider:linode"
    got = lookup(["2600:3c00::1"], linode)
    assert got.column("provider").to_pylist() == ["linode"]
    assert got.column("country").to_pylist() == ["US"]
    assert got.column("provider_country").to_pylist() == ["US"]


def test_anonymiser_list(tmp_path: Path) -> None:
    path = tmp_path / "anon.csv"
    path.write_text(
        "prefix,kind,note\n"
        "203.0.113.0/24,vpn,corporate vpn exit\n"
        "203.0.113.7/32,tor\n"
        "2001:db8:1::/48,relay\n"
        "198.51.100.0/24,teleport\n"
    )
    table = compile_source(SourceSpec("anonymisers", path))
    assert [p.location.line for p in table.problems] == [5]
    got = lookup(
        ["203.0.113.1", "203.0.113.7", "2001:db8:1::1", "8.8.8.8"], CompiledSource("a", table)
    )
    assert got.column("anonymiser").to_pylist() == [
        "anonymous,vpn",
        "anonymous,tor",
        "anonymous,relay",
        None,
    ]


@pytest.mark.parametrize(
    ("file", "ip", "provider", "region", "country"),
    [
        ("aws-ip-ranges.json", "3.4.12.4", "aws", "eu-west-1", "IE"),
        ("aws-ip-ranges.json", "3.5.140.1", "aws", "ap-northeast-2", "KR"),
        ("google-cloud-ip-ranges.json", "8.34.208.10", "gcp", "europe-west1", "BE"),
        ("microsoft-azure-ip-ranges.json", "4.175.0.1", "azure", "westeurope", "NL"),
        ("oracle-cloud-ip-ranges.json", "129.80.0.1", "oci", "us-ashburn-1", "US"),
    ],
)
def test_provider_ranges(file: str, ip: str, provider: str, region: str, country: str) -> None:
    got = lookup([ip, "AWS Internal"], _source("provider", CLOUD / file)).to_pylist()
    assert (got[0]["provider"], got[0]["provider_region"], got[0]["provider_country"]) == (
        provider,
        region,
        country,
    )
    assert got[1]["provider"] is None


def test_gcp_europe_west1_is_registered_in_the_us_but_run_in_belgium() -> None:
    import iptocc

    assert iptocc.country_code(["8.34.208.10"]) == ["US"]
    got = lookup(["8.34.208.10"], _source("provider", CLOUD / "google-cloud-ip-ranges.json"))
    assert got.column("provider_country").to_pylist() == ["BE"]


def test_unknown_provider_file_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"something": []}')
    with pytest.raises(InputError, match=r"x\.json"):
        compile_source(SourceSpec("provider", path))
    path.write_text('{"broken": ')
    with pytest.raises(InputError, match=r"x\.json"):
        compile_source(SourceSpec("provider", path))
