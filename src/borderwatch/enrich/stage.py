"""The enrich stage: build the `identities` and `callers` tables through every registered
enricher (enrich/base.py) and hand them to the engine for the rules.

Enrichers of a table run in registration order, except that each waits until the
columns it needs exist, so a plug-in that reads `caller_kind` runs after the built-in
`caller-location` whatever order the plug-ins were loaded in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa

from borderwatch.enrich.base import CALLERS, IDENTITIES, EnrichContext, Enricher
from borderwatch.enrich.chain import enrich_table
from borderwatch.model.inventory import Identity
from borderwatch.runtime.tablestore import TableStore


def run_enrichers(
    engine: TableStore, enrichers: Iterable[Enricher], context: EnrichContext, spark: Any = None
) -> None:
    """Create `identities` (one row per identity row of `context`) and `callers` (one row
    per distinct caller of a protected access, keyed by `caller_key`), each enriched.

    `spark`: a SparkSession whose tasks look the callers up (enrich/spark_lookup.py),
    else None (here)."""
    chain = list(enrichers)
    people = enrich_table(identity_batch(context.identities), IDENTITIES, chain, context)
    engine.create_table(IDENTITIES, people)
    # Only callers of protected accesses are ever judged.
    distinct = engine.query("SELECT DISTINCT caller FROM access_parts")
    if spark is not None:
        from borderwatch.enrich.spark_lookup import enrich_on_spark

        callers = enrich_on_spark(spark, distinct, CALLERS, chain, context)
    else:
        callers = enrich_table(distinct, CALLERS, chain, context)
    # The rules join on the caller with null as '' (a request without a caller value).
    keys = [value or "" for value in callers.column("caller").to_pylist()]
    engine.create_table(CALLERS, callers.append_column("caller_key", pa.array(keys, pa.string())))


def identity_batch(identities: Sequence[Identity]) -> pa.Table:
    """The identity rows as a table: principal -> person, where, for whom, when."""
    string, day = pa.string(), pa.date32()
    return pa.table(
        {
            "principal": pa.array([i.principal for i in identities], string),
            "person": pa.array([i.person for i in identities], string),
            "work_country": pa.array([i.work_country for i in identities], string),
            "employer": pa.array([i.employer for i in identities], string),
            "resident_country": pa.array([i.resident_country for i in identities], string),
            "relationship": pa.array([i.relationship for i in identities], string),
            "valid_from": pa.array([i.valid_from for i in identities], day),
            "valid_to": pa.array([i.valid_to for i in identities], day),
        }
    )
