"""What the terminal prints: escaped input text, finding lines a person can act on, the
--quiet, --json, --version and --input-format options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from borderwatch.cli import main
from borderwatch.evidence.lookalike import code_points, lookalike_reasons
from borderwatch.report.terminal import terminal_safe

CASE = Path(__file__).parent / "cases" / "access-jurisdiction"

# A store id that sets the window title, returns to the line start, erases it and prints a
# fake verdict, then hides a link behind the word "click" (OSC 8).
HOSTILE_STORE = (
    "user-media\x1b]0;owned\x07\r\x1b[2KPASS: 0 open finding(s)\n"
    "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\"
)
# alice with a Cyrillic "а" and a right-to-left override.
LOOKALIKE = "arn:aws:iam::111122223333:user/\u0430lice\u202e"
JUNK_NAME = "junk\x1b]0;title\x07.jsonl"
CONTROL = ("\x1b", "\x07", "\r", "\u202e", "\x9b")


def _hostile_case(folder: Path) -> list[str]:
    """The access-jurisdiction case with hostile names in the inventory, logs and files."""
    events = folder / "events"
    events.mkdir()
    trail = (CASE / "events" / "trail.jsonl").read_text(encoding="utf-8")
    store = json.dumps(HOSTILE_STORE)[1:-1]
    trail = trail.replace('"user-media', '"' + store).replace(":::user-media", ":::" + store)
    trail = trail.replace('"arn:aws:iam::111122223333:user/alice"', json.dumps(LOOKALIKE))
    (events / "trail.jsonl").write_text(trail, encoding="utf-8")
    (events / JUNK_NAME).write_text("{not json\n", encoding="utf-8")
    inventory = (CASE / "inventory.csv").read_text(encoding="utf-8")
    quoted = '"' + HOSTILE_STORE.replace('"', '""') + '"'
    (folder / "inventory.csv").write_text(
        inventory.replace("\nuser-media,", f"\n{quoted},"), encoding="utf-8"
    )
    return [
        "scan",
        "--policy",
        str(CASE / "policy.yaml"),
        "--inventory",
        str(folder / "inventory.csv"),
        "--identities",
        str(CASE / "identities.csv"),
        "--events",
        str(events),
        "--out",
        str(folder / "out"),
    ]


def test_control_characters_from_every_input_are_escaped(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, _hostile_case(tmp_path), terminal_width=400)
    assert result.exit_code == 1, result.output
    for ch in CONTROL:
        assert ch not in result.output, (ch, result.output)
    # The store id, the principal and the file name are all there, escaped.
    assert "user-media\\x1b]0;owned\\x07\\x0d\\x1b[2KPASS: 0 open finding(s)\\x0a" in (
        result.output
    )
    assert "\\x1b]8;;https://evil.example/\\x1b\\click" in result.output
    assert "user/\u0430lice\\u202e" in result.output
    assert "/junk\\x1b]0;title\\x07.jsonl: " in result.output
    # The only line that starts with a verdict is ours.
    verdicts = [line for line in result.output.splitlines() if line.startswith(("PASS", "FAIL"))]
    assert len(verdicts) == 1 and verdicts[0].startswith("FAIL: "), verdicts


def test_errors_naming_a_hostile_file_are_escaped(tmp_path: Path) -> None:
    missing = tmp_path / "gone\x1b]0;title\x07\nPASS.csv"
    args = ["scan", "--policy", str(CASE / "policy.yaml"), "--inventory", str(missing)]
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "gone\\x1b]0;title\\x07\\x0aPASS.csv" in result.output, result.output
    assert not any(ch in result.output for ch in CONTROL)
    assert not any(line.startswith("PASS") for line in result.output.splitlines())


def test_each_finding_line_shows_id_principal_and_country(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, _hostile_case(tmp_path), terminal_width=400)
    findings = json.loads((tmp_path / "out" / "findings.json").read_text(encoding="utf-8"))
    assert findings
    lines = result.output.splitlines()
    for finding in findings:
        (line,) = [line for line in lines if finding["id"] in line]
        assert terminal_safe(finding["principal"] or "-") in line, line
        assert (finding["country"] or "country -") in line, line


def test_lookalike_principals_are_flagged_in_findings_report_and_terminal(
    tmp_path: Path,
) -> None:
    result = CliRunner().invoke(main, _hostile_case(tmp_path), terminal_width=400)
    out = tmp_path / "out"
    findings = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    marked = [f for f in findings if f["principal"] == LOOKALIKE]
    assert marked
    for finding in marked:
        mark = finding["evidence"]["principal_lookalike"]
        assert mark["code_points"] == code_points(LOOKALIKE)
        reasons = " ".join(mark["reasons"])
        assert "U+0430 CYRILLIC SMALL LETTER A looks like LATIN 'a'" in reasons
        assert "U+202E RIGHT-TO-LEFT OVERRIDE" in reasons
        (line,) = [line for line in result.output.splitlines() if finding["id"] in line]
        assert "LOOK-ALIKE" in line
    # Ordinary principals are not marked.
    assert all("principal_lookalike" not in f["evidence"] for f in findings if f not in marked)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count("⚠ look-alike") == len(marked)
    assert code_points(LOOKALIKE) in html


@pytest.mark.parametrize(
    ("name", "flagged"),
    [
        ("admin", False),
        ("Иван", False),  # one script
        ("王伟", False),
        ("Jürgen", False),
        ("arn:aws:iam::1:user/王伟", False),  # mixed, but nothing looks like Latin
        ("\u0430dmin", True),  # Cyrillic а
        ("ad\u200bmin", True),  # zero-width space
        ("alice\u202egnp.exe", True),  # right-to-left override
        ("p\u0430ypal@example.com", True),
    ],
)
def test_lookalike_reasons(name: str, flagged: bool) -> None:
    assert bool(lookalike_reasons(name)) is flagged


def test_quiet_prints_only_the_verdict(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, [*_hostile_case(tmp_path), "--quiet"], terminal_width=400)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("FAIL: "), lines


def test_json_prints_the_summary_to_stdout(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, [*_hostile_case(tmp_path), "--json"])
    assert result.exit_code == 1
    summary = (tmp_path / "out" / "summary.json").read_text(encoding="utf-8")
    assert json.loads(result.stdout) == json.loads(summary)
    assert "Findings" in result.stderr


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(flag: str) -> None:
    from borderwatch import __version__

    result = CliRunner().invoke(main, [flag])
    assert result.exit_code == 0 and __version__ in result.output


def test_input_format_is_the_option_and_format_a_hidden_alias(tmp_path: Path) -> None:
    help_text = CliRunner().invoke(main, ["scan", "--help"]).output
    assert "--input-format" in help_text and "--format " not in help_text
    args = [*_hostile_case(tmp_path), "--quiet"]
    new = CliRunner().invoke(main, [*args, "--input-format", "cloudtrail"])
    old = CliRunner().invoke(main, [*args, "--format", "cloudtrail"])
    assert new.exit_code == old.exit_code == 1, (new.output, old.output)
    both = CliRunner().invoke(main, [*args, "--format", "okta", "--input-format", "cloudtrail"])
    assert both.exit_code == 2 and "--input-format" in both.output


def test_terminal_safe_escapes_each_control_and_format_character() -> None:
    assert terminal_safe("plain text, ünïcode 王伟") == "plain text, ünïcode 王伟"
    assert terminal_safe("a\x1b[2Kb\tc\u200bd\U000e0041") == "a\\x1b[2Kb\\x09c\\u200bd\\U000e0041"


def test_other_commands_escape_input_text_too(tmp_path: Path) -> None:
    hostile = "store\x1b]0;owned\x07\x1b[2K"
    old, new = tmp_path / "old.csv", tmp_path / "new.csv"
    header = "store_id,provider,region,service,data_classes\n"
    old.write_text(f'{header}"{hostile}",aws,us-east-1,s3,us_user_data\n', encoding="utf-8")
    new.write_text(
        f'{header}"{hostile}",aws,eu-west-1,s3,us_user_data\n"{hostile}x",aws,x\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["inventory", "diff", str(old), str(new)])
    assert result.exit_code == 0, result.output
    assert "store\\x1b]0;owned\\x07\\x1b[2K" in result.output
    assert not any(ch in result.output for ch in CONTROL), result.output
