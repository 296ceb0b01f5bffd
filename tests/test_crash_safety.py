"""Crash safety: a scan killed or interrupted at any step, a second scan on the same
folder, a damaged state file, temporary folders of killed scans, output permissions.

The kill tests run the real command line in a subprocess, stop it at a named step
(BORDERWATCH_TEST_STOP_AT, runtime/steps.py), kill it with SIGKILL and run it again.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from borderwatch.cli import _guard, main
from borderwatch.report.outfolder import UNFINISHED_FILE
from borderwatch.runtime.leftovers import make_temp_dir, remove_stale_temp_dirs
from borderwatch.runtime.steps import ENVIRONMENT_VARIABLE, STEPS
from policykit import us_data_policy

POLICY = us_data_policy("crash-safety")
INVENTORY = "store_id,provider,region,service,data_classes,records,copy_of\n"
INVENTORY += "user-media,aws,us-east-1,s3,us_user_data,10,\n"
# Callers: one in the US, one in China (a prohibited jurisdiction), one unlisted.
CALLERS = (("alice", "3.5.140.2"), ("mallory", "36.110.0.1"), ("bob", "8.8.8.8"))
# Enough files for the scan to read them with worker processes (ingest/workers.py: at
# least ScanOptions.parallel_min_files, 256 by default).
LATER_FILES = 260
OUTPUTS = ("findings.json", "summary.json", "quarantine.jsonl", "report.html", "findings.sarif")


def _trail(number: int, records: int) -> str:
    return json.dumps(
        {
            "Records": [
                {
                    "eventVersion": "1.08",
                    "userIdentity": {
                        "type": "IAMUser",
                        "arn": f"arn:aws:iam::1:user/{CALLERS[i % 3][0]}",
                    },
                    "eventTime": f"2026-03-{1 + number % 28:02d}T10:{i % 60:02d}:00Z",
                    "eventID": f"{number}-{i}",
                    "eventSource": "s3.amazonaws.com",
                    "eventName": "GetObject",
                    "sourceIPAddress": CALLERS[i % 3][1],
                    "requestParameters": {"bucketName": "user-media", "key": f"k{i}"},
                }
                for i in range(records)
            ]
        }
    )


def _command(base: Path, out: Path, *events: str) -> list[str]:
    args = [sys.executable, "-c", "from borderwatch.cli import main; main()", "scan"]
    args += ["--policy", str(base / "policy.yaml"), "--inventory", str(base / "stores.csv")]
    for folder in events:
        args += ["--events", str(base / folder)]
    return [*args, "--out", str(out), "--quiet"]


def _incremental(base: Path, out: Path) -> list[str]:
    return [*_command(base, out, "day1", "later"), "--incremental"]


def _environment(temp: Path, step: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != ENVIRONMENT_VARIABLE}
    env["TMPDIR"] = str(temp)  # temporary folders of these scans only
    if step is not None:
        env[ENVIRONMENT_VARIABLE] = step
    return env


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


def _stopped(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start the command and wait until it has stopped itself at the step in `env`."""
    with open(log, "wb") as stderr:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    deadline = time.monotonic() + 300  # only so that a broken scan cannot hang the suite
    while time.monotonic() < deadline:
        pid, status = os.waitpid(process.pid, os.WUNTRACED | os.WNOHANG)
        if pid == 0:
            time.sleep(0.05)
            continue
        if os.WIFSTOPPED(status):
            return process
        pytest.fail(f"the scan ended before {env[ENVIRONMENT_VARIABLE]}: {log.read_text()}")
    process.kill()
    pytest.fail(f"the scan never reached {env[ENVIRONMENT_VARIABLE]}")


def _json(path: Path) -> object:
    return json.loads(path.read_text())


def _comparable(summary: object) -> tuple[object, ...]:
    assert isinstance(summary, dict)
    return (
        summary["events_total"],
        summary["protected_accesses"],
        summary["totals"],
        summary["findings_by_rule"],
        summary["access_by_country"],
        summary["warnings"],  # e.g. events read twice: none may appear after a kill
    )


def _left_behind(temp: Path, out: Path) -> list[str]:
    """Temporary folders of scans, and staging folders of outputs, still there."""
    found = [p.name for p in temp.iterdir() if p.name.startswith("borderwatch-")]
    return found + [p.name for p in out.iterdir() if p.name.startswith(".borderwatch-new-")]


def _processes_naming(out: Path) -> list[int]:
    """Processes whose command line names `out` (a scan's workers share its command
    line), once those on their way out had a moment to go."""
    deadline = time.monotonic() + 30
    while True:
        found = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and str(out).encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue  # ended while we looked
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Inputs, the folder of a finished incremental scan of day 1 (`first`), and a
    full scan of every input (`full`), the answer every later scan must give."""
    base = tmp_path_factory.mktemp("company")
    (base / "policy.yaml").write_text(POLICY)
    (base / "stores.csv").write_text(INVENTORY)
    (base / "day1").mkdir()
    for number in range(3):
        (base / "day1" / f"day1-{number}.json").write_text(_trail(1000 + number, 30))
    (base / "later").mkdir()
    for number in range(LATER_FILES):
        (base / "later" / f"later-{number:03d}.json").write_text(_trail(number, 9))
    (base / "tmp").mkdir()
    env = _environment(base / "tmp")
    first = _run([*_command(base, base / "first", "day1"), "--incremental"], env)
    assert first.returncode == 1, first.stderr
    full = _run(_command(base, base / "full", "day1", "later"), env)
    assert full.returncode == 1, full.stderr
    return base


def _case(company: Path, tmp_path: Path) -> tuple[Path, Path]:
    """This test's output folder, holding the state and outputs of the day-1 scan."""
    out = tmp_path / "out"
    shutil.copytree(company / "first", out)
    temp = tmp_path / "tmp"
    temp.mkdir()
    return out, temp


# The ledger's steps are reached only by a scan with --ledger (tests/test_ledger_crash.py).
@pytest.mark.parametrize("step", [step for step in STEPS if not step.startswith("ledger-")])
def test_a_scan_killed_at_any_step_then_run_again_equals_a_full_scan(
    company: Path, tmp_path: Path, step: str
) -> None:
    out, temp = _case(company, tmp_path)
    if step == "digests-appended" and len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one CPU: the scan reads without worker processes")
    process = _stopped(_incremental(company, out), _environment(temp, step), tmp_path / "log")
    if step == "digests-appended":
        assert [p for p in temp.iterdir() if p.name.startswith("borderwatch-digests-")]
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert _processes_naming(out) == [], "worker processes outlived the killed scan"

    # What a reader of the folder sees now: the scan is marked unfinished, and the
    # outputs are one whole scan's (summary.json agrees with findings.json) or there is
    # no summary at all.
    assert (out / UNFINISHED_FILE).exists()
    if (out / "summary.json").exists():
        summary = _json(out / "summary.json")
        assert isinstance(summary, dict)
        assert summary["findings_total"] == len(_json(out / "findings.json"))  # type: ignore[arg-type]
        old = _json(company / "first" / "summary.json")
        assert summary == old or _comparable(summary) == _comparable(
            _json(company / "full" / "summary.json")
        )
    else:
        assert step == "outputs-half-swapped"

    again = _run(_incremental(company, out), _environment(temp))
    assert again.returncode == 1, again.stderr
    assert _json(out / "findings.json") == _json(company / "full" / "findings.json")
    assert _comparable(_json(out / "summary.json")) == _comparable(
        _json(company / "full" / "summary.json")
    )
    assert not (out / UNFINISHED_FILE).exists()
    assert _left_behind(temp, out) == []


@pytest.mark.parametrize(
    ("sent", "step"),
    [
        (signal.SIGINT, "inputs-read"),
        (signal.SIGTERM, "state-written"),
        (signal.SIGINT, "outputs-half-swapped"),
    ],
)
def test_ctrl_c_and_sigterm_exit_130_with_one_line_and_leave_whole_outputs(
    company: Path, tmp_path: Path, sent: signal.Signals, step: str
) -> None:
    out, temp = _case(company, tmp_path)
    log = tmp_path / "log"
    process = _stopped(_incremental(company, out), _environment(temp, step), log)
    process.send_signal(sent)
    process.send_signal(signal.SIGCONT)
    assert process.wait(timeout=300) == 130
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("interrupted:"), lines
    assert _left_behind(temp, out) == []
    summary = _json(out / "summary.json")
    assert isinstance(summary, dict)
    assert summary["findings_total"] == len(_json(out / "findings.json"))  # type: ignore[arg-type]
    if step == "outputs-half-swapped":
        # The swap had begun: it finished before the signal took effect.
        assert _json(out / "findings.json") == _json(company / "full" / "findings.json")
        assert not (out / UNFINISHED_FILE).exists()
    else:
        # Nothing replaced; the old outputs are whole and marked as not current.
        assert summary == _json(company / "first" / "summary.json")
        assert (out / UNFINISHED_FILE).exists()
    again = _run(_incremental(company, out), _environment(temp))
    assert again.returncode == 1, again.stderr
    assert _json(out / "findings.json") == _json(company / "full" / "findings.json")


def test_a_second_scan_on_the_same_folder_is_refused_with_a_message(
    company: Path, tmp_path: Path
) -> None:
    out, temp = _case(company, tmp_path)
    running = _stopped(
        _incremental(company, out), _environment(temp, "state-opened"), tmp_path / "log"
    )
    try:
        for extra in ([], ["--full"]):
            second = _run([*_incremental(company, out), *extra], _environment(temp))
            assert second.returncode == 2, second.stderr
            assert "Traceback" not in second.stderr
            assert f"another borderwatch scan (process {running.pid})" in second.stderr
            assert "give another --out" in second.stderr
    finally:
        running.send_signal(signal.SIGKILL)
        running.wait()
    # The lock died with the scan that held it.
    after = _run(_incremental(company, out), _environment(temp))
    assert after.returncode == 1, after.stderr
    assert _json(out / "findings.json") == _json(company / "full" / "findings.json")


def _damage(state: Path, how: str) -> None:
    data = state.read_bytes()
    if how == "truncated":
        state.write_bytes(data[: len(data) // 2])
    elif how == "garbage":
        state.write_bytes(bytes((i * 131 + 7) % 256 for i in range(len(data))))
    else:  # blocks in the middle overwritten
        middle = len(data) // 3
        state.write_bytes(data[:middle] + b"\xa5" * 65536 + data[middle + 65536 :])


@pytest.mark.parametrize("how", ["truncated", "garbage", "overwritten"])
def test_a_damaged_state_file_is_refused_and_full_rebuilds_it(
    company: Path, tmp_path: Path, how: str
) -> None:
    out = tmp_path / "out"
    shutil.copytree(company / "first", out)
    (out / "state.duckdb.wal").unlink(missing_ok=True)
    _damage(out / "state.duckdb", how)
    args = ["scan", "--policy", str(company / "policy.yaml")]
    args += ["--inventory", str(company / "stores.csv"), "--events", str(company / "day1")]
    args += ["--out", str(out), "--quiet", "--incremental"]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 2, refused.output
    assert isinstance(refused.exception, SystemExit)  # a message, not a traceback
    assert "state" in refused.output and "--full" in refused.output
    rebuilt = CliRunner().invoke(main, [*args, "--full"])
    assert rebuilt.exit_code == 1, rebuilt.output
    assert _json(out / "findings.json") == _json(company / "first" / "findings.json")


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o002])
def test_outputs_get_the_permissions_of_the_umask(
    company: Path, tmp_path: Path, umask: int
) -> None:
    args = ["scan", "--policy", str(company / "policy.yaml")]
    args += ["--inventory", str(company / "stores.csv"), "--events", str(company / "day1")]
    args += ["--out", str(tmp_path / "out"), "--quiet"]
    before = os.umask(umask)
    try:
        result = CliRunner().invoke(main, args)
    finally:
        os.umask(before)
    assert result.exit_code == 1, result.output
    modes = {name: (tmp_path / "out" / name).stat().st_mode & 0o777 for name in OUTPUTS}
    assert modes == dict.fromkeys(OUTPUTS, 0o666 & ~umask)


def test_temporary_folders_of_dead_scans_are_removed_and_no_others(tmp_path: Path) -> None:
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead = int(ended.stdout)
    mine = Path(make_temp_dir("digests", str(tmp_path)))
    stale = tmp_path / f"borderwatch-spill-{dead}-abc123"
    stale.mkdir()
    (stale / "spill.tmp").write_bytes(b"x" * 10)
    kept_target = tmp_path / "elsewhere"
    kept_target.mkdir()
    link = tmp_path / f"borderwatch-digests-{dead}-link"
    link.symlink_to(kept_target)
    other_kind = tmp_path / f"borderwatch-cache-{dead}-abc"
    other_kind.mkdir()
    a_file = tmp_path / f"borderwatch-digests-{dead}-file"
    a_file.write_text("")

    assert remove_stale_temp_dirs(str(tmp_path)) == [stale]
    assert not stale.exists()
    assert mine.is_dir() and f"-{os.getpid()}-" in mine.name  # this process still runs
    assert link.is_symlink() and kept_target.is_dir()
    assert other_kind.is_dir() and a_file.is_file()


def test_a_test_stop_at_an_unknown_step_is_a_usage_error(tmp_path: Path) -> None:
    env = _environment(tmp_path, "no-such-step")
    args = [sys.executable, "-c", "from borderwatch.cli import main; main()", "scan"]
    args += ["--policy", "us-protected-data", "--out", str(tmp_path / "out")]
    result = _run(args, env)
    assert result.returncode == 2, result.stderr
    assert "not a step of a scan" in result.stderr and "Traceback" not in result.stderr


def _query_interrupted_by_ctrl_c() -> None:
    """What DuckDB does when Ctrl-C arrives during a query: the signal's handler raises
    KeyboardInterrupt inside DuckDB's signal check, DuckDB stops the query and raises
    RuntimeError("Query interrupted") in its place (seen with duckdb 2.0 in a real
    query; a real query is not used here because how soon DuckDB looks at signals
    depends on the machine's load)."""
    try:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)  # the handler interrupts this at once
    except KeyboardInterrupt:
        raise RuntimeError("Query interrupted") from None


def test_ctrl_c_during_a_database_query_exits_130_with_one_line() -> None:
    console = Console(file=io.StringIO(), width=200)
    with pytest.raises(SystemExit) as stopped, _guard(console):
        _query_interrupted_by_ctrl_c()
    assert stopped.value.code == 130
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert text.startswith("interrupted:") and text.count("\n") == 1


@pytest.mark.parametrize("error", [RuntimeError("a bug"), ValueError("a bug"), KeyError("a bug")])
def test_an_error_that_is_not_an_interruption_is_an_internal_error(error: Exception) -> None:
    """Only a RuntimeError while a signal arrived is taken for Ctrl-C; any other failure
    of ours surfaces with its traceback and exit 70, never 1 (the code of findings)."""
    console = Console(file=io.StringIO(), width=200)
    with pytest.raises(SystemExit) as stopped, _guard(console):
        raise error
    assert stopped.value.code == 70
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "Traceback" in text and "a bug" in text
    assert "internal error: borderwatch failed" in text and "not a verdict" in text
