"""What a model store holds: every file hashed to SHA-256, streamed, however large.

A store is a folder or an S3 location (`s3://bucket/prefix`, read with boto3, which
takes its endpoint and credentials from the environment as usual). Each file becomes a
`DeployedArtifact` of kind "model" named by its path below the store's root (the name a
reviewer's statement gives it). In a folder, a symbolic link is followed only when it
stays inside the store, and anything that is not a regular file (a FIFO, a device) is
not opened: both are quarantined with the reason, as is a file that cannot be read.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from borderwatch.model.events import QuarantinedRecord
from borderwatch.model.oversight import DeployedArtifact
from borderwatch.sources.k8s_images import ArtifactRead

CHUNK = 1024 * 1024
KIND = "model-store"


def read_model_store(location: str) -> ArtifactRead:
    """Every file of the store at `location` (a folder or s3://bucket/prefix), hashed."""
    if location.startswith("s3://"):
        return _read_s3(location)
    return _read_folder(Path(location))


def sha256_stream(chunks: Iterator[bytes]) -> tuple[str, int]:
    """(hex SHA-256, size in bytes) of a stream of chunks, holding one chunk at a time."""
    digest = hashlib.sha256()
    size = 0
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            yield chunk


def _read_folder(root: Path) -> ArtifactRead:
    result = ArtifactRead(str(root), KIND, "folder")
    if not root.is_dir():
        result.records_read = 1
        result.quarantined.append(_quarantine(str(root), "not a folder or s3:// location"))
        return result
    real_root = root.resolve()
    for path in sorted(_files(root)):
        result.records_read += 1
        relative = path.relative_to(root).as_posix()
        reason = _refusal(path, real_root)
        if reason:
            result.quarantined.append(_quarantine(f"{root}/{relative}", reason))
            continue
        try:
            digest, size = sha256_stream(_file_chunks(path))
        except OSError as exc:
            result.quarantined.append(
                _quarantine(f"{root}/{relative}", f"cannot read: {exc.strerror or exc}")
            )
            continue
        result.accepted += 1
        result.artifacts.append(_model(relative, digest, size, f"{root}/{relative}", str(root)))
    return result


def _files(root: Path) -> Iterator[Path]:
    """Every entry below root that is not a folder (links to folders are not entered)."""
    for folder, folders, names in os.walk(root, followlinks=False):
        folders.sort()
        yield from (Path(folder) / name for name in names)
        yield from (Path(folder) / name for name in folders if (Path(folder) / name).is_symlink())


def _refusal(path: Path, real_root: Path) -> str:
    """Why `path` is not hashed, or "" when it is a regular file inside the store."""
    if path.is_symlink():
        target = path.resolve()
        if not target.is_relative_to(real_root):
            return f"a symbolic link that leaves the store (to {target})"
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    if not stat.S_ISREG(mode):
        return "not a regular file (a FIFO, device, socket or folder link); not opened"
    return ""


def _read_s3(location: str) -> ArtifactRead:
    import boto3  # optional dependency: the `aws` extra

    result = ArtifactRead(location, KIND, "s3")
    bucket, _, prefix = location.removeprefix("s3://").partition("/")
    # A prefix names a folder: s3://b/prod is prod/..., never production/...
    prefix = prefix.rstrip("/") + "/" if prefix.strip("/") else ""
    client = boto3.client("s3")
    try:
        listed = [
            item
            for page in client.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=prefix
            )
            for item in page.get("Contents", [])
        ]
    except Exception as exc:  # no bucket, no access, no endpoint: the store is unread
        result.records_read = 1
        result.quarantined.append(_quarantine(location, f"cannot list: {_short(exc)}"))
        return result
    for item in listed:
        key = item["Key"]
        if key.endswith("/"):
            continue  # a folder marker, not a file
        result.records_read += 1
        url = f"s3://{bucket}/{key}"
        try:
            body = client.get_object(Bucket=bucket, Key=key)["Body"]
            digest, size = sha256_stream(body.iter_chunks(CHUNK))
        except Exception as exc:  # botocore's errors have no common base worth naming
            result.quarantined.append(_quarantine(url, f"cannot read: {_short(exc)}"))
            continue
        relative = key[len(prefix) :]
        result.accepted += 1
        result.artifacts.append(_model(relative, digest, size, url, location))
    return result


def _model(name: str, digest: str, size: int, reference: str, store: str) -> DeployedArtifact:
    return DeployedArtifact(
        kind="model",
        name=name,
        digest=digest,
        reference=reference,
        namespace=None,
        workload=store,
        origin="model-store",
        source=reference,
        size=size,
    )


def _short(exc: Any) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def _quarantine(where: str, reason: str) -> QuarantinedRecord:
    return QuarantinedRecord(where, "whole file", reason, "", KIND)
