"""Covered-person status as 28 CFR 202.211 defines it, computed from entities and people.

A covered person is (1) an entity 50% or more owned, directly or indirectly, individually
or in the aggregate, by countries of concern or covered persons, or organised under the
laws of, or with its principal place of business in, a country of concern; (2) an
entity 50% or more owned by such an entity; (3) an employee or contractor of such an
entity (or of a country of concern's government); (4) an individual primarily resident
in a country of concern. Ownership follows the 50% rule: a holder counts with its whole
share once it is itself covered, whatever chain made it so; holdings of holders that are
not covered count for nothing. The computation runs to a fixed point, so ownership
chains of any depth and order are resolved.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from borderwatch.model.inventory import Identity
from borderwatch.model.people import Entity, Owner

THRESHOLD = 50.0


@dataclass(frozen=True)
class Coverage:
    """Why someone is a covered person, and the countries of concern behind it."""

    countries: tuple[str, ...]
    basis: str


@dataclass(frozen=True)
class CoveredStatus:
    """Covered entities by id, and covered identity rows (by their origin line)."""

    entities: dict[str, Coverage]
    identities: dict[Identity, Coverage]


def covered_status(
    entities: Sequence[Entity], identities: Sequence[Identity], countries: Iterable[str]
) -> CoveredStatus:
    """Every covered entity and identity row with respect to `countries` (of concern)."""
    concern = frozenset(countries)
    by_id = {e.entity_id: e for e in entities}
    covered_entities: dict[str, Coverage] = {}
    covered_rows: dict[Identity, Coverage] = {}
    changed = True
    while changed:
        changed = False
        persons = _covered_persons(covered_rows)
        for entity in entities:
            if entity.entity_id in covered_entities:
                continue
            coverage = _entity_coverage(entity, concern, covered_entities, persons)
            if coverage:
                covered_entities[entity.entity_id] = coverage
                changed = True
        for identity in identities:
            if identity in covered_rows:
                continue
            coverage = _identity_coverage(identity, concern, covered_entities, by_id)
            if coverage:
                covered_rows[identity] = coverage
                changed = True
    return CoveredStatus(covered_entities, covered_rows)


def _entity_coverage(
    entity: Entity,
    concern: frozenset[str],
    covered: dict[str, Coverage],
    persons: dict[str, Coverage],
) -> Coverage | None:
    if entity.country in concern:
        return Coverage(
            (entity.country,), f"{entity.name} is organised under the laws of {entity.country}"
        )
    if entity.place_of_business in concern:
        return Coverage(
            (entity.place_of_business,),
            f"{entity.name} has its principal place of business in {entity.place_of_business}",
        )
    held: list[tuple[Owner, tuple[str, ...]]] = []
    for owner in entity.owners:
        countries = _holder_countries(owner, concern, covered, persons)
        if countries:
            held.append((owner, countries))
    share = sum(owner.percent for owner, _ in held)
    if share < THRESHOLD:
        return None
    parts = ", ".join(
        f"{o.kind} {o.ref} {o.percent:g}%{_holder_reason(o, covered, persons)}" for o, _ in held
    )
    countries = tuple(sorted({c for _, cs in held for c in cs}))
    return Coverage(countries, f"{entity.name} is {share:g}% owned by covered holders ({parts})")


def _holder_countries(
    owner: Owner,
    concern: frozenset[str],
    covered: dict[str, Coverage],
    persons: dict[str, Coverage],
) -> tuple[str, ...]:
    if owner.kind == "country":
        return (owner.ref,) if owner.ref in concern else ()
    if owner.kind == "entity" and owner.ref in covered:
        return covered[owner.ref].countries
    if owner.kind == "person" and owner.ref in persons:
        return persons[owner.ref].countries
    return ()


def _holder_reason(owner: Owner, covered: dict[str, Coverage], persons: dict[str, Coverage]) -> str:
    """Why a holder is covered, so the finding shows the whole ownership chain."""
    if owner.kind == "entity":
        return f" [{covered[owner.ref].basis}]"
    if owner.kind == "person":
        return f" [{persons[owner.ref].basis}]"
    return ""


def _identity_coverage(
    identity: Identity,
    concern: frozenset[str],
    covered: dict[str, Coverage],
    entities: dict[str, Entity],
) -> Coverage | None:
    resident = identity.resident_country
    if resident in concern:
        return Coverage((resident,), f"{identity.person} is primarily resident in {resident}")
    employer = identity.employer
    if employer and employer in covered:
        name = entities[employer].name if employer in entities else employer
        role = identity.relationship or "employee"
        coverage = covered[employer]
        return Coverage(coverage.countries, f"{role} of {name}: {coverage.basis}")
    if employer in concern:
        # An employer given as a bare country code: that country's government.
        return Coverage((employer,), f"{identity.person} works for the government of {employer}")
    return None


def _covered_persons(rows: dict[Identity, Coverage]) -> dict[str, Coverage]:
    """A person covered on any row counts as a covered holder of shares."""
    persons: dict[str, Coverage] = {}
    for identity, coverage in rows.items():
        persons.setdefault(identity.person, coverage)
    return persons
