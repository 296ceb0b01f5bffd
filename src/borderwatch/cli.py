"""The command line: parse arguments, call the API, print. No logic lives here.

Exit codes: 0 clean, 1 findings at or above --fail-on, 2 bad usage or input.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from borderwatch import __version__, api
from borderwatch.engine.events import ProgressCallback
from borderwatch.errors import BorderwatchError, InputError, system_refusal
from borderwatch.model.findings import Severity
from borderwatch.model.scan import ScanResult

SEVERITIES = [s.value for s in Severity]
EXIT_CLEAN, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2


def _console() -> Console:
    # soft_wrap: "file:line:col: message" lines must stay whole for editors and grep.
    return Console(stderr=True, highlight=False, soft_wrap=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="borderwatch")
def main() -> None:
    """Prove where protected data lives and who reached it from where."""


@main.command()
@click.option("--policy", "policy_ref", required=True, help="Policy file or built-in pack name.")
@click.option(
    "--inventory",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Store inventory (CSV/YAML).",
)
@click.option(
    "--previous-inventory",
    "previous_inventory",
    multiple=True,
    type=click.Path(path_type=Path),
    help="An earlier inventory (repeatable): changes since the latest one, and migration "
    "progress over all of them (docs/inventory-history.md).",
)
@click.option(
    "--identities", multiple=True, type=click.Path(path_type=Path), help="Identity directory."
)
@click.option(
    "--entities",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Companies and their owners, for covered-person status (docs/inputs.md).",
)
@click.option(
    "--travel",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Approved travel: where a person was expected on given days.",
)
@click.option(
    "--events", multiple=True, help="Access logs: files, directories, globs, or - (stdin)."
)
@click.option(
    "--format", "event_format", default=None, help="Force the event reader (e.g. cloudtrail)."
)
@click.option(
    "--exclude",
    multiple=True,
    metavar="GLOB",
    help="Skip files of the event inputs whose name or path below the folder named "
    "matches GLOB (repeatable); each is listed as skipped.",
)
@click.option(
    "--mapping",
    "mappings",
    multiple=True,
    type=click.Path(path_type=Path),
    help="A field-mapping file for generic CSV/JSON lines/Parquet logs (docs/mapping.md); "
    "its name becomes a format usable with --format.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("borderwatch-out"),
    show_default=True,
    help="Output folder.",
)
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES),
    default="high",
    show_default=True,
    help="Exit 1 when an open finding is at or above this severity.",
)
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Judge exception expiry on this day (default: today, UTC).",
)
@click.option(
    "--ip-data",
    "ip_data",
    multiple=True,
    metavar="KIND:PATH",
    help="IP data beyond the embedded default, in precedence order; KIND is mmdb, rir, "
    "geofeed, provider or anonymisers (docs/jurisdiction.md).",
)
@click.option(
    "--incremental",
    is_flag=True,
    help="Keep state in OUT/state.duckdb and read only inputs no earlier scan read "
    "(docs/incremental.md).",
)
@click.option("--full", is_flag=True, help="With --incremental: rebuild the state from scratch.")
@click.option(
    "--exact-repeats",
    is_flag=True,
    help="Count an event read more than once (the same event id in several inputs, e.g. "
    "from an organisation trail and an account trail) once, by keeping every access's id: "
    "slower; not with --incremental (docs/sources.md).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Exit 2 if any input record was quarantined (outputs are still written).",
)
@click.option("--quiet", is_flag=True, help="No progress display.")
def scan(
    policy_ref: str,
    inventory: tuple[Path, ...],
    previous_inventory: tuple[Path, ...],
    identities: tuple[Path, ...],
    entities: tuple[Path, ...],
    travel: tuple[Path, ...],
    events: tuple[str, ...],
    event_format: str | None,
    exclude: tuple[str, ...],
    mappings: tuple[Path, ...],
    out: Path,
    fail_on: str,
    as_of: dt.datetime | None,
    ip_data: tuple[str, ...],
    incremental: bool,
    full: bool,
    exact_repeats: bool,
    strict: bool,
    quiet: bool,
) -> None:
    """Scan inventories and access logs against a policy; write findings and a report."""
    console = _console()
    with _guard(console), _progress(console, quiet) as progress:
        context = api.new_context(progress=progress)
        for mapping in mappings:
            api.add_mapping(context, mapping)
        result = api.scan(
            policy=api.load_policy(policy_ref, context.registry),
            inventory=inventory,
            previous_inventory=previous_inventory,
            identities=identities,
            entities=entities,
            travel=travel,
            events=events,
            out=out,
            fail_on=fail_on,
            as_of=as_of.date() if as_of else None,
            event_format=event_format,
            ip_data=[api.ip_data_spec(item) for item in ip_data],
            incremental=incremental,
            full=full,
            exact_repeats=exact_repeats,
            exclude=exclude,
            context=context,
        )
    print_result(console, result, out)
    quarantined = sum(item.quarantined for item in result.inputs)
    if strict and result.warnings:
        console.print("--strict: warnings about the inputs (above)", style="bold red")
        sys.exit(EXIT_INPUT)
    if strict and quarantined:
        console.print(
            f"--strict: {quarantined} record(s) quarantined (see {out / 'quarantine.jsonl'})",
            style="bold red",
            markup=False,
        )
        sys.exit(EXIT_INPUT)
    sys.exit(EXIT_FINDINGS if result.failing() else EXIT_CLEAN)


@main.command()
@click.argument("policy_ref")
def validate(policy_ref: str) -> None:
    """Check a policy file (or pack) and print every problem with its line and column."""
    from borderwatch.policy import validate_policy
    from borderwatch.registry import load_plugins

    console = _console()
    with _guard(console):
        problems = validate_policy(policy_ref, known_rules=set(load_plugins().rules.names()))
    if problems:
        for problem in problems:
            console.print(str(problem), markup=False)
        console.print(f"{len(problems)} problem(s) found.", style="bold red")
        sys.exit(EXIT_INPUT)
    console.print(f"{policy_ref}: valid.", style="green", markup=False)


@main.command("rules")
def list_rules() -> None:
    """List the rules with id, severity and a one-line rationale."""
    from borderwatch.registry import load_plugins

    table = Table(show_lines=False)
    # Rule ids are a public interface: never wrap them, whatever the terminal width.
    table.add_column("id", no_wrap=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("rationale")
    for rule in load_plugins().rules:
        table.add_row(rule.id, rule.severity.value, rule.rationale)
    Console(highlight=False).print(table)


@main.command()
def packs() -> None:
    """List the built-in policy packs usable with --policy NAME."""
    from borderwatch.policy import builtin_packs

    table = Table()
    table.add_column("pack", no_wrap=True)
    table.add_column("description")
    for name, description in builtin_packs().items():
        table.add_row(name, description)
    Console(highlight=False).print(table)


@main.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("demo-out"),
    show_default=True,
    help="Where to write the demo inputs and report.",
)
@click.option(
    "--events",
    "event_count",
    type=click.IntRange(min=1000),
    default=300_000,
    show_default=True,
    help="How many CloudTrail events to generate.",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed.")
@click.option("--quiet", is_flag=True, help="No progress display.")
def demo(out: Path, event_count: int, seed: int, quiet: bool) -> None:
    """Generate a fictional short-video company, scan it, and write the report."""
    from borderwatch.demo.run import run_demo

    console = _console()
    with _guard(console), _progress(console, quiet) as progress:
        outcome = run_demo(out, events=event_count, seed=seed, progress=progress)
    print_result(console, outcome.result, out)
    if outcome.missing or outcome.unexpected:
        for text in outcome.missing:
            console.print(f"planted problem NOT found: {text}", style="red", markup=False)
        for text in outcome.unexpected:
            console.print(f"unexpected finding: {text}", style="red", markup=False)
        sys.exit(EXIT_FINDINGS)
    console.print(
        f"Demo: all {len(outcome.expected)} planted problems found, nothing else. "
        f"Open {out / 'report.html'}",
        style="bold green",
        markup=False,
    )


def print_result(console: Console, result: ScanResult, out: Path) -> None:
    """A short account of the scan for the terminal; the report has the rest.

    Every value from the inputs goes in as rich `Text`, never as markup: a log field
    like "[link=...]" must print literally.
    """
    _print_inputs(console, result)
    _print_findings(console, result)
    for warning in result.warnings:
        console.print(Text("WARNING: " + warning, style="bold yellow"))
    for note in result.notes:
        console.print(Text("NOTE: " + note))
    hidden = len(result.findings) - MAX_FINDINGS_SHOWN
    if hidden > 0:
        console.print(f"... and {hidden} more finding(s) in findings.json", markup=False)
    failing = len(result.failing())
    style = "bold red" if failing else "bold green"
    console.print(
        f"{result.verdict.upper()}: {failing} open finding(s) at or above "
        f"{result.fail_on.value}; outputs in {out}",
        style=style,
        markup=False,
    )


MAX_FINDINGS_SHOWN = 50


def _print_findings(console: Console, result: ScanResult) -> None:
    """One line per finding, open first; principals and evidence are in the report."""
    console.print("Findings", style="bold")
    for f in result.findings[:MAX_FINDINGS_SHOWN]:
        status = "" if f.status.value == "open" else f" ({f.status.value})"
        where = f" from {f.country}" if f.country and f.rule.startswith("access.") else ""
        if f.rule == "access.covered-person":
            where = f" by a person covered with respect to {f.country}"
        if f.country and not where:
            where = f" in {f.country}"
        line = Text(
            f"  {f.severity.value.upper():8} ", style=_SEVERITY_STYLE.get(f.severity.value, "")
        )
        line.append(f"{f.rule}  {f.resource or '-'}{where}  x{f.count}{status}")
        console.print(line)


_SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow"}


def _print_inputs(console: Console, result: ScanResult) -> None:
    """Inputs per kind and reader, then the files that had records quarantined or skipped."""
    table = Table(title="Inputs")
    for column in ("kind", "format", "files", "read", "accepted", "quarantined"):
        table.add_column(column, no_wrap=True)
    groups: dict[tuple[str, str], list[int]] = {}
    for item in result.inputs:
        totals = groups.setdefault((item.kind, item.format), [0, 0, 0, 0])
        for index, value in enumerate((1, item.records_read, item.accepted, item.quarantined)):
            totals[index] += value
    for (kind, fmt), totals in sorted(groups.items()):
        table.add_row(Text(kind), Text(fmt), *(str(v) for v in totals))
    console.print(table)
    notable = [i for i in result.inputs if i.quarantined or i.note]
    for item in notable[:10]:
        what = item.note or f"{item.quarantined} record(s) quarantined"
        console.print(f"  {item.path}: {what}", markup=False, highlight=False)
    if len(notable) > 10:
        console.print(f"  ... and {len(notable) - 10} more files, see summary.json", markup=False)


@contextmanager
def _guard(console: Console) -> Iterator[None]:
    """Turn our errors, and the system's refusals, into a message and exit code 2
    instead of a traceback."""
    try:
        yield
    except InputError as exc:
        console.print(str(exc), style="red", markup=False)
        sys.exit(EXIT_INPUT)
    except BorderwatchError as exc:
        console.print(f"error: {exc}", style="red", markup=False)
        sys.exit(EXIT_INPUT)
    except OSError as exc:
        # An output folder that cannot be made, a full disk: what and where, no traceback.
        console.print(f"error: {system_refusal(exc)}", style="red", markup=False)
        sys.exit(EXIT_INPUT)


@contextmanager
def _progress(console: Console, quiet: bool) -> Iterator[ProgressCallback | None]:
    if quiet or not console.is_terminal:
        yield _plain_progress(console) if not quiet else None
        return
    with Progress(
        TextColumn("[bold]reading logs"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("files · {task.fields[events]:,} events"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("scan", total=None, events=0)

        def update(done: int, total: int, events: int, current: str) -> None:
            bar.update(task, completed=done, total=total, events=events)

        yield update


def _plain_progress(console: Console) -> ProgressCallback:
    """Progress for logs and CI: a line at each tenth of the files."""
    last = {"step": -1}

    def update(done: int, total: int, events: int, current: str) -> None:
        if total == 0:
            return
        step = done * 10 // total
        if step != last["step"]:
            last["step"] = step
            console.print(f"reading logs: {done}/{total} files, {events:,} events", markup=False)

    return update


def _add_command_modules() -> None:
    """Commands that live in their own modules (borderwatch.commands.*)."""
    from borderwatch.commands.diff import diff_command
    from borderwatch.commands.exports import import_command
    from borderwatch.commands.geo import geo
    from borderwatch.commands.inventory import inventory
    from borderwatch.commands.plancheck import plan_check

    inventory.add_command(import_command)
    inventory.add_command(diff_command)
    main.add_command(inventory)
    main.add_command(plan_check)
    main.add_command(geo)


_add_command_modules()
