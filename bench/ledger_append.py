"""What appending a record to the evidence ledger costs as the ledger grows.

The ledger is appended to (evidence/ledger.py): the end of the file is read backwards
to find the last record, one line is written in append mode and fsynced. The baseline,
measured in the same run at the same ledger lengths, is the way it was written before:
the whole file read, every line parsed to find the head, old bytes plus the new line
written beside it, fsynced and renamed over it. Both hash the run's input files and
build the same record.

The ledger grows by appends; at each length in the table both ways append three times
(the baseline on a copy of the ledger as it is), and the median of the three is shown.

    .venv/bin/python bench/ledger_append.py --records 2000 --inputs 100
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from borderwatch.evidence.ledger import (
    LEDGER_FILE,
    FileRef,
    RunFacts,
    append_run,
    build_record,
    record_hash,
    record_line,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--inputs", type=int, default=100, help="input files per record")
    args = parser.parse_args()
    marks = sorted({1, 10, 100, 500, 1000, 2000, 5000, args.records} - {0})
    marks = [mark for mark in marks if mark <= args.records]
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
        ledger, copy = base / "ledger", base / "copy"
        print(f"{args.inputs} input files per record; median of 3 appends at each length")
        print(
            f"{'records':>8} {'bytes':>12} {'append (ms)':>12} {'rewrite (ms)':>13} "
            f"{'rewrite/append':>15}"
        )
        count = 0
        for mark in marks:
            while count < mark:
                append_run(ledger, facts, None)
                count += 1
            size = (ledger / LEDGER_FILE).stat().st_size
            appended, rewritten = [], []
            for _ in range(3):
                shutil.rmtree(copy, ignore_errors=True)
                shutil.copytree(ledger, copy)
                started = time.perf_counter()
                _rewrite_append(copy / LEDGER_FILE, facts, copy)
                rewritten.append(time.perf_counter() - started)
            for _ in range(3):
                started = time.perf_counter()
                append_run(ledger, facts, None)
                appended.append(time.perf_counter() - started)
                count += 1
            new, old = statistics.median(appended), statistics.median(rewritten)
            print(
                f"{mark:>8,} {size:>12,} {new * 1000:>12.1f} {old * 1000:>13.1f} {old / new:>15.1f}"
            )


def _rewrite_append(path: Path, facts: RunFacts, folder: Path) -> None:
    """The baseline: how an append was made before (whole file read, every line parsed,
    rewritten beside and renamed over the ledger)."""
    folder.mkdir(parents=True, exist_ok=True)
    data = path.read_bytes() if path.exists() else b""
    last: dict[str, object] = {}
    lines = data.splitlines()
    for line in lines:
        last = json.loads(line)
    if lines and last.get("hash") != record_hash(last):
        raise SystemExit("the baseline's ledger is damaged")
    previous = str(last["hash"]) if lines else None
    record = build_record(facts, folder, len(lines) + 1, previous, None)
    temp = path.with_name(f".{path.name}.{os.getpid()}.new")
    with open(temp, "wb") as handle:
        handle.write(data + record_line(record))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


if __name__ == "__main__":
    main()
