"""Ed25519 keys for the evidence ledger: make, write, read, sign, check.

A private key is an unencrypted PKCS#8 PEM file (mode 0600); its public key a
SubjectPublicKeyInfo PEM file beside it (`PATH.pub`). Keys are named in ledger records by
their fingerprint: the hex SHA-256 of the 32 raw public-key bytes.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from borderwatch.errors import UsageError

ALGORITHM = "ed25519"
PUBLIC_SUFFIX = ".pub"


@dataclass(frozen=True)
class PublicKey:
    """An Ed25519 public key as a ledger record names it."""

    raw: bytes  # the 32 bytes

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()

    @property
    def encoded(self) -> str:
        return base64.b64encode(self.raw).decode("ascii")

    def verifies(self, signature: bytes, message: bytes) -> bool:
        """Whether `signature` is this key's signature of `message`."""
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, message)
        except InvalidSignature:
            return False
        return True

    @classmethod
    def from_encoded(cls, text: str) -> PublicKey:
        """The key a record holds (base64 of the raw bytes); ValueError when it is not one."""
        raw = base64.b64decode(text.encode("ascii"), validate=True)
        if len(raw) != 32:
            raise ValueError(f"an Ed25519 public key has 32 bytes, not {len(raw)}")
        return cls(raw)


@dataclass(frozen=True)
class SigningKey:
    """A private key that signs ledger records."""

    key: Ed25519PrivateKey

    @property
    def public(self) -> PublicKey:
        return PublicKey(
            self.key.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
        )

    def sign(self, message: bytes) -> bytes:
        return self.key.sign(message)


def new_key() -> SigningKey:
    """A fresh random Ed25519 key."""
    return SigningKey(Ed25519PrivateKey.generate())


def write_key_pair(key: SigningKey, path: Path, *, force: bool = False) -> tuple[Path, Path]:
    """Write the private key to `path` (PEM, mode 0600) and the public key to `path.pub`.

    Refuses (UsageError) to overwrite either file unless `force`: a key that signed a
    ledger must not vanish by a repeated command.
    """
    public_path = Path(f"{path}{PUBLIC_SUFFIX}")
    private_pem = key.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = key.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    write_key_files(path, private_pem, public_path, public_pem, force=force)
    return path, public_path


def write_key_files(
    private_path: Path,
    private_pem: bytes,
    public_path: Path,
    public_pem: bytes,
    *,
    force: bool | None = False,
) -> None:
    """Write a key pair's PEM files: the private key readable by its owner only (mode
    0600 from the start), the public key beside it, each flushed and renamed into place.
    Refuses (UsageError) to overwrite either file unless `force` (None: the command has
    no --force to offer). Both key commands write through here (`borderwatch keygen`,
    `borderwatch attest keygen`)."""
    if not force:
        for target in (private_path, public_path):
            if target.exists() or target.is_symlink():
                raise UsageError(
                    f"{target} exists: keygen does not overwrite a key (it may have signed "
                    "a ledger or a review); give another --out"
                    + ("" if force is None else ", or --force to replace it")
                )
    _write_new(private_path, private_pem, 0o600)
    _write_new(public_path, public_pem, 0o644)


def load_signing_key(path: Path) -> SigningKey:
    """The Ed25519 private key of a PEM file; UsageError saying why it cannot be used."""
    data = _read_key_file(path, "--sign-key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise UsageError(
            f"--sign-key {path}: not an unencrypted PEM private key ({exc}); make one with "
            "'borderwatch keygen --out PATH'"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise UsageError(
            f"--sign-key {path}: a {type(key).__name__.removeprefix('_')} key, not Ed25519; "
            "make one with 'borderwatch keygen --out PATH'"
        )
    return SigningKey(key)


def load_public_key(path: Path) -> PublicKey:
    """The Ed25519 public key of a PEM file (PATH.pub of keygen); a private key file is
    also accepted (its public half is used). UsageError saying why it cannot be used."""
    data = _read_key_file(path, "--key")
    try:
        loaded = serialization.load_pem_public_key(data)
    except ValueError:
        try:
            private = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            raise UsageError(
                f"--key {path}: not a PEM public key (give the PATH.pub 'borderwatch keygen' wrote)"
            ) from None
        loaded = private.public_key()
    if not isinstance(loaded, Ed25519PublicKey):
        raise UsageError(f"--key {path}: not an Ed25519 key")
    return PublicKey(
        loaded.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


def _read_key_file(path: Path, option: str) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{option} {path}: cannot be read ({exc.strerror or exc})") from None
    if len(data) > 64 * 1024:
        raise UsageError(f"{option} {path}: {len(data):,} bytes is not a key file")
    return data


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Write `data` to `path` with `mode` from the start (never readable by others, even
    for a moment), replacing what is there."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    handle = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(handle, mode)  # the umask may have taken bits away; never adds any
        os.write(handle, data)
        os.fsync(handle)
    finally:
        os.close(handle)
    os.replace(temp, path)
