"""The embedded engine: DuckDB, in memory or in a file, fed Arrow tables.

The first implementation of `evaluate.engine.Engine`, registered as "duckdb".
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pyarrow as pa

from borderwatch.runtime.leftovers import make_temp_dir


class DuckDBEngine:
    """Holds one DuckDB connection; tables go in as Arrow, rule results come out as Arrow.

    The class is the engine's factory in the registry: `DuckDBEngine(database)`.
    """

    name = "duckdb"

    def __init__(self, database: str | Path = ":memory:", threads: int | None = None) -> None:
        self.connection = duckdb.connect(str(database))
        self._spill: str | None = None
        if threads:
            self.connection.execute(f"SET threads TO {int(threads)}")

    def bound_memory(self, limit: str) -> None:  # e.g. "512MB"
        """Work within a memory `limit`; what does not fit spills to a temporary
        folder of this engine's own, removed on close.

        DuckDB evicts table blocks to that folder as well (in-memory tables included),
        so the limit holds however large the tables grow.
        """
        if self._spill is None:
            self._spill = make_temp_dir("spill")
        self.execute("SET temp_directory = ?", [self._spill])
        self.execute("SET memory_limit = ?", [limit])
        # Nothing downstream depends on row order; keeping it costs memory.
        self.execute("SET preserve_insertion_order = false")

    def create_table(self, name: str, table: pa.Table) -> None:
        """Create (or replace) table `name` holding a copy of `table`."""
        _check_identifier(name)
        self.connection.register("_incoming", table)
        try:
            self.connection.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM _incoming')
        finally:
            self.connection.unregister("_incoming")

    def append(self, name: str, table: pa.Table) -> None:
        """Append rows of `table` (same columns) to the existing table `name`."""
        _check_identifier(name)
        self.connection.register("_incoming", table)
        try:
            self.connection.execute(f'INSERT INTO "{name}" SELECT * FROM _incoming')
        finally:
            self.connection.unregister("_incoming")

    def execute(self, sql: str, params: list[object] | None = None) -> None:
        """Run a statement; `params` fill its `?` placeholders (never format values in)."""
        self.connection.execute(sql, params)

    def query(self, sql: str) -> pa.Table:
        """Run a query and return its result as an Arrow table."""
        relation = self.connection.sql(sql)
        if relation is None:
            raise ValueError("query() needs a statement that returns rows; use execute()")
        return relation.to_arrow_table()

    def run(self, sql: str) -> pa.Table:
        """Run a rule's SQL and return its rows as an Arrow table."""
        return self.query(sql)

    def close(self) -> None:
        """Close the connection and remove the spill folder, if any."""
        self.connection.close()
        if self._spill:
            shutil.rmtree(self._spill, ignore_errors=True)


def _check_identifier(name: str) -> None:
    # Table names are ours, never from input; this guards against a future mistake.
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a safe table name: {name!r}")
