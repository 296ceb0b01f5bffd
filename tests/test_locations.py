"""The cloud location registry: known answers, quirks, never guessing, and table checks."""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import pytest

from borderwatch.errors import InputError
from borderwatch.inventory.locations import (
    COLUMNS,
    DATA_DATE,
    Location,
    LocationRegistry,
    canonical_provider,
)

HEADER = ",".join(COLUMNS) + "\n"
# EU member states plus Iceland, Liechtenstein and Norway.
EEA = {
    "AT",
    "BE",
    "BG",
    "HR",
    "CY",
    "CZ",
    "DK",
    "EE",
    "FI",
    "FR",
    "DE",
    "GR",
    "HU",
    "IE",
    "IT",
    "LV",
    "LT",
    "LU",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SK",
    "SI",
    "ES",
    "SE",
    "IS",
    "LI",
    "NO",
}


@pytest.fixture(scope="module")
def registry() -> LocationRegistry:
    return LocationRegistry.load_builtin()


def _write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("provider", "location", "country", "partition"),
    [
        ("aws", "us-east-1", "US", "aws"),
        ("aws", "ap-east-1", "HK", "aws"),
        ("aws", "ap-east-2", "TW", "aws"),
        ("aws", "ap-southeast-1", "SG", "aws"),
        ("aws", "eu-west-1", "IE", "aws"),
        ("aws", "me-central-1", "AE", "aws"),
        ("aws", "il-central-1", "IL", "aws"),
        ("aws", "cn-north-1", "CN", "aws-cn"),
        ("aws", "cn-northwest-1", "CN", "aws-cn"),
        ("aws", "us-gov-west-1", "US", "aws-us-gov"),
        ("aws", "us-gov-east-1", "US", "aws-us-gov"),
        ("aws", "us-iso-east-1", "US", "aws-iso"),
        ("aws", "us-isob-east-1", "US", "aws-iso-b"),
        ("gcp", "europe-west1", "BE", "gcp"),
        ("gcp", "asia-east2", "HK", "gcp"),
        ("gcp", "asia-east1", "TW", "gcp"),
        ("gcp", "us-west3", "US", "gcp"),
        ("azure", "westeurope", "NL", "AzureCloud"),
        ("azure", "northeurope", "IE", "AzureCloud"),
        ("azure", "eastasia", "HK", "AzureCloud"),
        ("azure", "chinanorth", "CN", "AzureChinaCloud"),
        ("azure", "usgovvirginia", "US", "AzureUSGovernment"),
        ("oci", "us-ashburn-1", "US", "oc1"),
        ("oci", "ap-singapore-1", "SG", "oc1"),
        ("oci", "uk-cardiff-1", "GB", "oc1"),
        ("oci", "us-langley-1", "US", "oc2"),
        ("oci", "us-luke-1", "US", "oc2"),
        ("oci", "us-gov-ashburn-1", "US", "oc3"),
    ],
)
def test_known_regions(
    registry: LocationRegistry, provider: str, location: str, country: str, partition: str
) -> None:
    loc = registry.resolve(provider, location)
    assert loc == Location(
        provider=provider,
        location=location,
        kind="region",
        countries=(country,),
        name=loc.name,
        partition=partition,
        raw=location,
        reason="",
    )
    assert loc.name


def test_gcp_multi_and_dual_regions(registry: LocationRegistry) -> None:
    us = registry.resolve("gcp", "us")
    assert (us.kind, us.countries) == ("multi-region", ("US",))
    eu = registry.resolve("gcp", "EU")
    assert eu.kind == "multi-region" and eu.location == "eu"
    assert len(eu.countries) >= 2
    assert set(eu.countries) <= EEA
    assert {"BE", "NL", "DE"} <= set(eu.countries)
    asia = registry.resolve("gcp", "asia")
    assert asia.kind == "multi-region"
    assert {"HK", "JP", "TW"} <= set(asia.countries)
    assert registry.resolve("gcp", "nam4").countries == ("US",)
    assert registry.resolve("gcp", "eur4").countries == ("FI", "NL")
    assert registry.resolve("gcp", "asia1").countries == ("JP",)


def test_global_locations_have_no_country(registry: LocationRegistry) -> None:
    for provider, location in [
        ("aws", "aws-global"),
        ("aws", "global"),
        ("gcp", "global"),
        ("azure", "global"),
    ]:
        loc = registry.resolve(provider, location)
        assert (loc.kind, loc.countries) == ("global", ())
        assert loc.reason == "global: data may be placed anywhere"


@pytest.mark.parametrize(
    ("provider", "location", "expected", "reason_part"),
    [
        ("aws", "us-east-1a", "us-east-1", "availability zone us-east-1a of us-east-1"),
        ("aws", "cn-north-1b", "cn-north-1", "availability zone"),
        ("gcp", "europe-west1-b", "europe-west1", "availability zone europe-west1-b"),
        ("azure", "West Europe", "westeurope", "display name"),
        ("azure", "  West  Europe ", "westeurope", "display name"),
        ("azure", "East US 2", "eastus2", "display name"),
        ("azure", "USGov Virginia", "usgovvirginia", "display name"),
        ("azure", "Australia Central 2", "australiacentral2", "display name"),
    ],
)
def test_resolved_forms(
    registry: LocationRegistry, provider: str, location: str, expected: str, reason_part: str
) -> None:
    loc = registry.resolve(provider, location)
    assert loc.location == expected
    assert loc.kind == "region"
    assert loc.raw == location
    assert reason_part in loc.reason


def test_case_and_whitespace_are_ignored(registry: LocationRegistry) -> None:
    loc = registry.resolve(" AWS ", " US-East-1 ")
    assert (loc.provider, loc.location, loc.countries) == ("aws", "us-east-1", ("US",))
    assert registry.resolve("Azure", "WESTEUROPE").countries == ("NL",)
    assert registry.resolve("azure", "West Europe").countries == ("NL",)


def test_local_zones_are_not_guessed(registry: LocationRegistry) -> None:
    # ap-southeast-1-bkk-1a is in Bangkok, not in the parent region's Singapore.
    loc = registry.resolve("aws", "ap-southeast-1-bkk-1a")
    assert (loc.kind, loc.countries) == ("unknown", ())


@pytest.mark.parametrize("location", [None, ""])
def test_s3_empty_location_constraint_is_us_east_1(
    registry: LocationRegistry, location: str | None
) -> None:
    loc = registry.resolve("aws", location)
    assert (loc.location, loc.countries) == ("us-east-1", ("US",))
    assert loc.reason == "S3 LocationConstraint empty means us-east-1"


def test_s3_eu_location_constraint_is_eu_west_1(registry: LocationRegistry) -> None:
    loc = registry.resolve("aws", "EU")
    assert (loc.location, loc.countries) == ("eu-west-1", ("IE",))
    assert "EU" in loc.reason and "eu-west-1" in loc.reason


@pytest.mark.parametrize("provider", ["gcp", "azure", "oci"])
@pytest.mark.parametrize("location", [None, "", "  "])
def test_no_location_elsewhere_is_unknown(
    registry: LocationRegistry, provider: str, location: str | None
) -> None:
    loc = registry.resolve(provider, location)
    assert (loc.kind, loc.countries, loc.reason) == ("unknown", (), "no location given")


@pytest.mark.parametrize(
    ("provider", "location"),
    [
        ("aws", "mars-north-1"),
        ("aws", "us-east-99"),
        ("aws", "us-east-99a"),
        ("aws", "westeurope"),
        ("gcp", "us-east-1"),
        ("gcp", "europe-west99-b"),
        ("azure", "West Mars"),
        ("oci", "us-ashburn-9"),
    ],
)
def test_unknown_locations_never_get_a_country(
    registry: LocationRegistry, provider: str, location: str
) -> None:
    loc = registry.resolve(provider, location)
    assert (loc.kind, loc.countries) == ("unknown", ())
    assert loc.reason == f"unknown location {location!r} for provider {provider!r}"


def test_unknown_provider(registry: LocationRegistry) -> None:
    loc = registry.resolve("Alibaba", "cn-hangzhou")
    assert (loc.provider, loc.kind, loc.countries) == ("alibaba", "unknown", ())
    assert loc.reason == "unknown provider 'alibaba'"


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("Amazon Web Services", "aws"),
        ("EC2", "aws"),
        ("Google Cloud", "gcp"),
        ("gce", "gcp"),
        ("Microsoft Azure", "azure"),
        ("Oracle", "oci"),
        ("oracle cloud", "oci"),
        ("On-Premises", "onprem"),
        ("datacenter", "onprem"),
        ("self-hosted", "onprem"),
        ("DC", "onprem"),
        (" Hetzner ", "hetzner"),
    ],
)
def test_provider_aliases(registry: LocationRegistry, given: str, canonical: str) -> None:
    assert registry.resolve(given, None).provider == canonical
    assert canonical_provider(given) == canonical


def test_onprem_sites(registry: LocationRegistry) -> None:
    site = registry.resolve("on-prem", "Frankfurt DC2", site_country="de")
    assert (site.provider, site.location, site.kind, site.countries) == (
        "onprem",
        "Frankfurt DC2",
        "site",
        ("DE",),
    )
    missing = registry.resolve("onprem", "dc1")
    assert (missing.kind, missing.countries) == ("unknown", ())
    assert missing.reason == "on-premises site 'dc1' has no country"
    bad = registry.resolve("onprem", "dc1", site_country="Germany")
    assert (bad.kind, bad.countries) == ("unknown", ())


def test_site_country_only_when_not_a_cloud_location(registry: LocationRegistry) -> None:
    # A known region keeps its own country; the inventory's country does not override it.
    assert registry.resolve("aws", "us-east-1", site_country="DE").countries == ("US",)
    colo = registry.resolve("hetzner", "fsn1", site_country="DE")
    assert (colo.kind, colo.countries) == ("site", ("DE",))


def test_builtin_tables_are_consistent(registry: LocationRegistry) -> None:
    locations = list(registry.all_locations())
    assert set(registry.providers()) == {"aws", "gcp", "azure", "oci"}
    for loc in locations:
        assert loc.kind in ("region", "multi-region", "global"), loc
        assert all(len(c) == 2 and c.isalpha() and c.isupper() for c in loc.countries), loc
        assert list(loc.countries) == sorted(set(loc.countries)), loc
        if loc.kind == "region":
            assert len(loc.countries) == 1, loc
        elif loc.kind == "multi-region":
            assert len(loc.countries) >= 1, loc
        else:
            assert loc.countries == (), loc
        assert loc.name, loc
        assert loc.partition, loc

    def regions(provider: str, partition: str) -> int:
        return sum(
            1
            for loc in locations
            if (loc.provider, loc.partition, loc.kind) == (provider, partition, "region")
        )

    # DOMAIN.md: 34 commercial regions, plus me-west-1 (Saudi Arabia) and sa-west-1
    # (Chile) that botocore's partitions.json lists (tests/test_verdict_accuracy.py).
    assert regions("aws", "aws") == 36
    # DOMAIN.md: 43 regions, plus us-central2, us-east7 and us-west8 of Google's cloud.json.
    assert regions("gcp", "gcp") == 46


def test_builtin_csv_files_have_the_exact_header() -> None:
    folder = resources.files("borderwatch.inventory").joinpath("data")
    names = sorted(e.name for e in folder.iterdir() if e.name.startswith("locations-"))
    assert names == [f"locations-{p}.csv" for p in ("aws", "azure", "gcp", "oci")]
    for name in names:
        rows = list(csv.reader(folder.joinpath(name).read_text(encoding="utf-8").splitlines()))
        assert tuple(rows[0]) == COLUMNS
        assert all(len(r) == len(COLUMNS) for r in rows)


def test_builtin_is_cached_and_versioned() -> None:
    first = LocationRegistry.load_builtin()
    assert LocationRegistry.load_builtin() is first
    assert first.version.startswith(f"locations-{DATA_DATE}+sha256:")
    assert len(first.version.rsplit(":", 1)[1]) == 12


def test_version_is_stable_and_tracks_file_content(tmp_path: Path) -> None:
    path = _write(tmp_path, "mine.csv", "aws,us-east-1,region,US,N. Virginia,aws\n")
    one = LocationRegistry.from_files([path]).version
    two = LocationRegistry.from_files([path]).version
    assert one == two
    assert one.startswith(f"locations-{DATA_DATE}+sha256:")
    _write(tmp_path, "mine.csv", "aws,us-east-1,region,CA,N. Virginia,aws\n")
    assert LocationRegistry.from_files([path]).version != one


def test_from_files_loads_only_those(tmp_path: Path) -> None:
    path = _write(tmp_path, "mine.csv", "acme,moon-1,region,US,Moon base,acme\n")
    reg = LocationRegistry.from_files([path])
    assert reg.providers() == ("acme",)
    assert reg.resolve("acme", "Moon-1").countries == ("US",)
    assert reg.resolve("aws", "us-east-1").kind == "unknown"


def test_with_extra_adds_and_overrides(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "extra.csv",
        "aws,eu-central-3,region,DE,Europe (New),aws\ngcp,us,multi-region,US;CA,override,gcp\n",
    )
    builtin = LocationRegistry.load_builtin()
    reg = builtin.with_extra([path])
    assert reg.resolve("aws", "eu-central-3").countries == ("DE",)
    assert reg.resolve("gcp", "us").countries == ("CA", "US")
    assert reg.resolve("aws", "us-east-1").countries == ("US",)
    assert reg.version != builtin.version
    # the built-in registry is left alone
    assert builtin.resolve("aws", "eu-central-3").kind == "unknown"
    assert builtin.resolve("gcp", "us").countries == ("US",)


def test_duplicate_rows_are_an_error_with_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "dup.csv",
        "aws,us-east-1,region,US,a,aws\naws,eu-west-1,region,IE,b,aws\nAWS,US-EAST-1,region,US,c,aws\n",
    )
    with pytest.raises(InputError) as caught:
        LocationRegistry.from_files([path])
    [problem] = caught.value.problems
    assert problem.location.path == str(path)
    assert problem.location.line == 4
    assert "duplicate" in problem.message
    assert f"{path}:2" in problem.message


def test_duplicate_across_files_is_an_error(tmp_path: Path) -> None:
    a = _write(tmp_path, "a.csv", "oci,us-ashburn-1,region,US,a,oc1\n")
    b = _write(tmp_path, "b.csv", "oci,us-ashburn-1,region,US,b,oc1\n")
    with pytest.raises(InputError) as caught:
        LocationRegistry.from_files([a, b])
    assert caught.value.problems[0].location.path == str(b)


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        ("aws,x-1,region,us,x,aws", 4, "two upper-case letters"),
        ("aws,x-1,region,USA,x,aws", 4, "two upper-case letters"),
        ("aws,x-1,region,US;DE,x,aws", 4, "exactly one country"),
        ("aws,x-1,region,,x,aws", 4, "exactly one country"),
        ("gcp,x,multi-region,,x,gcp", 4, "at least one country"),
        ("gcp,x,global,US,x,gcp", 4, "no countries"),
        ("aws,x-1,zone,US,x,aws", 3, "kind 'zone'"),
        ("aws,,region,US,x,aws", 2, "location is empty"),
        ("aws,x-1,region,US", 1, "expected 6 columns"),
    ],
)
def test_bad_rows_are_errors_with_line_and_column(
    tmp_path: Path, row: str, column: int, words: str
) -> None:
    path = _write(tmp_path, "bad.csv", "aws,us-east-1,region,US,ok,aws\n" + row + "\n")
    with pytest.raises(InputError) as caught:
        LocationRegistry.from_files([path])
    [problem] = caught.value.problems
    assert (problem.location.line, problem.location.column) == (3, column)
    assert words in problem.message
    assert f"{path}:3:{column}" in str(caught.value)


def test_every_problem_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.csv", "aws,a-1,region,us,x,aws\naws,b-1,region,xx,x,aws\n")
    with pytest.raises(InputError) as caught:
        LocationRegistry.from_files([path])
    assert [p.location.line for p in caught.value.problems] == [2, 3]


def test_bad_header_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nohead.csv"
    path.write_text("# comment\n" + HEADER, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        LocationRegistry.from_files([path])
    assert caught.value.problems[0].location.line == 1
    with pytest.raises(InputError):
        LocationRegistry.from_files([tmp_path / "missing.csv"])
