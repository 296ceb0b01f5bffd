"""Data stores, their copies, and the people behind principals."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Identity:
    """A principal resolved to a person, where that person works and for whom."""

    principal: str
    person: str
    work_country: str | None = None
    employer: str | None = None
    origin: str = ""


@dataclass(frozen=True)
class Inventory:
    """Every store read from every inventory input."""

    stores: tuple[Store, ...] = ()
    problems: tuple[str, ...] = field(default=())
