"""`borderwatch verify`: check an evidence ledger and CloudTrail digests offline.

Exit codes: 0 everything checked holds; 1 tampering found, or something could not be
verified (a torn last record, outputs a killed scan left pending, an unsigned ledger
without --allow-unsigned, a digest whose signature is not known); 2 unusable arguments
(no ledger in DIR, an unreadable key).
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
@click.option(
    "--cloudtrail-digests",
    "digests",
    type=click.Path(path_type=Path, file_okay=False),
    help="A copy of a CloudTrail bucket: check its digests and the log files they name.",
)
@click.option(
    "--public-keys",
    "public_keys",
    type=click.Path(path_type=Path, dir_okay=False),
    help="What 'aws cloudtrail list-public-keys --output json' prints.",
)
@click.option(
    "--newest-signature",
    "newest",
    multiple=True,
    metavar="HEX",
    help="The newest digest's signature (x-amz-meta-signature), one per trail (repeatable).",
)
def verify_command(
    folder: Path | None,
    key: Path | None,
    head: str | None,
    allow_unsigned: bool,
    digests: Path | None,
    public_keys: Path | None,
    newest: tuple[str, ...],
) -> None:
    """Verify the evidence ledger in FOLDER (chain, signatures, input and output files)
    and/or CloudTrail digests (--cloudtrail-digests DIR --public-keys FILE), offline."""
    out = Console(highlight=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    if folder is None and digests is None:
        raise click.UsageError("give the ledger FOLDER, or --cloudtrail-digests DIR")
    if (digests is None) != (public_keys is None):
        raise click.UsageError("--cloudtrail-digests and --public-keys go together")
    codes = []
    try:
        if folder is not None:
            report = api.verify_ledger(folder, key, head)
            codes.append(print_ledger_report(out, report, allow_unsigned))
        if digests is not None and public_keys is not None:
            check = api.verify_cloudtrail(digests, public_keys, newest)
            codes.append(print_digest_check(out, check))
    except BorderwatchError as exc:
        for line in error_lines(exc, "error: "):
            err.print(line)
        sys.exit(EXIT_USAGE)
    sys.exit(max(codes))


def print_digest_check(console: Console, check: api.DigestCheck) -> int:
    """Print what the CloudTrail check found, a line per problem; return the exit code."""
    for problem in check.problems:
        console.print(safe_line("BROKEN ", problem, style="bold red"))
    for name in check.unverified:
        console.print(safe_line("not verified: ", name, style="yellow"))
    for note in check.notes:
        console.print(safe_line("note: ", note))
    counts = (
        f"{check.digests} digest(s), {check.verified} with a signature that holds; "
        f"{check.logs_checked} log file(s) named, {check.logs_intact} intact"
    )
    if check.status == "tampered":
        console.print(
            safe_line(
                f"TAMPERED: {len(check.problems)} problem(s) in ",
                check.folder,
                f"; {counts}",
                style="bold red",
            )
        )
        return EXIT_BROKEN
    if check.status == "incomplete":
        console.print(
            safe_line(
                "INCOMPLETE: ",
                check.folder,
                f": {len(check.unverified)} digest(s) could not be verified; {counts}",
                style="bold yellow",
            )
        )
        return EXIT_BROKEN
    console.print(safe_line("VERIFIED: ", check.folder, f"; {counts}", style="bold green"))
    return EXIT_VERIFIED


def print_ledger_report(console: Console, report: api.LedgerReport, allow_unsigned: bool) -> int:
    """Print what the ledger check found, a line per broken link; return the exit code."""
    for item in report.breaks:
        console.print(safe_line("BROKEN ", item, style="bold red"))
    if report.torn is not None:
        console.print(safe_line("TORN ", report.torn, style="bold yellow"))
    for text in report.pending:
        console.print(safe_line("PENDING ", text, style="yellow"))
    for text in report.unchecked:
        console.print(safe_line("not checked: ", text, style="yellow"))
    for text in report.notes:
        console.print(safe_line("note: ", text))
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
    if report.status == "torn":
        console.print(
            safe_line(
                "TORN: ",
                report.folder,
                f" ends in an incomplete record ({report.torn.size if report.torn else 0:,} "
                "byte(s)); everything before it holds; ",
                counts,
                style="bold yellow",
            )
        )
        return EXIT_BROKEN
    if report.status == "pending":
        console.print(
            safe_line(
                "PENDING: ",
                report.folder,
                ": every link holds, but the outputs of a killed scan are not all in place "
                "yet (above); ",
                counts,
                style="bold yellow",
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
