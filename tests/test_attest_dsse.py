"""Our DSSE envelopes against securesystemslib's, both ways, for both key types, and the
PAE test vector of the DSSE specification."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json

import pytest
from securesystemslib.dsse import Envelope as SslibEnvelope
from securesystemslib.signer import CryptoSigner, SSlibKey

from borderwatch.inventory.attestations import reviewed_subjects
from borderwatch.inventory.dsse import PrivateKey, pae, parse_envelope, public_pem
from borderwatch.inventory.reviewsign import review_statement, sign_statement
from borderwatch.model.oversight import (
    INTOTO_PAYLOAD_TYPE,
    OversightRules,
    SignatureStatus,
    TrustedReviewer,
    key_id,
)
from oversightkit import OUTSIDER, REVIEWER_A, REVIEWER_B, sha

KEYS = {"ed25519": REVIEWER_A, "ecdsa-p256": REVIEWER_B}


def _statement() -> bytes:
    return review_statement(
        [("registry.example/recs/ranker", sha("ranker-v1"))],
        decision="approved",
        reviewer="Reviewer A",
        scope="production",
        date=dt.date(2026, 6, 1),
        expires=dt.date(2026, 12, 1),
    )


def _trusting(key: PrivateKey) -> OversightRules:
    return OversightRules(
        trusted_reviewers=(TrustedReviewer(reviewer="Reviewer A", public_key=public_pem(key)),)
    )


def test_pae_matches_the_dsse_specification_test_vector() -> None:
    # From the DSSE protocol document: PAE("http://example.com/HelloWorld", "hello world").
    assert (
        pae("http://example.com/HelloWorld", b"hello world")
        == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )
    # Lengths count bytes, not characters.
    assert pae("t", "é".encode()) == b"DSSEv1 1 t 2 \xc3\xa9"


@pytest.mark.parametrize("algorithm", sorted(KEYS))
def test_securesystemslib_verifies_what_we_sign(algorithm: str) -> None:
    key = KEYS[algorithm]
    envelope = sign_statement(_statement(), key)
    theirs = SslibEnvelope.from_dict(envelope)
    assert theirs.pae() == pae(INTOTO_PAYLOAD_TYPE, _statement())
    public = SSlibKey.from_crypto(key.public_key(), keyid=key_id(public_pem(key)))
    assert set(theirs.verify([public], 1)) == {public.keyid}


@pytest.mark.parametrize("algorithm", sorted(KEYS))
def test_we_verify_what_securesystemslib_signs(algorithm: str) -> None:
    key = KEYS[algorithm]
    theirs = SslibEnvelope(_statement(), INTOTO_PAYLOAD_TYPE, {})
    theirs.sign(CryptoSigner(key))
    envelope = parse_envelope(theirs.to_dict())
    # securesystemslib names the key by its own key id, which the policy does not list:
    # DSSE key ids are hints, so every trusted key is tried.
    assert envelope.signatures[0][0] != key_id(public_pem(key))
    [subject] = reviewed_subjects(envelope, _trusting(key), "test")
    assert subject.signature is SignatureStatus.VERIFIED
    assert subject.signed_by == "Reviewer A"
    assert subject.digest == sha("ranker-v1")


@pytest.mark.parametrize("algorithm", sorted(KEYS))
def test_securesystemslib_rejects_what_we_reject(algorithm: str) -> None:
    """An edited payload under a kept signature: both libraries refuse it."""
    key = KEYS[algorithm]
    envelope = sign_statement(_statement(), key)
    edited = json.loads(_statement())
    edited["subject"][0]["digest"]["sha256"] = sha("ranker-v2")
    envelope["payload"] = base64.b64encode(json.dumps(edited).encode()).decode()
    public = SSlibKey.from_crypto(key.public_key(), keyid=key_id(public_pem(key)))
    with pytest.raises(Exception, match="Accepted signatures do not match threshold"):
        # from_dict takes the signatures' fields out of the dict it is given: a copy.
        SslibEnvelope.from_dict(copy.deepcopy(envelope)).verify([public], 1)
    [subject] = reviewed_subjects(parse_envelope(envelope), _trusting(key), "test")
    assert subject.signature is SignatureStatus.BAD_SIGNATURE


def test_a_valid_signature_by_a_key_the_policy_does_not_trust_does_not_verify() -> None:
    envelope = parse_envelope(sign_statement(_statement(), OUTSIDER))
    [subject] = reviewed_subjects(envelope, _trusting(REVIEWER_A), "test")
    assert subject.signature is SignatureStatus.UNTRUSTED_KEY
    assert subject.signed_by == ""
    # The same envelope verifies once the policy trusts that key.
    [trusted] = reviewed_subjects(envelope, _trusting(OUTSIDER), "test")
    assert trusted.signature is SignatureStatus.VERIFIED


def test_url_safe_base64_without_padding_is_read() -> None:
    envelope = sign_statement(_statement(), REVIEWER_A)
    signature = envelope["signatures"][0]  # type: ignore[index]
    envelope["payload"] = base64.urlsafe_b64encode(_statement()).decode().rstrip("=")
    signature["sig"] = signature["sig"].replace("+", "-").replace("/", "_").rstrip("=")
    [subject] = reviewed_subjects(parse_envelope(envelope), _trusting(REVIEWER_A), "test")
    assert subject.signature is SignatureStatus.VERIFIED
