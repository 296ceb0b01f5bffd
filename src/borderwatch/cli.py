"""The command line: parse arguments, call the API, print. No logic lives here.

Exit codes: 0 PASS, 1 FAIL or INCOMPLETE at or above --fail-on, 2 bad usage or input, 70
borderwatch itself failed (a bug: never a verdict), 130 interrupted (Ctrl-C, SIGTERM).
"""

from __future__ import annotations

import datetime as dt
import signal
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

import click
import duckdb
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from borderwatch import __version__, api
from borderwatch.api import ProgressCallback
from borderwatch.commands.evidence_options import evidence_options
from borderwatch.errors import BorderwatchError, InputError, UsageError, system_refusal
from borderwatch.model.findings import Severity
from borderwatch.model.scan import ScanResult
from borderwatch.report.terminal import finding_place, history_lines, is_lookalike, safe_line

SEVERITIES = [s.value for s in Severity]
EXIT_CLEAN, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2
EXIT_INTERRUPTED = 130  # as a shell reports a command ended by SIGINT
# A bug of ours (sysexits' EX_SOFTWARE): never 1, which a pipeline reads as "findings".
EXIT_INTERNAL = 70


def _console() -> Console:
    # soft_wrap: "file:line:col: message" lines must stay whole for editors and grep.
    return Console(stderr=True, highlight=False, soft_wrap=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="borderwatch")
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
    "--iam",
    multiple=True,
    type=click.Path(path_type=Path),
    help="AWS IAM authorization details and bucket policies: who can read (docs/dsp.md).",
)
@click.option(
    "--dsp-volumes",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Subject counts per DSP store and category (CSV: store_id,category,subjects).",
)
@click.option(
    "--events", multiple=True, help="Access logs: files, directories, globs, or - (stdin)."
)
@click.option(
    "--input-format",
    "event_format",
    default=None,
    help="Force the event reader (e.g. cloudtrail, or a --mapping name).",
)
@click.option("--format", "old_format", default=None, hidden=True)
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
    "its name becomes a format usable with --input-format.",
)
@click.option(
    "--feed",
    multiple=True,
    help="Served-recommendation logs for the policy's feed audit: files, directories or "
    "globs, read with --feed-mapping (docs/oversight.md).",
)
@click.option(
    "--feed-mapping",
    type=click.Path(path_type=Path),
    default=None,
    help="The mapping file of the --feed logs (docs/oversight.md).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("borderwatch-out"),
    show_default=True,
    help="Output folder.",
)
@click.option(
    "--outputs",
    "outputs_text",
    default=None,
    metavar="NAMES",
    help="Output formats to write, comma-separated: json, sarif, html, csv, ocsf, oscal, "
    "junit (default: json,sarif,html,csv; summary.json and quarantine.jsonl are always "
    "written; docs/outputs.md).",
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
    "--from",
    "window_from",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="First day (UTC) coverage is judged over (default: the first day with events).",
)
@click.option(
    "--to",
    "window_to",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Last day (UTC) coverage is judged over (default: the last day with events); a "
    "trail that stopped before it shows as days without logs.",
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
    "--history",
    "history",
    type=click.Path(path_type=Path),
    default=None,
    help="A history folder: compare this run's findings with the earlier runs recorded "
    "there (new, open, resolved, reopened) and record it (docs/board.md); with --out and "
    "no --ledger, the evidence ledger is kept there too.",
)
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
    help="Exit 2 if any input record was quarantined, the inputs drew a warning, or a "
    "file in the event inputs is not a log of any format and not --exclude'd (outputs are "
    "still written).",
)
@click.option(
    "--tune",
    multiple=True,
    metavar="NAME=VALUE",
    help="Tune how the scan runs, never what it finds (repeatable), e.g. workers=4 or "
    "memory_limit=2GiB; the names are in docs/options.md.",
)
@click.option(
    "--attestations",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Signed reviews of artifacts (DSSE envelopes of in-toto statements; files or "
    "folders; docs/oversight.md).",
)
@click.option(
    "--deployments",
    multiple=True,
    type=click.Path(path_type=Path),
    help="What runs: Kubernetes audit logs or manifests (YAML); files or folders.",
)
@click.option(
    "--model-store",
    "model_stores",
    multiple=True,
    metavar="FOLDER|s3://BUCKET/PREFIX",
    help="A model store whose every file is hashed and must be reviewed.",
)
@click.option(
    "--engine",
    default=None,
    metavar="NAME",
    help="The engine that holds the tables and runs the rules: duckdb (default) or spark "
    "(pip install 'borderwatch[spark]'; docs/spark.md).",
)
@click.option(
    "--spark-master",
    default=None,
    metavar="URL",
    help="With --engine spark: the Spark master (local[N], spark://HOST:PORT, yarn, "
    "k8s://...); default: the active session, else local[2].",
)
@click.option(
    "--quiet", is_flag=True, help="Print only the verdict line (and errors); no progress."
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print summary.json to standard output as well."
)
@evidence_options
def scan(
    policy_ref: str,
    inventory: tuple[Path, ...],
    previous_inventory: tuple[Path, ...],
    identities: tuple[Path, ...],
    entities: tuple[Path, ...],
    travel: tuple[Path, ...],
    iam: tuple[Path, ...],
    dsp_volumes: tuple[Path, ...],
    events: tuple[str, ...],
    event_format: str | None,
    exclude: tuple[str, ...],
    mappings: tuple[Path, ...],
    out: Path,
    outputs_text: str | None,
    fail_on: str,
    as_of: dt.datetime | None,
    window_from: dt.datetime | None,
    window_to: dt.datetime | None,
    ip_data: tuple[str, ...],
    incremental: bool,
    full: bool,
    history: Path | None,
    exact_repeats: bool,
    strict: bool,
    tune: tuple[str, ...],
    attestations: tuple[Path, ...],
    deployments: tuple[Path, ...],
    model_stores: tuple[str, ...],
    engine: str | None,
    spark_master: str | None,
    quiet: bool,
    as_json: bool,
    old_format: str | None,
    ledger: Path | None,
    sign_key: Path | None,
    cloudtrail_digests: Path | None,
    public_keys: Path | None,
    newest_signatures: tuple[str, ...],
    feed: tuple[str, ...] = (),
    feed_mapping: Path | None = None,
) -> None:
    """Scan inventories and access logs against a policy; write findings and a report."""
    console = _console()
    event_format = _input_format(console, event_format, old_format, quiet)
    with _guard(console), _progress(console, quiet) as progress:
        api.check_output_folder(out)  # before any input is read
        options = api.ScanOptions.from_settings(tune)
        if engine is not None:
            options = replace(options, engine=engine)
        if spark_master is not None:
            if options.engine != "spark":
                raise UsageError("--spark-master goes with --engine spark")
            api.start_spark(spark_master)
        context = api.new_context(progress=progress)
        for mapping in mappings:
            api.add_mapping(context, mapping)
        result = api.scan(
            policy=api.load_policy(policy_ref, context.registry, context.locations),
            inventory=inventory,
            previous_inventory=previous_inventory,
            identities=identities,
            entities=entities,
            travel=travel,
            iam=iam,
            dsp_volumes=dsp_volumes,
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
            window=(
                window_from.date() if window_from else None,
                window_to.date() if window_to else None,
            ),
            options=options,
            attestations=attestations,
            deployments=deployments,
            model_stores=model_stores,
            feed=feed,
            feed_mapping=feed_mapping,
            outputs=None if outputs_text is None else api.outputs_from_text(outputs_text),
            ledger=ledger,
            sign_key=sign_key,
            cloudtrail_digests=cloudtrail_digests,
            public_keys=public_keys,
            newest_signatures=newest_signatures,
            history=history,
        )
    if quiet:
        print_verdict(console, result, out)
    else:
        print_result(console, result, out)
    if as_json:
        _print_summary_json(out)
    quarantined = sum(item.quarantined for item in result.inputs)
    unrecognised = [i for i in result.inputs if i.kind == "events" and i.format == "unrecognised"]
    unrecognised = [i for i in unrecognised if i.records_read == 0 and "empty file" not in i.note]
    if strict and unrecognised:
        # A log damaged at its start looks like a file of no format: --strict must not
        # pass over it. Files that are not logs on purpose are skipped with --exclude.
        _say(
            console,
            f"--strict: {len(unrecognised)} file(s) in the event inputs are not logs of any "
            "format borderwatch reads (first: ",
            unrecognised[0].path,
            "); skip them on purpose with --exclude GLOB",
            style="bold red",
        )
        sys.exit(EXIT_INPUT)
    if strict and result.warnings:
        _say(console, "--strict: warnings about the inputs (above)", style="bold red")
        sys.exit(EXIT_INPUT)
    if strict and quarantined:
        _say(
            console,
            f"--strict: {quarantined} record(s) quarantined (see ",
            out / "quarantine.jsonl",
            ")",
            style="bold red",
        )
        sys.exit(EXIT_INPUT)
    sys.exit(EXIT_FINDINGS if result.failing() else EXIT_CLEAN)


@main.command()
@click.argument("policy_ref")
def validate(policy_ref: str) -> None:
    """Check a policy file (or pack) and print every problem with its line and column."""
    from borderwatch.policy import validate_policy

    console = _console()
    with _guard(console):
        problems = validate_policy(
            policy_ref,
            known_rules=set(api.plugins().rules.names()),
            locations=api.new_context().locations,
        )
    if problems:
        for problem in problems:
            _say(console, problem)
        _say(console, f"{len(problems)} problem(s) found.", style="bold red")
        sys.exit(EXIT_INPUT)
    _say(console, policy_ref, ": valid.", style="green")


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
@click.option(
    "--weeks",
    is_flag=True,
    help="Instead: four weekly scans into OUT/history with planted changes, and a board "
    "report OUT/board.html (docs/board.md); --events is then per week.",
)
def demo(out: Path, event_count: int, seed: int, quiet: bool, weeks: bool) -> None:
    """Generate a fictional short-video company, scan it, and write the report."""
    from borderwatch.demo.run import run_demo

    console = _console()
    if weeks:
        _demo_weeks(console, out, event_count, seed, quiet)
        return
    with _guard(console), _progress(console, quiet) as progress:
        outcome = run_demo(out, events=event_count, seed=seed, progress=progress)
    print_result(console, outcome.result, out)
    if outcome.missing or outcome.unexpected:
        for text in outcome.missing:
            _say(console, "planted problem NOT found: ", text, style="red")
        for text in outcome.unexpected:
            _say(console, "unexpected finding: ", text, style="red")
        sys.exit(EXIT_FINDINGS)
    _say(
        console,
        f"Demo: all {len(outcome.expected)} planted problems found, nothing else. Open ",
        out / "report.html",
        style="bold green",
    )


def _demo_weeks(console: Console, out: Path, events: int, seed: int, quiet: bool) -> None:
    from borderwatch.demo.weeks import HISTORY_FOLDER, run_weeks

    with _guard(console), _progress(console, quiet) as progress:
        runs = run_weeks(out, events=events, seed=seed, progress=progress)
        for run in runs:
            for line in history_lines(run.result):
                console.print(line, soft_wrap=True)
        written = api.board(out / HISTORY_FOLDER, out / "board.html")
    _say(console, written.report.verdict_line())
    _say(console, "Board report: ", written.html, " and ", written.pdf or "(no PDF)", style="bold")


def print_result(console: Console, result: ScanResult, out: Path) -> None:
    """A short account of the scan for the terminal; the report has the rest.

    Every value from the inputs goes through `_say` (escaped, never markup): a log field
    like "[link=...]" or an escape sequence must print as text, not act.
    """
    _print_inputs(console, result)
    _print_findings(console, result)
    for line in history_lines(result):
        console.print(line, soft_wrap=True)
    for warning in result.warnings:
        _say(console, "WARNING: ", warning, style="bold yellow")
    for note in result.notes:
        _say(console, "NOTE: ", note)
    hidden = len(result.findings) - MAX_FINDINGS_SHOWN
    if hidden > 0:
        _say(console, f"... and {hidden} more finding(s) in findings.json")
    print_verdict(console, result, out)


def print_verdict(console: Console, result: ScanResult, out: Path) -> None:
    """The one line `--quiet` keeps: the verdict, what it counts, where the outputs are."""
    failing = len(result.failing())
    gaps = len(result.coverage_gaps())
    # INCOMPLETE: nothing failed in what was seen, but not everything was seen.
    unseen = f" ({gaps} about coverage: what was not seen)" if gaps else ""
    _say(
        console,
        f"{result.verdict.upper()}: {failing} open finding(s) at or above "
        f"{result.fail_on.value}{unseen}; outputs in ",
        out,
        style=_VERDICT_STYLE[result.verdict],
    )


_VERDICT_STYLE = {"pass": "bold green", "incomplete": "bold yellow", "fail": "bold red"}


def _say(console: Console, *parts: object, style: str = "") -> None:
    """Print one line; every part is escaped (report.terminal), never read as markup.

    The one way this module prints anything that can hold text from an input.
    """
    console.print(safe_line(*parts, style=style), soft_wrap=True)


def _print_summary_json(out: Path) -> None:
    # stdout holds only the summary, so `scan --json | jq` works; the rest is on stderr.
    sys.stdout.write((out / "summary.json").read_text(encoding="utf-8"))
    sys.stdout.flush()


def _input_format(
    console: Console, input_format: str | None, old_format: str | None, quiet: bool
) -> str | None:
    """--input-format, or the old --format (a hidden alias for one release)."""
    if old_format is None:
        return input_format
    if input_format is not None and input_format != old_format:
        raise click.UsageError("--format is the old name of --input-format; give only one")
    if not quiet:
        _say(console, "NOTE: --format is now --input-format; the old name goes in a later release")
    return old_format


MAX_FINDINGS_SHOWN = 50


def _print_findings(console: Console, result: ScanResult) -> None:
    """One line per finding, open first: id, rule, resource, principal and country."""
    console.print("Findings", style="bold")
    for f in result.findings[:MAX_FINDINGS_SHOWN]:
        status = "" if f.status.value == "open" else f" ({f.status.value})"
        where = finding_place(f)
        lookalike = "  LOOK-ALIKE principal" if is_lookalike(f) else ""
        line = safe_line(
            f"  {f.severity.value.upper():8} ", style=_SEVERITY_STYLE.get(f.severity.value, "")
        )
        line.append_text(
            safe_line(
                f"{f.id}  {f.rule}  ",
                f.resource or "-",
                "  principal ",
                f.principal or "-",
                f"  {where}  x{f.count}{status}",
            )
        )
        if lookalike:
            line.append(lookalike, style="bold yellow")
        console.print(line, soft_wrap=True)


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
        table.add_row(safe_line(kind), safe_line(fmt), *(str(v) for v in totals))
    console.print(table)
    notable = [i for i in result.inputs if i.quarantined or i.note]
    for item in notable[:10]:
        what = item.note or f"{item.quarantined} record(s) quarantined"
        _say(console, "  ", item.path, ": ", what)
    if len(notable) > 10:
        _say(console, f"  ... and {len(notable) - 10} more files, see summary.json")


@contextmanager
def _guard(console: Console) -> Iterator[None]:
    """Turn our errors, and the system's refusals, into a message and exit code 2
    instead of a traceback; Ctrl-C and SIGTERM into a line and exit code 130.

    An interrupted scan leaves nothing half-written: its state transaction is rolled
    back and the outputs in the folder stay whole (docs/incremental.md).
    """
    received: list[int] = []

    def interrupted(signum: int, frame: object) -> None:
        received.append(signum)
        raise KeyboardInterrupt

    # Only the main thread may set signal handlers (tests call commands from others).
    handled = (signal.SIGINT, signal.SIGTERM)
    main_thread = threading.current_thread() is threading.main_thread()
    previous = (
        {number: signal.signal(number, interrupted) for number in handled} if main_thread else {}
    )
    try:
        yield
    except (click.ClickException, click.exceptions.Exit, click.Abort):
        raise  # click's own ways out (usage errors, --help) keep their codes
    except KeyboardInterrupt:
        _say_interrupted(console)
    except RuntimeError as exc:
        # DuckDB ends a query that Ctrl-C interrupts with RuntimeError("Query interrupted").
        if not received:
            _say_internal_error(console, exc)
        _say_interrupted(console)
    except InputError as exc:
        # Line by line, each escaped: a value holding a newline must not start a line
        # that looks like ours.
        _say(console, exc.summary, style="red")
        for problem in exc.problems:
            _say(console, "  ", problem, style="red")
        sys.exit(EXIT_INPUT)
    except BorderwatchError as exc:
        _say(console, "error: ", exc, style="red")
        sys.exit(EXIT_INPUT)
    except OSError as exc:
        # An output folder that cannot be made, a full disk: what and where, no traceback.
        _say(console, "error: ", system_refusal(exc), style="red")
        sys.exit(EXIT_INPUT)
    except (duckdb.IOException, duckdb.OutOfMemoryException) as exc:
        # The database engine's own refusals (a full disk, memory): what, no traceback.
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        console.print(f"error: the database engine refused: {reason}", style="red", markup=False)
        sys.exit(EXIT_INPUT)
    except Exception as exc:
        _say_internal_error(console, exc)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _say_internal_error(console: Console, exc: BaseException) -> NoReturn:
    """A failure of borderwatch itself: the traceback for a bug report, and exit 70.

    Without this, Python's own exit code for an uncaught exception is 1, the code of a
    failing verdict: a crash must never read as "findings were found", nor as a pass.
    """
    for line in "".join(traceback.format_exception(exc)).splitlines():
        _say(console, line)  # escaped line by line: the message may quote an input
    _say(
        console,
        "internal error: borderwatch failed (",
        f"{type(exc).__name__}: {exc}",
        "); this is a bug, not a verdict: please report it with the lines above",
        style="bold red",
    )
    sys.exit(EXIT_INTERNAL)


def _say_interrupted(console: Console) -> None:
    console.print(
        "interrupted: stopped before the end; nothing half-written is left behind",
        style="red",
        markup=False,
    )
    sys.exit(EXIT_INTERRUPTED)


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
            _say(console, f"reading logs: {done}/{total} files, {events:,} events")

    return update


def _add_command_modules() -> None:
    """Commands that live in their own modules (borderwatch.commands.*)."""
    from borderwatch.commands.attest import attest
    from borderwatch.commands.board import board_command
    from borderwatch.commands.diff import diff_command
    from borderwatch.commands.exports import import_command
    from borderwatch.commands.geo import geo
    from borderwatch.commands.inventory import inventory
    from borderwatch.commands.keygen import keygen_command
    from borderwatch.commands.plancheck import plan_check
    from borderwatch.commands.rules import rules_command
    from borderwatch.commands.verify import verify_command

    inventory.add_command(import_command)
    inventory.add_command(diff_command)
    main.add_command(inventory)
    main.add_command(plan_check)
    main.add_command(geo)
    main.add_command(rules_command)
    main.add_command(attest)
    main.add_command(keygen_command)
    main.add_command(verify_command)
    main.add_command(board_command)


_add_command_modules()
