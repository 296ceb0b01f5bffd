"""Verdict accuracy (issue 15): every IP source heard in the documented order, every
provider range placed, every region known, citations that follow the clause, and data
versions by content. Real data from ../shared/data/real/, read in place."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from click.testing import CliRunner

from borderwatch.api import new_context, scan
from borderwatch.cli import main
from borderwatch.enrich.geo import SourceSpec, load_sources, lookup_all
from borderwatch.enrich.geo.table import Interval, Record, flatten, underlay
from borderwatch.enrich.signals import caller_signals
from borderwatch.inventory.locations import LocationRegistry
from borderwatch.pipeline import ScanContext

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
RANGES = REAL / "cloud-ip-ranges"
AZURE = RANGES / "microsoft-azure-ip-ranges.json"
IPVERSE = REAL / "ipverse-rir-ip"
LOCATED_DB = REAL / "ip-location-db" / "geo-whois-asn-country.mmdb"
# iptocc says RO, the RIR data (ipverse) says GB: the precedence decides the verdict.
SPLIT_IP = "89.238.150.174"


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One compiled-table cache for the module: the located database compiles once."""
    return tmp_path_factory.mktemp("geo-cache")


def _signals(callers: list[str], specs: list[SourceSpec], cache: Path) -> dict[str, Any]:
    sources = load_sources(specs, cache_dir=cache)
    table = caller_signals(pa.array(callers), sources, LocationRegistry.load_builtin())
    return {row["caller"]: row for row in table.to_pylist()}


# ---------------------------------------------------------------- 1. precedence


def test_user_sources_answer_before_iptocc_and_every_answer_is_kept(cache: Path) -> None:
    row = _signals([SPLIT_IP], [SourceSpec("rir", IPVERSE)], cache)[SPLIT_IP]
    assert row["ip_registered"] == "GB"  # the user's RIR data, not iptocc's RO
    assert (row["ip_country"], row["ip_country_kind"]) == ("GB", "registered")
    assert row["ip_country_source"] == "ipverse-rir-ip"
    answers = [(a["source"], a["kind"], a["country"]) for a in row["ip_answers"]]
    assert answers == [("ipverse-rir-ip", "registered", "GB"), ("iptocc", "registered", "RO")]
    assert all(a["version"] for a in row["ip_answers"])
    assert row["ip_disagree"] == "GB,RO"


def test_a_located_source_decides_and_its_disagreement_lowers_confidence(
    cache: Path, tmp_path: Path
) -> None:
    agreeing = "81.2.69.142"  # GB in every source
    case = _write_case(tmp_path, {"alice": SPLIT_IP, "bob": agreeing}, allowed=None)
    result = scan(
        policy=case / "policy.yaml",
        inventory=[case / "inventory.csv"],
        events=[case / "events"],
        ip_data=[SourceSpec("mmdb", LOCATED_DB), SourceSpec("rir", IPVERSE)],
        context=_context(cache),
    )
    found = {f.principal.rsplit("/", 1)[-1]: f for f in result.findings if f.principal}
    alice, bob = found["alice"], found["bob"]
    assert alice.country == "RO"  # the located database decides over registrations
    assert alice.evidence["country_source"] == "geo-whois-asn-country"
    assert alice.evidence["confidence"] == "low"
    assert "disagree" in alice.message and "GB, RO" in alice.message
    sources = [a["source"] for a in alice.evidence["ip_answers"]]
    assert sources == ["geo-whois-asn-country", "ipverse-rir-ip", "iptocc"]
    assert (bob.country, bob.evidence["confidence"]) == ("GB", "medium")
    assert "disagree" not in bob.message
    assert result.data_versions["ip_country"].startswith("first answer in source order")
    assert "geo-whois-asn-country > ipverse-rir-ip > iptocc" in result.data_versions["ip_country"]


# ------------------------------------------------------- 2. regional answers win


def test_a_regionless_tag_never_masks_a_regional_range(cache: Path) -> None:
    sources = load_sources([SourceSpec("provider", AZURE)], cache, with_default=False)
    row = lookup_all(["13.64.151.161"], sources).to_pylist()[0]
    prefix = "microsoft-azure-ip-ranges."
    assert (row[prefix + "provider_region"], row[prefix + "provider_country"]) == ("westus", "US")


def test_underlay_keeps_regional_ranges_and_fills_gaps_only() -> None:
    regional = Record(provider="p", provider_region="r")
    bare = Record(provider="p", provider_service="tag")
    merged = flatten(
        underlay(
            [Interval(100, 199, regional)],
            [Interval(150, 150, bare), Interval(50, 120, bare), Interval(190, 260, bare)],
        )
    )
    assert merged == [(50, 99, bare), (100, 199, regional), (200, 260, bare)]


# --------------------------------------------- 3. registry against providers' data


def _azure_regions() -> set[str]:
    doc = json.loads(AZURE.read_text(encoding="utf-8"))
    return {v["properties"]["region"] for v in doc["values"] if v["properties"].get("region")}


# Azure's staging regions: in the service tags, not in any public list of locations.
AZURE_STAGING = {"usstagec", "usstagee"}


def test_registry_knows_every_region_botocore_knows_in_its_partition() -> None:
    import botocore

    data = Path(botocore.__file__).parent / "data"
    registry = LocationRegistry.load_builtin()
    missing, wrong_partition = [], []
    for partition in json.loads((data / "partitions.json").read_text())["partitions"]:
        for region in partition["regions"]:
            if region.endswith("-global"):
                continue  # aws-global, aws-cn-global...: endpoints, not places
            found = registry.resolve("aws", region)
            if found.kind != "region":
                missing.append(region)
            elif found.partition != partition["id"]:
                wrong_partition.append((region, found.partition, partition["id"]))
    endpoints = json.loads((data / "endpoints.json").read_text())
    for partition in endpoints["partitions"]:
        for region in partition["regions"]:
            if registry.resolve("aws", region).kind == "unknown":
                missing.append(region)
    assert missing == [] and wrong_partition == []
    sovereign = registry.resolve("aws", "eusc-de-east-1")
    assert (sovereign.countries, sovereign.partition) == (("DE",), "aws-eusc")


def test_registry_places_every_region_of_google_azure_and_oracle_data() -> None:
    registry = LocationRegistry.load_builtin()
    google = json.loads((RANGES / "google-cloud-ip-ranges.json").read_text())
    scopes = {p["scope"] for p in google["prefixes"]} - {"global"}
    oracle = json.loads((RANGES / "oracle-cloud-ip-ranges.json").read_text())
    regions = {
        "gcp": scopes,
        "azure": _azure_regions() - AZURE_STAGING,
        "oci": {r["region"] for r in oracle["regions"]},
    }
    unplaced = {
        (provider, region)
        for provider, names in regions.items()
        for region in names
        if len(registry.resolve(provider, region).countries) != 1
    }
    assert unplaced == set()
    assert _azure_regions() >= AZURE_STAGING  # still there: the list above is not stale
    short = registry.resolve("azure", "germanywc")
    assert (short.location, short.countries) == ("germanywestcentral", ("DE",))
    assert registry.resolve("oci", "eu-jovanovac-1").partition == "oc20"
    for dual, countries in {
        "EUR5": ("BE", "GB"),
        "EUR7": ("DE", "GB"),
        "EUR8": ("CH", "DE"),
    }.items():
        assert registry.resolve("gcp", dual).countries == countries


def test_azure_pairs_include_brazil_southeast_and_the_dod_regions() -> None:
    from borderwatch.collect.exports.common import azure_pairs

    pairs = azure_pairs()
    assert pairs["brazilsoutheast"] == "brazilsouth"
    assert (pairs["usdodeast"], pairs["usdodcentral"]) == ("usdodcentral", "usdodeast")


@pytest.mark.parametrize(
    ("name", "provider"),
    [
        ("aws-ip-ranges.json", "aws"),
        ("google-cloud-ip-ranges.json", "gcp"),
        ("microsoft-azure-ip-ranges.json", "azure"),
        ("oracle-cloud-ip-ranges.json", "oci"),
    ],
)
def test_every_regional_prefix_of_the_provider_files_resolves_to_a_country(
    name: str, provider: str, cache: Path
) -> None:
    """Each regional prefix's first and last address, looked up in the compiled table,
    come back with a country (figures printed; docs/geo.md quotes them)."""
    import ipaddress

    from borderwatch.enrich.geo.providers import FORMATS

    doc = json.loads((RANGES / name).read_text(encoding="utf-8"))
    entries = [
        (prefix, region)
        for prefix, region, _ in FORMATS[provider][1](doc)
        if region and region.lower() != "global" and region not in AZURE_STAGING
    ]
    probes = []
    for prefix, _ in entries:
        net = ipaddress.ip_network(prefix, strict=False)
        probes += [str(net.network_address), str(net.broadcast_address)]
    sources = load_sources([SourceSpec("provider", RANGES / name)], cache, with_default=False)
    answers = lookup_all(probes, sources).column(f"{sources[0].source_id}.provider_country")
    unplaced = sorted({probes[i] for i, c in enumerate(answers.to_pylist()) if c is None})
    print(f"{provider}: {len(entries)} regional prefixes, {len(unplaced)} addresses unplaced")
    assert len(entries) > 100 and unplaced == []


# ------------------------------------------------ 4. wording follows the clause


def test_allow_list_findings_cite_the_allow_list_not_the_countries_of_concern(
    tmp_path: Path, cache: Path
) -> None:
    callers = {"alice": "8.8.8.8", "bob": "81.2.69.142"}  # US (Google DNS), GB
    only_allowed = _write_case(tmp_path / "a", callers, allowed=["eea"])
    result = scan(
        policy=only_allowed / "policy.yaml",
        inventory=[only_allowed / "inventory.csv"],
        events=[only_allowed / "events"],
        context=_context(cache),
    )
    rules = {(f.rule, f.country) for f in result.findings}
    assert rules == {
        ("access.outside-allowed-countries", "US"),
        ("access.outside-allowed-countries", "GB"),
    }
    for finding in result.findings:
        refs = " ".join(finding.provenance["references"])
        assert "allowed_countries" in refs and "202.601" not in refs
        assert "prohibited country" not in finding.message
        assert "outside the countries the policy allows" in finding.message

    both = _write_case(tmp_path / "b", callers, allowed=["eea"], prohibited=["US"])
    result = scan(
        policy=both / "policy.yaml",
        inventory=[both / "inventory.csv"],
        events=[both / "events"],
        context=_context(cache),
    )
    rules = {(f.rule, f.country) for f in result.findings}
    # The listed country is cited by its own clause (and the law), once.
    assert rules == {
        ("access.prohibited-jurisdiction", "US"),
        ("access.outside-allowed-countries", "GB"),
    }
    listed = next(f for f in result.findings if f.country == "US")
    assert any("202.601" in ref for ref in listed.provenance["references"])


# ------------------------------------------------------ 5. versions by content


def test_touching_every_data_file_gives_byte_identical_findings(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for name in ("microsoft-azure-ip-ranges.json", "github-ip-ranges.json", "digitalocean.csv"):
        shutil.copy(RANGES / name, data / name)
    shutil.copytree(IPVERSE / "country" / "gb", data / "ipverse" / "country" / "gb")
    shutil.copytree(IPVERSE / "country" / "us", data / "ipverse" / "country" / "us")
    callers = {"alice": SPLIT_IP, "bob": "13.64.151.161", "carol": "20.99.31.225"}
    case = _write_case(tmp_path / "case", callers, allowed=["eea"])
    ip_data = [
        SourceSpec("rir", data / "ipverse"),
        SourceSpec("provider", data / "microsoft-azure-ip-ranges.json"),
        SourceSpec("provider", data / "github-ip-ranges.json"),
        SourceSpec("provider", data / "digitalocean.csv"),
    ]

    def run(out: Path, cache: Path) -> bytes:
        scan(
            policy=case / "policy.yaml",
            inventory=[case / "inventory.csv"],
            events=[case / "events"],
            ip_data=ip_data,
            out=out,
            context=_context(cache),
        )
        return (out / "findings.json").read_bytes()

    first = run(tmp_path / "out1", tmp_path / "cache1")
    later = 2_000_000_000  # 2033: another day, same bytes
    for path in [*data.rglob("*"), *case.rglob("*")]:
        os.utime(path, (later, later))
    # Compiled afresh and read from the first run's cache: the same provenance.
    assert run(tmp_path / "out2", tmp_path / "cache2") == first
    assert run(tmp_path / "out3", tmp_path / "cache1") == first
    assert b"changeNumber" in first and b"mtime" not in first


# ------------------------------------------------ 6. unknown keeps the IP signals


def test_unknown_location_findings_keep_every_ip_signal(tmp_path: Path, cache: Path) -> None:
    staging = "20.99.31.225"  # Azure usstagee: a cloud host whose country is not known
    case = _write_case(tmp_path, {"erin": staging}, allowed=["eea"])
    result = scan(
        policy=case / "policy.yaml",
        inventory=[case / "inventory.csv"],
        events=[case / "events"],
        ip_data=[SourceSpec("provider", AZURE)],
        context=_context(cache),
    )
    (finding,) = [f for f in result.findings if f.rule == "access.unknown-location"]
    evidence = finding.evidence
    assert evidence["cloud_hosts"] == ["azure usstagee"]
    assert evidence["registered_countries"] == ["US"]
    assert [a["source"] for a in evidence["ip_answers"]] == ["iptocc"]
    assert "azure usstagee" in finding.message


# -------------------------------------------------------------- 7. any mmdb layout


def test_the_plain_country_code_mmdb_layout_is_a_located_source(cache: Path) -> None:
    """The compiled table answers as the database's own tree does, address by address."""
    import ipaddress
    import random

    import maxminddb

    sources = load_sources([SourceSpec("mmdb", LOCATED_DB)], cache, with_default=False)
    table = sources[0].table  # type: ignore[attr-defined]
    assert table.ranges_v4 > 100_000 and table.ranges_v6 > 50_000
    pick = random.Random(15)
    probes = [str(ipaddress.IPv4Address(pick.getrandbits(32))) for _ in range(3000)]
    probes += [
        str(ipaddress.IPv6Address((0x2 << 124) | pick.getrandbits(124))) for _ in range(1000)
    ]
    rows = lookup_all(probes, sources).to_pylist()
    with maxminddb.open_database(str(LOCATED_DB)) as reader:
        expected = [(reader.get(ip) or {}).get("country_code") for ip in probes]
    got = [r["geo-whois-asn-country.country"] for r in rows]
    assert got == expected and sum(c is not None for c in got) > 1000
    kinds = {
        r["geo-whois-asn-country.country_kind"] for r in rows if r["geo-whois-asn-country.country"]
    }
    assert kinds == {"located"}


def test_geo_build_says_how_long_each_source_took(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "geo",
            "build",
            "--cache-dir",
            str(tmp_path),
            "--provider-ranges",
            str(AZURE),
            "--rir",
            str(REAL / "rir-delegated" / "rir-mirror" / "delegated-afrinic-extended-latest"),
        ],
    )
    assert result.exit_code == 0, result.output
    took = [line for line in result.output.splitlines() if "took" in line]
    assert len(took) == 2 and all(" s (compiled)" in line for line in took)


def test_geo_lookup_prints_every_source_and_the_verdict_for_real_ips(
    tmp_path: Path, cache: Path
) -> None:
    ips = _real_caller_ips()
    assert len(ips) >= 200
    listing = tmp_path / "ips.txt"
    listing.write_text("\n".join(ips) + "\n")
    result = CliRunner().invoke(
        main,
        [
            "geo",
            "lookup",
            "--from-file",
            str(listing),
            "--cache-dir",
            str(cache),
            "--mmdb",
            str(LOCATED_DB),
            "--rir",
            str(IPVERSE),
            "--provider-ranges",
            str(AZURE),
        ],
    )
    assert result.exit_code == 0, result.output
    header = next(line for line in result.output.splitlines() if "verdict" in line)
    for column in ("geo-whois-asn-country", "ipverse-rir-ip", "microsoft-azure-ip-ranges"):
        assert column in header
    assert header.index("ipverse-rir-ip") < header.index("iptocc") < header.index("verdict")
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines() if "│" in line}
    for ip in ips:
        cells = [c.strip() for c in rows[ip].split("│")[2:-1]]
        assert len(cells) == 5 and all(cells), rows[ip]
    decided = sum(" by " in rows[ip].split("│")[-2] for ip in ips)
    print(f"geo lookup: {len(ips)} real IPs, {decided} with a deciding source")
    assert decided >= len(ips) * 0.9


# ------------------------------------------------------------------- helpers


def _real_caller_ips() -> list[str]:
    """Distinct caller IPs of the real S3 honey-bucket log plus the first address of
    real provider prefixes: a few hundred addresses people and clouds really use."""
    import csv
    import ipaddress

    found: dict[str, None] = {}
    with (REAL / "otrf-security-datasets" / "AWS_S3_HoneyBucketLogs.csv").open(
        encoding="utf-8", errors="replace"
    ) as handle:
        for row in csv.DictReader(handle):
            for value in row.values():
                try:
                    found[str(ipaddress.ip_address((value or "").strip()))] = None
                except ValueError:
                    continue
    doc = json.loads(AZURE.read_text(encoding="utf-8"))
    for value in doc["values"][:40]:
        prefix = value["properties"]["addressPrefixes"][0]
        found[str(ipaddress.ip_network(prefix, strict=False).network_address)] = None
    return list(found)


def _context(cache: Path) -> ScanContext:
    context = new_context()
    context.cache_dir = cache
    return context


def _write_case(
    folder: Path,
    callers: dict[str, str],
    *,
    allowed: list[str] | None,
    prohibited: list[str] | None = None,
) -> Path:
    """A policy for one EU data class, one store, one S3 read per (user, caller IP)."""
    folder.mkdir(parents=True, exist_ok=True)
    access = []
    if allowed is not None:
        access.append(f"      allowed_countries: [{', '.join(allowed)}]")
    if prohibited is not None:
        access.append(f"      prohibited_countries: [{', '.join(prohibited)}]")
    if not access:
        access.append("      prohibited_countries: [GB, RO, US]")
    (folder / "policy.yaml").write_text(
        "borderwatch: policy/v1\nname: accuracy\nversion: '1'\ndata_classes:\n"
        "  eu_data:\n    storage:\n      approved:\n        - country: DE\n"
        "    access:\n" + "\n".join(access) + "\n"
    )
    (folder / "inventory.csv").write_text(
        "store_id,provider,region,service,data_classes,records,copy_of\n"
        "user-media,aws,eu-central-1,s3,eu_data,1000,\n"
    )
    (folder / "events").mkdir(exist_ok=True)
    lines = []
    for number, (user, ip) in enumerate(sorted(callers.items())):
        event = {
            "eventVersion": "1.08",
            "userIdentity": {
                "type": "IAMUser",
                "arn": f"arn:aws:iam::111122223333:user/{user}",
                "accountId": "111122223333",
                "userName": user,
            },
            "eventTime": "2026-03-01T10:00:00Z",
            "awsRegion": "eu-central-1",
            "sourceIPAddress": ip,
            "eventID": f"acc-{number}",
            "recipientAccountId": "111122223333",
            "readOnly": True,
            "eventSource": "s3.amazonaws.com",
            "eventName": "GetObject",
            "requestParameters": {"bucketName": "user-media", "key": "k"},
        }
        lines.append(json.dumps(event))
    (folder / "events" / "trail.jsonl").write_text("\n".join(lines) + "\n")
    return folder
