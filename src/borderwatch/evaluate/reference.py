"""The tables rules read besides the events: policy, stores, places, coverage settings."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from borderwatch.evaluate import tables
from borderwatch.evaluate.dsp_tables import dsp_tables
from borderwatch.ingest.digest import ProtectedKeys
from borderwatch.inventory.locations import LocationRegistry
from borderwatch.inventory.placement import ResolvedStore
from borderwatch.model.policy import Policy
from borderwatch.runtime.tablestore import TableStore


def protected_keys(engine: TableStore) -> ProtectedKeys:
    """Every name of a store holding protected data (needs the reference tables)."""
    rows = engine.query(
        """
        SELECT DISTINCT k.key, k.store_id
        FROM store_keys k
        JOIN store_classes sc USING (store_id)
        JOIN protected_classes pc USING (data_class)
        """
    ).to_pylist()
    # Data Security Program stores: their accesses carry the subject they name.
    subjects = engine.query("SELECT store_id, pattern FROM dsp_subject_keys").to_pylist()
    return ProtectedKeys.from_pairs(
        ((r["key"], r["store_id"]) for r in rows),
        ((r["store_id"], r["pattern"]) for r in subjects),
    )


def load_reference_tables(
    engine: TableStore,
    policy: Policy,
    resolved: list[ResolvedStore],
    locations: LocationRegistry,
) -> None:
    policy_tables = tables.policy_tables(policy)
    # Approvals may name a provider by any alias ("oracle"); compare normalised ids.
    approved = policy_tables["storage_approved"]
    providers = [
        None if p is None else locations.resolve(p, None).provider
        for p in approved.column("provider").to_pylist()
    ]
    policy_tables["storage_approved"] = approved.set_column(
        1, "provider", pa.array(providers, pa.string())
    )
    for name, table in {
        **policy_tables,
        **tables.store_tables(resolved),
        "region_country": tables.region_table(locations),
        **dsp_tables(policy, resolved),
    }.items():
        engine.create_table(name, table)


def coverage_policy(
    policy: Policy, window_from: dt.date | None, window_to: dt.date | None
) -> pa.Table:
    """One row: the policy's `coverage:` settings and the requested window, as the
    coverage rules read them."""
    rules = policy.coverage
    return pa.table(
        {
            "log_gap": [rules.log_gap.value],
            "store_unobserved": [rules.store_unobserved.value],
            "nothing_judged": [rules.nothing_judged.value],
            "log_gap_min_daily_events": pa.array([rules.log_gap_min_daily_events], pa.int64()),
            "window_from": pa.array([window_from], pa.date32()),
            "window_to": pa.array([window_to], pa.date32()),
        }
    )
