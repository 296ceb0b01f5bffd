"""`borderwatch verify`: check an evidence ledger and CloudTrail digests offline.

Exit codes: 0 everything checked holds; 1 tampering found, or something could not be
verified (an unsigned ledger without --allow-unsigned, a digest whose signature is not
known); 2 unusable arguments (no ledger in DIR, an unreadable key).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from borderwatch import api
from borderwatch.errors import BorderwatchError
from borderwatch.report.terminal import error_lines, safe_line

EXIT_VERIFIED, EXIT_BROKEN, EXIT_USAGE = 0, 1, 2


@click.command("verify")
@click.argument("folder", required=False, type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--key",
    "key",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The ledger's public key (PATH.pub of keygen): every record must be signed by it.",
)
@click.option(
    "--head",
    "head",
    metavar="HEX",
    help="The hash the last record must have (e.g. from a board report): records cut from "
    "the end are then found too.",
)
@click.option(
    "--allow-unsigned",
    is_flag=True,
    help="Exit 0 for an intact ledger whose records are not signed.",
)
def verify_command(
    folder: Path | None, key: Path | None, head: str | None, allow_unsigned: bool
) -> None:
    """Verify the evidence ledger in FOLDER: chain, signatures, input and output files."""
    out = Console(highlight=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    if folder is None:
        raise click.UsageError("give the ledger FOLDER")
    try:
        report = api.verify_ledger(folder, key, head)
    except BorderwatchError as exc:
        for line in error_lines(exc, "error: "):
            err.print(line)
        sys.exit(EXIT_USAGE)
    sys.exit(print_ledger_report(out, report, allow_unsigned))


def print_ledger_report(console: Console, report: api.LedgerReport, allow_unsigned: bool) -> int:
    """Print what the ledger check found, a line per broken link; return the exit code."""
    for item in report.breaks:
        console.print(safe_line("BROKEN ", item, style="bold red"))
    for text in report.unchecked:
        console.print(safe_line("not checked: ", text, style="yellow"))
    counts = (
        f"{report.records} record(s), {report.signed} signed, {report.unsigned} unsigned; "
        f"{report.files_checked} file(s) checked, {report.superseded} superseded by a later "
        "record"
    )
    if report.status == "tampered":
        console.print(
            safe_line(
                f"TAMPERED: {len(report.breaks)} broken link(s) in ",
                report.folder,
                f"; {counts}",
                style="bold red",
            )
        )
        return EXIT_BROKEN
    if report.status == "unsigned":
        console.print(
            safe_line(
                "UNSIGNED: the chain and the files hold, but ",
                f"{report.unsigned} record(s) are not signed: anyone who can write ",
                report.folder,
                f" could have rewritten them; {counts}",
                style="bold yellow",
            )
        )
        return EXIT_VERIFIED if allow_unsigned else EXIT_BROKEN
    whose = (
        "the key given"
        if report.key_pinned
        else f"the ledger's own key {report.fingerprint} (give --key to prove whose it is)"
    )
    console.print(
        safe_line(
            "VERIFIED: ",
            report.folder,
            f": signatures hold under {whose}; head ",
            str(report.head),
            f"; {counts}",
            style="bold green",
        )
    )
    return EXIT_VERIFIED
