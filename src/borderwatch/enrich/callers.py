"""The callers of protected accesses, each with every signal of where it was."""

from __future__ import annotations

import pyarrow as pa

from borderwatch.enrich.geo import GeoSource
from borderwatch.enrich.signals import caller_signals, egress_source
from borderwatch.inventory.locations import LocationRegistry
from borderwatch.model.policy import Policy
from borderwatch.runtime.tablestore import TableStore


def load_callers(
    engine: TableStore,
    sources: list[GeoSource],
    locations: LocationRegistry,
    policy: Policy,
) -> None:
    # Only callers of protected accesses are ever judged.
    distinct = engine.query("SELECT DISTINCT caller FROM access_parts").column("caller")
    rules = policy.jurisdiction
    callers = caller_signals(
        distinct,
        sources,
        locations,
        decide_by=rules.ip_country,
        egress=egress_source(rules.corporate_egress),
    )
    keys = [value or "" for value in callers.column("caller").to_pylist()]
    engine.create_table("callers", callers.append_column("caller_key", pa.array(keys)))
