"""Served-recommendation logs into counts: views per day and value, per day, and the
manual ones per reason and item.

A feed log is not an access log: its rows never join the access digests. Each batch a
feed reader yields is reduced here to three count tables (model/feed.py); the counts of
every batch are appended to the engine and summed there once all inputs are read, so
the engine holds counts whose size follows days x values, not the number of views. Sums
merge exactly, so the same counts come from any split of the inputs into batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from borderwatch.ingest.expansion import InputFile, SkippedInput
from borderwatch.ingest.reading import NOT_READ
from borderwatch.model.events import QuarantinedRecord
from borderwatch.model.feed import (
    ATTRIBUTES,
    FEED_DAYS_SCHEMA,
    FEED_INTERVENTIONS_SCHEMA,
    FEED_VIEWS_SCHEMA,
)
from borderwatch.model.scan import InputSummary
from borderwatch.runtime.tablestore import TableStore
from borderwatch.sources.base import Source

# The count tables, as rules and the feed statistics read them.
VIEWS = "feed_views"
DAYS = "feed_days"
INTERVENTIONS = "feed_interventions"
KIND = "feed"

_GROUPS = {
    VIEWS: ("day", "viewer_region", "attribute", "value"),
    DAYS: ("day",),
    INTERVENTIONS: ("day", "reason", "item"),
}
_SCHEMAS = {
    VIEWS: FEED_VIEWS_SCHEMA,
    DAYS: FEED_DAYS_SCHEMA,
    INTERVENTIONS: FEED_INTERVENTIONS_SCHEMA,
}


@dataclass
class FeedLoad:
    """What reading the feed inputs produced besides the count tables."""

    inputs: list[InputSummary] = field(default_factory=list)
    quarantined: list[QuarantinedRecord] = field(default_factory=list)
    views: int = 0


def create_feed_tables(engine: TableStore) -> None:
    """The (empty) count tables; rules read them whether or not a feed was given."""
    for name, schema in _SCHEMAS.items():
        engine.create_table(name, schema.empty_table())


def load_feed(engine: TableStore, files: Sequence[InputFile], source: Source) -> FeedLoad:
    """Read every feed input with `source` into the count tables (created afresh).

    Every record is accounted for: records read = accepted + quarantined, per input.
    """
    create_feed_tables(engine)
    load = FeedLoad()
    for item in files:
        read = accepted = 0
        for batch in source.read(item.path):
            read += batch.records_read
            accepted += batch.events.num_rows
            load.quarantined.extend(batch.quarantined)
            if batch.events.num_rows:
                for name, counts in feed_counts(batch.events).items():
                    engine.append(name, counts)
        load.views += accepted
        load.inputs.append(
            InputSummary(item.display, KIND, source.name, read, accepted, read - accepted)
        )
    for name, keys in _GROUPS.items():
        _merge(engine, name, keys)
    return load


def skipped_feed(skipped: Sequence[SkippedInput]) -> list[InputSummary]:
    """The accounting of entries of the feed inputs skipped on purpose (a FIFO, a device,
    an excluded file, the output folder): listed, nothing read from them."""
    return [
        InputSummary(item.display, KIND, "skipped", 0, 0, 0, f"{NOT_READ}{item.reason}")
        for item in skipped
    ]


def feed_counts(rows: pa.Table) -> dict[str, pa.Table]:
    """One batch of feed rows (FEED_SCHEMA) as its three count tables (pure)."""
    day = pc.cast(rows["event_time"], pa.date32())
    views = [
        _count(
            pa.table(
                {
                    "day": day,
                    "viewer_region": rows["viewer_region"],
                    "attribute": pa.array([attribute] * rows.num_rows, pa.string()),
                    "value": rows[attribute],
                }
            ),
            _GROUPS[VIEWS],
            FEED_VIEWS_SCHEMA,
        )
        for attribute in ATTRIBUTES
    ]
    manual = pc.fill_null(rows["manual"], False)
    per_day = (
        pa.table({"day": day, "manual": pc.cast(manual, pa.int64())})
        .group_by(["day"], use_threads=False)
        .aggregate([("manual", "count"), ("manual", "sum")])
    )
    by_day = pa.table(
        {
            "day": per_day["day"],
            "views": per_day["manual_count"],
            "manual_views": per_day["manual_sum"],
        }
    ).cast(FEED_DAYS_SCHEMA)
    picked = pa.table(
        {"day": day, "reason": rows["intervention_reason"], "item": rows["item"]}
    ).filter(manual)
    return {
        VIEWS: pa.concat_tables(views),
        DAYS: by_day,
        INTERVENTIONS: _count(picked, _GROUPS[INTERVENTIONS], FEED_INTERVENTIONS_SCHEMA),
    }


def _count(table: pa.Table, keys: Sequence[str], schema: pa.Schema) -> pa.Table:
    """Rows per distinct key (nulls are a key of their own), as `schema`."""
    counted = (
        table.append_column("views", pa.array([1] * table.num_rows, pa.int64()))
        .group_by(list(keys), use_threads=False)
        .aggregate([("views", "sum")])
    )
    columns = {key: counted[key] for key in keys}
    return pa.table({**columns, "views": counted["views_sum"]}).select(schema.names).cast(schema)


def _merge(engine: TableStore, name: str, keys: Sequence[str]) -> None:
    """Sum the appended pieces of `name` into one row per key."""
    columns = ", ".join(keys)
    sums = ", ".join(
        f"CAST(sum({c}) AS BIGINT) AS {c}" for c in _SCHEMAS[name].names if c not in keys
    )
    engine.execute(
        f"CREATE OR REPLACE TABLE {name}_summed AS "
        f"SELECT {columns}, {sums} FROM {name} GROUP BY {columns}"
    )
    engine.execute(f"DROP TABLE {name}")
    # Copied back rather than renamed: ALTER TABLE ... RENAME is not among the statements
    # every engine runs (the Spark engine runs CREATE ... AS and DROP; docs/spark.md).
    engine.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_summed")
    engine.execute(f"DROP TABLE {name}_summed")
