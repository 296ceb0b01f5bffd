"""`borderwatch plan-check PLAN.json --policy P`: residency of what a Terraform plan will build.

The plan's stores (see `borderwatch.collect.exports.terraform`) are written to a temporary
inventory and scanned with the real residency rules; no events are read. Exit codes: 0
clean, 1 an open finding at or above --fail-on (a planned store or copy of protected data
outside the approved locations, or in a location that cannot be established), 2 bad input.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from borderwatch.api import PlanCheck, check_plan
from borderwatch.api import plan_artifact_uri as artifact_uri
from borderwatch.errors import BorderwatchError, InputError
from borderwatch.model.findings import Severity
from borderwatch.report.sarif import dumps
from borderwatch.report.terminal import error_lines, safe_line

SEVERITIES = [s.value for s in Severity]
EXIT_CLEAN, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2


@click.command("plan-check")
@click.argument("plan", type=click.Path(path_type=Path))
@click.option("--policy", "policy_ref", required=True, help="Policy file or built-in pack name.")
@click.option(
    "--classes-map",
    type=click.Path(path_type=Path),
    default=None,
    help="YAML list of {match: GLOB, data_classes: [..]} applied to Terraform addresses/names.",
)
@click.option("--sarif", "sarif_out", type=click.Path(path_type=Path), help="Write SARIF here.")
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES),
    default="high",
    show_default=True,
    help="Exit 1 when an open finding is at or above this severity.",
)
@click.option(
    "--only-changes",
    is_flag=True,
    help="Check only resources the plan creates, updates or replaces (not unchanged ones).",
)
def plan_check(
    plan: Path,
    policy_ref: str,
    classes_map: Path | None,
    sarif_out: Path | None,
    fail_on: str,
    only_changes: bool,
) -> None:
    """Check where the data stores of a Terraform plan (`terraform show -json`) will live."""
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        check = check_plan(
            plan,
            policy=policy_ref,
            classes_map=classes_map,
            fail_on=fail_on,
            only_changes=only_changes,
        )
        if sarif_out is not None:
            sarif_out.parent.mkdir(parents=True, exist_ok=True)
            sarif_out.write_bytes(dumps(check.sarif))
    except InputError as exc:
        for line in error_lines(exc):
            console.print(line)
        sys.exit(EXIT_INPUT)
    except BorderwatchError as exc:
        console.print(safe_line("error: ", exc, style="red"))
        sys.exit(EXIT_INPUT)
    except OSError as exc:
        console.print(safe_line("error: ", exc, style="red"))
        sys.exit(EXIT_INPUT)
    print_check(Console(highlight=False, soft_wrap=False), check, sarif_out)
    sys.exit(check.exit_code)


def print_check(console: Console, check: PlanCheck, sarif_out: Path | None) -> None:
    """The planned stores, their verdicts and the findings; values always as Text."""
    plan, result = check.plan, check.result
    verdicts = {row.store_id: row for row in result.residency}
    actions = {r.address: r.actions for r in plan.resources}
    table = Table(title=safe_line(f"Planned stores in {plan.path}"))
    for column in ("address", "action", "provider", "region", "countries", "classes", "verdict"):
        table.add_column(
            column, no_wrap=column in ("action", "verdict"), overflow="fold", min_width=6
        )
    for store in plan.stores:
        row = verdicts.get(store.store_id)
        acts = actions.get(store.store_id.split("#", 1)[0], ())
        verdict = row.verdict if row else "-"
        table.add_row(
            safe_line(store.store_id),
            safe_line("/".join(acts) or "-"),
            safe_line(store.provider),
            safe_line(store.region or "(none)"),
            safe_line(", ".join(row.countries) if row else ""),
            safe_line(", ".join(row.data_classes) if row else ", ".join(store.data_classes)),
            safe_line(verdict, style=_VERDICT_STYLE.get(verdict, "")),
        )
    console.print(table)
    for note in plan.notes:
        console.print(safe_line(f"note: {note}"))
    for problem in plan.problems:
        console.print(safe_line(f"warning: {problem}", style="yellow"))
    if plan.deleted:
        console.print(safe_line(f"deleted by the plan (not checked): {', '.join(plan.deleted)}"))
    for finding in result.findings:
        line = safe_line(
            f"{finding.severity.value.upper():8} ",
            style=_SEVERITY_STYLE.get(finding.severity.value, ""),
        )
        line.append_text(
            safe_line(f"{finding.rule}  ", finding.resource or "-", ": ", finding.message)
        )
        console.print(line)
    failing = len(result.failing())
    summary = (
        f"{result.verdict.upper()}: {len(plan.stores)} planned store(s), {failing} open "
        f"finding(s) at or above {result.fail_on.value}"
    )
    if sarif_out is not None:
        summary += f"; SARIF in {sarif_out}"
    console.print(safe_line(summary, style="bold red" if failing else "bold green"))


_VERDICT_STYLE = {"outside": "red", "unknown": "yellow", "approved": "green"}
_SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow"}


def findings_json(check: PlanCheck) -> str:
    """The findings as JSON text (for tests and scripting)."""
    return json.dumps([f.as_dict() for f in check.result.findings], indent=2)


__all__: Sequence[str] = ("PlanCheck", "artifact_uri", "check_plan", "plan_check")
