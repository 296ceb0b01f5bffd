"""`borderwatch inventory diff OLD NEW`: stores that appeared, moved, gained copies, went."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from borderwatch import api
from borderwatch.errors import BorderwatchError
from borderwatch.model.inventory import Change, Store
from borderwatch.report.terminal import error_lines, safe_line


@click.command("diff")
@click.argument("old", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.argument("new", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
def diff_command(old: Path, new: Path, as_json: bool) -> None:
    """Show what changed between two inventories (exit 0; 2 if one cannot be read)."""
    console = Console(highlight=False, soft_wrap=True)
    try:
        changes = api.inventory_changes(_stores(old), _stores(new))
    except BorderwatchError as exc:
        for line in error_lines(exc):
            Console(stderr=True).print(line)
        sys.exit(2)
    if as_json:
        click.echo(json.dumps([vars(c) for c in changes], indent=2, ensure_ascii=False))
        return
    console.print(_table(changes) if changes else "No changes.")


def _stores(path: Path) -> list[Store]:
    read = api.read_inventory(path)
    for record in read.quarantined:
        Console(stderr=True).print(
            safe_line(
                record.input_path, " ", record.position, ": ", record.reason, " (row ignored)"
            )
        )
    return read.stores


def _table(changes: list[Change]) -> Table:
    table = Table(title="Inventory changes")
    for column in ("store", "change"):
        table.add_column(column, no_wrap=True)
    for column in ("before", "after", "new copy"):
        table.add_column(column, overflow="fold")
    for change in changes:
        table.add_row(
            *(
                safe_line(v)
                for v in (change.store_id, change.kind, change.before, change.after, change.detail)
            )
        )
    return table
