"""`borderwatch inventory import KIND FILE... --out inventory.yaml`: provider exports to stores.

KIND is `gcp-cai` (Cloud Asset Inventory), `azure-arm` (ARM / Resource Graph JSON, or
recorded ARM exchanges) or `oci-search` (OCI resource search output, or recorded OCI
exchanges). Every file is read; one that cannot be parsed is reported with its path and the
others are still imported. Exit 0 when every file was read, 2 when any could not be (the
inventory of the readable ones is still written).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from borderwatch import api
from borderwatch.api import import_exports
from borderwatch.errors import InputError
from borderwatch.report.terminal import error_lines, safe_line

KINDS = api.EXPORT_KINDS

__all__ = ["KINDS", "expand", "import_command", "import_exports"]


def expand(paths: Sequence[Path]) -> list[Path]:
    """Files as given; a directory stands for its *.json, *.yml and *.yaml files, sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(p for p in path.rglob("*") if p.suffix.lower() in (".json", ".yml", ".yaml"))
            )
        else:
            found.append(path)
    return found


@click.command("import")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("inventory.yaml"),
    show_default=True,
    help="Inventory YAML to write.",
)
@click.option("--region", default=None, help="oci-search: the region the search ran in.")
@click.option(
    "--classes-map",
    type=click.Path(path_type=Path),
    default=None,
    help="YAML list of {match: GLOB, data_classes: [..]} applied to store ids and names.",
)
def import_command(
    kind: str, files: tuple[Path, ...], out: Path, region: str | None, classes_map: Path | None
) -> None:
    """Turn provider exports into a borderwatch store inventory (YAML)."""
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        mapping = api.load_classes_map(classes_map) if classes_map else None
    except InputError as exc:
        for line in error_lines(exc):
            console.print(line)
        sys.exit(2)
    result, errors = import_exports(kind, expand(files), region=region, classes_map=mapping)
    for error in errors:
        for line in error_lines(error):
            console.print(line)
    for problem in result.problems:
        console.print(safe_line(f"warning: {problem}", style="yellow"))
    table = Table(title=safe_line(f"{len(result.stores)} store(s) from {kind}"))
    for column in ("service", "stores", "copies"):
        table.add_column(column, no_wrap=True)
    by_service: dict[str, list[int]] = {}
    for store in result.stores:
        counts = by_service.setdefault(store.service, [0, 0])
        counts[0] += 1
        counts[1] += 1 if store.copy_of else 0
    for service, (count, copies) in sorted(by_service.items()):
        table.add_row(safe_line(service), str(count), str(copies))
    console.print(table)
    for place, count in sorted(api.unknown_locations(result.stores).items()):
        console.print(safe_line(f"unknown location {place}: {count} store(s)", style="yellow"))
    out.parent.mkdir(parents=True, exist_ok=True)
    api.write_store_inventory(result.stores, out)
    console.print(safe_line(f"wrote {out}"))
    sys.exit(2 if errors else 0)
