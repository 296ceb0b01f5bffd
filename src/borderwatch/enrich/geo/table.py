"""A compiled range table: sorted, non-overlapping address ranges with small-int values.

IPv4 ranges are uint32 start/end arrays; IPv6 ranges are two uint64 halves (hi, lo) per
bound, searched with `np.searchsorted` on the high half and a vectorised binary search on
the low half inside runs of equal high halves (see `bench/README.md` for why not `S16`).
Each range points at a row of a small record table whose text fields are codes into one
string dictionary, so a lookup is a search plus integer gathers.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from borderwatch.enrich.geo.addresses import ParsedAddresses
from borderwatch.errors import Problem

# Anonymiser flags, one bit each; a range's `flags` is their bitwise or.
FLAG_NAMES: tuple[str, ...] = (
    "anonymous",
    "vpn",
    "hosting",
    "public_proxy",
    "residential_proxy",
    "tor",
    "relay",
)
FLAGS: dict[str, int] = {name: 1 << bit for bit, name in enumerate(FLAG_NAMES)}

TEXT_FIELDS = (
    "country",
    "registered_country",
    "represented_country",
    "subdivision",
    "city",
    "provider",
    "provider_region",
    "provider_service",
)
LOCATED, REGISTERED = "located", "registered"


class Record(NamedTuple):
    """What one source says about one range. Text fields are None when unknown."""

    country: str | None = None
    registered_country: str | None = None
    represented_country: str | None = None
    subdivision: str | None = None
    city: str | None = None
    provider: str | None = None
    provider_region: str | None = None
    provider_service: str | None = None
    flags: int = 0
    # LOCATED when `country` is where the address is used, REGISTERED when it is only
    # where the range is registered (RIR data, or a located database that lacks it).
    country_kind: str | None = None


class Interval(NamedTuple):
    """One raw range of a source before flattening; `rank` breaks ties of equal size."""

    start: int
    end: int
    record: Record
    rank: int = 0


@dataclass(frozen=True)
class Provenance:
    """Where a compiled table came from: enough to say which data made a decision."""

    source: str
    path: str
    # The source's own version or date, read from inside the file ("" when it has
    # none): a file's modification time is never used, so the same bytes always give
    # the same provenance.
    file_date: str
    date_origin: str  # "file" (a version or date inside the file) or "content"
    sha256: str

    def version_text(self) -> str:
        """The source's own version (if any) and the sha256 of its bytes."""
        inner = f"{self.file_date} " if self.file_date else ""
        return f"{inner}sha256:{self.sha256[:12]}" if self.sha256 else inner.strip()

    def to_dict(self) -> dict[str, str]:
        return {
            "source": self.source,
            "path": self.path,
            "file_date": self.file_date,
            "date_origin": self.date_origin,
            "sha256": self.sha256,
        }


@dataclass
class RangeTable:
    """One source compiled: search arrays per family plus the record table."""

    kind: str
    provenance: Provenance
    v4_start: np.ndarray
    v4_end: np.ndarray
    v4_record: np.ndarray
    v6_start: tuple[np.ndarray, np.ndarray]
    v6_end: tuple[np.ndarray, np.ndarray]
    v6_record: np.ndarray
    records: list[Record]
    problems: list[Problem] = field(default_factory=list)
    # A MaxMind database with 6to4 (2002::/16) aliased onto its IPv4 tree.
    alias_6to4: bool = False
    from_cache: bool = False

    @property
    def ranges_v4(self) -> int:
        return len(self.v4_start)

    @property
    def ranges_v6(self) -> int:
        return len(self.v6_record)

    def find(self, parsed: ParsedAddresses) -> np.ndarray:
        """Index into `records` for every parsed address, -1 where no range holds it."""
        found = np.full(len(parsed), -1, dtype=np.int64)
        is4 = parsed.family == 4
        is6 = parsed.family == 6
        v4 = parsed.v4
        if self.alias_6to4 and is6.any():
            six_to_four = is6 & ((parsed.v6_hi >> np.uint64(48)) == np.uint64(0x2002))
            if six_to_four.any():
                v4 = v4.copy()
                v4[six_to_four] = (
                    (parsed.v6_hi[six_to_four] >> np.uint64(16)) & np.uint64(0xFFFFFFFF)
                ).astype(np.uint32)
                is4 = is4 | six_to_four
                is6 = is6 & ~six_to_four
        if is4.any() and len(self.v4_start):
            q = v4[is4]
            i = np.searchsorted(self.v4_start, q, side="right") - 1
            safe = np.maximum(i, 0)
            hit = (i >= 0) & (q <= self.v4_end[safe])
            found[is4] = np.where(hit, self.v4_record[safe], -1)
        if is6.any() and len(self.v6_record):
            qh, ql = parsed.v6_hi[is6], parsed.v6_lo[is6]
            i = search_128(self.v6_start[0], self.v6_start[1], qh, ql)
            safe = np.maximum(i, 0)
            eh, el = self.v6_end[0][safe], self.v6_end[1][safe]
            hit = (i >= 0) & ((qh < eh) | ((qh == eh) & (ql <= el)))
            found[is6] = np.where(hit, self.v6_record[safe], -1)
        return found


def search_128(
    start_hi: np.ndarray, start_lo: np.ndarray, q_hi: np.ndarray, q_lo: np.ndarray
) -> np.ndarray:
    """Index of the last start <= query for 128-bit keys split in (hi, lo); -1 if none.

    `np.searchsorted` on the high halves brackets each query in the run of equal high
    halves; a vectorised binary search on the low halves finishes inside the run.
    """
    lo = np.searchsorted(start_hi, q_hi, side="left")
    hi = np.searchsorted(start_hi, q_hi, side="right")
    active = lo < hi
    last = max(len(start_lo) - 1, 0)
    while active.any():
        mid = (lo + hi) >> 1
        go = start_lo[np.minimum(mid, last)] <= q_lo
        lo = np.where(active & go, mid + 1, lo)
        hi = np.where(active & ~go, mid, hi)
        active = lo < hi
    return lo.astype(np.int64) - 1


def flatten(intervals: Sequence[Interval]) -> list[tuple[int, int, Record]]:
    """Non-overlapping (start, end, record) segments, sorted; the most specific range wins.

    Among ranges of equal size the higher `rank` wins, then the one listed first. Adjacent
    segments with equal records are merged.
    """
    best: dict[tuple[int, int], tuple[int, int, Record]] = {}
    for order, iv in enumerate(intervals):
        key = (iv.start, iv.end)
        old = best.get(key)
        if old is None or iv.rank > old[0]:
            best[key] = (iv.rank, order, iv.record)
    spans = sorted(best.items())
    if any(spans[k][0][0] <= spans[k - 1][0][1] for k in range(1, len(spans))):
        pieces = _paint(spans)
    else:
        pieces = [(s, e, rec) for (s, e), (_, _, rec) in spans]
    merged: list[tuple[int, int, Record]] = []
    for s, e, rec in pieces:
        if merged and merged[-1][1] + 1 == s and merged[-1][2] == rec:
            merged[-1] = (merged[-1][0], e, rec)
        else:
            merged.append((s, e, rec))
    return merged


def underlay(regional: Sequence[Interval], background: Sequence[Interval]) -> list[Interval]:
    """`regional` intervals plus the parts of `background` that no regional one covers.

    A provider's region-less entries (an Azure service tag without a region, a GitHub
    list) say less than a regional range: a /32 of such a tag must not mask the regional
    /16 around it, so it only answers where no regional range does. Among regional
    ranges the most specific still wins (`flatten`).
    """
    if not background:
        return list(regional)
    covered = [(s, e) for s, e, _ in flatten(regional)]
    out = list(regional)
    starts = [s for s, _ in covered]
    for s, e, record in flatten(background):
        k = max(bisect_right(starts, s) - 1, 0)
        cursor = s
        while cursor <= e:
            while k < len(covered) and covered[k][1] < cursor:
                k += 1
            if k == len(covered) or covered[k][0] > e:
                out.append(Interval(cursor, e, record))
                break
            if covered[k][0] > cursor:
                out.append(Interval(cursor, covered[k][0] - 1, record))
            cursor = covered[k][1] + 1
    return out


def _paint(
    spans: list[tuple[tuple[int, int], tuple[int, int, Record]]],
) -> list[tuple[int, int, Record]]:
    points = sorted({s for (s, _), _ in spans} | {e + 1 for (_, e), _ in spans})
    where = {p: i for i, p in enumerate(points)}
    owner: list[Record | None] = [None] * (len(points) - 1)

    def weakest_first(t: tuple[tuple[int, int], tuple[int, int, Record]]) -> tuple[int, ...]:
        (s, e), (rank, order, _) = t
        return (-(e - s), rank, -order)

    # Largest first, so smaller (more specific) ranges paint over them.
    for (s, e), (_, _, rec) in sorted(spans, key=weakest_first):
        for k in range(where[s], where[e + 1]):
            owner[k] = rec
    return [(points[k], points[k + 1] - 1, rec) for k, rec in enumerate(owner) if rec is not None]


def build_table(
    kind: str,
    provenance: Provenance,
    v4: Iterable[Interval],
    v6: Iterable[Interval],
    problems: Sequence[Problem] = (),
    alias_6to4: bool = False,
) -> RangeTable:
    """Flatten raw intervals of both families into one `RangeTable` with shared records."""
    records: list[Record] = []
    index: dict[Record, int] = {}

    def family(intervals: Iterable[Interval]) -> tuple[list[int], list[int], np.ndarray]:
        segments = flatten(list(intervals))
        codes = np.empty(len(segments), dtype=np.int32)
        for k, (_, _, rec) in enumerate(segments):
            code = index.get(rec)
            if code is None:
                code = index[rec] = len(records)
                records.append(rec)
            codes[k] = code
        return [s for s, _, _ in segments], [e for _, e, _ in segments], codes

    s4, e4, r4 = family(v4)
    s6, e6, r6 = family(v6)
    return RangeTable(
        kind=kind,
        provenance=provenance,
        v4_start=np.asarray(s4, dtype=np.uint32),
        v4_end=np.asarray(e4, dtype=np.uint32),
        v4_record=r4,
        v6_start=split_128(s6),
        v6_end=split_128(e6),
        v6_record=r6,
        records=records,
        problems=list(problems),
        alias_6to4=alias_6to4,
    )


def split_128(values: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Python ints below 2**128 as (high 64 bits, low 64 bits) uint64 arrays."""
    mask = (1 << 64) - 1
    hi = np.fromiter((v >> 64 for v in values), dtype=np.uint64, count=len(values))
    lo = np.fromiter((v & mask for v in values), dtype=np.uint64, count=len(values))
    return hi, lo


def flag_text(flags: int) -> str | None:
    """ "vpn,tor" for a bitmask; None when no flag is set."""
    names = [name for name in FLAG_NAMES if flags & FLAGS[name]]
    return ",".join(names) if names else None
