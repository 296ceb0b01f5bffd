"""Data subjects named by accesses to Data Security Program stores, as 64-bit ids.

The DSP counts distinct US persons (or devices) reached per counterparty over any 12
months (28 CFR 202.205). For a store that holds a DSP category, each access digest row
carries one more group key, `subject`:

- the subject's id hashed to 64 bits (BLAKE2b-64 of its UTF-8 text, never 0), when a
  resource name the log gives matches the store's subject key pattern (the policy's
  `dsp.subject_keys`: an S3 object ARN such as arn:aws:s3:::bucket/users/1234/x.json, a
  DynamoDB item name such as arn:aws:dynamodb:r:a:table/T/item/id=1234). An access
  naming several subjects (a batch) gives one row per distinct subject: the first
  carries the event (events = 1), the others events = 0, so sums of events stay counts
  of events while every subject is counted;
- WHOLE_STORE (0) when the access reached data but named no subject (a DynamoDB Scan,
  an export, a read of a whole dataset object, a store without a pattern): such an
  access counts the store's whole volume, and the finding says so;
- null for stores without a DSP category, and for actions that read or change only the
  store's configuration (METADATA_PREFIXES), which reach no subject's data.

Digest rows stay sums, minima and maxima over equal keys, so per-day subject sets merge
exactly across batches, workers and incremental scans. Two subjects share a hash with
probability about n^2 / 2^65 (3 in a million for ten million subjects): the counts are
exact up to that.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["METADATA_PREFIXES", "WHOLE_STORE", "hash_subjects", "subject_column"]

WHOLE_STORE = 0
# Actions that touch a store's configuration, not the data subjects in it (S3 bucket
# settings, DynamoDB and RDS descriptions, tags). Any other successful action on a DSP
# store is an access to its data (28 CFR 202.201 counts reading, copying, altering).
METADATA_PREFIXES: tuple[str, ...] = (
    "Describe",
    "GetBucket",
    "PutBucket",
    "DeleteBucket",
    "HeadBucket",
    "ListBuckets",
    "ListTags",
    "TagResource",
    "UntagResource",
    "GetAccelerateConfiguration",
    "GetEncryptionConfiguration",
    "GetLifecycleConfiguration",
    "GetObjectLockConfiguration",
    "GetPublicAccessBlock",
    "GetResourcePolicy",
)


def hash_subjects(texts: pa.Array) -> pa.Array:
    """Each subject id as a signed 64-bit BLAKE2b hash, never WHOLE_STORE (null stays null).

    Only distinct values are hashed: a batch names far fewer subjects than rows.
    """
    encoded = (
        pc.dictionary_encode(texts).combine_chunks()
        if isinstance(texts, pa.ChunkedArray)
        else pc.dictionary_encode(texts)
    )
    hashed = np.array([_hash64(value) for value in encoded.dictionary.to_pylist()], dtype=np.int64)
    indices = encoded.indices
    if len(hashed) == 0:
        return pa.nulls(len(texts), pa.int64())
    return pa.array(hashed).take(indices)


def _hash64(text: str) -> int:
    value = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
    value = value - (1 << 64) if value >= 1 << 63 else value
    return value if value != WHOLE_STORE else 1


def subject_column(
    resources: pa.ListArray,
    actions: pa.Array,
    codes: np.ndarray,
    patterns: Sequence[str | bool | None],
) -> tuple[np.ndarray, pa.Array]:
    """The `subject` of each digest row (see the module's docstring), one or more a row.

    `resources` and `actions`: the rows' events' resource names and actions; `codes`:
    each row's store code; `patterns[code]`: the store's subject key pattern, None for a
    DSP store without one, False for a store without a DSP category.

    Returns (row, subject): a row whose resources name several distinct subjects (a
    BatchGetItem of 100 keys, S3 DeleteObjects, a CloudTrail event listing several
    objects) comes once per subject, by row and then subject hash; every other row once.
    """
    n = len(codes)
    every = np.arange(n, dtype=np.int64)
    kind = np.array([p is not False for p in patterns], dtype=bool)
    if n == 0 or not kind.any():
        return every, pa.nulls(n, pa.int64())
    out = np.zeros(n, dtype=np.int64)
    is_null = np.ones(n, dtype=bool)
    named_rows: list[np.ndarray] = []  # rows naming subjects, one entry per subject
    named_hashes: list[np.ndarray] = []
    dsp = kind[codes]
    data_rows = dsp & ~_is_metadata(actions)
    is_null[data_rows] = False  # WHOLE_STORE unless subjects are found below
    named = np.zeros(n, dtype=bool)
    for pattern in sorted({p for p in patterns if isinstance(p, str)}):
        with_pattern = np.array([p == pattern for p in patterns], dtype=bool)
        rows = np.flatnonzero(data_rows & with_pattern[codes])
        if len(rows) == 0:
            continue
        lists = resources.take(pa.array(rows))
        flat = pc.list_flatten(lists)
        if len(flat) == 0:
            continue
        parents = pc.list_parent_indices(lists).to_numpy()
        found = pc.struct_field(pc.extract_regex(flat, pattern=pattern), [0])
        hit = pc.and_(pc.is_valid(found), pc.greater(pc.utf8_length(found), 0))
        hit_np = pc.fill_null(hit, False).to_numpy(zero_copy_only=False)
        if not hit_np.any():
            continue
        # Every distinct subject a row's resources name (a row's store has one pattern).
        hashes = hash_subjects(pc.filter(found, hit)).to_numpy()
        pairs = np.unique(np.stack([rows[parents[hit_np]], hashes], axis=1), axis=0)
        named_rows.append(pairs[:, 0])
        named_hashes.append(pairs[:, 1])
        named[pairs[:, 0]] = True
    if not named_rows:
        return every, pa.array(out, mask=is_null)
    plain = np.flatnonzero(~named)
    all_rows = np.concatenate([plain, *named_rows])
    all_subjects = np.concatenate([out[plain], *named_hashes])
    all_null = np.concatenate([is_null[plain], np.zeros(len(all_rows) - len(plain), bool)])
    order = np.argsort(all_rows, kind="stable")
    return all_rows[order], pa.array(all_subjects[order], mask=all_null[order])


def _is_metadata(actions: pa.Array) -> np.ndarray:
    """Whether each action touches only a store's configuration (METADATA_PREFIXES)."""
    text = pc.fill_null(pc.cast(actions, pa.string()), "")
    result = np.zeros(len(text), dtype=bool)
    for prefix in METADATA_PREFIXES:
        result |= pc.starts_with(text, prefix).to_numpy(zero_copy_only=False)
    return result
