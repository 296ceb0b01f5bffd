"""The Data Security Program's rolling windows: table `dsp_windows` from `dsp_reach`.

For each counterparty and category, the distinct subjects of the 365-day window ending on
every day (D-364 .. D: an access on day 1 counts on day 365 and no longer on day 366),
exactly, without a row per day. A subject reached on day A is in every window ending
A .. A+364, and from its next access N on the later one carries it, so it adds +1 on A
and -1 on min(N, A+365) (nothing when N is A). The running sum of these steps is the
count of the window ending on each day; it changes only on step days and rises only on
access days, so the first day over a threshold is one of the rows. A store read whole
(subject 0) steps by its volume the same way (a null volume counts as unknown, apart).

Why Python and not SQL: the steps need the subjects of each counterparty and category
in day order, which is one sort of all rows. numpy sorts 64-bit keys about four times
faster per row than the engine's window function (bench/dsp_windows.py measures both),
and the rows are read in slices by subject hash, so memory stays flat however long the
history: the counts of disjoint sets of subjects add up. What the rules compare stays
SQL (evaluate/sql/dsp_verdicts.sql, rules/dsp/).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from borderwatch.runtime.tablestore import TableStore

__all__ = ["SLICE_ROWS", "WINDOWS_SCHEMA", "WINDOW_DAYS", "build_windows"]

WINDOW_DAYS = 365
# Rows per slice read from the engine (slices are by subject hash, so each subject's
# accesses are in one slice).
SLICE_ROWS = 8_000_000
# Day offsets (days since the first access, plus a window) are packed into 11 bits of
# the sort key: up to 2,047 days, over four years of history (checked below).
_DAY_BITS = 11

WINDOWS_SCHEMA = pa.schema(
    [
        ("counterparty", pa.string()),
        ("category", pa.string()),
        ("window_to", pa.date32()),
        ("named_subjects", pa.int64()),
        ("whole_store_subjects", pa.int64()),
        ("unknown_volume_stores", pa.int64()),
    ]
)


def build_windows(engine: TableStore, slice_rows: int = SLICE_ROWS) -> None:
    """Create table `dsp_windows` (WINDOWS_SCHEMA) from table `dsp_reach`."""
    engine.create_table("dsp_windows", windows_table(engine, slice_rows))


def windows_table(engine: TableStore, slice_rows: int = SLICE_ROWS) -> pa.Table:
    """The rows of `dsp_windows`: one per counterparty, category and step day."""
    groups = engine.query(
        "SELECT counterparty, category, count(*) AS n, min(day) AS first, max(day) AS last "
        "FROM dsp_reach GROUP BY counterparty, category ORDER BY counterparty, category"
    )
    if groups.num_rows == 0:
        return WINDOWS_SCHEMA.empty_table()
    first = min(groups.column("first").to_pylist())
    last = max(groups.column("last").to_pylist())
    span = (last - first).days + WINDOW_DAYS + 1
    if span >= 1 << _DAY_BITS:
        raise ValueError(
            f"the DSP history spans {span - WINDOW_DAYS} days; at most "
            f"{(1 << _DAY_BITS) - WINDOW_DAYS - 1} are counted in one scan"
        )
    count = groups.num_rows
    steps = np.zeros((3, count, span), dtype=np.int64)  # named, whole, unknown
    touched = np.zeros((count, span), dtype=bool)
    slices = max(1, -(-int(sum(groups.column("n").to_pylist())) // slice_rows))
    # Each row's group by a hash of its counterparty and category, looked up among the
    # groups' hashes here: cheaper than joining a hundred million rows on two strings.
    hashes = engine.query(
        "SELECT hash(counterparty, category) AS h FROM dsp_reach "
        "GROUP BY counterparty, category ORDER BY counterparty, category"
    ).column("h")
    group_hash = hashes.to_numpy().astype(np.uint64)
    if len(np.unique(group_hash)) != count:
        raise ValueError("two DSP counterparty and category pairs share a hash")
    by_hash = np.argsort(group_hash)
    # Only a whole-store access needs its store's name.
    coded = (
        "SELECT hash(counterparty, category) AS h, subject, "
        "CASE WHEN subject = 0 THEN store_id END AS store_id, "
        f"datediff('day', DATE '{first}', day) AS day, store_subjects FROM dsp_reach"
    )
    for part in range(slices):
        rows = engine.query(f"{coded} WHERE ((subject % {slices}) + {slices}) % {slices} = {part}")
        found = rows.column("h").to_numpy().astype(np.uint64)
        sorted_hash = group_hash[by_hash]
        gid = by_hash[np.searchsorted(sorted_hash, found)].astype(np.int64)
        _add_steps(rows, gid, steps, touched)
    return _running(groups, first, steps, touched)


def _add_steps(rows: pa.Table, gid: np.ndarray, steps: np.ndarray, touched: np.ndarray) -> None:
    """Add the steps of one slice (all accesses of its subjects; `gid`: each row's
    counterparty and category) to `steps`."""
    if rows.num_rows == 0:
        return
    subject = rows.column("subject").to_numpy().astype(np.int64)
    day = rows.column("day").to_numpy().astype(np.int64)
    named = subject != 0
    if named.any():
        _spans(
            gid[named],
            subject[named],
            day[named],
            np.ones(int(named.sum()), np.int64),
            steps[0],
            touched,
        )
    whole = ~named
    if whole.any():
        stores = rows.column("store_id").to_numpy(zero_copy_only=False)[whole]
        _, store_code = np.unique(stores.astype(str), return_inverse=True)
        volumes = rows.column("store_subjects")
        known = pc.is_valid(volumes).to_numpy(zero_copy_only=False)[whole]
        weights = pc.fill_null(volumes, 0).to_numpy().astype(np.int64)[whole]
        _spans(gid[whole], store_code, day[whole], weights, steps[1], touched)
        _spans(gid[whole], store_code, day[whole], (~known).astype(np.int64), steps[2], touched)


def _spans(
    gid: np.ndarray,
    item: np.ndarray,
    day: np.ndarray,
    weight: np.ndarray,
    out: np.ndarray,
    touched: np.ndarray,
) -> None:
    """+weight on each access day, -weight when the item leaves the window (its next
    access or 365 days later), per group; the same item twice on a day spans nothing."""
    # Dense item codes from a hash table (Arrow's dictionary encoding), not a sort.
    dense = pc.dictionary_encode(pa.array(item)).indices.to_numpy().astype(np.int64)
    key = (gid << (34 + _DAY_BITS)) | (dense << _DAY_BITS) | day
    if np.all(weight == 1):
        key = np.sort(key)  # named subjects: the values alone, faster than an argsort
    else:
        order = np.argsort(key, kind="stable")
        key, weight = key[order], weight[order]
    same = np.zeros(len(key), dtype=bool)
    same[:-1] = (key[:-1] >> _DAY_BITS) == (key[1:] >> _DAY_BITS)
    start = key & ((1 << _DAY_BITS) - 1)
    following = np.empty_like(start)
    following[:-1] = start[1:]
    end = np.where(same, np.minimum(following, start + WINDOW_DAYS), start + WINDOW_DAYS)
    keep = end > start
    group = key >> (34 + _DAY_BITS)
    group, start, end, weight = group[keep], start[keep], end[keep], weight[keep]
    width = out.shape[1]
    flat = out.reshape(-1)
    flat += np.bincount(group * width + start, weights=weight, minlength=flat.size).astype(np.int64)
    flat -= np.bincount(group * width + end, weights=weight, minlength=flat.size).astype(np.int64)
    mark = touched.reshape(-1)
    mark[group * width + start] = True
    mark[group * width + end] = True


def _running(groups: pa.Table, first: object, steps: np.ndarray, touched: np.ndarray) -> pa.Table:
    sums = np.cumsum(steps, axis=2)
    gid, offset = np.nonzero(touched)
    counterparty = groups.column("counterparty").take(pa.array(gid))
    category = groups.column("category").take(pa.array(gid))
    days = pa.array(offset.astype(np.int32) + _epoch_days(first), pa.int32()).cast(pa.date32())
    return pa.Table.from_arrays(
        [
            counterparty,
            category,
            days,
            pa.array(sums[0][gid, offset]),
            pa.array(sums[1][gid, offset]),
            pa.array(sums[2][gid, offset]),
        ],
        schema=WINDOWS_SCHEMA,
    )


def _epoch_days(day: object) -> int:
    return int(pa.scalar(day, pa.date32()).cast(pa.int32()).as_py())
