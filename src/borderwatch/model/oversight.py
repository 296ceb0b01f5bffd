"""Algorithm oversight as data: who may approve a build, what was approved, what runs.

`OversightRules` is the policy's `oversight:` section (docs/policy.md): the reviewers'
public keys the policy trusts and the namespaces whose workloads must run reviewed
builds. `ReviewedSubject` is one subject of one signed review (an in-toto Statement in
a DSSE envelope, docs/oversight.md), with what checking its signatures found;
`DeployedArtifact` is one artifact seen running or ready to run (an image a workload
names, a file of the model store). The rules in rules/integrity/ compare the two.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

# The in-toto Statement layer (v1) and the predicate a reviewer signs.
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
REVIEW_PREDICATE_TYPE = "urn:borderwatch:predicate:review:v1"
# DSSE: the payload type of an in-toto Statement.
INTOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"


def key_id(public_key_pem: str) -> str:
    """The default key id of a public key: SHA-256 of its SubjectPublicKeyInfo (DER), hex.

    The same key always has the same id, whoever computes it, so `borderwatch attest`
    and the policy agree without anyone copying ids by hand.
    """
    key = serialization.load_pem_public_key(public_key_pem.encode("ascii"))
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def key_algorithm(public_key_pem: str) -> str:
    """'ed25519' or 'ecdsa-p256'; ValueError for anything else (RSA, other curves)."""
    try:
        key = serialization.load_pem_public_key(public_key_pem.encode("ascii"))
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise ValueError(f"not a PEM public key ({exc})") from None
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "ed25519"
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return "ecdsa-p256"
    raise ValueError("only Ed25519 and ECDSA P-256 public keys are accepted")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrustedReviewer(_Strict):
    """A reviewer key the policy trusts: its approvals count, nobody else's do."""

    reviewer: str
    public_key: str  # PEM, "-----BEGIN PUBLIC KEY-----" (Ed25519 or ECDSA P-256)
    # The id signatures name the key by; default: key_id(public_key).
    keyid: str = ""

    @field_validator("public_key")
    @classmethod
    def _is_key(cls, value: str) -> str:
        key_algorithm(value)
        return value

    @model_validator(mode="after")
    def _default_keyid(self) -> TrustedReviewer:
        if not self.keyid:
            object.__setattr__(self, "keyid", key_id(self.public_key))
        return self


class OversightRules(_Strict):
    """What the integrity rules check (docs/oversight.md)."""

    trusted_reviewers: tuple[TrustedReviewer, ...] = ()
    # Kubernetes namespaces whose workloads must run reviewed builds, as globs
    # ("recs-*"); "*" is every namespace. Model-store files are always in scope.
    protected_namespaces: tuple[str, ...] = ()
    # The review scopes an approval must name to count here ("production"), compared
    # without regard to case or outer blanks; empty: an approval of any scope counts.
    # A rejection counts whatever its scope.
    approval_scopes: tuple[str, ...] = ()


class SignatureStatus(StrEnum):
    """What checking an envelope's signatures against the trusted keys found."""

    VERIFIED = "verified"  # a trusted key's signature verifies
    BAD_SIGNATURE = "bad-signature"  # names a trusted key, but does not verify
    UNTRUSTED_KEY = "untrusted-key"  # signed only by keys the policy does not trust
    UNSIGNED = "unsigned"  # no signature at all


@dataclass(frozen=True)
class ReviewedSubject:
    """One subject of one review statement, with its envelope's signature status."""

    name: str
    digest: str  # sha256, lower-case hex
    decision: Literal["approved", "rejected"]
    scope: str
    reviewer: str
    reviewed_on: dt.date
    expires: dt.date
    signature: SignatureStatus
    keyids: tuple[str, ...]  # the key ids the envelope's signatures name
    # The trusted reviewer whose key verified the signature ("" unless verified).
    signed_by: str
    source: str  # file and position of the envelope


@dataclass(frozen=True)
class DeployedArtifact:
    """An artifact seen running or ready to run.

    `digest` is None when the reference names no digest (an image by tag) or the
    evidence does not hold the image at all (`reference` None too: an audit record
    at Metadata level).
    """

    kind: Literal["image", "model"]
    name: str  # image repository as written, or the file's path within its store
    digest: str | None  # sha256, lower-case hex
    reference: str | None  # the image reference as written, or the store's URL of the file
    namespace: str | None  # Kubernetes namespace (None: a model-store file)
    workload: str  # e.g. "deployments/recs/ranker container=main", or the store
    origin: Literal["k8s-audit", "manifest", "model-store"]
    source: str  # file and position of the evidence
    seen_at: dt.datetime | None = None  # when the audit log saw it
    size: int | None = None  # bytes, for model-store files
