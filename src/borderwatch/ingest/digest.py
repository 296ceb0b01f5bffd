"""The access digest: accesses to protected stores, aggregated where every signal is equal.

The access rules never look at one event alone: they judge groups of successful requests
to one protected store that share every signal (principal and its aliases, caller, day,
the event's provider and region), with the group's count, time span and a few sample
values. Those groups are sums, minima and maxima, so they can be built in pieces (per
batch, per worker, per day of logs) and merged later with exactly the same result. That
is what makes reading parallel and incremental scans cheap: workers hand over digests,
not events, and the scan state keeps digests, not a year of events.

Pure functions over Arrow tables; `access_rows` turns events into one-event digest rows,
`aggregate` merges any digest rows into fewer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from borderwatch.ingest.subjects import subject_column
from borderwatch.model.events import EVENT_SCHEMA

_STRING = pa.string()
_TIME = EVENT_SCHEMA.field("event_time").type

# The signals a group shares; equal keys (nulls equal to nulls) make one group.
# principal_aliases is grouped by aliases_key, the same list as one comparable string.
GROUP_KEYS: tuple[str, ...] = (
    "store_id",
    "principal",
    "aliases_key",
    "caller",
    "day",
    "provider",
    "region",
    "subject",
)

DIGEST_SCHEMA = pa.schema(
    [
        ("store_id", _STRING),
        ("principal", _STRING),
        ("principal_aliases", pa.list_(_STRING)),
        # A string equal exactly when the alias lists are equal (see _list_key): grouping
        # and joining on it is much cheaper than on the list.
        ("aliases_key", _STRING),
        ("caller", _STRING),
        ("day", pa.date32()),
        ("provider", _STRING),
        ("region", _STRING),
        # Data Security Program stores only: the data subject the access named, hashed,
        # or 0 for an access to the whole store (ingest/subjects.py); null elsewhere.
        ("subject", pa.int64()),
        ("events", pa.int64()),
        ("first_seen", _TIME),
        ("last_seen", _TIME),
        # Samples: the smallest and largest value in the group (fixed size, mergeable).
        ("min_event_id", _STRING),
        ("max_event_id", _STRING),
        ("min_action", _STRING),
        ("max_action", _STRING),
        ("min_claimed_country", _STRING),
        ("max_claimed_country", _STRING),
    ]
)

# (digest column, how pieces merge)
_MERGE: tuple[tuple[str, str], ...] = (
    ("events", "sum"),
    ("first_seen", "min"),
    ("last_seen", "max"),
    ("min_event_id", "min"),
    ("max_event_id", "max"),
    ("min_action", "min"),
    ("max_action", "max"),
    ("min_claimed_country", "min"),
    ("max_claimed_country", "max"),
)

# The event columns a digest row copies from its event...
_PICKED = (
    "event_id",
    "event_time",
    "provider",
    "region",
    "action",
    "principal",
    "principal_aliases",
    "caller",
    "claimed_country",
)
# ... and all those access_rows reads (it needs no others).
EVENT_COLUMNS = ("resources", "error_code", *_PICKED)


@dataclass(frozen=True)
class ProtectedKeys:
    """Every name (store id or alias) under which a log may mention a protected store."""

    table: pa.Table  # key, store_id: one row per pair
    # Stores holding a Data Security Program category, with their subject key pattern
    # (None: none), as (store_id, pattern): their accesses carry a subject.
    subject_patterns: tuple[tuple[str, str | None], ...] = ()
    # Derived: the distinct pairs, sorted (what the fingerprint covers), and a lookup of
    # distinct key names; the stores of names[i] are stores[codes[starts[i]:starts[i + 1]]].
    pairs: tuple[tuple[str, str], ...] = field(init=False, repr=False, compare=False)
    names: pa.Array = field(init=False, repr=False, compare=False)
    starts: np.ndarray = field(init=False, repr=False, compare=False)
    codes: np.ndarray = field(init=False, repr=False, compare=False)
    stores: pa.Array = field(init=False, repr=False, compare=False)
    # Per store code: its subject key pattern, None (a DSP store without one) or False.
    patterns: tuple[str | bool | None, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pairs = sorted(
            set(
                zip(
                    self.table.column("key").to_pylist(),
                    self.table.column("store_id").to_pylist(),
                    strict=True,
                )
            )
        )
        object.__setattr__(self, "pairs", tuple(pairs))
        keys = [key for key, _ in pairs]
        store_ids = [store for _, store in pairs]
        distinct_stores = sorted(set(store_ids))
        code_of = {store: code for code, store in enumerate(distinct_stores)}
        names: list[str] = []
        starts: list[int] = []
        for position, key in enumerate(keys):
            if not names or names[-1] != key:
                names.append(key)
                starts.append(position)
        starts.append(len(keys))
        object.__setattr__(self, "names", pa.array(names, _STRING))
        object.__setattr__(self, "starts", np.array(starts, dtype=np.int64))
        object.__setattr__(self, "codes", np.array([code_of[s] for s in store_ids], dtype=np.int64))
        object.__setattr__(self, "stores", pa.array(distinct_stores, _STRING))
        by_store: dict[str, str | bool | None] = dict(self.subject_patterns)
        object.__setattr__(
            self, "patterns", tuple(by_store.get(store, False) for store in distinct_stores)
        )

    @classmethod
    def from_pairs(
        cls,
        pairs: Iterable[tuple[str, str]],
        subject_patterns: Iterable[tuple[str, str | None]] = (),
    ) -> ProtectedKeys:
        """From (key, store_id) pairs; duplicates are dropped. `subject_patterns`: the
        DSP stores and their subject key patterns (see the field)."""
        rows = list(dict.fromkeys(pairs))
        return cls(
            pa.table(
                {
                    "key": pa.array([k for k, _ in rows], _STRING),
                    "store_id": pa.array([s for _, s in rows], _STRING),
                }
            ),
            tuple(sorted(set(subject_patterns), key=lambda p: (p[0], p[1] or ""))),
        )

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the pairs: digests built with other keys cannot be merged."""
        digest = hashlib.sha256()
        for key, store in self.pairs:
            digest.update(f"{len(key)}:{key}{len(store)}:{store}".encode())
        # Subjects are part of the digest only since DSP counting: with no DSP store the
        # fingerprint is what it was, so earlier states stay usable.
        for store, pattern in self.subject_patterns:
            text = "" if pattern is None else pattern
            digest.update(f"dsp{len(store)}:{store}{len(text)}:{text}".encode())
        return digest.hexdigest()

    def touched(self, resources: pa.ListArray) -> tuple[np.ndarray, np.ndarray]:
        """(row, store code) of every protected store each row's resources name, once each.

        Sorted by row, then store code.
        """
        flat = pc.list_flatten(resources)
        if len(flat) == 0 or len(self.names) == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        found = pc.index_in(flat, value_set=self.names)
        hit = pc.is_valid(found)
        name_at = pc.filter(found, hit).to_numpy().astype(np.int64)
        rows = pc.filter(pc.list_parent_indices(resources), hit).to_numpy().astype(np.int64)
        counts = self.starts[name_at + 1] - self.starts[name_at]
        # Expand each hit to every store its name belongs to (almost always one).
        rows = np.repeat(rows, counts)
        ends = np.cumsum(counts)
        within = np.arange(ends[-1] if len(ends) else 0) - np.repeat(ends - counts, counts)
        codes = self.codes[np.repeat(self.starts[name_at], counts) + within]
        pairs = np.unique(rows * len(self.stores) + codes)
        return pairs // len(self.stores), pairs % len(self.stores)


Touched = tuple[np.ndarray, np.ndarray]


def access_rows(events: pa.Table, keys: ProtectedKeys, touched: Touched | None = None) -> pa.Table:
    """One digest row per (successful event, protected store it names), events = 1.

    For a DSP store, one row per distinct subject the event names (events = 1 on the
    first, 0 on the others: ingest/subjects.py). An event naming a store twice (its ARN
    and its bucket name) counts once for it; an event with an error code is a refused
    request and never an access. `touched`: `keys.touched()` of the events' resources
    when the caller has it already.
    """
    if events.num_rows == 0:
        return DIGEST_SCHEMA.empty_table()
    if touched is None:
        touched = keys.touched(events.column("resources").combine_chunks())
    rows, codes = touched
    if len(rows) and events.column("error_code").null_count < events.num_rows:
        succeeded = pc.is_null(events.column("error_code")).to_numpy(zero_copy_only=False)
        keep = succeeded[rows]
        rows, codes = rows[keep], codes[keep]
    if len(rows) == 0:
        return DIGEST_SCHEMA.empty_table()
    events_per_row = None
    if keys.subject_patterns:
        # A row per subject: an event naming several subjects of a store gives several
        # rows, of which only the first counts the event (ingest/subjects.py).
        expand, subjects = subject_column(
            events.column("resources").take(pa.array(rows)).combine_chunks(),
            events.column("action").take(pa.array(rows)).combine_chunks(),
            codes,
            keys.patterns,
        )
        if len(expand) != len(rows):
            first = np.ones(len(expand), dtype=bool)
            first[1:] = expand[1:] != expand[:-1]
            events_per_row = first.astype(np.int64)
            rows, codes = rows[expand], codes[expand]
    else:
        subjects = pa.nulls(len(rows), pa.int64())
    picked = events.select(list(_PICKED)).take(pa.array(rows))
    times = picked.column("event_time")
    actions = picked.column("action")
    ids = picked.column("event_id")
    claimed = picked.column("claimed_country")
    aliases = picked.column("principal_aliases").combine_chunks()
    counted = np.ones(len(rows), dtype=np.int64) if events_per_row is None else events_per_row
    return pa.Table.from_arrays(
        [
            keys.stores.take(pa.array(codes)),
            picked.column("principal"),
            aliases,
            _list_key(aliases),
            picked.column("caller"),
            pc.cast(times, pa.date32()),
            picked.column("provider"),
            picked.column("region"),
            subjects,
            pa.array(counted),
            times,
            times,
            ids,
            ids,
            actions,
            actions,
            claimed,
            claimed,
        ],
        schema=DIGEST_SCHEMA,
    )


def aggregate(parts: pa.Table, *, threads: bool = True) -> pa.Table:
    """Merge digest rows with equal GROUP_KEYS into one (sums, minima, maxima)."""
    if parts.num_rows <= 1:
        return parts
    keyed = parts.select(list(GROUP_KEYS)).append_column(
        "row", pa.array(np.arange(parts.num_rows, dtype=np.int64))
    )
    for name, _ in _MERGE:
        keyed = keyed.append_column(name, parts.column(name))
    grouped = keyed.group_by(list(GROUP_KEYS), use_threads=threads).aggregate(
        [("row", "min"), *_MERGE]
    )
    how = dict(_MERGE)
    columns = []
    for field_ in DIGEST_SCHEMA:
        if field_.name == "principal_aliases":
            rows = grouped.column("row_min")
            columns.append(parts.column("principal_aliases").take(rows))
        elif field_.name in GROUP_KEYS:
            columns.append(grouped.column(field_.name))
        else:
            columns.append(grouped.column(f"{field_.name}_{how[field_.name]}"))
    return pa.Table.from_arrays(columns, schema=DIGEST_SCHEMA)


def _list_key(lists: pa.ListArray) -> pa.Array:
    """A string per list that is equal exactly when the lists are equal (null stays null).

    Arrow cannot group by a list; each value becomes "length:value" (a null value "~"),
    joined by "|". Length prefixes make the encoding unambiguous whatever the values hold.
    """
    flat = pc.list_flatten(lists)
    sizes = pc.cast(pc.utf8_length(flat), _STRING)
    tokens = pc.fill_null(pc.binary_join_element_wise(sizes, flat, ":"), "~")
    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False)
    offsets = np.zeros(len(lists) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    rebuilt = pa.ListArray.from_arrays(pa.array(offsets), tokens, mask=pc.is_null(lists))
    return pc.binary_join(rebuilt, "|")
