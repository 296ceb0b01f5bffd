"""`borderwatch geo`: compile IP range sources and look addresses up in all of them."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from borderwatch.errors import BorderwatchError, InputError, system_refusal
from borderwatch.geo import SourceSpec, load_sources, lookup_all
from borderwatch.geo.sources import CompiledSource, GeoSource
from borderwatch.report.terminal import error_lines, safe_line

EXIT_INPUT = 2
_FILE = click.Path(exists=False, dir_okay=True, path_type=Path)


def _source_options(command: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--mmdb", "mmdb", multiple=True, type=_FILE, help="MaxMind DB file."),
        click.option(
            "--rir", "rir", multiple=True, type=_FILE, help="RIR delegated file or ipverse folder."
        ),
        click.option(
            "--geofeed", "geofeed", multiple=True, type=_FILE, help="RFC 8805 geofeed CSV."
        ),
        click.option(
            "--provider-ranges",
            "provider",
            multiple=True,
            type=_FILE,
            help="Cloud provider ranges.",
        ),
        click.option(
            "--anonymisers",
            "anonymisers",
            multiple=True,
            type=_FILE,
            help="CSV prefix,kind[,note].",
        ),
        click.option(
            "--cache-dir",
            type=click.Path(path_type=Path),
            default=None,
            help="Compiled-table cache.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _specs(options: dict[str, tuple[Path, ...]]) -> list[SourceSpec]:
    kinds = ("mmdb", "rir", "geofeed", "provider", "anonymisers")
    return [SourceSpec(kind, Path(path)) for kind in kinds for path in options.get(kind, ())]


@contextmanager
def _guard(console: Console) -> Iterator[None]:
    try:
        yield
    except InputError as exc:
        for line in error_lines(exc):
            console.print(line)
        sys.exit(EXIT_INPUT)
    except BorderwatchError as exc:
        console.print(safe_line(f"error: {exc}", style="red"))
        sys.exit(EXIT_INPUT)
    except OSError as exc:
        console.print(safe_line(f"error: {system_refusal(exc)}", style="red"))
        sys.exit(EXIT_INPUT)


@click.group()
def geo() -> None:
    """Compile IP range sources and look addresses up in them."""


@geo.command()
@_source_options
def build(cache_dir: Path | None, **options: tuple[Path, ...]) -> None:
    """Compile each source (or reuse its cache) and print ranges and provenance."""
    out = Console(highlight=False, soft_wrap=True)
    with _guard(Console(stderr=True, highlight=False, soft_wrap=True)):
        sources = load_sources(_specs(options), cache_dir, with_default=True)
    for source in sources:
        table = Table(title=safe_line(source.source_id), show_header=False)
        for key, value in source.describe().items():
            table.add_row(safe_line(key), safe_line(value))
        out.print(table)
        if isinstance(source, CompiledSource):
            for problem in source.table.problems[:10]:
                out.print(safe_line(f"  {problem}", style="yellow"))
            if len(source.table.problems) > 10:
                out.print(safe_line(f"  ... and {len(source.table.problems) - 10} more problems"))


@geo.command()
@click.argument("ips", nargs=-1, required=True)
@_source_options
def lookup(ips: tuple[str, ...], cache_dir: Path | None, **options: tuple[Path, ...]) -> None:
    """Print every source's answer for each IP side by side (iptocc always included)."""
    out = Console(highlight=False)
    if not out.is_terminal:
        out.width = 240  # piped or captured: do not wrap the answers
    with _guard(Console(stderr=True, highlight=False, soft_wrap=True)):
        sources = load_sources(_specs(options), cache_dir, with_default=True)
        result = lookup_all(list(ips), sources)
    table = Table(title=safe_line("IP lookup"))
    table.add_column(safe_line("value"))
    for source in sources:
        table.add_column(safe_line(source.source_id))
    for row in result.to_pylist():
        cells = [safe_line(str(row["value"]))]
        cells.extend(safe_line(_answer(row, source)) for source in sources)
        table.add_row(*cells)
    out.print(table)


def _answer(row: dict[str, Any], source: GeoSource) -> str:
    """One source's answer as plain text: "GB located (registered US) | aws eu-west-1 (IE)"."""
    if row.get("ip") is None:
        return "not an IP address"

    def get(name: str) -> Any:
        return row.get(f"{source.source_id}.{name}")

    parts: list[str] = []
    if get("country"):
        text = f"{get('country')} {get('country_kind')}"
        registered = get("registered_country")
        if registered and registered != get("country"):
            text += f" (registered {registered})"
        parts.append(text)
    if get("subdivision") or get("city"):
        parts.append(" ".join(str(v) for v in (get("subdivision"), get("city")) if v))
    if get("provider"):
        text = str(get("provider"))
        if get("provider_region"):
            text += f" {get('provider_region')}"
        if get("provider_country"):
            text += f" ({get('provider_country')})"
        parts.append(text)
    if get("anonymiser"):
        parts.append(str(get("anonymiser")))
    return " | ".join(parts) if parts else "-"
