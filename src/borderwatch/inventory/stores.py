"""Read inventories of data stores (CSV or YAML) into `Store` values.

CSV columns: store_id, provider, region, data_classes (';'-separated) are required (a
file without one of them is refused whole: without `region` every store would be of
unknown location, without `data_classes` every store unprotected); service, records,
copy_of; optional: copy_kind (how the copy is made: replication, read-replica,
snapshot, snapshot-copy, backup, backup-copy, global-table-replica, export), country (an
on-premises site's ISO country), aliases (';'-separated names or ARNs logs use for the
store), dsp_subjects (distinct US persons per Data Security Program category,
inventory/volumes.py). YAML: a list under `stores:` with the same keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from borderwatch.errors import SourceLocation
from borderwatch.inventory.volumes import subject_volumes
from borderwatch.model.events import QuarantinedRecord
from borderwatch.model.inventory import Store
from borderwatch.tables import convert
from borderwatch.tables.rows import Row, read_rows

REQUIRED_COLUMNS = ("store_id", "provider", "region", "data_classes")


@dataclass(frozen=True)
class UnreadableStore:
    """An inventory row that was quarantined, with what could still be read of it.

    Kept so that a protected store is judged even when its row is bad (a finding, not a
    silent drop). `data_classes` is None when the row's classes could not be read.
    """

    path: str
    line: int
    reason: str
    store_id: str | None
    data_classes: tuple[str, ...] | None

    @property
    def declared_at(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def row_name(self) -> str:
        """The row as a finding's subject when it has no store_id: file name and line.

        The folder is left out so the finding keeps its id however the path was given.
        """
        return f"{Path(self.path).name}:{self.line}"


@dataclass
class InventoryRead:
    """Stores read from one inventory file, and the rows that could not be used."""

    path: str
    stores: list[Store] = field(default_factory=list)
    quarantined: list[QuarantinedRecord] = field(default_factory=list)
    unreadable: list[UnreadableStore] = field(default_factory=list)

    @property
    def records_read(self) -> int:
        return len(self.stores) + len(self.quarantined)


def read_inventory(path: Path) -> InventoryRead:
    """Read one inventory file; a bad row is quarantined, the others are kept."""
    result = InventoryRead(str(path))
    seen: set[str] = set()
    for row in read_rows(path, "stores", REQUIRED_COLUMNS):
        reason = row.error
        store: Store | None = None
        if not reason:
            try:
                store = store_from_row(row)
            except convert.CellError as exc:
                reason = str(exc)
        if store is not None and store.store_id in seen:
            reason, store = f"duplicate store_id {store.store_id!r}", None
        if store is None:
            result.quarantined.append(
                QuarantinedRecord(str(path), row.position, reason, row.excerpt, "inventory")
            )
            result.unreadable.append(unreadable_from_row(row, reason))
            continue
        seen.add(store.store_id)
        result.stores.append(store)
    return result


def store_from_row(row: Row) -> Store:
    """Convert one row; raises CellError naming the column that is wrong."""
    values = row.values
    store_id = convert.text(values, "store_id", required=True)
    provider = convert.text(values, "provider", required=True)
    assert store_id is not None and provider is not None  # required=True guarantees it
    return Store(
        store_id=store_id,
        provider=provider.lower(),
        region=convert.text(values, "region") or "",
        service=convert.text(values, "service") or "",
        data_classes=convert.text_list(values, "data_classes"),
        records=convert.count(values, "records"),
        copy_of=convert.text(values, "copy_of"),
        copy_kind=convert.text(values, "copy_kind"),
        country=convert.country(values, "country"),
        aliases=convert.text_list(values, "aliases"),
        origin=f"{row.path}:{row.line}",
        dsp_subjects=subject_volumes(values),
    )


def unreadable_from_row(row: Row, reason: str) -> UnreadableStore:
    """What can still be read of a quarantined row: its id and classes, when present."""
    values = row.values
    store_id = values.get("store_id")
    store_text = str(store_id).strip() if store_id is not None else ""
    classes: tuple[str, ...] | None = None
    if not row.error:  # a row read as a mapping: its classes cell is there to read
        classes = convert.text_list(values, "data_classes")
    return UnreadableStore(row.path, row.line, reason, store_text or None, classes)


def inventory_class_names(read: InventoryRead) -> list[tuple[str, SourceLocation]]:
    """Every data class name the file gives, with the line that gives it."""
    named = [
        (name, SourceLocation(read.path, int(store.origin.rsplit(":", 1)[-1])))
        for store in read.stores
        for name in store.data_classes
    ]
    named.extend(
        (name, SourceLocation(row.path, row.line))
        for row in read.unreadable
        for name in row.data_classes or ()
    )
    named.sort(key=lambda item: item[1].line or 0)
    return named
