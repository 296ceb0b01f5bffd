"""What the pipeline needs of an engine: hold Arrow tables, run rules' SQL, give Arrow back.

An engine is registered by name in the registry's `engines`, as a factory: a callable
that takes the database to open (":memory:", or a file such as the incremental state
`out/state.duckdb`) and returns an open `Engine`. The built-in one is
`evaluate.duckdb_engine.DuckDBEngine` (the class itself is its factory), registered as
"duckdb"; `ScanOptions.engine` names the one a scan uses, and the pipeline asks the
registry for it (an unknown name is a UsageError listing the known ones). A plug-in adds
an engine the way it adds a source:

    def register(registry):
        registry.engines.add("myengine", MyEngine)   # MyEngine(database) -> Engine

The stages before evaluation (ingest, enrich) see the same object typed as
`runtime.tablestore.TableStore`, which `Engine` extends; they never import this room.

What an engine must do:
- `create_table(name, arrow_table)`, `append(name, arrow_table)`: load Arrow tables;
- `execute(sql, params)`, `query(sql) -> pa.Table`: run the views' statements and the
  queries of summaries (SQL in DuckDB's dialect, which sqlglot can transpile);
- `run(sql) -> pa.Table`: run one rule's SQL, returning its rows as Arrow;
- `bound_memory(limit)`: work within a memory limit, spilling what does not fit;
- `close()`: release everything (connections, spill folders), also after an error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import pyarrow as pa

from borderwatch.runtime.tablestore import TableStore


class Engine(TableStore, Protocol):
    """An open engine: the TableStore of the earlier stages, plus running rules."""

    def run(self, sql: str) -> pa.Table:
        """Run a rule's SQL and return its rows as an Arrow table."""

    def close(self) -> None:
        """Release the engine; it is not used afterwards."""


class EngineFactory(Protocol):
    """What the registry holds for an engine: opens one on a database."""

    def __call__(self, database: str | Path) -> Engine:
        """An engine on `database` (":memory:" or a file path)."""
