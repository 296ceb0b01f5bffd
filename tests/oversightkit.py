"""Reviewer keys and signed reviews for the oversight tests and golden cases.

Keys are derived from fixed seeds, so a case's files can be made again byte for byte
(Ed25519 signatures are deterministic; ECDSA ones are not, but verify the same):

    .venv/bin/python tests/oversightkit.py    # rewrites tests/cases/integrity-*/ inputs

The keys are test keys, published here on purpose; no real reviewer uses them.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from borderwatch.inventory.dsse import PrivateKey, public_pem
from borderwatch.inventory.reviewsign import review_statement, sign_statement

CASES = Path(__file__).parent / "cases"
DAY = dt.date(2026, 6, 1)


def ed25519_key(seed: str) -> ed25519.Ed25519PrivateKey:
    """An Ed25519 key made from a text seed."""
    return ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(seed.encode()).digest())


def p256_key(seed: str) -> ec.EllipticCurvePrivateKey:
    """An ECDSA P-256 key made from a text seed."""
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    value = int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big") % (order - 1) + 1
    return ec.derive_private_key(value, ec.SECP256R1())


REVIEWER_A = ed25519_key("reviewer-a")  # trusted, Ed25519
REVIEWER_B = p256_key("reviewer-b")  # trusted, ECDSA P-256
OUTSIDER = ed25519_key("outsider")  # signs, but no policy trusts it


def sha(text: str) -> str:
    """The SHA-256 of a text, hex: stands in for an image digest."""
    return hashlib.sha256(text.encode()).hexdigest()


def review(
    subjects: list[tuple[str, str]],
    key: PrivateKey,
    *,
    decision: str = "approved",
    reviewer: str = "Reviewer A",
    date: dt.date = DAY,
    expires: dt.date = DAY + dt.timedelta(days=180),
    scope: str = "production",
) -> dict[str, object]:
    """A signed review envelope."""
    statement = review_statement(
        subjects,
        decision="approved" if decision == "approved" else "rejected",
        reviewer=reviewer,
        scope=scope,
        date=date,
        expires=expires,
    )
    return sign_statement(statement, key)


def tampered(envelope: dict[str, object], subjects: list[tuple[str, str]]) -> dict[str, object]:
    """The envelope with its statement's subjects replaced and the signature kept: what
    someone who edits an approval to cover another artifact produces."""
    statement = json.loads(base64.b64decode(str(envelope["payload"])))
    statement["subject"] = [{"name": n, "digest": {"sha256": d}} for n, d in subjects]
    body = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()
    return {**envelope, "payload": base64.b64encode(body).decode()}


def trusted_policy_block(namespaces: list[str]) -> str:
    """The policy's oversight section trusting reviewers A and B."""
    lines = ["oversight:", "  trusted_reviewers:"]
    for name, key in (("Reviewer A", REVIEWER_A), ("Reviewer B", REVIEWER_B)):
        lines += [f"    - reviewer: {name}", "      public_key: |"]
        lines += [f"        {line}" for line in public_pem(key).splitlines()]
    lines.append(f"  protected_namespaces: [{', '.join(namespaces)}]")
    return "\n".join(lines) + "\n"


def _write_jsonl(path: Path, envelopes: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(e, sort_keys=True) + "\n" for e in envelopes))


def _policy(name: str, namespaces: list[str]) -> str:
    return (
        "borderwatch: policy/v1\n"
        f"name: case-{name}\n"
        'version: "1"\n'
        "data_classes:\n"
        "  us_user_data:\n"
        "    storage:\n"
        "      approved:\n"
        "        - provider: aws\n"
        "          country: US\n"
        "coverage:\n"
        "  nothing_judged: info\n" + trusted_policy_block(namespaces)
    )


def make_cases() -> None:
    """Write the inputs of the integrity golden cases (their policy.yaml and reviews)."""
    _signatures_case(CASES / "integrity-signatures")
    _images_case(CASES / "integrity-images")
    _models_case(CASES / "integrity-models")
    # integrity-unobserved reads integrity-signatures' reviews, under the same keys.
    unobserved = CASES / "integrity-unobserved"
    unobserved.mkdir(exist_ok=True)
    (unobserved / "policy.yaml").write_text(_policy("integrity-unobserved", ["recs"]))


RANKER = "registry.example/recs/ranker"
FILTER = "registry.example/recs/filter"
HEATER = "registry.example/recs/heater"
SIDECAR = "registry.example/ops/sidecar"


def _signatures_case(folder: Path) -> None:
    """A bad signature, a valid signature by an untrusted key, an unsigned review, and
    approvals by both trusted keys (Ed25519 and ECDSA) that hold."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "policy.yaml").write_text(_policy("integrity-signatures", ["recs"]))
    good_a = review([(RANKER, sha("ranker-v1"))], REVIEWER_A)
    good_b = review([(FILTER, sha("filter-v1"))], REVIEWER_B, reviewer="Reviewer B")
    # Reviewer A approved the filter; someone edited the statement to cover the heater.
    bad = tampered(review([(FILTER, sha("filter-v0"))], REVIEWER_A), [(HEATER, sha("heater-v1"))])
    # A correctly signed approval, by a key no policy trusts.
    outsider = review([(HEATER, sha("heater-v2"))], OUTSIDER, reviewer="Reviewer A")
    unsigned = {**review([(SIDECAR, sha("sidecar-v1"))], OUTSIDER), "signatures": []}
    _write_jsonl(folder / "reviews.intoto.jsonl", [good_a, good_b, bad, outsider])
    (folder / "unsigned.json").write_text(json.dumps(unsigned, indent=2) + "\n")


def _images_case(folder: Path) -> None:
    """Images by digest approved, by tag, changed since review, rejected, and an
    approval that expired (and one that expires on the day judged, still valid)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "policy.yaml").write_text(_policy("integrity-images", ["recs", "feed-*"]))
    reviews = [
        review([(RANKER, sha("ranker-v1"))], REVIEWER_A),
        review([(FILTER, sha("filter-v1"))], REVIEWER_A),  # runs filter-v2
        review(
            [(HEATER, sha("heater-v1"))],
            REVIEWER_B,
            reviewer="Reviewer B",
            date=dt.date(2026, 1, 1),
            expires=dt.date(2026, 5, 31),
        ),
        review(
            [(SIDECAR, sha("sidecar-v1"))],
            REVIEWER_A,
            date=dt.date(2026, 1, 1),
            expires=dt.date(2026, 6, 15),  # the case's --as-of: still valid that day
        ),
        review([(SIDECAR, sha("sidecar-v0"))], REVIEWER_A, decision="rejected"),
    ]
    _write_jsonl(folder / "reviews.intoto.jsonl", reviews)


def _models_case(folder: Path) -> None:
    """A model store: one file approved, one changed since its review, one never
    reviewed, one rejected."""
    store = folder / "store"
    (store / "ranker").mkdir(parents=True, exist_ok=True)
    (folder / "policy.yaml").write_text(_policy("integrity-models", ["recs"]))
    files = {
        "ranker/weights.bin": b"ranker weights v1\n" * 1000,
        "ranker/config.json": b'{"layers": 12, "boost": 0}\n',
        "ranker/boost-table.csv": b"item,boost\n42,3.0\n",
        "ranker/old.onnx": b"rejected model\n",
    }
    for name, data in files.items():
        (store / name).write_bytes(data)

    def digest(name: str) -> str:
        return hashlib.sha256(files[name]).hexdigest()

    reviews = [
        review(
            [
                ("ranker/weights.bin", digest("ranker/weights.bin")),
                # The reviewed config; the store's has "boost": 0 instead of none.
                ("ranker/config.json", hashlib.sha256(b'{"layers": 12}\n').hexdigest()),
            ],
            REVIEWER_A,
        ),
        review(
            [("ranker/old.onnx", digest("ranker/old.onnx"))],
            REVIEWER_B,
            reviewer="Reviewer B",
            decision="rejected",
        ),
    ]
    _write_jsonl(folder / "reviews.intoto.jsonl", reviews)


if __name__ == "__main__":
    make_cases()
