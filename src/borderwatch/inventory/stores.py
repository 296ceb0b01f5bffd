"""Read inventories of data stores (CSV or YAML) into `Store` values.

CSV columns: store_id, provider, region, service, data_classes (';'-separated), records,
copy_of; optional: copy_kind (how the copy is made: replication, read-replica,
snapshot, snapshot-copy, backup, backup-copy, global-table-replica, export), country (an
on-premises site's ISO country), aliases (';'-separated names or ARNs logs use for the
store). YAML: a list under `stores:` with the same keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from borderwatch.model.events import QuarantinedRecord
from borderwatch.model.inventory import Store
from borderwatch.tables import convert
from borderwatch.tables.rows import Row, read_rows


@dataclass
class InventoryRead:
    """Stores read from one inventory file, and the rows that could not be used."""

    path: str
    stores: list[Store] = field(default_factory=list)
    quarantined: list[QuarantinedRecord] = field(default_factory=list)

    @property
    def records_read(self) -> int:
        return len(self.stores) + len(self.quarantined)


def read_inventory(path: Path) -> InventoryRead:
    """Read one inventory file; a bad row is quarantined, the others are kept."""
    result = InventoryRead(str(path))
    seen: set[str] = set()
    for row in read_rows(path, "stores", ("store_id", "provider")):
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
    )
