"""What checking the incremental state at start costs (ingest/state.py, open_state).

A damaged state.duckdb must be refused when the scan opens it, not halfway through, so
open_state reads every stored table once (DuckDB checks each block it reads). This
prints the time of that check on a state of N digest rows, next to two figures from the
same run: opening the file without the check, and the one read of `access_parts` into
Arrow that every incremental scan does anyway (the rules' views read the whole digest).

    .venv/bin/python bench/state_check.py --rows 2000000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from borderwatch.evaluate.duckdb_engine import DuckDBEngine
from borderwatch.ingest.state import open_state

# A digest row much like a real one: store, principal, caller, day, counts, samples.
_FILL = """
CREATE TABLE access_parts AS
SELECT
    'store-' || (i % 50) AS store_id,
    'arn:aws:iam::123456789012:user/u' || (i % 5000) AS principal,
    ['u' || (i % 5000)] AS principal_aliases,
    'u' || (i % 5000) AS aliases_key,
    ((i * 2654435761) % 4294967296)::UBIGINT::VARCHAR AS caller,
    DATE '2025-01-01' + CAST(i % 365 AS INTEGER) AS day,
    'aws' AS provider,
    'us-east-1' AS region,
    (i % 97 + 1)::BIGINT AS events,
    TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_seconds(i % 31536000) AS first_seen,
    TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_seconds(i % 31536000 + 60) AS last_seen,
    md5(i::VARCHAR) AS min_event_id,
    md5((i + 1)::VARCHAR) AS max_event_id,
    'GetObject' AS min_action,
    'PutObject' AS max_action,
    NULL::VARCHAR AS min_claimed_country,
    NULL::VARCHAR AS max_claimed_country
FROM range(?) t(i)
"""


def _best(runs: int, action: Callable[[], None]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "state.duckdb"
        with duckdb.connect(str(path)) as connection:
            connection.execute(_FILL, [args.rows])
        size = path.stat().st_size

        def plain_open() -> None:
            DuckDBEngine(path).close()

        def checked_open() -> None:
            open_state(path, DuckDBEngine).close()

        def read_digest() -> None:
            engine = DuckDBEngine(path)
            engine.query("SELECT * FROM access_parts")
            engine.close()

        opened = _best(args.runs, plain_open)
        checked = _best(args.runs, checked_open)
        read = _best(args.runs, read_digest)
    print(f"state of {args.rows:,} digest rows, {size / 2**20:,.1f} MiB on disk")
    print(f"open without the check:            {opened:8.3f} s")
    print(f"open_state (every table read once): {checked:8.3f} s")
    print(f"access_parts read into Arrow:      {read:8.3f} s")
    print(f"check / one read of the digest: {(checked - opened) / (read - opened):.2f}")


if __name__ == "__main__":
    main()
