"""Hashing a model store: borderwatch's reader against hashlib.file_digest, same files.

    .venv/bin/python bench/model_store_hash.py --size-mb 512 --files 4

Writes `files` files of random bytes (one large file of `size-mb` and the rest small)
in a temporary folder, then hashes them with collect.modelstore.read_model_store and
with hashlib.file_digest (C, the baseline), checks the digests agree, and prints the
throughput of each, their ratio, and the peak memory the reader's run added (ru_maxrss
growth of a child process for each, measured after its imports, so one run's
pages do not hide the other's).
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import resource
import tempfile
import time
from collections.abc import Callable
from multiprocessing.queues import Queue
from pathlib import Path

# (seconds, digest by file name, peak memory added in KiB)
Result = tuple[float, dict[str, str], int]


def _write(folder: Path, size_mb: int, files: int) -> int:
    block = os.urandom(1024 * 1024)
    total = 0
    with (folder / "large.bin").open("wb") as stream:
        for index in range(size_mb):
            stream.write(block[index % 7 :] + block[: index % 7])
            total += len(block)
    for index in range(files - 1):
        data = os.urandom(4096 + index)
        (folder / f"small-{index}.bin").write_bytes(data)
        total += len(data)
    return total


def _reader(folder: str, queue: Queue) -> None:
    from borderwatch.collect.modelstore import read_model_store

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    read = read_model_store(folder)
    elapsed = time.perf_counter() - started
    digests = {a.name: a.digest for a in read.artifacts}
    queue.put((elapsed, digests, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before))


def _baseline(folder: str, queue: Queue) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    digests = {}
    for path in sorted(Path(folder).iterdir()):
        with path.open("rb") as stream:
            digests[path.name] = hashlib.file_digest(stream, "sha256").hexdigest()
    elapsed = time.perf_counter() - started
    queue.put((elapsed, digests, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before))


def _run(target: Callable[[str, Queue], None], folder: str) -> Result:
    queue: Queue = multiprocessing.Queue()
    process = multiprocessing.Process(target=target, args=(folder, queue))
    process.start()
    result: Result = queue.get()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=512)
    parser.add_argument("--files", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="integrity-bench-") as folder:
        total = _write(Path(folder), args.size_mb, args.files)
        base_s, base_digests, base_rss = _run(_baseline, folder)
        ours_s, our_digests, our_rss = _run(_reader, folder)
    print(f"{args.files} files, {total / 1e6:,.1f} MB")
    print(f"digests identical: {base_digests == our_digests}")
    print(f"hashlib.file_digest:   {base_s:7.3f} s  {total / 1e6 / base_s:8.1f} MB/s")
    print(f"read_model_store:      {ours_s:7.3f} s  {total / 1e6 / ours_s:8.1f} MB/s")
    print(f"ratio (ours / baseline time): {ours_s / base_s:.2f}")
    print(
        f"peak memory added while hashing: baseline {base_rss / 1024:.1f} MiB, "
        f"reader {our_rss / 1024:.1f} MiB"
    )


if __name__ == "__main__":
    main()
