"""The enrich stage runs every registered enricher, plug-ins included, into the tables the
rules read; an enricher that breaks its contract stops the scan with its name."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from borderwatch.api import load_policy
from borderwatch.builtin import register
from borderwatch.enrich.base import (
    CALLERS,
    IDENTITIES,
    Batch,
    EnrichContext,
    Enricher,
    as_table,
    like,
)
from borderwatch.enrich.stage import enrich_table
from borderwatch.errors import UsageError
from borderwatch.inventory.locations import LocationRegistry
from borderwatch.pipeline import ScanContext, ScanRequest, run_scan
from borderwatch.registry import Registry, load_plugins

CASE = Path(__file__).parent / "cases" / "people-in-time"


class CallerNetwork:
    """A plug-in: the /24 network of an IPv4 caller, read from the built-in `ip` column."""

    name = "caller-network"
    table = CALLERS
    needs = ("caller_kind", "ip")
    adds = ("ip_network",)

    def enrich(self, batch: Batch, context: EnrichContext) -> Batch:
        table = as_table(batch)
        network = pc.replace_substring_regex(
            table.column("ip"), pattern=r"^(\d+\.\d+\.\d+)\.\d+$", replacement=r"\1.0/24"
        )
        is_v4 = pc.match_substring_regex(table.column("ip"), r"^\d+\.\d+\.\d+\.\d+$")
        network = pc.if_else(is_v4, network, pa.scalar(None, pa.string()))
        return like(batch, table.append_column("ip_network", network))


class Employed:
    """A plug-in on the identities table: whether the row names an employer."""

    name = "employed"
    table = IDENTITIES
    needs = ("employer", "covered_basis")
    adds = ("employed",)

    def enrich(self, batch: Batch, context: EnrichContext) -> Batch:
        table = as_table(batch)
        return like(batch, table.append_column("employed", pc.is_valid(table.column("employer"))))


def scan_into(database: Path, registry: Registry) -> None:
    request = ScanRequest(
        policy=load_policy(CASE / "policy.yaml"),
        inventory=[CASE / "inventory.csv"],
        identities=[CASE / "identities.csv"],
        entities=[CASE / "entities.csv"],
        travel=[CASE / "travel.csv"],
        events=[CASE / "events"],
        database=str(database),
    )
    run_scan(request, ScanContext(registry=registry, locations=LocationRegistry.load_builtin()))


def test_a_plug_in_enricher_registered_before_the_built_ins_reaches_the_callers_table(
    tmp_path: Path,
) -> None:
    registry = Registry()
    # Registered first, it needs columns the built-in caller-location adds: the stage
    # runs it once they exist.
    registry.enrichers.add("caller-network", CallerNetwork())
    registry.enrichers.add("employed", Employed())
    register(registry)
    database = tmp_path / "scan.duckdb"
    scan_into(database, registry)

    with duckdb.connect(str(database), read_only=True) as db:
        callers = db.execute("SELECT caller, ip, ip_network FROM callers").fetchall()
        people = db.execute(
            "SELECT person, employed, covered_basis FROM identities ORDER BY person"
        ).fetchall()
    networks = {caller: network for caller, ip, network in callers if ip and "." in ip}
    assert networks, "the case has IPv4 callers"
    for caller, network in networks.items():
        assert network == ".".join(caller.split(":")[0].split(".")[:3]) + ".0/24"
    assert all(network is None for _, ip, network in callers if not ip or ":" in ip)
    assert {person: employed for person, employed, _ in people}["dana"] is True
    # The built-in covered-person enricher ran too (its column was the plug-in's input).
    assert any(basis for _, _, basis in people)


def test_the_built_in_enrichers_are_registered_in_order() -> None:
    enrichers = load_plugins().enrichers
    assert enrichers.names()[:2] == ["caller-location", "covered-person"]
    for enricher in enrichers:
        assert enricher.table in (CALLERS, IDENTITIES)
        assert enricher.adds and enricher.needs


class DropsRows:
    name = "drops-rows"
    table = CALLERS
    needs = ("caller",)
    adds = ("nothing",)

    def enrich(self, batch: Batch, context: EnrichContext) -> Batch:
        table = as_table(batch).slice(1)
        return like(batch, table.append_column("nothing", pa.nulls(table.num_rows)))


class Overwrites:
    name = "overwrites"
    table = CALLERS
    needs = ("caller",)
    adds = ("loud",)

    def enrich(self, batch: Batch, context: EnrichContext) -> Batch:
        table = as_table(batch)
        upper = pc.utf8_upper(table.column("caller"))
        table = table.set_column(0, "caller", upper).append_column("loud", upper)
        return like(batch, table)


class NeedsNothingThere:
    name = "needs-missing"
    table = CALLERS
    needs = ("caller", "user_agent")
    adds = ("browser",)

    def enrich(self, batch: Batch, context: EnrichContext) -> Batch:
        raise AssertionError("must not run without its input")


@pytest.mark.parametrize(
    ("enricher", "message"),
    [
        (DropsRows(), "enricher 'drops-rows' returned 1 rows for 2"),
        (Overwrites(), "enricher 'overwrites' changed the columns it was given"),
        (NeedsNothingThere(), "enricher 'needs-missing' needs user_agent"),
    ],
)
def test_an_enricher_that_breaks_the_contract_stops_with_its_name(
    enricher: Enricher, message: str
) -> None:
    context = EnrichContext(load_policy(CASE / "policy.yaml"), LocationRegistry.load_builtin())
    callers = pa.table({"caller": pa.array(["10.0.0.1", "a"], pa.string())})
    with pytest.raises(UsageError, match=message):
        enrich_table(callers, CALLERS, [enricher], context)
