"""Rules as files: the loader (evaluate/rulefiles.py), plug-in rule folders, the metadata
of the built-in rules, and `borderwatch rules --show ID` through the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from borderwatch import api
from borderwatch.cli import main
from borderwatch.errors import InputError
from borderwatch.evaluate.rulefiles import (
    builtin_rule_folder,
    read_rule_folder,
    register_rule_folder,
)
from borderwatch.evidence.lookalike import EVIDENCE_KEY as LOOKALIKE_KEY
from borderwatch.registry import Registry

SRC = Path(__file__).resolve().parents[1] / "src" / "borderwatch"
CASES = Path(__file__).resolve().parent / "cases"

_META = (
    "id: {id}\ntitle: Stores of the demo plug-in\nseverity: low\n"
    "rationale: For the test.\nreferences: ['Policy: none']\n"
    "evidence: {{shout: 'the store id, upper case'}}\nmessage: {message}\n"
)


def _rule(folder: Path, rule_id: str, sql: str, message: str = "{template: 'x'}") -> None:
    family, name = rule_id.split(".", 1)
    (folder / family).mkdir(parents=True, exist_ok=True)
    (folder / family / f"{name}.sql").write_text(sql, "utf-8")
    (folder / family / f"{name}.yaml").write_text(_META.format(id=rule_id, message=message))


def _problems(folder: Path) -> str:
    with pytest.raises(InputError) as caught:
        read_rule_folder(folder)
    return str(caught.value)


def test_a_rule_file_without_its_partner_is_named(tmp_path: Path) -> None:
    _rule(tmp_path, "demo.stores", "SELECT 1")
    (tmp_path / "demo" / "lonely.sql").write_text("SELECT 1")
    text = _problems(tmp_path)
    assert f"{tmp_path / 'demo' / 'lonely.sql'}: has no lonely.yaml beside it" in text


def test_an_id_that_is_not_the_path_is_named(tmp_path: Path) -> None:
    _rule(tmp_path, "demo.stores", "SELECT 1")
    (tmp_path / "demo" / "stores.yaml").rename(tmp_path / "demo" / "other.yaml")
    (tmp_path / "demo" / "stores.sql").rename(tmp_path / "demo" / "other.sql")
    text = _problems(tmp_path)
    assert "other.yaml: id 'demo.stores' must be 'demo.other' (its path)" in text


def test_bad_metadata_names_the_file_and_field(tmp_path: Path) -> None:
    _rule(tmp_path, "demo.stores", "SELECT 1")
    meta = tmp_path / "demo" / "stores.yaml"
    meta.write_text(meta.read_text().replace("severity: low", "severity: dire"))
    text = _problems(tmp_path)
    assert f"{meta}: severity: Input should be" in text
    meta.write_text("id: [unclosed\n")
    assert f"{meta}:2:1: is not valid YAML: expected ',' or ']'" in _problems(tmp_path)


def test_an_unknown_message_builder_lists_the_known_ones(tmp_path: Path) -> None:
    _rule(tmp_path, "demo.stores", "SELECT 1", message="{builder: nonesuch}")
    text = _problems(tmp_path)
    assert "message.builder 'nonesuch' is unknown: access.anonymized-caller," in text


def test_a_broken_template_and_an_empty_query_are_named(tmp_path: Path) -> None:
    _rule(tmp_path, "demo.stores", "-- nothing but a comment\n", message="{template: '{{ x'}")
    _rule(tmp_path, "demo.other", "SELECT 1", message="{template: '{{ x'}")
    text = _problems(tmp_path)
    assert "stores.sql: holds no query" in text
    assert "other.yaml: message.template:" in text


def test_a_builtin_id_from_a_plugin_folder_is_refused(tmp_path: Path) -> None:
    registry = Registry()
    register_rule_folder(registry, builtin_rule_folder())
    _rule(tmp_path, "access.unknown-location", "SELECT 1")
    with pytest.raises(ValueError, match="registered twice"):
        register_rule_folder(registry, tmp_path)


def test_a_plugin_folder_adds_a_rule_with_its_shared_sql_to_a_scan(tmp_path: Path) -> None:
    folder = tmp_path / "plugin"
    (folder / "shared").mkdir(parents=True)
    (folder / "shared" / "macros.sql").write_text(
        "CREATE OR REPLACE TEMP MACRO demo_shout(x) AS upper(x);\n"
    )
    _rule(
        folder,
        "demo.stores",
        "SELECT store_id AS resource, list(data_class ORDER BY data_class) AS data_classes,\n"
        "    1 AS count, struct_pack(shout := demo_shout(store_id)) AS evidence\n"
        "FROM protected_store_classes GROUP BY store_id\n",
        message="{template: 'Store {{ resource }} ({{ evidence.shout }}) holds "
        '{{ data_classes | join(", ") }}.\'}',
    )
    context = api.new_context()
    register_rule_folder(context.registry, folder)
    case = CASES / "residency-locations"
    result = api.scan(
        policy=case / "policy.yaml",
        inventory=[case / "inventory.csv"],
        out=tmp_path / "out",
        context=context,
    )
    found = {f.resource: f for f in result.findings if f.rule == "demo.stores"}
    assert found["us-media"].message == "Store us-media (US-MEDIA) holds us_user_data."
    assert found["us-media"].evidence == {"shout": "US-MEDIA"}
    # The built-in rules ran beside it, unchanged.
    assert any(f.rule == "residency.store-outside-approved" for f in result.findings)


def test_every_evidence_field_of_the_golden_cases_is_documented() -> None:
    # The metadata says what a finding carries; a field a rule emits but does not
    # document would be evidence an auditor cannot read.
    documented = {rule.id: set(rule.evidence) for rule in read_rule_folder(builtin_rule_folder())}
    added_later = {LOOKALIKE_KEY, "expired_exceptions"}  # evidence/lookalike, exceptions
    seen = 0
    for snapshot in sorted(CASES.glob("*/findings.snapshot.json")):
        for finding in json.loads(snapshot.read_text("utf-8")):
            undocumented = set(finding["evidence"]) - documented[finding["rule"]] - added_later
            assert not undocumented, (snapshot.parent.name, finding["rule"], undocumented)
            seen += 1
    assert seen > 40


def _shown(rule_id: str) -> str:
    family, name = rule_id.split(".", 1)
    yaml_file, sql_file = (
        SRC / "rules" / family / f"{name}.yaml",
        SRC / "rules" / family / f"{name}.sql",
    )
    yaml_text, sql_text = yaml_file.read_text("utf-8"), sql_file.read_text("utf-8")
    return f"-- {yaml_file}\n{yaml_text}-- {sql_file}\n{sql_text}"


@pytest.mark.parametrize(
    "rule_id", ["access.prohibited-jurisdiction", "coverage.log-gap", "residency.store-unreadable"]
)
def test_rules_show_prints_the_metadata_and_sql_files_exactly(rule_id: str) -> None:
    result = CliRunner().invoke(main, ["rules", "--show", rule_id])
    assert result.exit_code == 0, result.output
    assert result.output == _shown(rule_id)


def test_rules_show_sql_prints_only_the_sql_file_in_the_installed_command() -> None:
    command = Path(sys.executable).with_name("borderwatch")
    done = subprocess.run(
        [str(command), "rules", "--show", "access.covered-person", "--sql"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == (SRC / "rules" / "access" / "covered-person.sql").read_text("utf-8")


def test_rules_show_of_an_unknown_id_exits_2_with_the_known_ids() -> None:
    result = CliRunner().invoke(main, ["rules", "--show", "access.nonesuch"])
    assert result.exit_code == 2
    assert "unknown rule 'access.nonesuch'" in result.output
    for rule in api.rules():
        assert rule.id in result.output


def test_rules_lists_every_installed_rule() -> None:
    result = CliRunner().invoke(main, ["rules"], terminal_width=200)
    assert result.exit_code == 0
    ids = [rule.id for rule in api.rules()]
    assert len(ids) == 32  # integrity: 3 + 6, dsp: 4, feed: 3 + coverage: 1
    for rule_id in ids:
        assert rule_id in result.output


def test_a_plugin_rules_hostile_text_is_shown_inert(tmp_path: Path) -> None:
    """A plug-in's rule files are not trusted: `rules` and `rules --show` print control
    characters escaped and "[...]" as text, never as terminal sequences or rich markup."""
    from rich.console import Console

    from borderwatch.commands.rules import rules_table, shown_text

    hostile = "Wipes \x1b[2J the screen [link=https://evil.example]click[/link]\x07"
    (tmp_path / "plug").mkdir()
    (tmp_path / "plug" / "hostile.sql").write_text(
        f"-- {hostile}\nSELECT NULL AS resource, NULL AS principal, NULL AS person,\n"
        "    NULL AS country, [] AS data_classes, 0 AS count, NULL AS first_seen,\n"
        "    NULL AS last_seen, NULL AS evidence WHERE false\n",
        "utf-8",
    )
    (tmp_path / "plug" / "hostile.yaml").write_text(
        _META.format(id="plug.hostile", message="{template: 'x'}").replace(
            "rationale: For the test.", f"rationale: {json.dumps(hostile)}"
        ),
        "utf-8",
    )
    (rule,) = read_rule_folder(tmp_path)
    assert rule.rationale == hostile

    console = Console(record=True, width=200, color_system=None)
    console.print(rules_table([rule]))
    listed = console.export_text()
    shown = shown_text(rule.sql)
    for text in (listed, shown):
        assert "\x1b" not in text and "\x07" not in text
        assert "\\x1b[2J" in text
    assert "[link=https://evil.example]click[/link]" in listed
    assert shown.splitlines()[0] == "-- " + hostile.replace("\x1b", "\\x1b").replace(
        "\x07", "\\x07"
    )


@pytest.mark.parametrize(
    ("name", "kind"),
    [("flat_sorted", "MACRO"), ("protected_access", "TABLE"), ("residency_findings", "VIEW")],
)
def test_a_plugin_folder_that_redefines_a_shared_name_is_refused(
    tmp_path: Path, name: str, kind: str
) -> None:
    # A built-in macro, a view of the scan's and a view of the built-in rules' shared SQL:
    # redefined, each would change what the built-in rules find.
    registry = Registry()
    register_rule_folder(registry, builtin_rule_folder())
    folder = tmp_path / "plugin"
    (folder / "shared").mkdir(parents=True)
    body = "(x) AS x" if kind == "MACRO" else "AS SELECT 1 AS x"
    (folder / "shared" / "mine.sql").write_text(
        f"-- looks harmless\nCREATE OR REPLACE TEMP {kind} {name.upper()} {body};\n"
    )
    _rule(folder, "demo.stores", "SELECT 1")
    with pytest.raises(InputError) as raised:
        register_rule_folder(registry, folder)
    text = "\n".join(str(p) for p in raised.value.problems)
    assert "mine.sql" in text and f"redefines {name.upper()!r}" in text
    assert "demo.stores" not in registry.rules  # nothing of the folder was registered


def test_a_plugin_folder_with_names_of_its_own_is_taken(tmp_path: Path) -> None:
    registry = Registry()
    register_rule_folder(registry, builtin_rule_folder())
    folder = tmp_path / "plugin"
    (folder / "shared").mkdir(parents=True)
    (folder / "shared" / "mine.sql").write_text(
        "CREATE OR REPLACE TEMP MACRO acme_flat_sorted(x) AS x;\n"
        "CREATE OR REPLACE TEMP VIEW acme_stores AS SELECT 1 AS x;\n"
    )
    _rule(folder, "demo.stores", "SELECT 1")
    register_rule_folder(registry, folder)
    assert "demo.stores" in registry.rules
