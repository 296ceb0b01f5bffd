"""What reading a served-recommendation log into the feed audit's counts costs.

Writes N feed records as JSON lines (the demo's record shape, 30 days, 6 source
countries, 6 topics, 240 creators, 4 viewer regions), then times, in one run:

- the floor: decoding every line with msgspec and nothing else;
- the feed reader record by record (the generic mapping reader's path) and column-wise
  (sources/feed_columns.py, what a scan uses), checked to give the same rows;
- the reader plus the counts into DuckDB (ingest/feed.load_feed: per-batch counts,
  appended, summed once at the end);
- one exposure test on the counts (SQL window counts, G-tests, Benjamini-Hochberg,
  Jensen-Shannon: evaluate/feed.run_feed_audit).

It prints records per second, the ratio of each to the floor, and how many count rows
hold the N records (what the engine keeps instead of rows).

    .venv/bin/python bench/feed_counts.py --records 300000
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import msgspec

from borderwatch.demo import feed as demo_feed
from borderwatch.evaluate.duckdb_engine import DuckDBEngine
from borderwatch.evaluate.feed import run_feed_audit
from borderwatch.ingest.expansion import InputFile
from borderwatch.ingest.feed import DAYS, INTERVENTIONS, VIEWS, load_feed
from borderwatch.model.feed import ExposureTest, FeedAudit, Window
from borderwatch.sources.feed import load_feed_mapping
from borderwatch.sources.generic import GenericSource

T = TypeVar("T")
DAYS_OF_LOG = 30
START = dt.date(2026, 11, 1)


def _write(path: Path, records: int, seed: int) -> None:
    rng = random.Random(seed)
    encoder = msgspec.json.Encoder()
    countries = list(demo_feed.SHARES)
    weights = list(demo_feed.SHARES.values())
    with path.open("wb") as out:
        for index in range(records):
            day = START + dt.timedelta(days=index * DAYS_OF_LOG // records)
            country = rng.choices(countries, weights)[0]
            record = demo_feed._record(rng, day, country, manual=index % 5000 == 0)
            out.write(encoder.encode(record) + b"\n")


def _window(first: int, last: int) -> Window:
    return Window.model_validate(
        {"from": START + dt.timedelta(days=first), "to": START + dt.timedelta(days=last)}
    )


def _floor(path: Path) -> int:
    decoder = msgspec.json.Decoder()
    count = 0
    with path.open("rb") as lines:
        for line in lines:
            decoder.decode(line)
            count += 1
    return count


def _reader(path: Path, mapping: Path, *, per_record: bool = False) -> int:
    source = load_feed_mapping(mapping)
    batches = GenericSource.read(source, path) if per_record else source.read(path)
    return sum(batch.events.num_rows for batch in batches)


def _timed(work: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="feed-bench-") as folder:
        root = Path(folder)
        log, mapping = root / "feed.jsonl", root / "feed-mapping.yaml"
        mapping.write_text(demo_feed.MAPPING_YAML)
        _write(log, args.records, args.seed)
        size = log.stat().st_size
        floor_s, _ = _timed(lambda: _floor(log))
        per_record_s, per_record_rows = _timed(lambda: _reader(log, mapping, per_record=True))
        reader_s, rows = _timed(lambda: _reader(log, mapping))
        assert rows == per_record_rows, (rows, per_record_rows)
        engine = DuckDBEngine(":memory:")
        try:
            files = [InputFile(log, str(log))]
            load_s, load = _timed(lambda: load_feed(engine, files, load_feed_mapping(mapping)))
            audit = FeedAudit(
                tests=(
                    ExposureTest(
                        id="bench",
                        attribute="creator",
                        baseline=_window(0, 13),
                        comparison=_window(14, DAYS_OF_LOG - 1),
                        min_effect=0.01,
                        alpha=0.01,
                    ),
                )
            )
            audit_s, _ = _timed(lambda: run_feed_audit(engine, audit))
            held = {
                name: engine.query(f"SELECT count(*) AS n FROM {name}")["n"][0].as_py()
                for name in (VIEWS, DAYS, INTERVENTIONS)
            }
        finally:
            engine.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n = args.records
    print(f"{n:,} feed records, {size / 1e6:.1f} MB of JSON lines, {DAYS_OF_LOG} days")
    print(f"floor (msgspec decode only):  {floor_s:7.2f} s {n / floor_s:>12,.0f} records/s")
    print(
        f"feed reader, record by record: {per_record_s:7.2f} s {n / per_record_s:>12,.0f} "
        f"records/s   {per_record_s / floor_s:5.1f}x the floor"
    )
    print(
        f"feed reader, column-wise:      {reader_s:7.2f} s {n / reader_s:>12,.0f} records/s"
        f"   {reader_s / floor_s:5.1f}x the floor; {per_record_s / reader_s:.1f}x faster"
    )
    print(
        f"reader + counts into DuckDB:   {load_s:7.2f} s {n / load_s:>12,.0f} records/s"
        f"   {load_s / floor_s:5.1f}x the floor; counts {load_s - reader_s:+.2f} s"
    )
    print(f"one exposure test (creator):   {audit_s:7.2f} s")
    print(f"rows read {rows:,} = accepted {load.views:,}")
    print(f"count rows held: {', '.join(f'{k} {v:,}' for k, v in held.items())}")
    print(f"peak RSS: {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
