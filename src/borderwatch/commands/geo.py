"""`borderwatch geo`: compile IP range sources and look addresses up in all of them."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import click
from rich.console import Console
from rich.table import Table

from borderwatch import api
from borderwatch.api import CompiledSource, GeoSource, IptoccSource, SourceSpec
from borderwatch.errors import BorderwatchError, InputError, system_refusal
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
    """Compile each source (or reuse its cache) and print ranges, provenance and time taken."""
    out = Console(highlight=False, soft_wrap=True)
    sources: list[GeoSource] = []
    seconds: list[float] = []
    with _guard(Console(stderr=True, highlight=False, soft_wrap=True)):
        for spec in _specs(options):
            started = time.perf_counter()
            sources.extend(api.load_ip_sources([spec], cache_dir, with_default=False))
            seconds.append(time.perf_counter() - started)
        sources.append(IptoccSource())
        seconds.append(0.0)
    for source, took in zip(sources, seconds, strict=True):
        table = Table(title=safe_line(source.source_id), show_header=False)
        for key, value in source.describe().items():
            table.add_row(safe_line(key), safe_line(value))
        if isinstance(source, CompiledSource):
            how = "read from the cache" if source.table.from_cache else "compiled"
            table.add_row(safe_line("took"), safe_line(f"{took:.2f} s ({how})"))
        out.print(table)
        if isinstance(source, CompiledSource):
            for problem in source.table.problems[:10]:
                out.print(safe_line(f"  {problem}", style="yellow"))
            if len(source.table.problems) > 10:
                out.print(safe_line(f"  ... and {len(source.table.problems) - 10} more problems"))


@geo.command()
@click.argument("ips", nargs=-1)
@click.option(
    "--from-file",
    "ip_file",
    type=click.File("r", encoding="utf-8", errors="replace"),
    default=None,
    help="Also look up the values in this file, one per line ('-' for standard input).",
)
@_source_options
def lookup(
    ips: tuple[str, ...],
    ip_file: TextIO | None,
    cache_dir: Path | None,
    **options: tuple[Path, ...],
) -> None:
    """Print every source's answer for each IP side by side (iptocc always included, last),
    and the verdict: the country that decides, its kind and source, and any disagreement."""
    values = [*ips, *(line.strip() for line in ip_file or () if line.strip())]
    if not values:
        raise click.UsageError("give at least one IP address, or --from-file")
    out = Console(highlight=False)
    if not out.is_terminal:
        out.width = 400  # piped or captured: do not wrap the answers
    with _guard(Console(stderr=True, highlight=False, soft_wrap=True)):
        sources = api.load_ip_sources(_specs(options), cache_dir, with_default=True)
        answers, verdicts = api.lookup_ips(values, sources)
    table = Table(title=safe_line("IP lookup"))
    table.add_column(safe_line("value"))
    for source in sources:
        table.add_column(safe_line(source.source_id))
    table.add_column(safe_line("verdict"))
    for row, verdict in zip(answers, verdicts, strict=True):
        cells = [safe_line(str(row["value"]))]
        cells.extend(safe_line(_answer(row, source)) for source in sources)
        cells.append(safe_line(_verdict(verdict)))
        table.add_row(*cells)
    out.print(table)


def _verdict(signals: dict[str, Any]) -> str:
    """What a scan would decide from the caller IP alone, in the scan's own precedence:
    an anonymiser hides the person, a cloud host is judged by its region, otherwise the
    IP country decides. E.g. "GB registered by ipverse | sources disagree: GB,RO"."""
    if signals.get("caller_kind") != "public":
        return f"no country: {signals.get('caller_kind')} address"
    ip = (
        f"{signals['ip_country']} {signals['ip_country_kind']} by {signals['ip_country_source']}"
        if signals.get("ip_country")
        else "no source has a country"
    )
    if signals.get("anonymiser"):
        parts = [f"anonymiser ({signals['anonymiser']}): hides the person", f"exit {ip}"]
    elif signals.get("host_provider"):
        where = signals.get("host_country") or "unknown"
        host = f"{signals['host_provider']} {signals['host_region'] or ''}".strip()
        parts = [f"{where} by cloud host {host} (a workload)", f"IP: {ip}"]
    else:
        parts = [ip if signals.get("ip_country") else f"unknown: {ip}"]
    if signals.get("ip_disagree"):
        parts.append(f"sources disagree: {signals['ip_disagree']}")
    return " | ".join(parts)


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
