"""Reference queries for the access digest tests (imported as `from digestkit import ...`).

`groups_at_once` is the definition of the access groups written once in SQL over every
event, per record: the protected stores it names, successful requests only. It is what
the rules computed from a table of all events before digests existed. `merged_groups`
merges digest pieces the way the rules' views do, in a comparable order.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from borderwatch.evaluate.duckdb_engine import DuckDBEngine
from borderwatch.ingest.digest import ProtectedKeys

MERGED = """
    SELECT store_id, principal, any_value(principal_aliases), caller, day, provider, region,
        CAST(sum(events) AS BIGINT), min(first_seen), max(last_seen),
        min(min_event_id), max(max_event_id), min(min_action), max(max_action),
        min(min_claimed_country), max(max_claimed_country)
    FROM {table}
    GROUP BY store_id, principal, aliases_key, caller, day, provider, region
    ORDER BY ALL
"""


def merged_groups(parts: pa.Table) -> list[tuple[Any, ...]]:
    """Digest rows merged per group, as the access_groups view merges them."""
    engine = DuckDBEngine()
    try:
        engine.create_table("parts", parts)
        return engine.connection.execute(MERGED.format(table="parts")).fetchall()
    finally:
        engine.close()


def groups_at_once(events: pa.Table, keys: ProtectedKeys) -> list[tuple[Any, ...]]:
    """The access groups of all events in one SQL query."""
    engine = DuckDBEngine()
    try:
        engine.create_table("events", events)
        engine.create_table("protected_keys", keys.table)
        return engine.connection.execute(
            """
            WITH numbered AS (SELECT row_number() OVER () AS rec, * FROM events),
            touched AS (
                SELECT DISTINCT r.rec, k.store_id
                FROM (SELECT rec, unnest(resources) AS key FROM numbered
                      WHERE error_code IS NULL) r
                JOIN protected_keys k USING (key)
            )
            SELECT t.store_id, e.principal, e.principal_aliases, e.caller,
                CAST(e.event_time AS DATE), e.provider, e.region,
                count(*), min(e.event_time), max(e.event_time),
                min(e.event_id), max(e.event_id), min(e.action), max(e.action),
                min(e.claimed_country), max(e.claimed_country)
            FROM touched t JOIN numbered e USING (rec)
            GROUP BY ALL ORDER BY ALL
            """
        ).fetchall()
    finally:
        engine.close()
