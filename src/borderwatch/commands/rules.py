"""`borderwatch rules`: the installed rules; `--show ID`: one rule's files, exactly."""

from __future__ import annotations

import sys
from collections.abc import Iterable

import click
from rich.console import Console
from rich.table import Table

from borderwatch import api
from borderwatch.errors import BorderwatchError
from borderwatch.report.terminal import error_lines, safe_line, terminal_safe


@click.command("rules")
@click.option(
    "--show",
    "show",
    metavar="ID",
    help="Print the rule's metadata file and SQL file exactly as they are, each after a "
    "line naming the file.",
)
@click.option(
    "--sql",
    "sql_only",
    is_flag=True,
    help="With --show: print only the SQL file (e.g. to run it in duckdb).",
)
def rules_command(show: str | None, sql_only: bool) -> None:
    """List the rules with id, severity and a one-line rationale (exit 2: unknown --show ID)."""
    if sql_only and show is None:
        raise click.UsageError("--sql goes with --show ID")
    if show is None:
        _list()
        return
    try:
        rule = api.rule(show)
    except BorderwatchError as exc:
        for line in error_lines(exc):
            Console(stderr=True, highlight=False, soft_wrap=True).print(line)
        sys.exit(2)
    if not sql_only:
        _echo_file(rule.metadata_file, rule.metadata)
        _echo_file(rule.sql_file, rule.sql)
    else:
        _echo(rule.sql)


def _list() -> None:
    Console(highlight=False).print(rules_table(api.rules()))


def rules_table(rules: Iterable[api.Rule]) -> Table:
    """The rules as a table of id, severity and rationale. A plug-in's text is not
    trusted: control characters print escaped, and "[...]" stays text, never markup."""
    table = Table(show_lines=False)
    # Rule ids are a public interface: never wrap them, whatever the terminal width.
    table.add_column("id", no_wrap=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("rationale")
    for rule in rules:
        table.add_row(safe_line(rule.id), rule.severity.value, safe_line(rule.rationale))
    return table


def _echo_file(path: str, text: str) -> None:
    # A line a YAML and an SQL reader both take for a comment.
    click.echo(f"-- {terminal_safe(path)}")
    _echo(text)


def _echo(text: str) -> None:
    click.echo(shown_text(text), nl=False)


def shown_text(text: str) -> str:
    """`text` as it is, line by line; a plug-in's file is not trusted to hold no control
    characters, so those print escaped (a built-in rule's file has none)."""
    return "".join(terminal_safe(line) + "\n" for line in text.splitlines())
