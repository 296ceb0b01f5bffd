"""Pure functions that turn the policy, inventory and identities into engine tables.

Rules are SQL over these tables, so whatever a rule needs to know must be here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pyarrow as pa

from borderwatch.inventory.classes import classes_by_pattern
from borderwatch.inventory.diff import Change
from borderwatch.inventory.legacy import LegacyHolding
from borderwatch.inventory.locations import LocationRegistry
from borderwatch.inventory.placement import ResolvedStore, in_default_partition
from borderwatch.inventory.stores import UnreadableStore
from borderwatch.model.people import Travel
from borderwatch.model.policy import DataClass, Policy, StoreClasses
from borderwatch.policy import iso_countries


def policy_tables(policy: Policy) -> dict[str, pa.Table]:
    """protected_classes, storage_approved and access_prohibited, one row per clause."""
    protected = policy.protected_classes()
    approved_rows = [
        (
            dc.name,
            loc.provider,
            loc.region,
            loc.country,
            loc.partition,
            f"data_classes.{dc.name}.storage",
        )
        for dc in protected
        for loc in dc.storage.approved
    ]
    prohibited_rows = sorted(
        (dc.name, country, clause)
        for dc in protected
        for country, clause in prohibited_clauses(dc).items()
    )
    covered_rows = sorted(
        {(dc.name, c) for dc in protected for c in dc.access.covered_person_countries}
    )
    return {
        "protected_classes": pa.table({"data_class": [dc.name for dc in protected]}),
        "storage_approved": pa.table(
            {
                "data_class": [r[0] for r in approved_rows],
                "provider": [_lower(r[1]) for r in approved_rows],
                "region": [_lower(r[2]) for r in approved_rows],
                "country": [r[3] for r in approved_rows],
                "partition": [_lower(r[4]) for r in approved_rows],
                "clause": [r[5] for r in approved_rows],
            },
            schema=pa.schema(
                [
                    (name, pa.string())
                    for name in ("data_class", "provider", "region", "country", "partition")
                ]
                + [("clause", pa.string())]
            ),
        ),
        "access_prohibited": pa.table(
            {
                "data_class": [r[0] for r in prohibited_rows],
                "country": [r[1] for r in prohibited_rows],
                "clause": [r[2] for r in prohibited_rows],
            },
            schema=pa.schema([(n, pa.string()) for n in ("data_class", "country", "clause")]),
        ),
        "access_covered": _pairs(covered_rows, "data_class", "country"),
    }


def prohibited_countries(data_class: DataClass) -> set[str]:
    """Countries access is prohibited from: the listed ones, and outside any allow-list."""
    prohibited = set(data_class.access.prohibited_countries)
    allowed = data_class.access.allowed_countries
    if allowed is not None:
        prohibited |= set(iso_countries()) - set(allowed)
    return prohibited


def prohibited_clauses(data_class: DataClass) -> dict[str, str]:
    """Each prohibited country and the clause that prohibits it: `prohibited_countries`
    when listed there (it says more), else `allowed_countries` (outside the allow-list).
    Findings cite the clause that fired (rules/shared/access.sql)."""
    clauses = {country: "allowed_countries" for country in prohibited_countries(data_class)}
    clauses.update({c: "prohibited_countries" for c in data_class.access.prohibited_countries})
    return clauses


def store_tables(resolved: Sequence[ResolvedStore]) -> dict[str, pa.Table]:
    """stores, store_classes, store_countries and store_keys."""
    string = pa.string()
    stores = pa.table(
        {
            "store_id": [r.store.store_id for r in resolved],
            "provider": [r.location.provider for r in resolved],
            "region": [r.store.region for r in resolved],
            "location": [r.location.location for r in resolved],
            "location_kind": [r.location.kind for r in resolved],
            "location_reason": [r.location.reason for r in resolved],
            # As the registry spells it; the rules compare it lower-cased, as the
            # policy's partitions are stored (storage_approved).
            "partition": [r.location.partition for r in resolved],
            "default_partition": pa.array(
                [in_default_partition(r.location) for r in resolved], pa.bool_()
            ),
            "service": [r.store.service for r in resolved],
            "records": pa.array([r.store.records for r in resolved], pa.int64()),
            "copy_of": pa.array([r.store.copy_of for r in resolved], string),
            "copy_kind": pa.array([r.store.copy_kind for r in resolved], string),
            "copy_path": pa.array([list(r.copies.copy_path) for r in resolved], pa.list_(string)),
            "copy_problem": [r.copies.problem for r in resolved],
            "origin": [r.store.origin for r in resolved],
        }
    )
    classes = [(r.store.store_id, c) for r in resolved for c in r.copies.data_classes]
    countries = [(r.store.store_id, c) for r in resolved for c in r.location.countries]
    keys = {
        (r.store.store_id, key) for r in resolved for key in (r.store.store_id, *r.store.aliases)
    }
    return {
        "stores": stores,
        "store_classes": _pairs(classes, "store_id", "data_class"),
        "store_countries": _pairs(countries, "store_id", "country"),
        "store_keys": _pairs(sorted(keys), "store_id", "key"),
    }


def travel_table(trips: Sequence[Travel]) -> pa.Table:
    """travel: approved trips (person, country, first and last day)."""
    return pa.table(
        {
            "person": pa.array([t.person for t in trips], pa.string()),
            "country": pa.array([t.country for t in trips], pa.string()),
            "start_day": pa.array([t.start for t in trips], pa.date32()),
            "end_day": pa.array([t.end for t in trips], pa.date32()),
            "approved_by": pa.array([t.approved_by for t in trips], pa.string()),
        }
    )


def region_table(registry: LocationRegistry) -> pa.Table:
    """region_country: single-country cloud regions, to place callers that are services."""
    rows = [
        (loc.provider, loc.location, loc.countries[0])
        for loc in registry.all_locations()
        if loc.kind == "region" and len(loc.countries) == 1
    ]
    return pa.table(
        {
            "provider": [r[0] for r in rows],
            "region": [r[1] for r in rows],
            "country": [r[2] for r in rows],
        },
        schema=pa.schema([(n, pa.string()) for n in ("provider", "region", "country")]),
    )


def _pairs(rows: Sequence[tuple[str, str]], first: str, second: str) -> pa.Table:
    return pa.table(
        {first: [r[0] for r in rows], second: [r[1] for r in rows]},
        schema=pa.schema([(first, pa.string()), (second, pa.string())]),
    )


def _lower(value: str | None) -> str | None:
    return None if value is None else value.strip().lower()


def changes_table(changes: Sequence[Change]) -> pa.Table:
    """inventory_changes: what changed per store since the previous inventory."""
    return pa.table(
        {
            name: pa.array([getattr(c, name) for c in changes], pa.string())
            for name in ("store_id", "kind", "before", "after", "detail")
        }
    )


def legacy_table(holdings: Sequence[LegacyHolding], as_of: dt.date) -> pa.Table:
    """legacy_holdings: protected stores in legacy locations, with the scan's day."""
    return pa.table(
        {
            "store_id": pa.array([h.store_id for h in holdings], pa.string()),
            "legacy": pa.array([h.legacy for h in holdings], pa.string()),
            "deadline": pa.array([h.deadline for h in holdings], pa.date32()),
            "records": pa.array([h.records for h in holdings], pa.int64()),
            "as_of": pa.array([as_of] * len(holdings), pa.date32()),
        }
    )


def unreadable_table(rows: Sequence[UnreadableStore], rules: Sequence[StoreClasses]) -> pa.Table:
    """unreadable_stores: quarantined inventory rows, with the classes they name.

    The policy's store_classes patterns add classes as they do for readable rows;
    `data_classes` is NULL when the row's classes could not be read at all.
    """

    def classes(row: UnreadableStore) -> list[str] | None:
        if row.data_classes is None:
            return None
        names = (row.store_id,) if row.store_id else ()
        return list(dict.fromkeys((*row.data_classes, *classes_by_pattern(names, rules))))

    return pa.table(
        {
            "store_id": pa.array([row.store_id for row in rows], pa.string()),
            "declared_at": pa.array([row.declared_at for row in rows], pa.string()),
            "row_name": pa.array([row.row_name for row in rows], pa.string()),
            "reason": pa.array([row.reason for row in rows], pa.string()),
            "data_classes": pa.array([classes(row) for row in rows], pa.list_(pa.string())),
        }
    )
