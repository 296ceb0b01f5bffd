"""Data stores, their copies, the people behind principals, and how inventories change."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)  # slots: inventories reach millions of stores
class Store:
    """One place protected data may live: a bucket, database, table, snapshot, site.

    `copy_of` names the store this one is a replica, backup or snapshot of; a copy
    inherits the data classes of what it copies.
    """

    store_id: str
    provider: str
    region: str
    service: str = ""
    data_classes: tuple[str, ...] = ()
    records: int | None = None
    copy_of: str | None = None
    # How the copy is made (replication, read-replica, snapshot-copy, backup-copy,
    # global-table-replica, export); shown on the copy path. None for originals.
    copy_kind: str | None = None
    # For on-premises sites (provider "onprem"): the ISO country of the site.
    country: str | None = None
    # Other identifiers logs use for the same store (ARN, endpoint name).
    aliases: tuple[str, ...] = ()
    # Where the store was declared: "inventory.csv:12".
    origin: str = ""
    # Distinct US persons (or devices) held per Data Security Program category, as
    # (category, subjects); category "*" applies to each of the store's categories
    # (inventory/volumes.py). () when the inventory does not say.
    dsp_subjects: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Identity:
    """A principal resolved to a person, where that person works and for whom, and when.

    A principal may have several rows with different validity windows (a person who
    moved from Beijing to Austin); an event is judged by the row valid on its day.
    """

    principal: str
    person: str
    work_country: str | None = None
    employer: str | None = None  # an entity id from the entities file, or a plain name
    # Where the person primarily lives, when it differs from where they work.
    resident_country: str | None = None
    # employee, contractor, ...: how the person is bound to the employer.
    relationship: str | None = None
    valid_from: dt.date | None = None  # inclusive; None = since always
    valid_to: dt.date | None = None  # inclusive; None = until further notice
    origin: str = ""


@dataclass(frozen=True)
class Inventory:
    """Every store read from every inventory input."""

    stores: tuple[Store, ...] = ()
    problems: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Change:
    """One change to one store between the previous and the current inventory
    (found by inventory/diff.py)."""

    store_id: str
    kind: str  # appeared, moved, gained-copy, disappeared
    before: str  # where it was ("" when it did not exist)
    after: str  # where it is ("" when it no longer exists)
    detail: str = ""  # for gained-copy: the new copy's id


@dataclass(frozen=True)
class LegacyPoint:
    """Protected data in one legacy location on one snapshot date."""

    day: dt.date
    stores: int
    records: int
    unknown_counts: int  # stores whose record count is unknown


@dataclass(frozen=True)
class LegacyProgress:
    """One legacy location: its deadline and what remained on each snapshot date
    (found by inventory/legacy.py)."""

    name: str
    deadline: dt.date
    points: tuple[LegacyPoint, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "deadline": self.deadline.isoformat(),
            "points": [
                {
                    "day": p.day.isoformat(),
                    "stores": p.stores,
                    "records": p.records,
                    "unknown_counts": p.unknown_counts,
                }
                for p in self.points
            ],
        }
