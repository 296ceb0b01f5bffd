"""The fast path of the CloudTrail reader: typed decoding and column-wise normalisation.

Records that look like what CloudTrail writes are decoded with msgspec into Structs that
hold only the fields the canonical event needs, and their columns are built a batch at a
time: identities (which repeat) are normalised once per distinct raw JSON, times are
parsed by Arrow. Every record the typed path is not sure about (a wrong type, no
eventID, no eventTime, an EventBridge envelope, an odd time) goes through the forgiving
per-record `normalise`, so rows, quarantine reasons and positions are the same as the
slow path's; tests/test_throughput_equivalence.py checks this.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from isal import isal_zlib
from msgspec.structs import astuple

from borderwatch.model.events import EVENT_SCHEMA
from borderwatch.sources.base import SourceBatch
from borderwatch.sources.batches import BatchBuilder
from borderwatch.sources.cloudtrail_items import DYNAMODB, ITEM_PARAMETERS, item_names
from borderwatch.sources.cloudtrail_record import (
    RESOURCE_PARAMETERS,
    normalise,
    principal_of,
    resource_keys,
)
from borderwatch.sources.inputs import (
    CorruptInputError,
    LongLine,
    compression_of,
    document_limit,
    iter_lines,
    line_block,
    open_regular,
    read_bounded,
    record_limit,
    split_lines,
    too_long,
)
from borderwatch.sources.jsondoc import add_record, after_line, damage_reason
from borderwatch.sources.names import display_name
from borderwatch.sources.record import RecordError, text

# RecursionError: msgspec follows about 1,000 levels of nesting (even in skipped fields).
_DECODE_ERRORS = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)
# isal's stubs do not say its error is an exception class; it is (IsalError).
_INFLATE_ERRORS = (zlib.error, cast(type[Exception], isal_zlib.error))
# CloudTrail writes every eventTime like this; anything else takes the forgiving path.
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_TIME_TYPE = EVENT_SCHEMA.field("event_time").type
# The first representable time (see record.in_utc); Arrow would take earlier ones.
_FIRST_TIME = pa.scalar(datetime(1, 1, 1), pa.timestamp("s"))
_STRINGS = pa.list_(pa.string())
# Resource-key memo, cleared when it grows past this (object ARNs rarely repeat).
_MEMO_LIMIT = 200_000
_S3_ARN = "arn:aws:s3:::"
_S3_ARN_LENGTH = len(_S3_ARN)
_GZIP_MAGIC = b"\x1f\x8b"
# Typed records turned into columns at once. The column pass walks a batch's records
# several times (identities, resources, low-cardinality fields, times...); a batch this
# small stays in the core's cache between the walks. Measured on 200,000 JSON lines:
# 50,000 per batch 5.0 us a record, 16,384 4.3, 4,096 3.1, 2,048 3.0.
COLUMN_BATCH = 2048


class _Resource(msgspec.Struct, gc=False):
    ARN: str | None = None
    arn: str | None = None


_ABSENT = msgspec.Raw(b"null")


class _Parameters(msgspec.Struct, gc=False):
    bucketName: str | None = None
    tableName: str | None = None
    TableName: str | None = None
    resourceArn: str | None = None
    dBInstanceIdentifier: str | None = None
    dBClusterIdentifier: str | None = None
    dBSnapshotIdentifier: str | None = None
    dBClusterSnapshotIdentifier: str | None = None
    snapshotId: str | None = None
    volumeId: str | None = None
    # What may name DynamoDB items (cloudtrail_items.py), kept raw: decoded only for
    # DynamoDB events that carry them. Never part of the memo shapes below. (msgspec
    # takes no Raw | None: absent is a raw null.)
    key: msgspec.Raw = _ABSENT
    requestItems: msgspec.Raw = _ABSENT
    transactItems: msgspec.Raw = _ABSENT
    statement: msgspec.Raw = _ABSENT
    statements: msgspec.Raw = _ABSENT
    requests: msgspec.Raw = _ABSENT
    keyConditionExpression: msgspec.Raw = _ABSENT
    expressionAttributeValues: msgspec.Raw = _ABSENT
    expressionAttributeNames: msgspec.Raw = _ABSENT


_NAMING = len(RESOURCE_PARAMETERS)
assert _Parameters.__struct_fields__ == (*RESOURCE_PARAMETERS, *ITEM_PARAMETERS)


def _named(parameters: _Parameters) -> tuple[Any, ...]:
    """The request parameters that name resources (RESOURCE_PARAMETERS), in order."""
    return astuple(parameters)[:_NAMING]


def _items_of(record: Record, account: Callable[[], str | None]) -> list[str]:
    """The DynamoDB item names of a record (cloudtrail_items.item_names), as normalise()
    gives them; [] at once for records of other services or without item parameters."""
    parameters = record.requestParameters
    if parameters is None or record.eventSource != DYNAMODB:
        return []
    given = {
        name: _GENERIC.decode(raw)
        for name, raw in zip(ITEM_PARAMETERS, astuple(parameters)[_NAMING:], strict=True)
        if bytes(raw) != b"null"
    }
    if not given:
        return []
    if parameters.tableName:
        given["tableName"] = parameters.tableName
    elif parameters.TableName:
        given["TableName"] = parameters.TableName
    return item_names(DYNAMODB, given, record.awsRegion or None, account())


class Record(msgspec.Struct, gc=False):
    """The fields of a CloudTrail record the canonical event reads; others are skipped."""

    eventID: str | None = None
    eventTime: str | None = None
    eventSource: str | None = None
    eventName: str | None = None
    awsRegion: str | None = None
    sourceIPAddress: str | None = None
    userAgent: str | None = None
    errorCode: str | None = None
    readOnly: bool | None = None
    recipientAccountId: str | None = None
    userIdentity: msgspec.Raw = msgspec.Raw(b"null")
    resources: list[_Resource] | None = None
    requestParameters: _Parameters | None = None
    # Present only in EventBridge envelopes: those take the forgiving path.
    detail: msgspec.Raw | None = None


class _Container(msgspec.Struct, gc=False):
    Records: list[msgspec.Raw]


class RecordsFile(msgspec.Struct, gc=False):
    """A delivered `{"Records": [...]}` file, every record typed."""

    Records: list[Record]


_RECORD = msgspec.json.Decoder(Record)
_CONTAINER = msgspec.json.Decoder(_Container)
_TYPED_CONTAINER = msgspec.json.Decoder(RecordsFile)
_GENERIC = msgspec.json.Decoder()


def _decode_one(raw: bytes) -> Record | None:
    if isinstance(raw, LongLine):
        return None  # only its head is here: never a record
    try:
        return _RECORD.decode(raw)
    except (msgspec.ValidationError, *_DECODE_ERRORS):
        return None


def _is_fast(record: Record) -> bool:
    """Whether the typed path can take a decoded record (else the forgiving path does)."""
    return not (
        not record.eventID
        or record.eventTime is None
        or record.detail is not None
        or not record.sourceIPAddress
        or (record.eventName is None and record.eventSource is None)
    )


class _NotFast(Exception):
    """The file must be read by the forgiving reader from the start."""


@dataclass(frozen=True)
class _Identity:
    principal: str | None
    aliases: list[str]
    kind: str | None
    account: str | None
    ok: bool


# The same few identities appear in file after file (delivered files hold a few hundred
# records each): normalising each once per process, not once per file, matters.
@functools.lru_cache(maxsize=1 << 16)
def _identity(raw: bytes) -> _Identity:
    """Principal columns of one distinct userIdentity; ok=False when normalise would fail."""
    try:
        value = _GENERIC.decode(raw)
    except _DECODE_ERRORS:
        return _Identity(None, [], None, None, False)
    if value is not None and not isinstance(value, dict):
        return _Identity(None, [], None, None, False)
    value = value or {}
    try:
        principal, aliases = principal_of(value)
        return _Identity(principal, aliases, text(value, "type"), text(value, "accountId"), True)
    except RecordError:
        return _Identity(None, [], None, None, False)


class FastBatcher:
    """Turns (raw record, position, ordinal) items of one file into SourceBatches."""

    def __init__(self, source_format: str, input_path: str, *, strict_json: bool) -> None:
        self.source_format = source_format
        self.input_path = display_name(input_path)  # as BatchBuilder stores it
        # Container files: a record the generic decoder rejects means the slow reader
        # would have salvaged the whole file, so the fast path gives up on it.
        self.strict_json = strict_json
        self._identities: dict[bytes, int] = {}
        self._identity_rows: list[_Identity] = []
        self._keys: dict[str, list[str]] = {}
        self._shapes: dict[tuple[Any, ...], list[str]] = {}
        # (bucket ARN, parameters) -> keys of a record naming an object in that bucket,
        # without the object ARN itself
        self._tails: dict[tuple[Any, ...], list[str]] = {}

    def batch(self, items: list[tuple[bytes, str, int]]) -> SourceBatch:
        """One batch of canonical events (in input order) and quarantined records.

        items: (raw JSON, position, ordinal) of each record, in input order. Each is
        decoded on its own: joined into one JSON array, a record split over two lines
        would be glued back together by the array's comma, and two records on one line
        counted as two (tests/test_throughput_equivalence.py has such a file).
        """
        records = [_decode_one(raw) for raw, _, _ in items]
        return self.decoded(records, [o for _, _, o in items], lambda: items)

    def decoded(
        self,
        records: list[Record | None],
        ordinals: list[int],
        items: Callable[[], list[tuple[bytes, str, int]]],
    ) -> SourceBatch:
        """As batch(), from records already decoded (None: the typed decoder refused it).

        `items` gives the raw records, needed only when some take the forgiving path.
        """
        fast: list[Record] = []
        fast_at: list[int] = []
        slow: list[int] = []
        for index, record in enumerate(records):
            if record is None or not _is_fast(record):
                slow.append(index)
                continue
            fast.append(record)
            fast_at.append(index)
        table, rejected = self._columns(fast, [ordinals[i] for i in fast_at], fast_at)
        if rejected:
            slow = sorted([*slow, *rejected])
        if not slow:
            return SourceBatch(self.input_path, table, records_read=table.num_rows)
        return self._merge(table, slow, items())

    def _columns(
        self,
        records: list[Record],
        ordinals: list[int],
        at: list[int],
        input_paths: pa.Array | None = None,
    ) -> tuple[pa.Table, list[int]]:
        """Columns of typed records; `at` positions of those refused (odd time or identity).

        `input_paths`: the input path of every record when they come from several files
        (else every record is from this batcher's file).
        """
        n = len(records)
        identities = self._identities
        rows = self._identity_rows
        index = []
        for r in records:
            key = bytes(r.userIdentity)
            found = identities.get(key)
            if found is None:
                found = identities[key] = len(rows)
                rows.append(_identity(key))
            index.append(found)
        take = pa.array(index, pa.int32())
        principal = pa.array([i.principal for i in rows], pa.string()).take(take)
        aliases = pa.array([i.aliases for i in rows], _STRINGS).take(take)
        kind = pa.array([i.kind for i in rows], pa.string()).take(take)
        identity_ok = pa.array([i.ok for i in rows], pa.bool_()).take(take)
        # Low-cardinality fields: one dictionary of distinct combinations, one take.
        combos: dict[tuple[Any, ...], int] = {}
        codes = [
            combos.setdefault(
                (
                    r.awsRegion or None,
                    r.eventSource or None,
                    r.eventName or None,
                    r.userAgent or None,
                    r.errorCode or None,
                    r.readOnly,
                    r.recipientAccountId or None,
                ),
                len(combos),
            )
            for r in records
        ]
        small = list(zip(*combos, strict=True)) if combos else [()] * 7
        pick = pa.array(codes, pa.int32())
        region, service, action, agent, error, read_only, own_account = (
            pa.array(values, kind).take(pick)
            for values, kind in zip(
                small, [pa.string()] * 5 + [pa.bool_(), pa.string()], strict=True
            )
        )
        account = pc.coalesce(
            own_account, pa.array([i.account for i in rows], pa.string()).take(take)
        )
        times = pa.array([r.eventTime for r in records], pa.string())
        naive = pc.strptime(times, _TIME_FORMAT, "s", error_is_null=True)
        # strptime rolls impossible dates over (Feb 30 -> Mar 2): only a time that prints
        # back as the same text is taken; everything else goes to the forgiving path.
        printed = pc.replace_substring(pc.utf8_slice_codeunits(times, 0, 19), "T", " ")
        time_ok = pc.fill_null(pc.equal(naive.cast(pa.string()), printed), False)
        # Arrow holds year 0 (0000-01-01T00:00:00Z prints back alike); Python, DuckDB's
        # conversions and every report do not: such a time takes the forgiving path,
        # which quarantines it with its reason.
        time_ok = pc.and_(time_ok, pc.fill_null(pc.greater_equal(naive, _FIRST_TIME), False))
        parsed = naive.cast(_TIME_TYPE)
        ok = pc.and_(time_ok, identity_ok)
        columns: dict[str, Any] = {
            "event_id": pa.array([r.eventID for r in records], pa.string()),
            "event_time": parsed,
            "source_format": pa.array([self.source_format] * n, pa.string()),
            "input_path": (
                input_paths
                if input_paths is not None
                else pa.array([self.input_path] * n, pa.string())
            ),
            "input_record": pa.array(ordinals, pa.int64()),
            "provider": pa.array(["aws"] * n, pa.string()),
            "account": account,
            "region": region,
            "service": service,
            "action": action,
            "principal": principal,
            "principal_aliases": aliases,
            "principal_type": kind,
            "caller": pa.array([r.sourceIPAddress for r in records], pa.string()),
            "claimed_country": pa.nulls(n, pa.string()),
            "claimed_location": pa.nulls(n, pa.string()),
            "user_agent": agent,
            "resources": self._resource_column(
                records, lambda i: records[i].recipientAccountId or rows[index[i]].account
            ),
            "read_only": read_only,
            "error_code": error,
        }
        if len(self._keys) > _MEMO_LIMIT:
            self._keys.clear()
        if len(self._shapes) > _MEMO_LIMIT:
            self._shapes.clear()
        if len(self._tails) > _MEMO_LIMIT:
            self._tails.clear()
        table = pa.Table.from_pydict(columns, schema=EVENT_SCHEMA)
        if n and not pc.all(ok).as_py():
            mask = ok.to_pylist()
            rejected = [at[i] for i, good in enumerate(mask) if not good]
            return table.filter(ok), rejected
        return table, []

    def _resource_column(
        self, records: list[Record], account: Callable[[int], str | None]
    ) -> pa.Array:
        """The resources list column: every record's keys in one flat array and offsets.

        The same keys, in the same order, as normalise() gives; this is the hottest loop
        of the reader, hence the local names. Most records name at most one resource
        besides their request parameters and repeat what earlier records named: their
        whole key list is remembered by that shape. An S3 object ARN is unique per event:
        a record naming one takes the keys remembered for its bucket and parameters
        instead (its own keys are the ARN and those, without repeats). A DynamoDB record
        naming items takes the general path, its item names last. `account(i)`: the
        account of record i.
        """
        memo = self._keys
        known = memo.get
        shapes = self._shapes
        known_shape = shapes.get
        tails = self._tails
        known_tail = tails.get
        flat: list[str] = []
        offsets = [0]
        add_offset = offsets.append
        for position, record in enumerate(records):
            listed = record.resources
            parameters = record.requestParameters
            shape: tuple[Any, ...] | None = None
            items = (
                _items_of(record, lambda: account(position))  # noqa: B023 (called at once)
                if record.eventSource == DYNAMODB
                else _NO_ITEMS
            )
            if not items and (not listed or len(listed) == 1):
                first = listed[0] if listed else _NO_RESOURCE
                shape = (
                    first.ARN,
                    first.arn,
                    None if parameters is None else _named(parameters),
                )
                remembered = known_shape(shape)
                if remembered is not None:
                    flat += remembered
                    add_offset(len(flat))
                    continue
                arn = first.ARN or first.arn
                bucket = None if arn is None else _object_bucket(arn)
                if arn is not None and bucket is not None:
                    tail_shape = (bucket, shape[2])
                    tail = known_tail(tail_shape)
                    if tail is None:
                        tail = tails[tail_shape] = self._bucket_tail(bucket, parameters)
                    flat.append(arn)
                    flat += tail if arn not in tail else [k for k in tail if k != arn]
                    add_offset(len(flat))
                    continue
            keys: list[str] = []
            if listed:
                for entry in listed:
                    arn = entry.ARN or entry.arn
                    if arn is None:
                        continue
                    found = known(arn)
                    if found is None:
                        bucket = _object_bucket(arn)
                        if bucket is not None:
                            # An object ARN is unique per event: never memoised. Its
                            # keys are itself and its bucket ARN's (memoised) keys.
                            shape = None
                            keys.append(arn)
                            found = known(bucket)
                            if found is None:
                                found = memo[bucket] = resource_keys(bucket)
                        else:
                            found = memo[arn] = resource_keys(arn)
                    keys += found
            parameters = record.requestParameters
            if parameters is not None:
                for value in _named(parameters):
                    if value:
                        found = known(value)
                        if found is None:
                            found = memo[value] = resource_keys(value)
                        keys += found
            if items:
                keys += items
            if len(keys) > 1:
                keys = list(dict.fromkeys(keys))
            if shape is not None:
                shapes[shape] = keys
            flat += keys
            add_offset(len(flat))
        return pa.ListArray.from_arrays(
            pa.array(offsets, pa.int32()), pa.array(flat, pa.string()), type=_STRINGS
        )

    def _bucket_tail(self, bucket: str, parameters: _Parameters | None) -> list[str]:
        """The keys of a bucket ARN and of request parameters, in order, without repeats."""
        memo = self._keys
        keys = memo.get(bucket)
        if keys is None:
            keys = memo[bucket] = resource_keys(bucket)
        keys = list(keys)
        if parameters is not None:
            for value in _named(parameters):
                if value:
                    found = memo.get(value)
                    if found is None:
                        found = memo[value] = resource_keys(value)
                    keys += found
        return list(dict.fromkeys(keys))

    def _merge(
        self, table: pa.Table, slow: list[int], items: list[tuple[bytes, str, int]]
    ) -> SourceBatch:
        builder = BatchBuilder(self.source_format, self.input_path)
        for index in slow:
            raw, position, ordinal = items[index]
            if isinstance(raw, LongLine):
                builder.quarantine(position, too_long(raw, record_limit()), raw)
                continue
            try:
                record = _GENERIC.decode(raw)
            except _DECODE_ERRORS as exc:
                if self.strict_json:
                    raise _NotFast from exc
                builder.quarantine(position, f"invalid JSON: {exc}", raw)
                continue
            add_record(builder, normalise, record, position, ordinal)
        extra = builder.flush()
        events = table
        if extra.events.num_rows:
            events = pa.concat_tables([table, extra.events])
            events = events.take(pc.sort_indices(events, [("input_record", "ascending")]))
        return SourceBatch(
            self.input_path,
            events,
            quarantined=extra.quarantined,
            records_read=table.num_rows + extra.records_read,
        )


_NO_RESOURCE = _Resource()
_NO_ITEMS: list[str] = []


def _object_bucket(arn: str) -> str | None:
    """The bucket ARN of an S3 object ARN (`arn:aws:s3:::bucket/key`), else None.

    resource_keys() of such an ARN is the ARN itself followed by resource_keys() of the
    bucket ARN (duplicates aside, which the caller drops).
    """
    if not arn.startswith(_S3_ARN) or arn[-1].isspace():
        return None
    cut = arn.find("/", _S3_ARN_LENGTH)
    return arn[:cut] if cut > _S3_ARN_LENGTH else None


def _whole_file(path: Path) -> tuple[bytes, CorruptInputError | None] | None:
    """read_all(path), with a single-member gzip file inflated in one call; None when the
    content is larger than the document limit (the caller's slow path streams it).

    ISA-L inflates about three times as fast as zlib (same output; it checks the CRC
    and length in the trailer too). Anything else (several members, trailing bytes,
    damage, zstd) is left to read_bounded, so damage is reported exactly as before.
    """
    limit = document_limit()
    if path.stat().st_size > limit:
        return None
    with open_regular(path) as handle:
        raw = handle.read()
    if raw[:2] == _GZIP_MAGIC:
        inflate = isal_zlib.decompressobj(wbits=31)
        try:
            data = inflate.decompress(raw, limit + 1)
        except _INFLATE_ERRORS:
            return read_bounded(path, limit)
        if len(data) > limit:
            return None
        if inflate.eof and not inflate.unused_data:
            return data, None
    elif compression_of(raw[:4]) is None:
        return raw, None
    return read_bounded(path, limit)


def read_container(
    path: Path,
    source_format: str,
    batch_size: int,
    fallback: Callable[[], Iterator[SourceBatch]],
) -> Iterator[SourceBatch]:
    """A {"Records": [...]} file; any doubt about the document hands it to `fallback`."""
    whole = _whole_file(path)
    if whole is None or whole[1] is not None:
        yield from fallback()
        return
    data = whole[0]
    records: list[Record | None]
    try:
        records = list(_TYPED_CONTAINER.decode(data).Records)
    except (msgspec.ValidationError, *_DECODE_ERRORS):
        try:
            raws = _CONTAINER.decode(data).Records
        except (msgspec.ValidationError, *_DECODE_ERRORS):
            yield from fallback()
            return
        records = [_decode_one(raw) for raw in raws]
    raw_items: list[tuple[bytes, str, int]] = []

    def items(start: int, stop: int) -> list[tuple[bytes, str, int]]:
        if not raw_items:
            raw_items.extend(
                (bytes(raw), f"record {i} of Records", i)
                for i, raw in enumerate(_CONTAINER.decode(data).Records, start=1)
            )
        return raw_items[start:stop]

    batcher = FastBatcher(source_format, str(path), strict_json=True)
    batches = []
    try:
        step = min(batch_size, COLUMN_BATCH)
        for start in range(0, max(len(records), 1), step):
            stop = start + step
            batches.append(
                batcher.decoded(
                    records[start:stop],
                    list(range(start + 1, min(stop, len(records)) + 1)),
                    lambda start=start, stop=stop: items(start, stop),  # type: ignore[misc]
                )
            )
    except _NotFast:
        yield from fallback()
        return
    yield from batches


def pure_container(path: Path) -> list[Record] | None:
    """The records of a {"Records": [...]} file if the typed path takes every one of them.

    None for anything else (damage, a record the typed decoder refuses or hands to the
    forgiving path, more records than one pool holds): such a file is read on its own.
    """
    whole = _whole_file(path)
    if whole is None or whole[1] is not None:
        return None
    try:
        records = _TYPED_CONTAINER.decode(whole[0]).Records
    except (msgspec.ValidationError, *_DECODE_ERRORS):
        return None
    if len(records) > POOL_RECORDS or not all(map(_is_fast, records)):
        return None
    return records


# Records of many small files turned into columns at once (many delivered files hold a
# few dozen records; the per-batch work of building columns would dominate), about one
# COLUMN_BATCH.
POOL_RECORDS = COLUMN_BATCH


class ContainerPool:
    """Records of several clean {"Records": [...]} files, turned into columns together.

    Each file still gets its own SourceBatch (a slice of the pooled table), so the
    accounting per file is what reading it alone gives; a file with a record the column
    pass refuses is read on its own instead, in its place in the order.
    """

    def __init__(self, source_format: str) -> None:
        self.batcher = FastBatcher(source_format, "", strict_json=True)
        self.files: list[tuple[int, Path, list[Record]]] = []
        self.size = 0

    def add(self, index: int, path: Path, records: list[Record]) -> None:
        self.files.append((index, path, records))
        self.size += len(records)

    def flush(
        self, read_one: Callable[[Path], Iterator[SourceBatch]]
    ) -> Iterator[tuple[int, SourceBatch]]:
        """(file index, batch) of every pooled file, in the order they were added."""
        files, self.files, self.size = self.files, [], 0
        if not files:
            return
        records = [r for _, _, recs in files for r in recs]
        counts = np.array([len(recs) for _, _, recs in files], dtype=np.int64)
        paths = pa.array([display_name(path) for _, path, _ in files], pa.string())
        owner = np.repeat(np.arange(len(files)), counts)
        ordinals = [number for n in counts.tolist() for number in range(1, n + 1)]
        table, rejected = self.batcher._columns(
            records, ordinals, list(range(len(records))), paths.take(pa.array(owner))
        )
        refused = np.zeros(len(files), dtype=np.int64)
        if rejected:
            np.add.at(refused, owner[np.array(rejected)], 1)
        offset = 0  # rows of the (filtered) table used so far
        for (index, path, recs), bad in zip(files, refused.tolist(), strict=True):
            if bad:
                offset += len(recs) - bad  # its accepted rows are in the table too
                for batch in read_one(path):
                    yield index, batch
                continue
            yield (
                index,
                SourceBatch(
                    display_name(path), table.slice(offset, len(recs)), records_read=len(recs)
                ),
            )
            offset += len(recs)


def read_lines(path: Path, source_format: str, batch_size: int) -> Iterator[SourceBatch]:
    """A JSON lines file, streamed a batch at a time."""
    with open_regular(path) as handle:
        compressed = compression_of(handle.read(4)) is not None
    if compressed:
        yield from _read_stream_lines(path, source_format, batch_size)
        return
    batcher = FastBatcher(source_format, str(path), strict_json=False)
    for first, lines in _plain_lines(path):
        step = min(batch_size, COLUMN_BATCH)
        for start in range(0, len(lines), step):
            yield _line_batch(batcher, lines[start : start + step], first + start)


def _plain_lines(path: Path) -> Iterator[tuple[int, list[bytes]]]:
    """(number of the first line, lines without their newline) a block at a time.

    Lines as iter_lines gives them, for a file that is not compressed (nothing to be
    damaged): split on b"\\n" only, the last one with or without a newline; a line
    longer than the record limit comes as a LongLine, never held whole.
    """
    number = 1
    block = line_block()  # bytes read at a time (ReadLimits.line_block_bytes)
    with open_regular(path) as handle:
        for lines in split_lines(iter(lambda: handle.read(block), b""), record_limit()):
            yield number, lines
            number += len(lines)


def _line_batch(batcher: FastBatcher, lines: list[bytes], first: int) -> SourceBatch:
    """One batch of lines numbered from `first`; blank lines are skipped, not records."""
    try:
        if any(type(line) is LongLine for line in lines):
            raise msgspec.DecodeError("a line over the record limit")
        records: list[Record | None] = [_RECORD.decode(line) for line in lines]
    except (msgspec.ValidationError, *_DECODE_ERRORS):
        # A blank line or a record the typed decoder refuses: line by line, as before.
        return batcher.batch(
            [
                (_without_newline(line), f"line {number}", number)
                for number, line in enumerate(lines, first)
                if line.strip() or isinstance(line, LongLine)
            ]
        )

    def raw_items() -> list[tuple[bytes, str, int]]:
        return [
            (_without_newline(line), f"line {number}", number)
            for number, line in enumerate(lines, first)
        ]

    return batcher.decoded(records, list(range(first, first + len(lines))), raw_items)


def _read_stream_lines(path: Path, source_format: str, batch_size: int) -> Iterator[SourceBatch]:
    """A compressed JSON lines file, line by line: damage stops it where iter_lines does."""
    batcher = FastBatcher(source_format, str(path), strict_json=False)
    items: list[tuple[bytes, str, int]] = []
    number = 0
    try:
        for number, line in iter_lines(path):
            if not line.strip() and not isinstance(line, LongLine):
                continue
            items.append((line, f"line {number}", number))
            if len(items) >= min(batch_size, COLUMN_BATCH):
                yield batcher.batch(items)
                items = []
    except CorruptInputError as exc:
        batch = batcher.batch(items)
        damage = BatchBuilder(source_format, str(path))
        damage.quarantine(after_line(number), damage_reason(exc), b"")
        batch.quarantined.extend(damage.flush().quarantined)
        batch.records_read += 1
        yield batch
        return
    yield batcher.batch(items)


def _without_newline(line: bytes) -> bytes:
    """The line without a trailing CR/LF; an over-long line's head stays a LongLine."""
    return line if isinstance(line, LongLine) else line.rstrip(b"\r\n")
