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
history: the counts of disjoint sets of subjects add up, and each slice's steps are
summed per group and day before the next slice is read. What the rules compare stays
SQL (evaluate/sql/dsp_verdicts.sql, rules/dsp/).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from borderwatch.runtime.tablestore import TableStore

__all__ = ["SLICE_ROWS", "WINDOWS_SCHEMA", "WINDOW_DAYS", "build_windows", "windows_table"]

WINDOW_DAYS = 365
# Rows per slice read from the engine (slices are by subject hash, so each subject's
# accesses are in one slice).
SLICE_ROWS = 8_000_000

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


@dataclass
class _Steps:
    """Steps found so far, summed per cell: cell = (group << day_bits) | day offset, with
    one summed value per kind (named subjects, whole-store volume, stores of unknown
    volume). Each slice's steps are folded in as it ends (`fold`), so what is held is at
    most one value per group and day, however many rows the history has."""

    day_bits: int
    cells: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    values: np.ndarray = field(default_factory=lambda: np.empty((3, 0), np.int64))
    _added: list[tuple[int, np.ndarray, np.ndarray]] = field(default_factory=list)

    def add(self, gid: np.ndarray, day: np.ndarray, kind: int, value: np.ndarray) -> None:
        self._added.append((kind, (gid << self.day_bits) | day, value))

    def fold(self) -> None:
        """Sum the steps added since the last fold into the held cells."""
        if not self._added:
            return
        # Few distinct cells among many steps: sum each batch per cell through a hash
        # table (linear), then merge the small per-cell sums with what is held.
        cells, values = [self.cells], [self.values]
        for kind, batch_cells, batch_values in self._added:
            encoded = pc.dictionary_encode(pa.array(batch_cells))
            found = encoded.dictionary.to_numpy()
            sums = np.zeros((3, len(found)), dtype=np.int64)
            sums[kind] = np.bincount(
                encoded.indices.to_numpy(), weights=batch_values, minlength=len(found)
            ).astype(np.int64)
            cells.append(found)
            values.append(sums)
        self._added.clear()
        unique, inverse = np.unique(np.concatenate(cells), return_inverse=True)
        merged = np.concatenate(values, axis=1)
        self.values = np.stack(
            [
                np.bincount(inverse, weights=merged[kind], minlength=len(unique)).astype(np.int64)
                for kind in range(3)
            ]
        )
        self.cells = unique


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
    # Day offsets from the first access, plus a window: any calendar date fits in 22 bits.
    steps = _Steps(day_bits=((last - first).days + WINDOW_DAYS + 1).bit_length())
    count = groups.num_rows
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
    lookup = pa.array(group_hash)
    # Only a whole-store access needs its store's name.
    coded = (
        "SELECT hash(counterparty, category) AS h, subject, "
        "CASE WHEN subject = 0 THEN store_id END AS store_id, "
        f"datediff('day', DATE '{first}', day) AS day, store_subjects FROM dsp_reach"
    )
    for part in range(slices):
        rows = engine.query(f"{coded} WHERE ((subject % {slices}) + {slices}) % {slices} = {part}")
        found = pa.array(rows.column("h").to_numpy().astype(np.uint64))
        gid = pc.index_in(found, value_set=lookup).to_numpy().astype(np.int64)
        _add_steps(rows, gid, steps)
        steps.fold()
    return _running(groups, first, steps)


def _add_steps(rows: pa.Table, gid: np.ndarray, steps: _Steps) -> None:
    """Add the steps of one slice (all accesses of its subjects; `gid`: each row's
    counterparty and category)."""
    if rows.num_rows == 0:
        return
    subject = rows.column("subject").to_numpy().astype(np.int64)
    day = rows.column("day").to_numpy().astype(np.int64)
    named = subject != 0
    if named.any():
        ones = np.ones(int(named.sum()), np.int64)
        _spans(gid[named], subject[named], day[named], ones, steps, 0)
    whole = ~named
    if whole.any():
        stores = rows.column("store_id").to_numpy(zero_copy_only=False)[whole]
        _, store_code = np.unique(stores.astype(str), return_inverse=True)
        volumes = rows.column("store_subjects")
        known = pc.is_valid(volumes).to_numpy(zero_copy_only=False)[whole]
        weights = pc.fill_null(volumes, 0).to_numpy().astype(np.int64)[whole]
        _spans(gid[whole], store_code.astype(np.int64), day[whole], weights, steps, 1)
        unknown = (~known).astype(np.int64)
        _spans(gid[whole], store_code.astype(np.int64), day[whole], unknown, steps, 2)


def _spans(
    gid: np.ndarray,
    item: np.ndarray,
    day: np.ndarray,
    weight: np.ndarray,
    steps: _Steps,
    kind: int,
) -> None:
    """+weight on each access day, -weight when the item leaves the window (its next
    access or 365 days later), per group; the same item twice on a day spans nothing."""
    # Dense item codes from a hash table (Arrow's dictionary encoding), not a sort.
    dense = pc.dictionary_encode(pa.array(item)).indices.to_numpy().astype(np.int64)
    day_bits = steps.day_bits
    item_bits = max(1, int(dense.max()).bit_length()) if len(dense) else 1
    group_bits = max(1, int(gid.max()).bit_length()) if len(gid) else 1
    if day_bits + item_bits + group_bits <= 63:
        key = (gid << (item_bits + day_bits)) | (dense << day_bits) | day
        if np.all(weight == 1):
            key = np.sort(key)  # named subjects: the values alone, faster than an argsort
        else:
            order = np.argsort(key, kind="stable")
            key, weight = key[order], weight[order]
        owner = key >> day_bits
        start = key & ((1 << day_bits) - 1)
        group = key >> (item_bits + day_bits)
    else:  # too wide to pack in one 64-bit key: sort on the three columns
        order = np.lexsort((day, dense, gid))
        gid, dense, start, weight = gid[order], dense[order], day[order], weight[order]
        owner = gid * (int(dense.max()) + 1) + dense
        group = gid
    same = np.zeros(len(start), dtype=bool)
    same[:-1] = owner[:-1] == owner[1:]
    following = np.empty_like(start)
    following[:-1] = start[1:]
    end = np.where(same, np.minimum(following, start + WINDOW_DAYS), start + WINDOW_DAYS)
    keep = end > start
    group, start, end, weight = group[keep], start[keep], end[keep], weight[keep]
    steps.add(group, start, kind, weight)
    steps.add(group, end, kind, -weight)


def _running(groups: pa.Table, first: object, steps: _Steps) -> pa.Table:
    """Sum the steps per group and day, then run the sums over each group's days."""
    steps.fold()
    if len(steps.cells) == 0:
        return WINDOWS_SCHEMA.empty_table()
    cells = steps.cells
    sums = []
    for kind in range(3):
        running = np.cumsum(steps.values[kind])
        gid = cells >> steps.day_bits
        # Restart the running sum at each group's first cell (cells are sorted by group).
        starts = np.flatnonzero(np.r_[True, gid[1:] != gid[:-1]])
        before = np.r_[0, running][starts]
        running = running - np.repeat(before, np.diff(np.r_[starts, len(cells)]))
        sums.append(running)
    gid = cells >> steps.day_bits
    offset = cells & ((1 << steps.day_bits) - 1)
    days = pa.array(offset + _epoch_days(first), pa.int32()).cast(pa.date32())
    return pa.Table.from_arrays(
        [
            groups.column("counterparty").take(pa.array(gid)),
            groups.column("category").take(pa.array(gid)),
            days,
            pa.array(sums[0]),
            pa.array(sums[1]),
            pa.array(sums[2]),
        ],
        schema=WINDOWS_SCHEMA,
    )


def _epoch_days(day: object) -> int:
    return int(pa.scalar(day, pa.date32()).cast(pa.int32()).as_py())
