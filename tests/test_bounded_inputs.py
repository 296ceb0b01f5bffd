"""Inputs made to exhaust the reader are refused with file, line and why, in bounded memory.

The commands run in a child process limited to 2 GB of address space and a time limit,
so a reader that expands a "billion laughs" document fails the test instead of taking
the machine down.
"""

from __future__ import annotations

import csv
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from borderwatch.cli import main
from borderwatch.inventory.graph import MAX_PATH_SHOWN, resolve_copies
from borderwatch.model.inventory import Store
from borderwatch.report.html import RESIDENCY_SHOWN
from borderwatch.yamlbounds import YamlLimits, yaml_bounds_problem

CASES = Path(__file__).parent / "cases"
MEMORY_LIMIT = 2 * 1024**3


def _laughs(anchor_levels: int = 10) -> list[str]:
    """Lines of nested aliases: the last anchor stands for 9**anchor_levels values."""
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, anchor_levels):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 9)}]")
    return lines


def _policy_of_laughs() -> str:
    head = ["borderwatch: policy/v1", "name: laughs", 'version: "1"', *_laughs()]
    return "\n".join([*head, "data_classes:", "  us_user_data:", "    description: *a9", ""])


def _rows_of_laughs(list_key: str, row: str) -> str:
    return "\n".join([*_laughs(), f"{list_key}:", row, "    notes: *a9", ""])


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a child process under a 2 GB address-space limit."""
    code = "import sys; from borderwatch.cli import main; sys.exit(main())"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limit_memory,
        check=False,
    )


def test_a_policy_of_nested_aliases_is_refused_with_its_line(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(_policy_of_laughs(), encoding="utf-8")
    assert policy.stat().st_size < 1600
    result = _run_cli("validate", str(policy))
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert f"{policy}:" in result.stdout + result.stderr
    assert "aliases" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("option", "list_key", "row"),
    [
        ("--inventory", "stores", "  - store_id: s1\n    provider: aws\n    region: us-east-1"),
        ("--identities", "identities", "  - principal: alice\n    country: US"),
        ("--entities", "entities", "  - id: holdco\n    country: US"),
        ("--travel", "travel", "  - person: alice\n    country: FR"),
    ],
)
def test_every_yaml_table_of_nested_aliases_is_refused_with_its_line(
    tmp_path: Path, option: str, list_key: str, row: str
) -> None:
    source = tmp_path / f"{list_key}.yaml"
    source.write_text(_rows_of_laughs(list_key, row), encoding="utf-8")
    assert source.stat().st_size < 1024
    policy = str(CASES / "exceptions" / "policy.yaml")
    result = _run_cli(
        "scan", "--policy", policy, option, str(source), "--out", str(tmp_path / "out"), "--quiet"
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert f"{source}:" in result.stderr and "aliases" in result.stderr, result.stderr


def test_a_mapping_of_nested_aliases_is_refused(tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.yaml"
    lines = [*_laughs(), "name: laughs", "input: jsonl", "columns:", "  event_time: *a9", ""]
    mapping.write_text("\n".join(lines), encoding="utf-8")
    policy = str(CASES / "exceptions" / "policy.yaml")
    result = _run_cli(
        "scan", "--policy", policy, "--mapping", str(mapping), "--out", str(tmp_path / "o")
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert f"{mapping}:" in result.stderr and "aliases" in result.stderr, result.stderr


def test_a_classes_map_of_nested_aliases_is_refused(tmp_path: Path) -> None:
    classes = tmp_path / "classes.yaml"
    classes.write_text(
        "\n".join([*_laughs(), "classes:", "  - match: '*'", "    data_classes: *a9", ""]),
        encoding="utf-8",
    )
    export = tmp_path / "export.json"
    export.write_text("[]", encoding="utf-8")
    result = _run_cli(
        "inventory",
        "import",
        "oci-search",
        str(export),
        "--classes-map",
        str(classes),
        "--out",
        str(tmp_path / "inv.yaml"),
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert f"{classes}:" in result.stderr and "aliases" in result.stderr, result.stderr


@pytest.mark.parametrize("style", ["flow", "block"])
def test_deep_policy_nesting_is_a_message_not_a_traceback(tmp_path: Path, style: str) -> None:
    policy = tmp_path / "policy.yaml"
    head = 'borderwatch: policy/v1\nname: deep\nversion: "1"\n'
    if style == "flow":
        body = "x: " + "[" * 100_000 + "]" * 100_000 + "\n"
    else:
        body = "".join(" " * depth + "k:\n" for depth in range(3000))
    policy.write_text(head + body, encoding="utf-8")
    result = _run_cli("validate", str(policy))
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stdout + result.stderr
    assert f"{policy}:" in result.stderr and "nested" in result.stderr, result.stderr


def test_deep_inventory_nesting_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("stores: " + "[" * 50_000 + "]" * 50_000 + "\n", encoding="utf-8")
    policy = str(CASES / "exceptions" / "policy.yaml")
    result = _run_cli(
        "scan", "--policy", policy, "--inventory", str(inventory), "--out", str(tmp_path / "o")
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert f"{inventory}:1:" in result.stderr and "nested" in result.stderr, result.stderr


def test_aliases_that_do_not_multiply_are_welcome() -> None:
    # `<<: *defaults` on every row of a large inventory is ordinary YAML.
    rows = "".join(f"  - <<: *d\n    store_id: s{n}\n" for n in range(20_000))
    text = "defaults: &d {provider: aws, region: us-east-1, service: s3, records: 1}\n"
    assert yaml_bounds_problem(text + "stores:\n" + rows, "inv.yaml") is None


def test_the_alias_budget_counts_what_the_aliases_stand_for() -> None:
    limits = YamlLimits(max_depth=100, min_alias_budget=100, alias_factor=1)
    fine = "a: &a [1, 2, 3]\nb: [*a, *a]\n"
    assert yaml_bounds_problem(fine, "x.yaml", limits) is None
    many = "a: &a [" + ", ".join(["1"] * 60) + "]\nb: [*a, *a]\n"
    problem = yaml_bounds_problem(many, "x.yaml", limits)
    assert problem is not None
    assert (problem.location.line, problem.location.column) == (2, 9)


def test_a_long_copy_chain_is_resolved_with_bounded_paths() -> None:
    # 10,000 links: the quadratic walk took minutes, and every store carried its whole
    # path (50 million names in all). The path keeps the original and the last hops.
    count = 10_000
    stores = [
        Store(
            store_id=f"s{n}",
            provider="aws",
            region="us-east-1",
            data_classes=("us_user_data",) if n == 0 else (),
            copy_of=f"s{n - 1}" if n else None,
        )
        for n in range(count)
    ]
    copies = resolve_copies(stores)
    last = copies[f"s{count - 1}"]
    assert last.copy_path[0] == "s0" and last.copy_path[-1] == f"s{count - 1}"
    assert len(last.copy_path) == MAX_PATH_SHOWN
    assert last.copy_path[1] == f"... {count - MAX_PATH_SHOWN + 1:,} more copies ..."
    assert copies["s3"].copy_path == ("s0", "s1", "s2", "s3")
    assert last.data_classes == ("us_user_data",)
    assert all(info.problem == "" for info in copies.values())


def test_a_long_copy_cycle_is_named_once_per_store_in_bounded_text() -> None:
    count = 10_000
    stores = [
        Store(f"s{n}", "aws", "us-east-1", copy_of=f"s{(n + 1) % count}") for n in range(count)
    ]
    copies = resolve_copies(stores)
    assert copies["s5"].problem == "copy_of cycle: s5 -> s6 -> s7 -> ... (10,000 stores) -> s5"
    assert copies["s5"].copy_path[-1] == "s5" and len(copies["s5"].copy_path) == MAX_PATH_SHOWN


def test_the_report_summarises_a_long_inventory_and_residency_csv_keeps_every_row(
    tmp_path: Path,
) -> None:
    count = RESIDENCY_SHOWN + 500
    inventory = tmp_path / "inventory.csv"
    rows = ["store_id,provider,region,service,data_classes,records"]
    for n in range(count):
        # One store in a hundred is protected and outside the approved country.
        region, classes = ("eu-west-1", "us_user_data") if n % 100 == 7 else ("us-east-1", "")
        rows.append(f"store-{n:05d},aws,{region},s3,{classes},{n}")
    inventory.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    args = ["scan", "--policy", str(CASES / "exceptions" / "policy.yaml")]
    result = CliRunner().invoke(main, [*args, "--inventory", str(inventory), "--out", str(out)])
    assert result.exit_code == 1, result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert f"Showing {RESIDENCY_SHOWN:,} of {count:,} stores" in html
    assert '500 more are in <span class="mono">residency.csv</span>' in html
    # The stores outside approved locations are drawn first, so none is left out.
    drawn = html[html.index('id="h-residency"') : html.index("</table>", html.index("h-residency"))]
    assert drawn.count("✗ outside") == count // 100
    with (out / "residency.csv").open(newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == count
    assert sum(row["verdict"] == "outside" for row in table) == count // 100


def test_residency_csv_defuses_spreadsheet_formulas(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.csv"
    inventory.write_text(
        "store_id,provider,region,service,data_classes\n"
        '"=HYPERLINK(""http://evil.example"")",aws,us-east-1,s3,us_user_data\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    args = ["scan", "--policy", str(CASES / "exceptions" / "policy.yaml")]
    CliRunner().invoke(main, [*args, "--inventory", str(inventory), "--out", str(out)])
    with (out / "residency.csv").open(newline="", encoding="utf-8") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["store_id"] == '\'=HYPERLINK("http://evil.example")'


@pytest.mark.parametrize("kind", ["gcp-cai", "azure-arm", "oci-search"])
def test_deeply_nested_json_exports_are_refused_with_a_message(tmp_path: Path, kind: str) -> None:
    export = tmp_path / "export.json"
    export.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    result = CliRunner().invoke(
        main, ["inventory", "import", kind, str(export), "--out", str(tmp_path / "inv.yaml")]
    )
    assert "Traceback" not in result.output and not isinstance(result.exception, RecursionError)
    assert f"{export}: JSON nested too deeply to read; refused" in result.output, result.output


def test_a_deeply_nested_terraform_plan_is_refused_with_exit_2(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["plan-check", str(plan), "--policy", str(CASES / "exceptions" / "policy.yaml")]
    )
    assert result.exit_code == 2, result.output
    assert "JSON nested too deeply" in result.output
