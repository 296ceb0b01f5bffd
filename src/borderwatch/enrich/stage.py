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
from borderwatch.errors import UsageError
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


def enrich_table(
    table: pa.Table, name: str, enrichers: Sequence[Enricher], context: EnrichContext
) -> pa.Table:
    """`table` through every enricher of table `name`, each once its inputs exist.

    An enricher that breaks the contract (drops or reorders rows, does not add what it
    says, changes a column it was given) stops the scan with its name: its columns would
    otherwise be joined to the wrong callers.
    """
    waiting = [enricher for enricher in enrichers if enricher.table == name]
    while waiting:
        ready = next((e for e in waiting if set(e.needs) <= set(table.column_names)), None)
        if ready is None:
            raise UsageError(_unmet(waiting, table.column_names, name))
        table = _checked(ready, table, ready.enrich(table, context))
        waiting.remove(ready)
    return table


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


def _checked(enricher: Enricher, given: pa.Table, result: pa.Table) -> pa.Table:
    problem = None
    clash = sorted(set(enricher.adds) & set(given.column_names))
    if clash:
        problem = f"adds {', '.join(clash)}, which the table already has"
    elif result.num_rows != given.num_rows:
        problem = f"returned {result.num_rows} rows for {given.num_rows}"
    elif result.column_names != [*given.column_names, *enricher.adds]:
        problem = (
            f"returned the columns {result.column_names}; expected the ones it was given "
            f"followed by the ones it adds {list(enricher.adds)}"
        )
    elif not result.select(given.column_names).equals(given):
        problem = "changed the columns it was given"
    if problem:
        raise UsageError(f"enricher {enricher.name!r} {problem}")
    return result


def _unmet(waiting: Sequence[Enricher], columns: Sequence[str], table: str) -> str:
    lines = [
        f"enricher {e.name!r} needs {', '.join(sorted(set(e.needs) - set(columns)))}"
        for e in waiting
    ]
    return (
        f"the enrichers of table {table!r} cannot run: {'; '.join(lines)} "
        f"(no registered enricher adds them; the table has {', '.join(columns)})"
    )
