"""How many distinct US persons (or devices) a store holds per Data Security Program
category: the inventory's `dsp_subjects` column, or a subject-count file given with
`--dsp-volumes` (docs/dsp.md).

A cell is either one whole number, which applies to each category the store's data
classes carry (`250000`), or `category=number` pairs separated by ';'
(`covered_personal_identifiers=250000;precise_geolocation=1200`; `combined=260000` gives
the distinct persons of the whole store); in YAML also a mapping.
An empty cell means the volume is unknown, which the DSP rules say rather than assume.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, get_args

from borderwatch.errors import InputError, Problem, SourceLocation
from borderwatch.model.dsp import COMBINED, DspCategory
from borderwatch.model.events import QuarantinedRecord
from borderwatch.model.inventory import Store
from borderwatch.model.scan import InputSummary
from borderwatch.tables import convert
from borderwatch.tables.convert import CellError, count
from borderwatch.tables.records import TableRead, read_table
from borderwatch.tables.rows import Row

__all__ = [
    "ALL_CATEGORIES",
    "COLUMN",
    "VolumeRow",
    "read_volume_file",
    "subject_volumes",
    "with_volume_files",
]

COLUMN = "dsp_subjects"
# The key of a volume given as one number: it applies to each of the store's categories.
ALL_CATEGORIES = "*"
# `combined`: the distinct persons of the whole store, when its categories overlap.
_CATEGORIES = frozenset((*get_args(DspCategory), COMBINED))


def subject_volumes(values: dict[str, Any]) -> tuple[tuple[str, int], ...]:
    """The row's volumes as (category or "*", subjects), sorted; () when not given.

    Raises CellError naming the column and the part that is wrong.
    """
    raw = values.get(COLUMN)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return ()
    if isinstance(raw, Mapping):
        pairs = [(str(k).strip(), v) for k, v in raw.items()]
    elif (isinstance(raw, int) and not isinstance(raw, bool)) or "=" not in str(raw):
        pairs = [(ALL_CATEGORIES, raw)]
    else:
        pairs = []
        for part in str(raw).split(";"):
            if not part.strip():
                continue
            name, equals, number = part.partition("=")
            if not equals:
                raise CellError(
                    f"'{COLUMN}' part {part.strip()[:40]!r} is not category=number "
                    "(e.g. covered_personal_identifiers=250000)"
                )
            pairs.append((name.strip(), number))
    volumes: dict[str, int] = {}
    for name, number in pairs:
        if name != ALL_CATEGORIES and name not in _CATEGORIES:
            raise CellError(
                f"'{COLUMN}' names {name[:40]!r}, which is not a DSP category (known: "
                + ", ".join(sorted(_CATEGORIES))
                + ")"
            )
        if name in volumes:
            raise CellError(f"'{COLUMN}' gives {name!r} twice")
        value = count({COLUMN: number}, COLUMN)
        if value is not None:
            volumes[name] = value
    return tuple(sorted(volumes.items()))


# --dsp-volumes: a subject-count file -------------------------------------------------

_KIND = "dsp-volumes"
_REQUIRED = ("store_id", "category", "subjects")


@dataclass(frozen=True)
class VolumeRow:
    """One row of a subject-count file: a store's distinct subjects of one category."""

    store_id: str
    category: str
    subjects: int
    origin: str  # "volumes.csv:4"
    # When the count was taken and what it rests on (a query, a report): read and
    # checked, for the reviewer; the count is used as given.
    as_of: dt.date | None = None
    source: str | None = None


def read_volume_file(path: Path) -> TableRead[VolumeRow]:
    """The rows of one subject-count file (CSV, or YAML under `volumes:`).

    Columns: store_id, category (a DSP category or `combined`), subjects (a whole
    number), and optionally as_of (a date) and source (or evidence). A bad row is
    quarantined with its line and reason; a store and category given twice keeps the
    first row and quarantines the other, naming the first's line. A file without the
    required columns is refused whole (InputError).
    """
    return read_table(path, "volumes", _KIND, _volume_row, _given_twice, _REQUIRED)


def _volume_row(row: Row) -> VolumeRow:
    values = row.values
    store_id = convert.text(values, "store_id", required=True)
    category = convert.text(values, "category", required=True)
    assert store_id is not None and category is not None
    if category not in _CATEGORIES:
        raise CellError(
            f"'category' {category[:40]!r} is not a DSP category (known: "
            + ", ".join(sorted(_CATEGORIES))
            + ")"
        )
    subjects = count(values, "subjects")
    if subjects is None:
        raise CellError("missing required 'subjects'")
    return VolumeRow(
        store_id=store_id,
        category=category,
        subjects=subjects,
        origin=f"{row.path}:{row.line}",
        as_of=convert.date(values, "as_of"),
        source=convert.text(values, "source") or convert.text(values, "evidence"),
    )


def _given_twice(item: VolumeRow, kept: list[VolumeRow]) -> str | None:
    for other in kept:
        if (other.store_id, other.category) == (item.store_id, item.category):
            return (
                f"store {item.store_id!r} {item.category} is given twice (first at "
                f"{other.origin}); give one count"
            )
    return None


def with_volume_files(
    paths: Sequence[Path],
    stores: Sequence[Store],
    inputs: list[InputSummary],
    quarantined: list[QuarantinedRecord],
) -> list[Store]:
    """The stores with the volumes of every subject-count file added, each file accounted.

    A row naming a store the inventory does not hold is quarantined (it would count for
    nothing). A store whose inventory `dsp_subjects` and a file disagree on a category is
    refused (InputError naming both places): which one is right is for a person to say.
    """
    by_id = {store.store_id: store for store in stores}
    added: dict[str, dict[str, VolumeRow]] = {}
    conflicts: list[Problem] = []
    for path in paths:
        read = read_volume_file(Path(path))
        records_read = read.records_read  # before rows are set aside below
        kept = 0
        for row in read.items:
            store = by_id.get(row.store_id)
            earlier = added.setdefault(row.store_id, {}).get(row.category)
            reason = ""
            if store is None:
                reason = f"no store {row.store_id!r} in the inventory"
            elif earlier is not None:
                reason = (
                    f"store {row.store_id!r} {row.category} is given twice (first at "
                    f"{earlier.origin}); give one count"
                )
            if reason:
                line = row.origin.rsplit(":", 1)[-1]
                read.quarantined.append(
                    QuarantinedRecord(read.path, f"line {line}", reason, source_format=_KIND)
                )
                continue
            assert store is not None
            problem = _disagreement(store, row)
            if problem is not None:
                conflicts.append(problem)
            added[row.store_id][row.category] = row
            kept += 1
        quarantined.extend(read.quarantined)
        inputs.append(
            InputSummary(read.path, _KIND, _KIND, records_read, kept, len(read.quarantined))
        )
    if conflicts:
        raise InputError(
            "the inventory's dsp_subjects and --dsp-volumes disagree: give each store's "
            "count in one place, or the same number in both",
            conflicts,
        )
    return [
        replace(store, dsp_subjects=_merged(store, added[store.store_id]))
        if added.get(store.store_id)
        else store
        for store in stores
    ]


def _disagreement(store: Store, row: VolumeRow) -> Problem | None:
    given = dict(store.dsp_subjects)
    inventory = given.get(row.category, given.get(ALL_CATEGORIES))
    if inventory is None or inventory == row.subjects:
        return None
    path, line = row.origin.rsplit(":", 1)
    return Problem(
        SourceLocation(path, int(line)),
        f"store {store.store_id!r} {row.category}: --dsp-volumes gives {row.subjects:,}, "
        f"the inventory's dsp_subjects ({store.origin}) gives {inventory:,}",
        "correct the one that is wrong",
    )


def _merged(store: Store, rows: Mapping[str, VolumeRow]) -> tuple[tuple[str, int], ...]:
    """The inventory's volumes with the file's added (they agree where both give one)."""
    volumes = dict(store.dsp_subjects)
    for category, row in rows.items():
        volumes[category] = row.subjects
    return tuple(sorted(volumes.items()))
