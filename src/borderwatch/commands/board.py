"""`borderwatch board --history DIR --out F.html`: the board report of a period."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click
from rich.console import Console

from borderwatch import api
from borderwatch.errors import BorderwatchError
from borderwatch.report.terminal import error_lines, safe_line


@click.command("board")
@click.option(
    "--history",
    required=True,
    type=click.Path(path_type=Path),
    help="The history folder that scan --history recorded runs into.",
)
@click.option(
    "--from",
    "period_from",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="First day of the period (a run's as-of day; default: the first run).",
)
@click.option(
    "--to",
    "period_to",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Last day of the period (default: the last run).",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="The HTML file to write; the PDF goes beside it with the suffix .pdf.",
)
@click.option("--no-pdf", "no_pdf", is_flag=True, help="Write the HTML only.")
def board_command(
    history: Path,
    period_from: dt.datetime | None,
    period_to: dt.datetime | None,
    out: Path,
    no_pdf: bool,
) -> None:
    """Write a board report (HTML and PDF) of the runs recorded in a history folder.

    Exit 0 when written, 2 when the history cannot be read or the PDF cannot be made.
    """
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        written = api.board(
            history,
            out,
            period_from=period_from.date() if period_from else None,
            period_to=period_to.date() if period_to else None,
            pdf=not no_pdf,
        )
    except BorderwatchError as exc:
        for line in error_lines(exc, prefix="error: "):
            console.print(line)
        sys.exit(2)
    console.print(safe_line(written.report.verdict_line()))
    console.print(safe_line("wrote ", written.html))
    if written.pdf is not None:
        console.print(safe_line("wrote ", written.pdf))
