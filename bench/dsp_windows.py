"""The Data Security Program's rolling windows over a year of daily subject state.

Builds, in a DuckDB file under a temporary folder, a year of per-day subject sets as the
DSP views hold them (`dsp_reach`: counterparty, category, day, 64-bit subject, store):
`--rows` rows (default 100 million) over `--subjects` distinct subjects (default 10
million), 20 counterparties, 3 categories, 365 days. Then it computes every window the
way a scan does (evaluate/dsp_windows.py: the distinct subjects of the 365-day window
ending on every day, read in slices by subject hash) and, as the baseline in the same
run, one exact distinct count per counterparty and category over all rows in the engine
(the least work any exact method does: read and de-duplicate every row once; as a
grouping the engine can spill, since `count(DISTINCT ...)` exhausts a 1 GB limit at 100
million rows). With
`--sql` it also times the same windows as one SQL window function (what the scan ran
before). It prints wall and CPU seconds of each, their ratios, and the process's peak
resident memory after each step (the windows run within the engine's `--memory-limit`;
the baseline, run after them, within `--baseline-memory`).

    .venv/bin/python bench/dsp_windows.py --rows 100000000 --subjects 10000000
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from borderwatch.evaluate.dsp_windows import SLICE_ROWS, windows_table
from borderwatch.evaluate.duckdb_engine import DuckDBEngine

# The windows as one SQL window function, for --sql (the scan's method before).
_SQL_WINDOWS = """
CREATE OR REPLACE TEMP TABLE sql_windows AS
WITH spans AS (
    SELECT counterparty, category, day AS start_day,
        least(lead(day) OVER (PARTITION BY counterparty, category, subject ORDER BY day),
              day + 365) AS end_day
    FROM dsp_reach
),
steps AS (
    SELECT counterparty, category, start_day AS day, 1 AS named FROM spans
    WHERE end_day > start_day
    UNION ALL
    SELECT counterparty, category, end_day, -1 FROM spans WHERE end_day > start_day
)
SELECT counterparty, category, day,
    sum(sum(named)) OVER (PARTITION BY counterparty, category ORDER BY day) AS named
FROM steps GROUP BY counterparty, category, day
"""


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(work: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process, all threads) of `work`."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    work()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _state(engine: DuckDBEngine, rows: int, subjects: int) -> None:
    """A year of daily subject state: each row one (counterparty, category, day, subject)
    a counterparty reached. Subjects and days are spread by hashing the row number."""
    engine.execute(
        f"""
        CREATE TABLE dsp_reach AS
        SELECT 'entity:e' || CAST(i % 20 AS VARCHAR) AS counterparty,
            ['covered_personal_identifiers', 'precise_geolocation', 'personal_health']
                [CAST(i % 3 AS INTEGER) + 1] AS category,
            DATE '2025-01-01' + CAST(hash(i * 2654435761) % 365 AS INTEGER) AS day,
            CAST(hash(i) % {subjects} AS BIGINT) + 1 AS subject,
            's' || CAST(i % 3 AS VARCHAR) AS store_id,
            CAST(NULL AS BIGINT) AS store_subjects
        FROM range({rows}) t(i)
        """
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--subjects", type=int, default=10_000_000)
    parser.add_argument("--memory-limit", default="1GB")
    parser.add_argument("--baseline-memory", default="4GB")
    parser.add_argument("--slice-rows", type=int, default=SLICE_ROWS)
    parser.add_argument("--sql", action="store_true", help="also time the SQL windows")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dsp-bench-") as folder:
        engine = DuckDBEngine(Path(folder) / "state.duckdb")
        engine.execute(f"SET memory_limit = '{args.memory_limit}'")
        engine.execute(f"SET temp_directory = '{Path(folder) / 'spill'}'")
        wall, _ = _timed(lambda: _state(engine, args.rows, args.subjects))
        distinct = engine.query("SELECT count(DISTINCT subject) AS n FROM dsp_reach")
        print(
            f"state: {args.rows:,} rows, {distinct.column(0)[0].as_py():,} distinct subjects, "
            f"365 days; built in {wall:.1f} s; peak RSS {_peak_mb():,.0f} MB",
            flush=True,
        )
        found: list = []
        win_wall, win_cpu = _timed(lambda: found.append(windows_table(engine, args.slice_rows)))
        table = found[0]
        largest = max(table.column("named_subjects").to_pylist(), default=0)
        print(
            f"every window (evaluate/dsp_windows.py, slices of {args.slice_rows:,} rows; "
            f"{table.num_rows:,} step rows, largest window {largest:,} subjects): "
            f"{win_wall:.1f} s wall, {win_cpu:.1f} s CPU; peak RSS {_peak_mb():,.0f} MB",
            flush=True,
        )
        # Distinct subjects as a grouping, then counted. The engine's distinct grouping of
        # 100 million rows does not fit in 1 GB (it stops out of memory), so the baseline
        # runs with --baseline-memory.
        engine.execute(f"SET memory_limit = '{args.baseline_memory}'")
        engine.execute("SET preserve_insertion_order = false")
        base_wall, base_cpu = _timed(
            lambda: engine.execute(
                "CREATE TEMP TABLE baseline AS SELECT counterparty, category, "
                "count(*) AS subjects FROM (SELECT DISTINCT counterparty, category, subject "
                "FROM dsp_reach) GROUP BY counterparty, category"
            )
        )
        print(
            f"baseline (one distinct count per counterparty and category, in the engine, "
            f"memory limit {args.baseline_memory}): "
            f"{base_wall:.1f} s wall, {base_cpu:.1f} s CPU; peak RSS {_peak_mb():,.0f} MB",
            flush=True,
        )
        print(
            f"ratio windows / baseline: {win_wall / base_wall:.2f} wall, "
            f"{win_cpu / base_cpu:.2f} CPU",
            flush=True,
        )
        if args.sql:
            sql_wall, sql_cpu = _timed(lambda: engine.execute(_SQL_WINDOWS))
            print(
                f"the same windows as one SQL window function: {sql_wall:.1f} s wall, "
                f"{sql_cpu:.1f} s CPU (ratio to baseline {sql_cpu / base_cpu:.2f} CPU); "
                f"peak RSS {_peak_mb():,.0f} MB",
                flush=True,
            )
        engine.close()


if __name__ == "__main__":
    main()
