"""Enrich the distinct callers inside Spark tasks (`scan --engine spark`), with the same code.

The enrich context (the policy, the location registry, the compiled IP tables: geo
databases, provider ranges, anonymiser lists) is broadcast to the executors once; each
partition of the callers runs the same enricher chain as the driver does
(`chain.enrich_table`, with its contract checks) over its Arrow batches (`mapInArrow`).
The enriched rows come back in their order, in the types the driver's chain gives, so
the table is the one the driver would have built.

Identities, entities and the location registry are small: the identities are enriched on
the driver (enrich/stage.py), and the rest travels inside the broadcast context.

pyspark is imported only by the session passed in: the core install works without it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa

from borderwatch.enrich.base import EnrichContext, Enricher
from borderwatch.enrich.chain import enrich_table


def enrich_on_spark(
    session: Any,
    table: pa.Table,
    name: str,
    enrichers: Sequence[Enricher],
    context: EnrichContext,
) -> pa.Table:
    """`chain.enrich_table(table, name, enrichers, context)`, computed by Spark tasks of
    `session`: the same rows, columns and types."""
    # The chain's result type, from no rows: what each task's batches are cast to.
    schema = enrich_table(table.slice(0, 0), name, enrichers, context).schema
    if table.num_rows == 0:
        return schema.empty_table()
    from pyspark.sql.pandas.types import from_arrow_schema

    spark_schema = _plain(schema)
    shared = session.sparkContext.broadcast((list(enrichers), context))

    def enrich_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        chain, consulted = shared.value
        for batch in batches:
            done = enrich_table(pa.Table.from_batches([batch]), name, chain, consulted)
            yield from done.cast(spark_schema).to_batches()

    try:
        callers = session.createDataFrame(table.cast(_plain(table.schema)))
        done = callers.mapInArrow(enrich_partition, from_arrow_schema(spark_schema)).toArrow()
    finally:
        shared.unpersist()
    # Spark's Arrow types (large strings, no dictionaries) back to the driver chain's.
    return done.cast(schema)


def _plain(schema: pa.Schema) -> pa.Schema:
    """`schema` with dictionary-encoded columns as their values (Spark takes no
    dictionaries)."""
    return pa.schema(
        [
            field.with_type(field.type.value_type) if pa.types.is_dictionary(field.type) else field
            for field in schema
        ]
    )
