"""The scan options of the evidence ledger and of CloudTrail log-file integrity
(docs/evidence.md), one decorator so the scan command takes them in one line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

F = TypeVar("F", bound=Callable[..., object])


def evidence_options(command: F) -> F:
    """Add --ledger, --sign-key, --repair-ledger, --cloudtrail-digests, --public-keys,
    --newest-signature."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


_OPTIONS = [
    click.option(
        "--ledger",
        "ledger",
        type=click.Path(path_type=Path, file_okay=False),
        default=None,
        help="Append this run's record (inputs, outputs and their SHA-256, data versions) to "
        "the evidence ledger in this folder (docs/evidence.md); default: the --history folder "
        "when one is given with --out.",
    ),
    click.option(
        "--sign-key",
        "sign_key",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="Sign the ledger record with this Ed25519 private key (PEM; borderwatch keygen).",
    ),
    click.option(
        "--repair-ledger",
        "repair_ledger",
        is_flag=True,
        help="If the ledger ends in a torn record (a scan killed while appending), set its "
        "bytes aside in DIR/ledger.torn-OFFSET.bin, named by this run's record, instead of "
        "refusing the ledger (docs/evidence.md).",
    ),
    click.option(
        "--cloudtrail-digests",
        "cloudtrail_digests",
        type=click.Path(path_type=Path, file_okay=False),
        default=None,
        help="A copy of a CloudTrail bucket (digest and log files): check log-file integrity "
        "offline into integrity.* findings (docs/evidence.md). Needs --public-keys.",
    ),
    click.option(
        "--public-keys",
        "public_keys",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="What 'aws cloudtrail list-public-keys --output json' prints (--cloudtrail-digests).",
    ),
    click.option(
        "--newest-signature",
        "newest_signatures",
        multiple=True,
        metavar="HEX",
        help="The signature of the newest digest (its S3 metadata), one per trail (repeatable).",
    ),
]
