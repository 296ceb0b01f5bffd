"""ClipStream's recommendation system under oversight: a reviewer, a model store, and one
model in production that nobody reviewed.

The independent reviewer (a fixed Ed25519 key, so the demo is the same every run) signed
the ranker's model files and its container image. The model store also serves a
"heating" table someone put there afterwards: the scan must find it unreviewed
(`integrity.unreviewed-artifact`) and nothing else about oversight.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import NamedTuple

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from borderwatch import api

REVIEWER = "Oracle USDS (independent reviewer, fictional)"
RANKER_IMAGE = "registry.clipstream.example/recs/ranker"
MODEL_FILES = {
    "ranker/weights.bin": b"ranker weights, reviewed build 2026.11\n" * 4096,
    "ranker/tokenizer.json": b'{"vocab": 32000, "lowercase": true}\n',
}
# Put into the store after the review: served in production, reviewed by nobody.
UNREVIEWED = "boost/heating-v3.bin"
UNREVIEWED_BYTES = b"item_id,boost\n7731,40.0\n9120,35.0\n"
IMAGE_DIGEST = hashlib.sha256(b"clipstream ranker image 2026.11").hexdigest()


def _key() -> ed25519.Ed25519PrivateKey:
    seed = hashlib.sha256(b"clipstream demo reviewer key").digest()
    return ed25519.Ed25519PrivateKey.from_private_bytes(seed)


def policy_block() -> str:
    """The policy's oversight section: the reviewer's key, the protected namespace."""
    public = (
        _key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
    lines = ["oversight:", "  trusted_reviewers:", f'    - reviewer: "{REVIEWER}"']
    lines += ["      public_key: |", *(f"        {line}" for line in public.splitlines())]
    lines.append("  protected_namespaces: [recs]")
    return "\n".join(lines) + "\n"


def planted() -> list[tuple[str, str]]:
    """(rule, resource) of the oversight problem the demo plants."""
    digest = hashlib.sha256(UNREVIEWED_BYTES).hexdigest()
    return [("integrity.unreviewed-artifact", f"{UNREVIEWED}@sha256:{digest}")]


def write_inputs(root: Path, today: dt.date) -> None:
    """The model store, the signed review and the ranker's manifest under root."""
    store = root / "model-store"
    for name, data in {**MODEL_FILES, UNREVIEWED: UNREVIEWED_BYTES}.items():
        (store / name).parent.mkdir(parents=True, exist_ok=True)
        (store / name).write_bytes(data)
    key = _key().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    envelope = api.review_envelope(
        key_pem=key,
        password=None,
        decision="approved",
        reviewer=REVIEWER,
        scope="production",
        date=today - dt.timedelta(days=30),
        expires=today + dt.timedelta(days=150),
        files=[store / name for name in MODEL_FILES],
        root=store,
        subjects=[f"{RANKER_IMAGE}@sha256:{IMAGE_DIGEST}"],
    )
    (root / "reviews").mkdir(parents=True, exist_ok=True)
    (root / "reviews" / "ranker-2026.11.json").write_text(
        json.dumps(envelope, indent=2) + "\n", encoding="utf-8"
    )
    (root / "deployments").mkdir(parents=True, exist_ok=True)
    (root / "deployments" / "recs.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\n"
        "metadata: {name: ranker, namespace: recs}\n"
        "spec:\n  template:\n    spec:\n      containers:\n"
        f"        - name: ranker\n          image: {RANKER_IMAGE}@sha256:{IMAGE_DIGEST}\n",
        encoding="utf-8",
    )


class ScanInputs(NamedTuple):
    """The oversight arguments of api.scan."""

    attestations: list[Path]
    deployments: list[Path]
    model_stores: list[Path]


def scan_inputs(root: Path) -> ScanInputs:
    """The oversight arguments of api.scan for the inputs written under root."""
    return ScanInputs([root / "reviews"], [root / "deployments"], [root / "model-store"])
