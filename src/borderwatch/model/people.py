"""Entities that employ people and own each other, and approved travel.

Together with identities they decide covered-person status (28 CFR 202.211) and where a
person was expected to be on a given day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Owner:
    """One holding in an entity: who holds it and what share (0-100)."""

    kind: str  # "country" (its government), "entity" or "person"
    ref: str  # ISO code, entity id or person id
    percent: float


@dataclass(frozen=True)
class Entity:
    """A company or other organisation, where it is organised and who owns it."""

    entity_id: str
    name: str
    country: str | None = None  # organised under the laws of
    place_of_business: str | None = None  # principal place of business
    owners: tuple[Owner, ...] = ()
    origin: str = ""


@dataclass(frozen=True)
class Travel:
    """An approved trip: the person is expected in `country` from `start` to `end`."""

    person: str
    country: str
    start: dt.date
    end: dt.date
    approved_by: str | None = None
    origin: str = ""
