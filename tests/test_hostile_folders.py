"""Events folders an attacker or a careless operator filled: special files, symbolic
links and loops, names that are not UTF-8, the scan's own outputs, files that are not
logs, and folders with nothing in them. Nothing blocks, nothing crashes, nothing is
skipped without a note in the accounting, and a folder never lies about being empty.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from borderwatch.cli import main
from readerkit import REAL
from test_real_cloudtrail import INVENTORY, POLICY

LIBRARY = REAL / "aws-cloudtrail-processing-library" / "src/test/resources/resources"
SAMPLE = LIBRARY / "SerializerTestFile.json"  # 6 CloudTrail records
# Run as a child process where a hang must fail the test instead of stopping the suite.
CLI = [sys.executable, "-c", "from borderwatch.cli import main; main()"]


@pytest.fixture
def setup(tmp_path: Path) -> Path:
    (tmp_path / "policy.yaml").write_text(POLICY)
    (tmp_path / "stores.csv").write_text(INVENTORY)
    return tmp_path


def scan_args(setup: Path, out: Path, *events: Path | str) -> list[str]:
    args = ["scan", "--policy", str(setup / "policy.yaml")]
    # Not --quiet: that keeps only the verdict line, and the notes are what is checked.
    args += ["--inventory", str(setup / "stores.csv"), "--out", str(out)]
    for item in events:
        args += ["--events", str(item)]
    return args


def scan(setup: Path, out: Path, *events: Path | str, extra: tuple[str, ...] = ()) -> Any:
    return CliRunner().invoke(main, [*scan_args(setup, out, *events), *extra])


def inputs_of(out: Path) -> list[dict[str, Any]]:
    summary = json.loads((out / "summary.json").read_text())
    return [item for item in summary["inputs"] if item["kind"] == "events"]


def logs_folder(root: Path) -> Path:
    folder = root / "logs"
    folder.mkdir()
    (folder / "a.json").write_bytes(SAMPLE.read_bytes())
    return folder


def test_a_fifo_in_the_events_folder_is_skipped_with_a_note_never_opened(setup: Path) -> None:
    folder = logs_folder(setup)
    os.mkfifo(folder / "pipe.json")
    out = setup / "out"
    # In a child process: a reader that opened the FIFO would block it forever.
    done = subprocess.run(
        [*CLI, *scan_args(setup, out, folder)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode in (0, 1), done.stderr
    by_name = {Path(i["path"]).name: i for i in inputs_of(out)}
    assert by_name["a.json"]["accepted"] == 6
    assert by_name["pipe.json"]["note"] == (
        "skipped: a FIFO (named pipe), not a regular file (never opened)"
    )
    assert by_name["pipe.json"]["quarantined"] == 0
    assert "pipe.json: a FIFO" in done.stdout + done.stderr


def test_a_device_linked_into_the_events_folder_is_not_read_even_with_a_format(
    setup: Path,
) -> None:
    folder = logs_folder(setup)
    os.symlink("/dev/zero", folder / "zero.json")
    out = setup / "out"
    done = subprocess.run(
        [*CLI, *scan_args(setup, out, folder), "--format", "cloudtrail"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode in (0, 1), done.stderr
    by_name = {Path(i["path"]).name: i for i in inputs_of(out)}
    assert "a character device" in by_name["zero.json"]["note"]


def test_a_device_named_as_input_is_refused_with_exit_2(setup: Path) -> None:
    result = scan(setup, setup / "out", "/dev/zero", extra=("--format", "cloudtrail"))
    assert result.exit_code == 2
    assert "/dev/zero is a character device, not a regular file" in result.output


def test_symlinked_sub_folders_are_followed_once_and_loops_noted(setup: Path) -> None:
    elsewhere = setup / "archive" / "2026"
    elsewhere.mkdir(parents=True)
    (elsewhere / "b.json").write_bytes(SAMPLE.read_bytes().replace(b'"eventID"', b'"eventId"'))
    events = setup / "events"
    events.mkdir()
    os.symlink(elsewhere, events / "linked")
    os.symlink("..", elsewhere / "parent")  # archive/2026/parent -> archive: no loop
    os.symlink(".", events / "self")  # a loop
    out = setup / "out"
    result = scan(setup, out, events)
    assert result.exit_code in (0, 1), result.output
    by_name = {Path(i["path"]).name: i for i in inputs_of(out)}
    assert by_name["b.json"]["records_read"] == 6
    assert "symbolic link loop" in by_name["self"]["note"]


def test_a_file_name_that_is_not_utf8_is_read_and_shown_escaped(setup: Path) -> None:
    folder = setup / "logs"
    folder.mkdir()
    name = os.fsdecode(b"trail-\xff\xfe.json")
    (folder / name).write_bytes(SAMPLE.read_bytes())
    out = setup / "out"
    result = scan(setup, out, folder)
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    (item,) = inputs_of(out)
    assert item["path"].endswith("trail-\\xff\\xfe.json") and item["accepted"] == 6


def test_the_output_folder_inside_the_events_folder_is_never_read(setup: Path) -> None:
    folder = logs_folder(setup)
    out = folder / "borderwatch-out"
    assert scan(setup, out, folder).exit_code in (0, 1)
    # The folder is made (and locked) before the inputs are listed, so the first scan
    # skips it too; what either scan read must be the same.
    first = [i for i in inputs_of(out) if i["format"] != "skipped"]
    result = scan(setup, out, folder)
    assert result.exit_code in (0, 1), result.output
    second = inputs_of(out)
    read = [i for i in second if i["format"] != "skipped"]
    assert read == first  # the outputs of the first scan are not inputs of the second
    (skipped,) = [i for i in second if i["format"] == "skipped"]
    assert skipped["path"] == str(out)
    assert "output folder (--out) is never read" in skipped["note"]


def test_an_existing_empty_folder_says_no_log_files(setup: Path) -> None:
    empty = setup / "empty"
    empty.mkdir()
    result = scan(setup, setup / "out", empty)
    assert result.exit_code == 2
    assert f"no log files in {empty}" in result.output
    assert "not found" not in result.output


def test_files_that_are_not_logs_are_listed_as_skipped_not_quarantined(setup: Path) -> None:
    folder = logs_folder(setup)
    (folder / "README.txt").write_text("These are the trail's logs.\n")
    (folder / "empty.json").write_bytes(b"")
    out = setup / "out"
    result = scan(setup, out, folder)
    assert result.exit_code in (0, 1), result.output
    by_name = {Path(i["path"]).name: i for i in inputs_of(out)}
    readme = by_name["README.txt"]
    assert (readme["records_read"], readme["quarantined"]) == (0, 0)
    assert readme["note"].startswith("skipped: not a log of any format")
    assert by_name["empty.json"]["note"] == "skipped: an empty file"
    assert "README.txt: not a log of any format" in result.output
    assert not (out / "quarantine.jsonl").read_text().strip()
    # --strict does not pass over a file of no format (a log damaged at its start looks
    # the same) until it is skipped on purpose; an empty file holds nothing to lose.
    strict = scan(setup, out, folder, extra=("--strict",))
    assert strict.exit_code == 2, strict.output
    assert "1 file(s) in the event inputs are not logs of any format" in strict.output
    assert "README.txt" in strict.output and "--exclude" in strict.output
    excluded = scan(setup, out, folder, extra=("--strict", "--exclude", "README.txt"))
    assert excluded.exit_code in (0, 1), excluded.output


def test_exclude_skips_files_on_purpose_and_lists_them(setup: Path) -> None:
    folder = logs_folder(setup)
    (folder / "old").mkdir()
    (folder / "old" / "b.json").write_bytes(SAMPLE.read_bytes())
    (folder / "c.json.bak").write_bytes(SAMPLE.read_bytes())
    out = setup / "out"
    result = scan(setup, out, folder, extra=("--exclude", "old/*", "--exclude", "*.bak"))
    assert result.exit_code in (0, 1), result.output
    by_name = {Path(i["path"]).name: i for i in inputs_of(out)}
    assert by_name["a.json"]["accepted"] == 6
    assert by_name["b.json"]["note"] == "skipped: excluded by --exclude old/*"
    assert by_name["c.json.bak"]["note"] == "skipped: excluded by --exclude *.bak"


def test_a_record_limit_below_a_megabyte_is_refused_before_reading(
    setup: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BORDERWATCH_MAX_RECORD_BYTES", "65536")
    result = scan(setup, setup / "out", logs_folder(setup))
    assert result.exit_code == 2
    assert "BORDERWATCH_MAX_RECORD_BYTES='65536'" in result.output
    assert not (setup / "out" / "summary.json").exists()


def test_a_file_swapped_for_a_fifo_after_listing_is_refused_not_waited_on(tmp_path: Path) -> None:
    # Expansion lists regular files only; a FIFO put in a listed file's place before it
    # is read must not block the reader: it is refused as it is opened.
    from borderwatch.sources.cloudtrail import CloudTrailSource
    from borderwatch.sources.inputs import open_input

    fifo = tmp_path / "swapped.json"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="not a regular file"):
        open_input(fifo)
    with pytest.raises(OSError, match="not a regular file"):
        list(CloudTrailSource().read(fifo))
