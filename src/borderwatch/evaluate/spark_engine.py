"""The distributed engine: Spark, fed the same Arrow tables and the same rule files.

Registered as "spark" beside "duckdb" (`scan --engine spark`). Every statement the
pipeline sends is DuckDB SQL; `evaluate.spark_sql` transpiles it (macros expanded,
constructs sqlglot would get wrong rewritten, anything else refused). Tables live as
temporary views of a session of this engine's own (`SparkSession.newSession()`: one
SparkContext, separate views), so two scans in one process do not see each other's
tables.

Where the session comes from: the active one when the process has one (a notebook on
Databricks, a spark-submit job, the test suite's session, or one started with
`start_session(master)`), else a local one (`local[2]`) that this engine stops on close.

What differs from DuckDB, on purpose:
- `CREATE TABLE/VIEW name AS query` is computed once and kept (`localCheckpoint`). A
  table whose rowid a statement reads (`g.rowid`) gets a `rowid` column first (DuckDB's
  is hidden; this one is visible, unique but not consecutive: a join key only).
- Appended Arrow pieces are held and become one table when the table is next read.
- No state file: the incremental state is DuckDB's (`--incremental` needs the DuckDB
  engine; docs/spark.md). Opening on anything but ":memory:" is a UsageError.
- `bound_memory` does nothing: Spark bounds memory by its own settings
  (spark.driver.memory, spark.executor.memory) and spills by itself.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from borderwatch.errors import UsageError
from borderwatch.evaluate.spark_variants import builtin_sql_folders, spark_variants

if TYPE_CHECKING:
    from borderwatch.evaluate.spark_sql import Macro, Statement

LOCAL_MASTER = "local[2]"
# Small inputs (digests, reference tables) are the rule here: few shuffle partitions.
SESSION_SETTINGS = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.driver.memory": "1g",
}


def spark_available() -> bool:
    """Whether pyspark can be imported (the `spark` extra is installed)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return False
    return True


def start_session(master: str = LOCAL_MASTER, settings: dict[str, str] | None = None) -> Any:
    """A SparkSession on `master` (or the active one), with the engine's settings."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError(
            "the Spark engine needs pyspark: pip install 'borderwatch[spark]' (and Java 17)"
        ) from None
    builder = SparkSession.builder.master(master).appName("borderwatch")
    if master.startswith("local") and "PYSPARK_PYTHON" not in os.environ:
        # Local executors run Python tasks (reading, enrichment) in the interpreter
        # PYSPARK_PYTHON names, else python3 on PATH: this one has borderwatch.
        os.environ["PYSPARK_PYTHON"] = sys.executable
    for key, value in {**SESSION_SETTINGS, **(settings or {})}.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


class SparkEngine:
    """An `evaluate.engine.Engine` on Spark; the class is its factory in the registry."""

    name = "spark"
    # The incremental state is a DuckDB file: api.scan refuses --incremental on Spark.
    keeps_state = False

    def __init__(self, database: str | Path = ":memory:", session: Any = None) -> None:
        if str(database) != ":memory:":
            raise UsageError(
                f"the Spark engine keeps no state file ({database}): --incremental needs "
                "the DuckDB engine (docs/spark.md)"
            )
        self._owns_session = False
        if session is None:
            session = _active_session()
        if session is None:
            session = start_session()
            self._owns_session = True
        # Views of this engine's own; the SparkContext (and its executors) is shared.
        self.session = session.newSession()
        self.session.conf.set("spark.sql.session.timeZone", "UTC")
        self.macros: dict[str, Macro] = {}
        # The text of a file with a Spark variant -> the variant (spark_variants.py).
        self.variants = spark_variants(builtin_sql_folders())
        self._pending: dict[str, list[pa.Table]] = {}
        self._frames: dict[str, Any] = {}
        # Tables appended to since they were last published.
        self._stale: set[str] = set()

    def bound_memory(self, limit: str) -> None:
        """Nothing to do: Spark's own memory settings bound it, and it spills by itself."""

    def create_table(self, name: str, table: pa.Table) -> None:
        """Create (or replace) table `name` holding `table`."""
        _check_identifier(name)
        self._pending[name] = [table]
        self._publish(name)

    def append(self, name: str, table: pa.Table) -> None:
        """Append rows of `table` to table `name` (they join it when it is next read)."""
        _check_identifier(name)
        if name not in self._pending:
            held = "holds rows computed on the cluster" if name in self._frames else "is none"
            raise ValueError(f"no table {name!r} to append Arrow rows to: it {held}")
        self._pending[name].append(table)
        self._stale.add(name)

    def append_frame(self, name: str, frame: Any) -> None:
        """Append the rows of a DataFrame of this engine's session (same columns) to
        table `name`, where they are: the logs' digests never pass through the driver.
        Computed now and kept (a checkpoint): `frame` may read what is released after."""
        _check_identifier(name)
        if name not in self._frames:
            raise ValueError(f"no table {name!r} to append to")
        if frame.sparkSession is not self.session:
            # Its view would be made in the other session, where no query of ours looks.
            raise ValueError(f"rows for {name!r} from another Spark session than the engine's")
        self._refresh()
        current = self._frames[name]
        frame = frame.select(*(f"`{column}`" for column in current.columns))
        pieces = self._pending.get(name)
        if pieces is None or any(piece.num_rows for piece in pieces):
            frame = current.unionByName(frame)
        # The table is a computed frame from now on: append() refuses it, so Arrow rows
        # can never replace what came from the cluster.
        self._keep(name, frame)

    def execute(self, sql: str, params: list[object] | None = None) -> None:
        """Run DuckDB statement(s) on Spark: tables, views, drops and macros."""
        from borderwatch.evaluate.spark_sql import UnsupportedSql, translate

        if params:
            raise UnsupportedSql("the Spark engine takes no statement parameters")
        self._refresh()
        for statement in translate(self.variants.get(sql, sql), self.macros):
            self._number(statement.numbered)
            if statement.kind == "drop":
                self._drop(statement.name)
                self._pending.pop(statement.name, None)
            elif statement.kind in ("table", "view", "select"):
                with self._shared(statement):
                    if statement.kind == "select":
                        self.session.sql(statement.sql).collect()
                    else:
                        # A view too is computed once: the pipeline makes the views
                        # after the tables they read are whole, and several rules read
                        # each one.
                        self._materialise(statement.name, statement.sql)

    def query(self, sql: str) -> pa.Table:
        """Run a DuckDB query on Spark and return its rows as Arrow."""
        from borderwatch.evaluate.spark_sql import translate

        self._refresh()
        statements = translate(self.variants.get(sql, sql), self.macros)
        if len(statements) != 1 or statements[0].kind != "select":
            raise ValueError("query() needs one statement that returns rows; use execute()")
        self._number(statements[0].numbered)
        with self._shared(statements[0]):
            return to_arrow(self.session.sql(statements[0].sql))

    def run(self, sql: str) -> pa.Table:
        """Run a rule's SQL and return its rows as Arrow."""
        return self.query(sql)

    def close(self) -> None:
        """Drop this engine's views; stop the session if this engine started it."""
        for name in list(self._frames):
            self._drop(name)
        self._pending.clear()
        if self._owns_session:
            self.session.sparkContext.stop()

    def _refresh(self) -> None:
        for name in sorted(self._stale):
            self._publish(name)
        self._stale.clear()

    def _publish(self, name: str) -> None:
        pieces = self._pending[name]
        table = pieces[0] if len(pieces) == 1 else pa.concat_tables(pieces)
        self._pending[name] = [table]
        # Cached (lazily: at the first query that reads it): a frame made from Arrow
        # ships its batches inside the tasks and converts them to rows again at every
        # read; the demo's digest (120,000 rows) is read by a dozen statements.
        frame = self.session.createDataFrame(_spark_ready(table)).cache()
        self._replace(name, frame)

    @contextmanager
    def _shared(self, statement: Statement) -> Iterator[None]:
        """The CTEs `statement` reads more than once, computed once while it runs."""
        try:
            for name, sql in statement.shared:
                self._materialise(name, sql)
            yield
        finally:
            for name, _ in statement.shared:
                self._drop(name)

    def _drop(self, name: str) -> None:
        self.session.catalog.dropTempView(name)
        self._release(name)

    def _materialise(self, name: str, sql: str) -> None:
        _check_identifier(name)
        self._keep(name, self.session.sql(sql))

    def _number(self, names: tuple[str, ...]) -> None:
        """Give each table a `rowid` column (unique, not consecutive) unless it has one."""
        from pyspark.sql import functions

        for name in names:
            frame = self._frames.get(name)
            if frame is None:
                raise ValueError(f"no table {name!r} to number")
            if "rowid" not in frame.columns:
                self._keep(name, frame.withColumn("rowid", functions.monotonically_increasing_id()))

    def _keep(self, name: str, frame: Any) -> None:
        # Computed once: a rowid must not change between the queries that read it, and
        # every view and table is read by several rules.
        self._replace(name, frame.localCheckpoint(eager=True))
        self._pending.pop(name, None)

    def _replace(self, name: str, frame: Any) -> None:
        """Publish `frame` as view `name`, releasing the frame it replaces."""
        frame.createOrReplaceTempView(name)
        self._release(name)
        self._frames[name] = frame

    def _release(self, name: str) -> None:
        frame = self._frames.pop(name, None)
        if frame is not None:
            frame.unpersist()
            _release_checkpoint(frame)


def _release_checkpoint(frame: Any) -> None:
    """Free the blocks of a frame made by `localCheckpoint`, which `unpersist` leaves held
    (only the driver's garbage collector would free them, at some later time): a
    long-lived session (a notebook, a job that scans several windows) kept every
    earlier scan's tables, 13 to 24 of them and 240 to 290 MB of a 1 GB heap after each
    250,000-event scan, and later scans ran short of memory. Reached through Spark's
    plan (a checkpoint is a `LogicalRDD` over its blocks); a Spark without it leaves
    them to the collector, as before."""
    try:
        plan = frame._jdf.queryExecution().logical()
        if plan.getClass().getSimpleName() == "LogicalRDD":
            plan.rdd().unpersist(False)
    except Exception:  # another Spark's internals: nothing to free here
        return


def to_arrow(frame: Any) -> pa.Table:
    """A DataFrame's rows as Arrow; NULL-typed columns (`NULL AS x`) become strings,
    which Arrow conversion can carry."""
    from pyspark.sql import functions
    from pyspark.sql.types import ArrayType, NullType

    fixed = []
    for field in frame.schema.fields:
        column = functions.col(f"`{field.name}`")
        if isinstance(field.dataType, NullType):
            column = column.cast("string")
        elif isinstance(field.dataType, ArrayType) and isinstance(
            field.dataType.elementType, NullType
        ):
            column = column.cast("array<string>")
        fixed.append(column.alias(field.name))
    return frame.select(*fixed).toArrow()


def _spark_ready(table: pa.Table) -> pa.Table:
    # Spark has no Arrow null type: an all-NULL column of unknown type is a string one.
    # Each column in one chunk: Spark's conversion cannot take a column of no chunks.
    columns = [
        pa.chunked_array([column.combine_chunks()], column.type).cast(
            pa.string() if pa.types.is_null(column.type) else column.type
        )
        for column in table.columns
    ]
    return pa.table(columns, names=table.column_names)


def _active_session() -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError(
            "the Spark engine needs pyspark: pip install 'borderwatch[spark]' (and Java 17)"
        ) from None
    return SparkSession.getActiveSession()


def _check_identifier(name: str) -> None:
    # Table names are ours, never from input; this guards against a future mistake.
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a safe table name: {name!r}")
