"""DSSE envelopes (Dead Simple Signing Envelope, v1): sign and verify, nothing else.

An envelope is `{"payloadType": T, "payload": base64(body), "signatures": [{"keyid": K,
"sig": base64(signature)}]}`. What is signed is not the JSON but the pre-authentication
encoding of type and body,

    PAE(T, body) = "DSSEv1" SP LEN(T) SP T SP LEN(body) SP body

with LEN the length in bytes as ASCII decimal, so a signature can never be moved to
another payload type. Ed25519 signs the PAE directly; ECDSA P-256 signs its SHA-256 and
writes the signature in DER, as securesystemslib and sigstore do (tests/test_attest_dsse.py
checks both directions against securesystemslib).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey


def pae(payload_type: str, body: bytes) -> bytes:
    """The bytes a DSSE signature covers."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(body), body)


def b64decode(text: str) -> bytes:
    """Standard or URL-safe base64, padded or not (DSSE allows either); ValueError if
    neither."""
    cleaned = text.strip()
    padded = cleaned + "=" * (-len(cleaned) % 4)
    alphabet = b"-_" if ("-" in cleaned or "_" in cleaned) else None
    try:
        return base64.b64decode(padded, altchars=alphabet, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"not base64: {exc}") from None


def load_private_key(pem: bytes, password: bytes | None = None) -> PrivateKey:
    """An Ed25519 or ECDSA P-256 private key from PEM (PKCS#8 or the EC/OpenSSH forms
    `cryptography` reads); ValueError for any other key."""
    try:
        key = serialization.load_pem_private_key(pem, password=password)
    except TypeError as exc:  # password given for a plain key, or missing for an encrypted one
        raise ValueError(str(exc)) from None
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    raise ValueError("only Ed25519 and ECDSA P-256 private keys can sign")


def public_pem(key: PrivateKey) -> str:
    """The PEM (SubjectPublicKeyInfo) of a private key's public half."""
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def sign(payload_type: str, body: bytes, key: PrivateKey, keyid: str) -> dict[str, object]:
    """A DSSE envelope of `body`, signed once by `key`."""
    message = pae(payload_type, body)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        signature = key.sign(message)
    else:
        signature = key.sign(message, ec.ECDSA(hashes.SHA256()))
    return {
        "payloadType": payload_type,
        "payload": base64.b64encode(body).decode("ascii"),
        "signatures": [{"keyid": keyid, "sig": base64.b64encode(signature).decode("ascii")}],
    }


def verifies(public_key_pem: str, payload_type: str, body: bytes, signature: bytes) -> bool:
    """True when `signature` over PAE(payload_type, body) verifies with the key."""
    key = serialization.load_pem_public_key(public_key_pem.encode("ascii"))
    message = pae(payload_type, body)
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, message)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True)
class Envelope:
    """A decoded envelope: payload bytes and (keyid, signature bytes) pairs."""

    payload_type: str
    payload: bytes
    signatures: tuple[tuple[str, bytes], ...]


def parse_envelope(value: object) -> Envelope:
    """An Envelope from decoded JSON; ValueError saying what is wrong."""
    if not isinstance(value, dict):
        raise ValueError("a DSSE envelope is a JSON object")
    payload_type = value.get("payloadType")
    payload = value.get("payload")
    signatures = value.get("signatures")
    if not isinstance(payload_type, str) or not isinstance(payload, str):
        raise ValueError("a DSSE envelope needs payloadType and payload as text")
    if not isinstance(signatures, list):
        raise ValueError("a DSSE envelope needs a signatures list")
    pairs: list[tuple[str, bytes]] = []
    for index, item in enumerate(signatures, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("sig"), str):
            raise ValueError(f"signature {index} has no sig text")
        keyid = item.get("keyid") or ""
        if not isinstance(keyid, str):
            raise ValueError(f"signature {index}: keyid is not text")
        try:
            pairs.append((keyid, b64decode(item["sig"])))
        except ValueError as exc:
            raise ValueError(f"signature {index}: {exc}") from None
    try:
        body = b64decode(payload)
    except ValueError as exc:
        raise ValueError(f"payload: {exc}") from None
    return Envelope(payload_type, body, tuple(pairs))
