"""Benchmark: peak memory and time of a scan on hostile containers, against a clean file.

    .venv/bin/python bench/hostile_inputs.py --line-mib 1024

Each input is a small gzip file that decompresses to one huge line (the issue's "1 MB
gzip holding one 1 GB line"), in three shapes, plus the baseline:

- clean: the same records without the huge line (the baseline of every ratio);
- lines: a JSON-lines file whose second line is the huge one;
- one-line: the whole file is one huge JSON object (no newline at all);
- container: one huge line that opens like a delivered file, `{"Records": [{...`.

Every scan runs the real CLI (`borderwatch scan`) in a fresh process; its peak memory is
that process's VmHWM (read from /proc when it ends, by a wrapper that execs nothing
else) plus the largest peak among its worker processes. Each scan must account for
every record (read = accepted + quarantined) or the script exits 1 before printing.
The test suite never runs this file.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

POLICY = """\
borderwatch: policy/v1
name: bench-hostile
version: "1"
data_classes:
  customer_data:
    protected: true
    storage: {approved: [{country: US}]}
"""
INVENTORY = "store_id,provider,region,data_classes\ncustomer-data,aws,us-east-1,customer_data\n"

# Run inside the measured process: scan, then report VmHWM of itself and its children.
_WRAPPER = """
import re, resource, sys
from pathlib import Path
from borderwatch.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
status = Path("/proc/self/status").read_text()
peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1)) << 10
workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss << 10
print("PEAK", code, peak, workers, file=sys.stderr)
"""


def record(number: int) -> bytes:
    return json.dumps(
        {
            "eventVersion": "1.08",
            "eventID": f"event-{number}",
            "eventTime": "2026-01-01T00:00:00Z",
            "eventSource": "s3.amazonaws.com",
            "eventName": "GetObject",
            "awsRegion": "us-east-1",
            "sourceIPAddress": "1.2.4.8",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/a"},
            "requestParameters": {"bucketName": "customer-data", "key": f"k{number}"},
        }
    ).encode()


def write_gzip(path: Path, head: bytes, filler_mib: int, tail: bytes) -> None:
    """head + filler_mib MiB of 'x' + tail, gzipped as it is produced (never held)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"x" * (1 << 20)
    with path.open("wb") as out:
        out.write(compressor.compress(head))
        for _ in range(filler_mib):
            out.write(compressor.compress(block))
        out.write(compressor.compress(tail))
        out.write(compressor.flush())


def make_inputs(folder: Path, mib: int) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    clean = b"\n".join(record(i) for i in range(3)) + b"\n"
    # The huge record opens like a CloudTrail record, so the CloudTrail reader takes it.
    huge = (
        b'{"eventVersion": "1.08", "eventSource": "s3.amazonaws.com", "eventName": "Get", "pad": "'
    )

    paths = {name: folder / f"{name}-{mib}.json.gz" for name in SHAPES}
    if not paths["clean"].exists():
        write_gzip(paths["clean"], clean, 0, b"")
        write_gzip(paths["lines"], record(0) + b"\n" + huge, mib, b'"}\n')
        write_gzip(paths["one-line"], huge, mib, b'"}')
        write_gzip(paths["container"], b'{"Records": [' + huge, mib, b'"}]}')
    return paths


SHAPES = ("clean", "lines", "one-line", "container")


def scan(path: Path, folder: Path) -> tuple[float, int, int, dict[str, int]]:
    """(seconds, main peak, largest worker peak, totals of the input) of one CLI scan."""
    out = folder / f"out-{path.stem}"
    args = ["scan", "--policy", str(folder / "policy.yaml"), "--inventory"]
    args += [str(folder / "stores.csv"), "--events", str(path), "--out", str(out), "--quiet"]
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *args], capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    line = [row for row in done.stderr.splitlines() if row.startswith("PEAK")]
    if not line or not (out / "summary.json").exists():
        sys.exit(f"scan of {path.name} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    _, code, peak, workers = line[-1].split()
    summary = json.loads((out / "summary.json").read_text())
    (item,) = [i for i in summary["inputs"] if i["kind"] == "events"]
    if item["records_read"] != item["accepted"] + item["quarantined"] or code not in "012":
        sys.exit(f"accounting broken for {path.name}: {item}")
    return seconds, int(peak), int(workers), item


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--line-mib", type=int, default=1024, help="size of the huge line")
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "bw-hostile"))
    args = parser.parse_args()
    folder = Path(args.workdir)
    paths = make_inputs(folder, args.line_mib)
    (folder / "policy.yaml").write_text(POLICY)
    (folder / "stores.csv").write_text(INVENTORY)
    results = {name: scan(path, folder) for name, path in paths.items()}
    _, base_peak, _, _ = results["clean"]
    base_seconds = results["clean"][0]
    print(f"one line of {args.line_mib:,} MiB in gzip; peaks are VmHWM of the scan process")
    print(
        f"{'input':<10} {'gzip':>9} {'read':>5} {'acc':>4} {'quar':>4} {'time':>8} "
        f"{'peak':>9} {'worker':>8} {'peak/clean':>10} {'time/clean':>10}"
    )
    for name, (seconds, peak, workers, item) in results.items():
        size = paths[name].stat().st_size
        print(
            f"{name:<10} {size / 1024:>7.0f}KB {item['records_read']:>5} {item['accepted']:>4} "
            f"{item['quarantined']:>4} {seconds:>7.1f}s {peak >> 20:>6} MiB {workers >> 20:>4} MiB "
            f"{peak / base_peak:>10.2f} {seconds / base_seconds:>10.1f}"
        )
    print(f"python: {sys.version.split()[0]}, cpus: {os.cpu_count()}")


if __name__ == "__main__":
    main()
