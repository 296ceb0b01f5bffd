"""Fuzz every registered log reader with atheris (libFuzzer), seeded from real samples.

    .venv/bin/python bench/fuzz_readers.py --seconds 90            # every reader, 90 s each
    .venv/bin/python bench/fuzz_readers.py --reader okta --runs 500

Each reader runs in a process of its own (libFuzzer ends its process when done). The
fuzzer writes each input as a file and reads it with the reader, as a scan would; the
input fails when an exception escapes the reader or a batch breaks the accounting
(records read = accepted + quarantined). The corpus starts from the first records of
every real sample in ../shared/data/real/ (all formats, so each reader also meets the
others' records) and grows with what reaches new code in borderwatch. At the end it
prints, per reader: inputs tried, seconds, crashes (and where a crash input was saved).

atheris is in the `test` extra on Linux x86-64 (where PyPI has a wheel for CPython 3.11;
elsewhere it would need clang to build). The suite runs a short version on two readers
(tests/test_fuzz_readers.py, marked `fuzz`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REAL = HERE.parents[1] / "shared" / "data" / "real"
PANTHER = REAL / "panther-analysis" / "rule-test-logs"
SEED_FILES = [
    REAL / "aws-cloudtrail-processing-library/src/test/resources/resources/SerializerTestFile.json",
    PANTHER / "AWS.CloudTrail.jsonl",
    PANTHER / "GCP.AuditLog.jsonl",
    PANTHER / "Azure.MonitorActivity.jsonl",
    PANTHER / "Azure.Audit.jsonl",
    PANTHER / "Microsoft365.Audit.AzureActiveDirectory.jsonl",
    PANTHER / "Okta.SystemLog.jsonl",
    PANTHER / "Amazon.EKS.Audit.jsonl",
    PANTHER / "GitHub.Audit.jsonl",
    PANTHER / "GSuite.ActivityEvent.jsonl",
    PANTHER / "AWS.S3ServerAccess.jsonl",
    REAL / "otrf-security-datasets" / "AWS_S3_HoneyBucketLogs.csv",
]
# Seed inputs are cut to this many bytes (a few records each): short inputs mutate fast.
SEED_BYTES = 4096
MAX_LEN = 65_536
_DONE = re.compile(rb"Done (\d+) runs in (\d+) second")


def reader_names() -> list[str]:
    """Every source in the registry a scan uses."""
    from borderwatch.registry import load_plugins

    return load_plugins().sources.names()


def write_seeds(corpus: Path) -> int:
    """Seed the corpus: the head of each real sample, one record of each, and both gzipped."""
    import gzip

    count = 0
    for sample in SEED_FILES:
        if not sample.exists():
            continue
        head = sample.read_bytes()[:SEED_BYTES]
        first = head.split(b"\n", 1)[0]
        for index, blob in enumerate([head, first, gzip.compress(first)]):
            (corpus / f"{sample.stem}-{index}").write_bytes(blob)
            count += 1
    return count


def fuzz_one(name: str, corpus: Path, artifacts: Path, runs: int, seconds: int) -> None:
    """Run libFuzzer on reader `name` in this process (it exits the process when done)."""
    import atheris

    with atheris.instrument_imports(include=["borderwatch"]):
        from borderwatch.registry import load_plugins

        source = load_plugins().sources.get(name)
    work = Path(tempfile.mkdtemp(prefix=f"fuzz-{name}-"))
    target = work / "input.json"

    def test_one_input(data: bytes) -> None:
        target.write_bytes(data)
        for batch in source.read(target, batch_size=7):
            accepted = batch.events.num_rows
            if batch.records_read != accepted + len(batch.quarantined):
                raise AssertionError(
                    f"{name}: read {batch.records_read} != accepted {accepted} "
                    f"+ quarantined {len(batch.quarantined)}"
                )

    options = [
        sys.argv[0],
        str(corpus),
        f"-artifact_prefix={artifacts}/{name}-",
        f"-max_len={MAX_LEN}",
        "-rss_limit_mb=2048",
        "-timeout=30",
        "-print_final_stats=1",
    ]
    options.append(f"-runs={runs}" if runs else f"-max_total_time={seconds}")
    atheris.Setup(options, test_one_input)
    atheris.Fuzz()


def run_reader(name: str, seeds: Path, artifacts: Path, runs: int, seconds: int) -> dict[str, Any]:
    """Fuzz one reader in a child process; its figures (inputs, seconds, crashes)."""
    with tempfile.TemporaryDirectory(prefix=f"corpus-{name}-") as corpus:
        for seed in seeds.iterdir():
            (Path(corpus) / seed.name).write_bytes(seed.read_bytes())
        command = [sys.executable, __file__, "--child", name, "--corpus", corpus]
        command += ["--artifacts", str(artifacts), "--runs", str(runs), "--seconds", str(seconds)]
        started = time.monotonic()
        done = subprocess.run(command, capture_output=True, check=False)
        elapsed = time.monotonic() - started
    found = _DONE.findall(done.stderr)
    crashes = sorted(str(p) for p in artifacts.glob(f"{name}-*"))
    result = {
        "reader": name,
        "inputs": int(found[-1][0]) if found else None,
        "seconds": round(elapsed, 1),
        "exit": done.returncode,
        "crashes": len(crashes),
        "crash_files": crashes,
    }
    if done.returncode != 0:
        result["log_tail"] = done.stderr.decode(errors="replace")[-3000:]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reader", action="append", help="only these readers (repeatable)")
    parser.add_argument("--seconds", type=int, default=60, help="fuzzing time per reader")
    parser.add_argument("--runs", type=int, default=0, help="inputs per reader (not time)")
    parser.add_argument("--artifacts", default="", help="where crash inputs go (a temp dir)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        fuzz_one(args.child, Path(args.corpus), Path(args.artifacts), args.runs, args.seconds)
        return 0
    artifacts = Path(args.artifacts or tempfile.mkdtemp(prefix="fuzz-artifacts-"))
    artifacts.mkdir(parents=True, exist_ok=True)
    names = args.reader or reader_names()
    results = []
    with tempfile.TemporaryDirectory(prefix="fuzz-seeds-") as seeds:
        seeded = write_seeds(Path(seeds))
        if not args.json:
            print(f"{seeded} seed inputs from real samples; crash inputs go to {artifacts}")
        for name in names:
            result = run_reader(name, Path(seeds), artifacts, args.runs, args.seconds)
            results.append(result)
            if not args.json:
                print(
                    f"{name:16} {result['inputs'] or 0:>9,} inputs {result['seconds']:>7.1f} s"
                    f"  crashes: {result['crashes']}  (exit {result['exit']})",
                    flush=True,
                )
                if "log_tail" in result:
                    print(result["log_tail"])
    total = sum(r["inputs"] or 0 for r in results)
    crashes = sum(r["crashes"] for r in results)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(f"total            {total:>9,} inputs  crashes: {crashes}")
    failed = crashes or any(r["exit"] != 0 for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
