"""One table through a chain of enrichers, each once the columns it needs exist.

Used by the enrich stage on the driver (enrich/stage.py) and by the Spark tasks that
look the callers up (enrich/spark_lookup.py): the same chain, with the same contract
checks, wherever it runs.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from borderwatch.enrich.base import EnrichContext, Enricher
from borderwatch.errors import UsageError

__all__ = ["enrich_table"]


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
