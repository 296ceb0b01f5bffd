"""What a reviewer signs: a review statement over artifact digests, in a DSSE envelope.

The reader of these envelopes is inventory/attestations.py; `borderwatch attest`
(commands/attest.py, through api.py) makes them. Subject digests are computed from files
(streamed, any size) or given as `name@sha256:<hex>`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from borderwatch.inventory.dsse import PrivateKey, public_pem, sign
from borderwatch.model.oversight import (
    INTOTO_PAYLOAD_TYPE,
    REVIEW_PREDICATE_TYPE,
    STATEMENT_TYPE,
    key_id,
)

_GIVEN = re.compile(r"^(?P<name>.+)@sha256:(?P<hex>[0-9a-fA-F]{64})$")
CHUNK = 1024 * 1024


def file_digest(path: Path) -> str:
    """The SHA-256 of a file, hex, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def given_subject(text: str) -> tuple[str, str]:
    """(name, sha256 hex) of `name@sha256:<64 hex>`; ValueError otherwise."""
    match = _GIVEN.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not NAME@sha256:<64 hex digits>")
    return match.group("name"), match.group("hex").lower()


def review_statement(
    subjects: Sequence[tuple[str, str]],
    *,
    decision: Literal["approved", "rejected"],
    reviewer: str,
    scope: str,
    date: dt.date,
    expires: dt.date,
) -> bytes:
    """The in-toto Statement (v1) of one review, as canonical JSON bytes (sorted keys,
    no spaces), so the same review always signs the same bytes."""
    if not subjects:
        raise ValueError("a review needs at least one subject")
    if expires < date:
        raise ValueError(f"the expiry {expires} is before the review date {date}")
    statement = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": name, "digest": {"sha256": digest}} for name, digest in subjects],
        "predicateType": REVIEW_PREDICATE_TYPE,
        "predicate": {
            "decision": decision,
            "reviewer": reviewer,
            "scope": scope,
            "date": date.isoformat(),
            "expires": expires.isoformat(),
        },
    }
    return json.dumps(statement, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign_statement(statement: bytes, key: PrivateKey) -> dict[str, object]:
    """The statement in a DSSE envelope signed by `key`, named by its default key id."""
    return sign(INTOTO_PAYLOAD_TYPE, statement, key, key_id(public_pem(key)))


def new_key(algorithm: Literal["ed25519", "ecdsa-p256"]) -> PrivateKey:
    """A fresh signing key."""
    if algorithm == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(ec.SECP256R1())


def private_pem(key: PrivateKey, password: bytes | None = None) -> bytes:
    """PKCS#8 PEM of a private key, encrypted when a password is given."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
