"""What the stages before evaluation need of the engine: a place to put Arrow tables.

Ingest and enrichment write tables and read small results back; they run before the
evaluation stage and so must not import it. They are given the engine typed as this
protocol (`evaluate.engine.Engine` extends it), which any engine satisfies structurally.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import pyarrow as pa


class TableStore(Protocol):
    """Named Arrow tables, and SQL over them."""

    def create_table(self, name: str, table: pa.Table) -> None:
        """Create (or replace) table `name` holding a copy of `table`."""

    def append(self, name: str, table: pa.Table) -> None:
        """Append the rows of `table` (same columns) to the existing table `name`."""

    def execute(self, sql: str, params: list[object] | None = None) -> None:
        """Run a statement; `params` fill its `?` placeholders."""

    def query(self, sql: str) -> pa.Table:
        """Run a query and return its result as an Arrow table."""

    def bound_memory(self, limit: str) -> None:
        """Work within a memory `limit` (e.g. "512MB"), spilling what does not fit."""


@runtime_checkable
class FrameStore(Protocol):
    """An engine whose tables can take rows that are already on its cluster (a Spark
    DataFrame of its own session), so they need not pass through this process."""

    def append_frame(self, name: str, frame: Any) -> None:
        """Append the rows of `frame` (same columns) to the existing table `name`."""
