"""`borderwatch keygen --out PATH`: an Ed25519 key pair for signing the evidence ledger.

The same kind of key, written by the same code, as `borderwatch attest keygen
--algorithm ed25519` (docs/evidence.md, Keys): only the file names differ (PATH and
PATH.pub here, STEM.key and STEM.pub there), and attest may encrypt its key, which a
ledger key (used by unattended scans) must not be.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from borderwatch import api
from borderwatch.errors import BorderwatchError
from borderwatch.report.terminal import error_lines, safe_line


@click.command("keygen")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where to write the private key (PEM, mode 0600); the public key goes to OUT.pub.",
)
@click.option("--force", is_flag=True, help="Replace OUT and OUT.pub if they exist.")
def keygen_command(out: Path, force: bool) -> None:
    """Write a new Ed25519 key pair for --sign-key (exit 2: the files exist, no --force);
    the same kind of key as 'attest keygen --algorithm ed25519' makes."""
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        private, public = api.keygen(out, force=force)
    except (BorderwatchError, OSError) as exc:
        for line in error_lines(exc, "error: "):
            console.print(line)
        sys.exit(2)
    console.print(safe_line("private key (keep it secret): ", private))
    console.print(safe_line("public key (give it to verifiers, --key): ", public))
