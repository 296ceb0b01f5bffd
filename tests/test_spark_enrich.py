"""Enrichment inside Spark tasks (enrich/spark_lookup.py): the distinct callers looked up
by the same enricher chain on the executors, with the IP tables broadcast, give the table
the driver builds, row for row and type for type; so does a scan's `callers` table.

Real Spark in local mode, on the session tests/test_spark_parity.py starts.
"""

from __future__ import annotations

import ipaddress
import random
from typing import Any

import pyarrow as pa
import pytest

from borderwatch.api import load_policy
from borderwatch.enrich.base import CALLERS, EnrichContext
from borderwatch.enrich.geo import SourceSpec, load_sources
from borderwatch.enrich.spark_lookup import enrich_on_spark
from borderwatch.enrich.stage import enrich_table
from borderwatch.inventory.locations import LocationRegistry
from borderwatch.registry import load_plugins
from test_cases import CASES, REAL

pytest.importorskip("pyspark", reason="pyspark is not installed: pip install '.[spark]'")

import test_spark_parity

# The suite's one local[2] session (a session-scoped fixture, shared with the parity tests).
spark = test_spark_parity.spark

ENRICHERS = [e for e in load_plugins().enrichers if e.table == CALLERS]
KNOWN = [
    "67.43.156.13",  # MaxMind test data: anonymous, located elsewhere than registered
    "81.2.69.160",
    "2.125.160.216",
    "8.34.208.10",  # Google Cloud
    "89.160.20.112",  # the case's anonymiser list (a VPN exit)
    "2001:480::1",
    "10.20.3.4",  # the case's corporate egress
    "198.51.100.7",
    "[2001:db8::1]:443",
    " 81.2.69.142 ",
    "AWS Internal",
    "s3.amazonaws.com",
    "",
    "localhost",
    "<script>alert(1)</script>",
]


def _callers(count: int) -> pa.Table:
    rng = random.Random(19)
    generated = [str(ipaddress.IPv4Address(rng.getrandbits(32))) for _ in range(count)]
    generated += [str(ipaddress.IPv6Address(rng.getrandbits(128))) for _ in range(count // 4)]
    values = [*dict.fromkeys([*KNOWN, *generated]), None]
    return pa.table({"caller": pa.array(values, pa.string())})


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> EnrichContext:
    case = CASES / "ip-signals"
    specs = [
        SourceSpec("mmdb", REAL / "maxmind-test-db" / "test-data" / "GeoIP2-City-Test.mmdb"),
        SourceSpec("provider", REAL / "cloud-ip-ranges" / "google-cloud-ip-ranges.json"),
        SourceSpec("anonymisers", case / "anonymisers.csv"),
    ]
    cache = tmp_path_factory.mktemp("geo-cache")
    return EnrichContext(
        load_policy(case / "policy.yaml"),
        LocationRegistry.load_builtin(),
        load_sources(specs, cache_dir=cache),
    )


def test_callers_enriched_on_spark_equal_the_drivers(spark: Any, context: EnrichContext) -> None:
    callers = _callers(5000)
    here = enrich_table(callers, CALLERS, ENRICHERS, context)
    there = enrich_on_spark(spark, callers, CALLERS, ENRICHERS, context)
    assert there.schema == here.schema
    assert there.equals(here)
    # Not a table of nulls: the IP data answered for the callers it knows.
    countries = set(there.column("ip_country").to_pylist())
    assert {"GB", "US"} <= countries
    assert len(set(there.column("caller_kind").to_pylist())) >= 3


def test_no_callers_gives_the_drivers_empty_table(spark: Any, context: EnrichContext) -> None:
    empty = pa.table({"caller": pa.array([], pa.string())})
    here = enrich_table(empty, CALLERS, ENRICHERS, context)
    assert enrich_on_spark(spark, empty, CALLERS, ENRICHERS, context).equals(here)


def test_the_users_anonymiser_list_answers_in_the_tasks(spark: Any, context: EnrichContext) -> None:
    callers = pa.table({"caller": pa.array(["89.160.20.112", "81.2.69.160"], pa.string())})
    there = enrich_on_spark(spark, callers, CALLERS, ENRICHERS, context)
    names, flags = callers.column("caller").to_pylist(), there.column("anonymiser").to_pylist()
    flags = dict(zip(names, flags, strict=True))
    assert flags["89.160.20.112"] and not flags["81.2.69.160"], flags
