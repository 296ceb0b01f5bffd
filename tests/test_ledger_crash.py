"""A ledgered scan killed at every step of writing its outputs and its record: the
folder holds the previous state, or the new one with the record naming it, or a record
whose staged outputs wait with their plan; `verify` says which, and the next scan
finishes or drops what was left (api.py `_record_and_swap`, report/outfolder.py,
runtime/staging.py, docs/evidence.md).

The scan runs in a subprocess that stops itself at the step (BORDERWATCH_TEST_STOP_AT,
runtime/steps.py) and is killed there with SIGKILL, as in tests/test_crash_safety.py.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from borderwatch import api
from borderwatch.cli import main
from borderwatch.evidence.ledger import LEDGER_FILE
from borderwatch.runtime.steps import ENVIRONMENT_VARIABLE, STEPS
from ledgerkit import CASE, make_keys

# Every step from the end of the evaluation on: the ones where outputs and the record
# are written (the earlier ones touch neither; tests/test_crash_safety.py covers them).
WRITING_STEPS = STEPS[STEPS.index("evaluated") :]
# The record is in the ledger from this step on.
RECORDED = {"ledger-appended", "outputs-half-swapped", "outputs-swapped"}
# Outputs of the record still wait in the staging folder at these steps.
WAITING = {"ledger-appended", "outputs-half-swapped"}
NOT_OUTPUTS = {".borderwatch.lock", ".borderwatch-ledger", "SCAN-UNFINISHED"}


def _command(base: Path, key: Path, *extra: str) -> list[str]:
    inputs = base / "inputs"
    args = [sys.executable, "-c", "from borderwatch.cli import main; main()", "scan"]
    args += ["--policy", str(inputs / "policy.yaml"), "--inventory", str(inputs / "inventory.yaml")]
    args += ["--identities", str(inputs / "identities.yaml"), "--events", str(inputs / "events")]
    args += ["--out", str(base / "out"), "--ledger", str(base / "ledger")]
    return [*args, "--sign-key", str(key), "--quiet", *extra]


def _environment(step: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != ENVIRONMENT_VARIABLE}
    if step is not None:
        env[ENVIRONMENT_VARIABLE] = step
    return env


def _stopped(command: list[str], step: str, log: Path) -> subprocess.Popen[bytes]:
    """The scan started and stopped by itself at `step` (test_crash_safety's way)."""
    from test_crash_safety import _stopped as stopped_at

    return stopped_at(command, _environment(step), log)


def _files(folder: Path) -> dict[str, bytes]:
    """Every output file in the folder and its superseded/ (relative path: bytes)."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
        and path.name not in NOT_OUTPUTS
        and not any(part.startswith(".borderwatch-new-") for part in path.parts)
    }


def _named(ledger: Path) -> set[str]:
    """The output-folder files the records name (as outputs, or kept aside)."""
    named = set()
    for line in (ledger / LEDGER_FILE).read_bytes().splitlines():
        record = json.loads(line)
        for item in [*record["outputs"], *record.get("superseded", [])]:
            named.add(os.path.normpath(ledger / item["path"]))
    return named


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A tree after one signed ledgered scan into out/: (base, private key, public key)."""
    keys = tmp_path_factory.mktemp("keys")
    private, public = make_keys(keys)
    base = tmp_path_factory.mktemp("first")
    shutil.copytree(
        CASE,
        base / "inputs",
        ignore=shutil.ignore_patterns("expected.json", "findings.snapshot.json", "case.yaml"),
    )
    done = subprocess.run(
        _command(base, private), env=_environment(), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return base, private, public


@pytest.mark.parametrize("step", WRITING_STEPS)
def test_a_ledgered_scan_killed_at_any_step_leaves_a_state_verify_names(
    first: tuple[Path, Path, Path], tmp_path: Path, step: str
) -> None:
    source, private, public = first
    base = tmp_path / "tree"
    shutil.copytree(source, base, symlinks=True)
    before = _files(base / "out")
    head = api.verify_ledger(base / "ledger", public).head

    process = _stopped(_command(base, private), step, tmp_path / "log")
    process.send_signal(signal.SIGKILL)
    process.wait()

    report = api.verify_ledger(base / "ledger", public)
    assert report.breaks == [] and report.torn is None, [str(b) for b in report.breaks]
    assert report.records == (2 if step in RECORDED else 1)
    if step in WAITING:
        # The record is written, its outputs not all in place: said, and checked where
        # they wait.
        assert report.status == "pending"
        assert report.pending and "record 2" in report.pending[0]
        assert ".borderwatch-new-" in report.pending[0]
        printed = CliRunner().invoke(main, ["verify", str(base / "ledger"), "--key", str(public)])
        assert printed.exit_code == 1 and "PENDING: " in printed.output
        assert "PENDING record 2: its scan was killed" in printed.output
    else:
        assert report.status == "verified"
    if step not in RECORDED:
        assert report.head == head
        assert _files(base / "out") == before  # the previous state, untouched
    # No output file stands in the folder that no record names.
    on_disk = {os.path.normpath(base / "out" / name) for name in _files(base / "out")}
    assert on_disk <= _named(base / "ledger")
    assert (base / "out" / "SCAN-UNFINISHED").exists()

    again = subprocess.run(
        _command(base, private), env=_environment(), capture_output=True, text=True
    )
    assert again.returncode == 0, again.stderr
    notes = json.loads((base / "out" / "summary.json").read_text())["notes"]
    said = [note for note in notes if "was killed" in note]
    if step in ("ledger-plan-written", *RECORDED):
        assert len(said) == 1, notes
        assert ("done now as the record says" in said[0]) == (step in RECORDED)
    else:
        assert said == []
    after = api.verify_ledger(base / "ledger", public)
    assert after.status == "verified", [str(b) for b in after.breaks] + after.pending
    assert after.records == report.records + 1
    assert not (base / "out" / "SCAN-UNFINISHED").exists()
    assert [p.name for p in (base / "out").iterdir() if p.name.startswith(".borderwatch-new")] == []
    on_disk = {os.path.normpath(base / "out" / name) for name in _files(base / "out")}
    assert on_disk <= _named(base / "ledger")
    # Nothing of the first scan's was lost: each of its outputs is kept, byte for byte.
    kept = _files(base / "out")
    for name, data in before.items():
        assert any(path.endswith(f"/{name}") and kept[path] == data for path in kept), name


@pytest.mark.parametrize("step", ["ledger-plan-written", "ledger-appended"])
def test_ctrl_c_around_the_record_leaves_the_old_state_or_the_new_one_whole(
    first: tuple[Path, Path, Path], tmp_path: Path, step: str
) -> None:
    source, private, public = first
    base = tmp_path / "tree"
    shutil.copytree(source, base, symlinks=True)
    before = _files(base / "out")
    process = _stopped(_command(base, private), step, tmp_path / "log")
    process.send_signal(signal.SIGINT)
    process.send_signal(signal.SIGCONT)
    assert process.wait(timeout=300) == 130
    report = api.verify_ledger(base / "ledger", public)
    assert report.status == "verified", [str(b) for b in report.breaks] + report.pending
    assert [p.name for p in (base / "out").iterdir() if p.name.startswith(".borderwatch-new")] == []
    if step == "ledger-plan-written":
        # Not recorded: the staged outputs went, the old ones stand.
        assert report.records == 1 and _files(base / "out") == before
        assert (base / "out" / "SCAN-UNFINISHED").exists()
    else:
        # Recorded: the swap was finished before the interruption took effect.
        assert report.records == 2 and not (base / "out" / "SCAN-UNFINISHED").exists()
