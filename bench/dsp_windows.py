"""The Data Security Program's rolling windows over a year of daily subject state.

Builds, in a DuckDB file under a temporary folder, a year of per-day subject sets as the
DSP views hold them (`dsp_reach`: counterparty, category, day, 64-bit subject, store):
`--rows` rows (default 100 million) over `--subjects` distinct subjects (default 10
million), 20 counterparties, 3 categories, 365 days. Then it runs, with the engine's
memory limit, the windows SQL a scan runs (evaluate/sql/dsp_windows.sql: the distinct
subjects of the 365-day window ending on every day) and, as the baseline in the same
run, one exact distinct count per counterparty and category over all rows (the least
work any exact method does: read and de-duplicate every row once). It prints the
seconds of each, their ratio, and the process's peak resident memory after each step.

    .venv/bin/python bench/dsp_windows.py --rows 100000000 --subjects 10000000
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from importlib.resources import files
from pathlib import Path

import duckdb

WINDOWS_SQL = files("borderwatch.evaluate").joinpath("sql", "dsp_windows.sql").read_text()


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _state(connection: duckdb.DuckDBPyConnection, rows: int, subjects: int) -> None:
    """A year of daily subject state: each row one (counterparty, category, day, subject)
    a counterparty reached. Subjects and days are spread by hashing the row number."""
    connection.execute(
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
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dsp-bench-") as folder:
        connection = duckdb.connect(str(Path(folder) / "state.duckdb"))
        connection.execute(f"SET memory_limit = '{args.memory_limit}'")
        connection.execute(f"SET threads = {args.threads}")
        connection.execute(f"SET temp_directory = '{Path(folder) / 'spill'}'")
        connection.execute("SET preserve_insertion_order = false")
        started = time.perf_counter()
        _state(connection, args.rows, args.subjects)
        build_s = time.perf_counter() - started
        distinct = connection.execute("SELECT count(DISTINCT subject) FROM dsp_reach").fetchone()
        print(
            f"state: {args.rows:,} rows, {distinct[0] if distinct else 0:,} distinct subjects, "
            f"365 days; built in {build_s:.1f} s; peak RSS {_peak_mb():,.0f} MB"
        )

        started = time.perf_counter()
        connection.execute(
            "CREATE TEMP TABLE baseline AS SELECT counterparty, category, "
            "count(DISTINCT subject) AS subjects FROM dsp_reach GROUP BY ALL"
        )
        baseline_s = time.perf_counter() - started
        print(
            f"baseline (one distinct count per counterparty and category): "
            f"{baseline_s:.1f} s; peak RSS {_peak_mb():,.0f} MB"
        )

        started = time.perf_counter()
        connection.execute(WINDOWS_SQL)
        windows_s = time.perf_counter() - started
        steps, peak = connection.execute(
            "SELECT count(*), max(named_subjects) FROM dsp_windows"
        ).fetchone() or (0, 0)
        print(
            f"every window (dsp_windows.sql, {steps:,} step rows, largest window "
            f"{peak:,} subjects): {windows_s:.1f} s; peak RSS {_peak_mb():,.0f} MB"
        )
        print(f"ratio windows / baseline: {windows_s / baseline_s:.2f}")
        connection.close()


if __name__ == "__main__":
    main()
