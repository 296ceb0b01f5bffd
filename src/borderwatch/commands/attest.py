"""`borderwatch attest`: a reviewer makes a key and signs reviews (docs/oversight.md).

`attest keygen` writes a new Ed25519 or ECDSA P-256 key pair and prints the policy entry
that trusts it; `attest sign` writes one signed review statement (a DSSE envelope) over
the digests of files (computed, streamed) or given as NAME@sha256:HEX.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console

from borderwatch import api
from borderwatch.errors import BorderwatchError, UsageError
from borderwatch.report.terminal import error_lines

EXIT_INPUT = 2


@click.group("attest")
def attest() -> None:
    """Make reviewer keys and sign reviews of artifacts (docs/oversight.md)."""


@attest.command("keygen")
@click.option(
    "--algorithm",
    type=click.Choice(["ed25519", "ecdsa-p256"]),
    default="ed25519",
    show_default=True,
)
@click.option(
    "--out",
    "stem",
    type=click.Path(path_type=Path),
    required=True,
    help="Writes STEM.key (private, mode 0600) and STEM.pub; refuses to overwrite.",
)
@click.option("--reviewer", required=True, help="The reviewer's name, for the policy entry.")
@click.option(
    "--password-env",
    metavar="VAR",
    default=None,
    help="Encrypt the private key with the password in environment variable VAR.",
)
def keygen(algorithm: str, stem: Path, reviewer: str, password_env: str | None) -> None:
    """Write a new key pair and print the policy entry that trusts it."""
    private, public = stem.with_suffix(".key"), stem.with_suffix(".pub")
    with _errors():
        # The same writer as `borderwatch keygen` (an Ed25519 key here is that kind of
        # key; docs/evidence.md, Keys): mode 0600 from the start, never overwriting.
        keyid = api.reviewer_keygen(algorithm, private, public, _password(password_env))
    public_pem = public.read_text(encoding="ascii")
    click.echo(f"wrote {private} (keep it secret) and {public}; key id {keyid}")
    click.echo("policy entry (oversight.trusted_reviewers):")
    click.echo(f"  - reviewer: {json.dumps(reviewer)}")
    click.echo(f"    keyid: {keyid}")
    click.echo("    public_key: |")
    for line in public_pem.splitlines():
        click.echo(f"      {line}")


@attest.command("sign")
@click.option("--key", "key_path", type=click.Path(path_type=Path), required=True)
@click.option("--password-env", metavar="VAR", default=None, help="The key's password's variable.")
@click.option("--decision", type=click.Choice(["approved", "rejected"]), required=True)
@click.option("--reviewer", required=True, help="Who reviewed (the statement's reviewer).")
@click.option("--scope", default="", help="What the approval covers, e.g. production.")
@click.option(
    "--date",
    "date",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="The review's date (default: today, UTC).",
)
@click.option("--expires", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option(
    "--file",
    "files",
    multiple=True,
    type=click.Path(path_type=Path),
    help="A file to review (repeatable): its SHA-256 is computed.",
)
@click.option(
    "--root",
    type=click.Path(path_type=Path),
    default=None,
    help="Name each --file by its path below this folder (the model store's root), "
    "else by its file name.",
)
@click.option(
    "--subject",
    "subjects",
    multiple=True,
    metavar="NAME@sha256:HEX",
    help="A subject by digest (repeatable), e.g. an image registry.example/app@sha256:...",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="The envelope file to write; refuses to overwrite one.",
)
def sign(
    key_path: Path,
    password_env: str | None,
    decision: str,
    reviewer: str,
    scope: str,
    date: dt.datetime | None,
    expires: dt.datetime,
    files: tuple[Path, ...],
    root: Path | None,
    subjects: tuple[str, ...],
    out: Path,
) -> None:
    """Sign one review of the given artifacts into a DSSE envelope file."""
    with _errors():
        if out.exists():
            # A review file is evidence: never replaced by accident.
            raise UsageError(f"{out} exists: choose another --out")
        try:
            key_pem = key_path.read_bytes()
        except OSError as exc:
            raise UsageError(f"--key {key_path}: {exc.strerror or exc}") from None
        envelope = api.review_envelope(
            key_pem=key_pem,
            password=_password(password_env),
            decision=decision,
            reviewer=reviewer,
            scope=scope,
            date=date.date() if date else dt.datetime.now(dt.UTC).date(),
            expires=expires.date(),
            files=files,
            root=root,
            subjects=subjects,
        )
        out.write_text(json.dumps(envelope, indent=2) + "\n", encoding="utf-8")
    signatures = envelope["signatures"]
    keyid = signatures[0]["keyid"] if isinstance(signatures, list) else "?"
    click.echo(f"wrote {out}: {decision}, {len(files) + len(subjects)} subject(s), key id {keyid}")


def _password(variable: str | None) -> bytes | None:
    if variable is None:
        return None
    value = os.environ.get(variable)
    if not value:
        raise UsageError(f"--password-env {variable}: the variable is not set")
    return value.encode("utf-8")


@contextmanager
def _errors() -> Iterator[None]:
    """Print a BorderwatchError for people and exit 2."""
    try:
        yield
    except BorderwatchError as exc:
        console = Console(stderr=True, highlight=False, soft_wrap=True)
        for line in error_lines(exc):
            console.print(line)
        sys.exit(EXIT_INPUT)
