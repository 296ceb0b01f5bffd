"""What the logs cover: events per (source, account, region, day), and per protected store.

A verdict is only as good as what it saw. While reading, every batch of events is
counted per (source format, provider, account, region, day), and the events naming a
protected store (allowed or refused: either shows the store's requests are logged) per
(source, provider, account, region, day, store). These counts are sums, so like the
access digest (ingest/digest.py) they are built in pieces by workers and merged later
with the same result; the incremental state keeps them beside the digest. They are tiny:
a year of logs of ten regions is a few thousand rows.

The coverage rules (rules/coverage/*.sql) read the table `coverage_parts`; the report's
coverage section reads `coverage_of`.

Pure functions over Arrow tables, and one summary query of the scan's DuckDB tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from borderwatch.ingest.digest import ProtectedKeys, Touched
from borderwatch.model.scan import Coverage, LogCoverage, StoreCoverage, StoreSource

if TYPE_CHECKING:
    from borderwatch.runtime.tablestore import TableStore

TABLE = "coverage_parts"
_STRING = pa.string()
# The place a log speaks for: one row per day with events of this key.
PLACE_KEYS: tuple[str, ...] = ("source_format", "provider", "account", "region")
COVERAGE_SCHEMA = pa.schema(
    [
        ("source_format", _STRING),
        ("provider", _STRING),
        ("account", _STRING),
        ("region", _STRING),
        ("day", pa.date32()),
        # NULL: all events of the place and day; else events naming this protected store.
        ("store_id", _STRING),
        ("events", pa.int64()),
    ]
)
_GROUP = (*PLACE_KEYS, "day", "store_id")
# The event columns coverage_rows reads.
EVENT_COLUMNS: tuple[str, ...] = (*PLACE_KEYS, "event_time", "resources")


def coverage_rows(
    events: pa.Table, keys: ProtectedKeys, touched: Touched | None = None
) -> pa.Table:
    """Event counts of `events` per place and day, and per protected store they name
    (`touched`: `keys.touched()` of the events' resources, when the caller has it)."""
    if events.num_rows == 0:
        return COVERAGE_SCHEMA.empty_table()
    days = pc.cast(events.column("event_time"), pa.date32())
    places = [events.column(name) for name in PLACE_KEYS]
    everything = _counted(places, days, pa.nulls(events.num_rows, _STRING))
    if touched is None:
        touched = keys.touched(events.column("resources").combine_chunks())
    rows, codes = touched
    if len(rows) == 0:
        return everything
    taken = pa.array(rows)
    touched = _counted(
        [column.take(taken) for column in places],
        days.take(taken),
        keys.stores.take(pa.array(codes)),
    )
    return pa.concat_tables([everything, touched])


def _counted(places: list[Any], days: Any, stores: Any) -> pa.Table:
    ones = pa.array(np.ones(len(days), dtype=np.int64))
    table = pa.Table.from_arrays([*places, days, stores, ones], schema=COVERAGE_SCHEMA)
    return merge_coverage([table], counted=False)


def merge_coverage(tables: list[pa.Table], *, counted: bool = True) -> pa.Table:
    """Rows with equal place, day and store merged into one (events summed)."""
    table = pa.concat_tables(tables) if len(tables) != 1 else tables[0]
    if table.num_rows <= 1 and counted:
        return table
    grouped = table.group_by(list(_GROUP), use_threads=False).aggregate([("events", "sum")])
    return pa.Table.from_arrays(
        [grouped.column(name) for name in _GROUP] + [grouped.column("events_sum")],
        schema=COVERAGE_SCHEMA,
    )


def coverage_of(engine: TableStore) -> Coverage:
    """The scan's coverage: the window, each place's days with logs, each protected store's
    sources (needs `coverage_parts`, `coverage_policy` and the views of evaluate/views.py)."""
    window = engine.query(
        f"""
        SELECT CAST(coalesce(any_value(p.window_from), min(c.day)) AS VARCHAR) AS first,
            CAST(coalesce(any_value(p.window_to), max(c.day)) AS VARCHAR) AS last
        FROM coverage_policy p LEFT JOIN {TABLE} c ON c.store_id IS NULL
        """
    ).to_pylist()[0]
    logs = engine.query(
        f"""
        SELECT source_format, provider, account, region,
            list(DISTINCT CAST(day AS VARCHAR) ORDER BY CAST(day AS VARCHAR))
                FILTER (WHERE day IS NOT NULL) AS days,
            CAST(sum(events) AS BIGINT) AS events
        FROM {TABLE} WHERE store_id IS NULL
        GROUP BY ALL ORDER BY ALL
        """
    ).to_pylist()
    stores = engine.query(
        f"""
        WITH protected AS (SELECT DISTINCT store_id FROM protected_store_classes),
        sources AS (
            SELECT store_id, source_format, count(DISTINCT day) AS days,
                CAST(sum(events) AS BIGINT) AS events
            FROM {TABLE} WHERE store_id IS NOT NULL GROUP BY ALL
        ),
        logged AS (
            SELECT DISTINCT provider, region FROM {TABLE} WHERE store_id IS NULL
        )
        SELECT p.store_id, s.provider, s.location AS region,
            EXISTS (SELECT 1 FROM logged l
                    WHERE l.provider = s.provider AND l.region = s.location) AS place_logged,
            list(struct_pack(source := src.source_format, days := src.days,
                             events := src.events) ORDER BY src.source_format)
                FILTER (WHERE src.source_format IS NOT NULL) AS sources
        FROM protected p JOIN stores s USING (store_id)
        LEFT JOIN sources src USING (store_id)
        GROUP BY ALL ORDER BY p.store_id
        """
    ).to_pylist()
    return Coverage(
        first_day=window["first"],
        last_day=window["last"],
        logs=tuple(
            LogCoverage(
                source=row["source_format"],
                provider=row["provider"],
                account=row["account"],
                region=row["region"],
                days=tuple(row["days"] or ()),
                events=int(row["events"]),
            )
            for row in logs
        ),
        stores=tuple(
            StoreCoverage(
                store_id=row["store_id"],
                provider=row["provider"],
                region=row["region"],
                place_logged=bool(row["place_logged"]),
                sources=tuple(
                    StoreSource(item["source"], int(item["days"]), int(item["events"]))
                    for item in row["sources"] or ()
                ),
            )
            for row in stores
        ),
    )
