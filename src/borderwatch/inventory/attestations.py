"""The registry of reviewed builds: signed review statements, checked as they are read.

A file holds DSSE envelopes (inventory/dsse.py): one JSON object, a JSON array of them,
or one per line (an in-toto `.intoto.jsonl` bundle). Each envelope's payload is an in-toto
Statement (v1) whose predicate is a review (docs/oversight.md):

    {"_type": "https://in-toto.io/Statement/v1",
     "subject": [{"name": "registry.example/recs/ranker", "digest": {"sha256": "<hex>"}}],
     "predicateType": "urn:borderwatch:predicate:review:v1",
     "predicate": {"decision": "approved", "scope": "production", "reviewer": "...",
                   "date": "2026-05-01", "expires": "2026-11-01"}}

The signatures are checked here against the policy's trusted reviewer keys, and each
subject becomes a `ReviewedSubject` carrying the result (verified, bad signature,
untrusted key, unsigned); the rules decide what a result means. An envelope that cannot
be read as a review is quarantined with its position and why, never dropped. A subject
without a sha256 digest (a source commit named by `gitCommit`, a file by `sha1`) cannot
be matched to what runs, which is known by sha256: that subject alone is quarantined
(`<position> subject N`) and the envelope's other subjects are kept; an envelope none
of whose subjects has one is quarantined whole.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import msgspec

from borderwatch.inventory.dsse import Envelope, parse_envelope, verifies
from borderwatch.model.events import QuarantinedRecord, excerpt_of
from borderwatch.model.oversight import (
    INTOTO_PAYLOAD_TYPE,
    REVIEW_PREDICATE_TYPE,
    STATEMENT_TYPE,
    OversightRules,
    ReviewedSubject,
    SignatureStatus,
)
from borderwatch.sources.jsonvalues import DECODE_ERRORS, Damaged, json_values
from borderwatch.tables.records import TableRead

KIND = "attestations"
# in-toto Statement v0.1 carries the same fields; both are read.
_STATEMENT_TYPES = frozenset({STATEMENT_TYPE, "https://in-toto.io/Statement/v0.1"})
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class StatementError(ValueError):
    """An envelope or statement that is not a readable review."""


def read_attestations(path: Path, rules: OversightRules) -> TableRead[ReviewedSubject]:
    """Every subject of every review envelope in `path`, with its signature status."""
    result: TableRead[ReviewedSubject] = TableRead(str(path), KIND)
    for item in json_values(path):
        if isinstance(item.value, Damaged):
            result.quarantined.append(_quarantine(path, item.position, item.value.reason, item.raw))
            continue
        try:
            envelope = parse_envelope(item.value)
            found, skipped = read_review(envelope, rules, f"{path} {item.position}")
        except ValueError as exc:
            result.quarantined.append(_quarantine(path, item.position, str(exc), item.raw))
            continue
        result.items.extend(found)
        for index, reason in skipped:
            where = f"{item.position} subject {index}"
            result.quarantined.append(_quarantine(path, where, reason, item.raw))
    return result


def reviewed_subjects(
    envelope: Envelope, rules: OversightRules, source: str
) -> list[ReviewedSubject]:
    """The subjects of one envelope's review statement; StatementError if it is none."""
    return read_review(envelope, rules, source)[0]


def read_review(
    envelope: Envelope, rules: OversightRules, source: str
) -> tuple[list[ReviewedSubject], list[tuple[int, str]]]:
    """(the subjects of one envelope's review statement, (index, why) of each subject
    left out for want of a sha256 digest); StatementError if it is no review, or no
    subject has one."""
    if envelope.payload_type != INTOTO_PAYLOAD_TYPE:
        raise StatementError(
            f"payloadType {envelope.payload_type!r} is not {INTOTO_PAYLOAD_TYPE!r}"
        )
    try:
        statement = msgspec.json.decode(envelope.payload)
    except DECODE_ERRORS as exc:
        raise StatementError(f"the payload is not JSON: {exc}") from None
    kind = statement.get("_type") if isinstance(statement, dict) else None
    if not isinstance(kind, str) or kind not in _STATEMENT_TYPES:
        raise StatementError(f"the payload is not an in-toto Statement (_type {STATEMENT_TYPE})")
    if statement.get("predicateType") != REVIEW_PREDICATE_TYPE:
        raise StatementError(
            f"predicateType {statement.get('predicateType')!r} is not a review "
            f"({REVIEW_PREDICATE_TYPE})"
        )
    review = _review(statement.get("predicate"))
    subjects, skipped = _subjects(statement.get("subject"))
    status, signed_by = signature_status(envelope, rules)
    found = [
        ReviewedSubject(
            name=name,
            digest=digest,
            decision=review["decision"],
            scope=review["scope"],
            reviewer=review["reviewer"],
            reviewed_on=review["date"],
            expires=review["expires"],
            signature=status,
            keyids=tuple(keyid for keyid, _ in envelope.signatures),
            signed_by=signed_by,
            source=source,
        )
        for name, digest in subjects
    ]
    return found, skipped


def signature_status(envelope: Envelope, rules: OversightRules) -> tuple[SignatureStatus, str]:
    """(status, the trusted reviewer whose key verified it or "").

    A signature naming a trusted key id is checked with that key; one naming no key id or
    an unknown one is checked with every trusted key (DSSE key ids are hints). Verified
    wins; else a trusted key id whose signature fails makes it a bad signature (the
    payload or the signature was changed); else the signers are not trusted.
    """
    if not envelope.signatures:
        return SignatureStatus.UNSIGNED, ""
    by_id = {reviewer.keyid: reviewer for reviewer in rules.trusted_reviewers}
    named_trusted = False
    for keyid, signature in envelope.signatures:
        named = by_id.get(keyid)
        candidates = [named] if named is not None else list(rules.trusted_reviewers)
        named_trusted = named_trusted or named is not None
        for reviewer in candidates:
            if verifies(reviewer.public_key, envelope.payload_type, envelope.payload, signature):
                return SignatureStatus.VERIFIED, reviewer.reviewer
    if named_trusted:
        return SignatureStatus.BAD_SIGNATURE, ""
    return SignatureStatus.UNTRUSTED_KEY, ""


def _review(predicate: Any) -> dict[str, Any]:
    if not isinstance(predicate, dict):
        raise StatementError("the review predicate is not an object")
    decision = predicate.get("decision")
    if decision not in ("approved", "rejected"):
        raise StatementError(f"predicate.decision {decision!r} is not approved or rejected")
    reviewer = predicate.get("reviewer")
    if not isinstance(reviewer, str) or not reviewer.strip():
        raise StatementError("predicate.reviewer is missing")
    scope = predicate.get("scope", "")
    if not isinstance(scope, str):
        raise StatementError("predicate.scope is not text")
    date, expires = _date(predicate, "date"), _date(predicate, "expires")
    if expires < date:
        raise StatementError(f"predicate.expires {expires} is before its date {date}")
    return {
        "decision": decision,
        "reviewer": reviewer,
        "scope": scope,
        "date": date,
        "expires": expires,
    }


def _date(predicate: dict[str, Any], key: str) -> dt.date:
    value = predicate.get(key)
    if value is None:
        raise StatementError(f"predicate.{key} is missing")
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise StatementError(f"predicate.{key} {value!r} is not a date (YYYY-MM-DD)") from None


def _subjects(value: Any) -> tuple[list[tuple[str, str]], list[tuple[int, str]]]:
    """((name, sha256) of each usable subject, (index, why) of each without a sha256)."""
    if not isinstance(value, list) or not value:
        raise StatementError("the statement has no subject list")
    subjects: list[tuple[str, str]] = []
    skipped: list[tuple[int, str]] = []
    for index, subject in enumerate(value, start=1):
        if not isinstance(subject, dict) or not isinstance(subject.get("name"), str):
            raise StatementError(f"subject {index} has no name")
        digest = subject.get("digest")
        sha = digest.get("sha256") if isinstance(digest, dict) else None
        if isinstance(sha, str) and _SHA256.match(sha.lower()):
            subjects.append((subject["name"], sha.lower()))
            continue
        others = sorted(str(k) for k in digest) if isinstance(digest, dict) else []
        named = f" (it names {', '.join(others)[:200]})" if others else ""
        skipped.append(
            (
                index,
                f"subject {index} ({subject['name'][:200]!r}) has no sha256 digest{named}: "
                "what runs is known by sha256, so it cannot be matched",
            )
        )
    if not subjects:
        raise StatementError(
            skipped[0][1]
            if len(skipped) == 1
            else (
                f"no subject has a sha256 digest ({len(skipped)} subjects): what runs is "
                "known by sha256, so none can be matched"
            )
        )
    return subjects, skipped


def _quarantine(path: Path, position: str, reason: str, raw: bytes) -> QuarantinedRecord:
    return QuarantinedRecord(str(path), position, reason, excerpt_of(raw), KIND)
