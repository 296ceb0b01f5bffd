"""Caller signals: which country decides, cloud hosts, anonymisers, corporate egress."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from borderwatch.enrich.geo import SourceSpec, load_sources
from borderwatch.enrich.signals import caller_signals, egress_source
from borderwatch.inventory.locations import LocationRegistry
from borderwatch.model.policy import EgressRange

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
CITY = REAL / "maxmind-test-db" / "test-data" / "GeoIP2-City-Test.mmdb"
GOOGLE = REAL / "cloud-ip-ranges" / "google-cloud-ip-ranges.json"
CALLERS = ["67.43.156.13", "8.34.208.10", "10.20.3.4", "AWS Internal", None]


def signals(decide_by: str, tmp_path: Path) -> dict[str | None, dict[str, str | None]]:
    sources = load_sources(
        [SourceSpec("mmdb", CITY), SourceSpec("provider", GOOGLE)], cache_dir=tmp_path
    )
    egress = egress_source([EgressRange(cidr="10.20.0.0/16", country="US", office="Austin")])
    table = caller_signals(
        pa.array(CALLERS, pa.string()),
        sources,
        LocationRegistry.load_builtin(),
        decide_by=decide_by,
        egress=egress,
    )
    return {row["caller"]: row for row in table.to_pylist()}


def test_the_policy_chooses_located_or_registered_country(tmp_path: Path) -> None:
    located = signals("located", tmp_path)["67.43.156.13"]
    registered = signals("registered", tmp_path)["67.43.156.13"]
    assert (located["ip_located"], located["ip_registered"]) == ("BT", registered["ip_registered"])
    assert (located["ip_country"], located["ip_country_kind"]) == ("BT", "located")
    assert registered["ip_country_kind"] == "registered"
    assert registered["ip_country"] == registered["ip_registered"] != "BT"


def test_cloud_hosts_egress_and_non_ip_callers(tmp_path: Path) -> None:
    rows = signals("located", tmp_path)
    google = rows["8.34.208.10"]
    assert (google["host_provider"], google["host_region"], google["host_country"]) == (
        "gcp",
        "europe-west1",
        "BE",
    )
    office = rows["10.20.3.4"]
    assert office["caller_kind"] == "private"
    assert (office["egress_country"], office["egress_office"]) == ("US", "Austin")
    assert office["ip_country"] is None  # a private address says nothing by itself
    for value in ("AWS Internal", None):
        assert rows[value]["ip_country"] is None and rows[value]["host_provider"] is None
