"""The tables the Data Security Program views and rules read (docs/dsp.md).

Pure functions from the policy and the resolved stores to Arrow tables:

- `dsp_thresholds`: category, more_than (bulk is more than this), unit, section, and the
  reason when the policy departs from the regulation;
- `dsp_countries`: the countries of concern;
- `dsp_agreements`: counterparty, kind, whether the CISA requirements are in place and
  the evidence reference;
- `dsp_store_volumes`: per DSP store and category, the subjects it holds (null: the
  inventory does not say);
- `dsp_subject_keys`: per DSP store, its subject key pattern (null: none).
"""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase

import pyarrow as pa

from borderwatch.inventory.iam import IamExport
from borderwatch.inventory.iam_access import potential_access, potential_table
from borderwatch.inventory.placement import ResolvedStore
from borderwatch.inventory.volumes import ALL_CATEGORIES
from borderwatch.model.dsp import COMBINED, REGULATION, DspCount
from borderwatch.model.policy import Policy
from borderwatch.runtime.tablestore import TableStore

_STRING = pa.string()


def dsp_tables(policy: Policy, resolved: Sequence[ResolvedStore]) -> dict[str, pa.Table]:
    """Every DSP table, by name (empty when the policy gives no class a DSP category)."""
    rules = policy.dsp
    categories = store_categories(policy, resolved)
    volumes = _volumes(resolved, categories)
    keys = subject_patterns(policy, resolved, categories)
    thresholds = [
        (
            category,
            rules.threshold(category),
            regulation.unit,
            regulation.section,
            next((o.reason for c, o in rules.thresholds.items() if c == category), None),
        )
        for category, regulation in REGULATION.items()
    ]
    return {
        "dsp_thresholds": pa.table(
            {
                "category": pa.array([t[0] for t in thresholds], _STRING),
                "more_than": pa.array([t[1] for t in thresholds], pa.int64()),
                "unit": pa.array([t[2] for t in thresholds], _STRING),
                "section": pa.array([t[3] for t in thresholds], _STRING),
                "override_reason": pa.array([t[4] or None for t in thresholds], _STRING),
            }
        ),
        "dsp_countries": pa.table(
            {"country": pa.array(sorted(rules.countries_of_concern), _STRING)}
        ),
        "dsp_agreements": pa.table(
            {
                "counterparty": pa.array([a.counterparty for a in rules.agreements], _STRING),
                "kind": pa.array([a.kind for a in rules.agreements], _STRING),
                "cisa_in_place": pa.array([a.cisa.in_place for a in rules.agreements], pa.bool_()),
                "cisa_evidence": pa.array(
                    [a.cisa.evidence or None for a in rules.agreements], _STRING
                ),
                "reference": pa.array([a.reference or None for a in rules.agreements], _STRING),
            }
        ),
        "dsp_store_volumes": pa.table(
            {
                "store_id": pa.array([v[0] for v in volumes], _STRING),
                "category": pa.array([v[1] for v in volumes], _STRING),
                "subjects": pa.array([v[2] for v in volumes], pa.int64()),
            }
        ),
        "dsp_subject_keys": pa.table(
            {
                "store_id": pa.array(list(keys), _STRING),
                "pattern": pa.array(list(keys.values()), _STRING),
            }
        ),
    }


def dsp_counts(engine: TableStore) -> list[DspCount]:
    """Every counterparty's count of every category the scan judged (dsp_verdicts)."""
    rows = engine.query(
        "SELECT counterparty, category, threshold, unit, verdict, peak, "
        "CAST(window_from AS VARCHAR) AS window_from, CAST(window_to AS VARCHAR) AS window_to, "
        "crossing_count, transaction_class FROM dsp_verdicts ORDER BY counterparty, category"
    ).to_pylist()
    return [
        DspCount(
            r["counterparty"],
            r["category"],
            int(r["threshold"]),
            r["unit"],
            r["verdict"],
            int(r["peak"] or 0),
            r["window_from"],
            r["window_to"],
            r["crossing_count"],
            r["transaction_class"],
        )
        for r in rows
    ]


def potential_access_table(
    policy: Policy, resolved: Sequence[ResolvedStore], export: IamExport
) -> pa.Table:
    """dsp_potential: who can read each DSP store, from the IAM inputs (may be empty)."""
    categories = store_categories(policy, resolved)
    stores = [item.store for item in resolved if item.store.store_id in categories]
    return potential_table(potential_access(export, stores))


def store_categories(
    policy: Policy, resolved: Sequence[ResolvedStore]
) -> dict[str, tuple[str, ...]]:
    """The DSP categories of each store that holds any, through its protected classes."""
    by_class = {
        dc.name: dc.dsp_categories for dc in policy.protected_classes() if dc.dsp_categories
    }
    found: dict[str, tuple[str, ...]] = {}
    for item in resolved:
        categories = sorted(
            {c for name in item.copies.data_classes for c in by_class.get(name, ())}
        )
        if categories:
            found[item.store.store_id] = tuple(categories)
    return found


def subject_patterns(
    policy: Policy, resolved: Sequence[ResolvedStore], categories: dict[str, tuple[str, ...]]
) -> dict[str, str | None]:
    """Each DSP store's subject key pattern: the first rule whose glob matches its id or
    an alias; None when none does."""
    patterns: dict[str, str | None] = {}
    for item in resolved:
        store = item.store
        if store.store_id not in categories:
            continue
        names = (store.store_id, *store.aliases)
        patterns[store.store_id] = next(
            (
                rule.pattern
                for rule in policy.dsp.subject_keys
                if any(fnmatchcase(name, rule.match) for name in names)
            ),
            None,
        )
    return patterns


def _volumes(
    resolved: Sequence[ResolvedStore], categories: dict[str, tuple[str, ...]]
) -> list[tuple[str, str, int | None]]:
    """(store, category, subjects) of every DSP store; a copy without volumes of its own
    holds what it copies.

    Each store with a category other than government-related data also gets a
    `combined` row (its data counts together with the counterparty's other categories
    against the lowest threshold, 28 CFR 202.205): the inventory's `combined` volume, else
    its single volume for all categories, else the sum of its category volumes (an upper
    bound: a person in two categories counts twice); null when one of those is unknown.
    """
    given = {item.store.store_id: dict(item.store.dsp_subjects) for item in resolved}
    copy_of = {item.store.store_id: item.store.copy_of for item in resolved}
    rows: list[tuple[str, str, int | None]] = []
    for store_id, names in sorted(categories.items()):
        volumes = given.get(store_id) or given.get(copy_of.get(store_id) or "", {})
        each = [(c, volumes.get(c, volumes.get(ALL_CATEGORIES))) for c in names]
        rows.extend((store_id, category, count) for category, count in each)
        counted = [count for category, count in each if category != "government_related"]
        if not counted:
            continue
        total = volumes.get(COMBINED, volumes.get(ALL_CATEGORIES))
        if total is None and None not in counted:
            total = sum(c for c in counted if c is not None)
        rows.append((store_id, COMBINED, total))
    return rows
