"""What appending a record to the evidence ledger costs as the ledger grows.

The ledger is rewritten whole on each append (written beside it, flushed, renamed over
it: crash-safe, docs/evidence.md). The baseline, measured in the same run on the same
records, is a plain O_APPEND write of the same line with an fsync (not crash-safe: a
kill can leave a torn line). Both include hashing the run's input files.

    .venv/bin/python bench/ledger_append.py --records 1000 --inputs 100
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from borderwatch.evidence.ledger import (
    LEDGER_FILE,
    FileRef,
    RunFacts,
    append_run,
    build_record,
    read_head,
    record_line,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--inputs", type=int, default=100, help="input files per record")
    args = parser.parse_args()
    marks = {1, 10, 100, args.records // 2, args.records}
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as temp:
        base = Path(temp)
        for index in range(args.inputs):
            (base / f"input-{index}.json").write_text(f'{{"n": {index}}}\n')
        facts = RunFacts(
            "bench",
            {"name": "bench"},
            {"verdict": "pass"},
            {"ip": "bench"},
            [FileRef(str(base / f"input-{i}.json"), "events") for i in range(args.inputs)],
            [],
        )
        safe, plain = base / "safe", base / "plain"
        plain.mkdir()
        print(f"{args.inputs} input files per record")
        print(
            f"{'records':>8} {'bytes':>12} {'rename (ms)':>12} {'O_APPEND (ms)':>14} {'ratio':>6}"
        )
        for number in range(1, args.records + 1):
            started = time.perf_counter()
            append_run(safe, facts, None)
            rewrite = time.perf_counter() - started
            started = time.perf_counter()
            _plain_append(plain / LEDGER_FILE, facts, plain)
            append = time.perf_counter() - started
            if number in marks:
                size = (safe / LEDGER_FILE).stat().st_size
                print(
                    f"{number:>8,} {size:>12,} {rewrite * 1000:>12.1f} {append * 1000:>14.1f} "
                    f"{rewrite / append:>6.1f}"
                )


def _plain_append(path: Path, facts: RunFacts, folder: Path) -> None:
    data = path.read_bytes() if path.exists() else b""
    head = read_head(data, path)
    line = record_line(build_record(facts, folder, head.records + 1, head.last_hash, None))
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(handle, line)
        os.fsync(handle)
    finally:
        os.close(handle)


if __name__ == "__main__":
    main()
