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

The `CoveredPerson` enricher gives each identity row its status: the fixed point over
the whole of the entities and identities (a person's holdings make an entity covered
whatever row of theirs is in a batch) comes from the context; each row is then judged
by its own columns alone, so any split of the table into batches gives the same rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from borderwatch.enrich.base import IDENTITIES, Batch, EnrichContext, as_table, like
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


COVERED_COLUMNS = ("covered_countries", "covered_basis")


class CoveredPerson:
    """`covered_countries` and `covered_basis` of each identity row (28 CFR 202.211)."""

    name = "covered-person"
    table = IDENTITIES
    needs = ("person", "employer", "resident_country", "relationship")
    adds = COVERED_COLUMNS

    def enrich(self, batch: Batch, context: EnrichContext) -> Batch:
        """`batch` with the row's covered-person countries and basis (null: not covered)."""
        concern = context.concern_countries
        covered = covered_status(context.entities, context.identities, concern).entities
        names = {entity.entity_id: entity.name for entity in context.entities}
        table = as_table(batch)
        countries, basis = identity_coverage(table, concern, covered, names)
        table = table.append_column(COVERED_COLUMNS[0], countries)
        return like(batch, table.append_column(COVERED_COLUMNS[1], basis))


def identity_coverage(
    rows: pa.Table,
    concern: Iterable[str],
    covered: Mapping[str, Coverage],
    names: Mapping[str, str],
) -> tuple[pa.Array, pa.Array]:
    """Per identity row, the countries and basis of its coverage (null when none).

    The same judgement as `_identity_coverage`, in the same order (residence, then a
    covered employer, then an employer that is a country of concern's government), over
    whole columns.
    """
    string = pa.string()
    n = rows.num_rows
    person = _strings(rows, "person")
    employer = _strings(rows, "employer")
    resident = _strings(rows, "resident_country")
    relationship = _strings(rows, "relationship")
    concern_set = pa.array(sorted(set(concern)), string)
    ids = sorted(covered)
    index = pc.index_in(employer, value_set=pa.array(ids, string))

    by_residence = pc.fill_null(pc.is_in(resident, value_set=concern_set), False)
    by_employer = pc.is_valid(index)
    by_government = pc.fill_null(pc.is_in(employer, value_set=concern_set), False)

    one_each = pa.array(np.arange(n + 1, dtype=np.int32))
    employer_countries = pa.array([list(covered[i].countries) for i in ids], pa.list_(string))
    countries = _first_of(
        (by_residence, pa.ListArray.from_arrays(one_each, resident)),
        (by_employer, employer_countries.take(index)),
        (by_government, pa.ListArray.from_arrays(one_each, employer)),
    )
    named = pa.array([names.get(i, i) for i in ids], string).take(index)
    bases = pa.array([covered[i].basis for i in ids], string).take(index)
    stated = pc.and_(pc.is_valid(relationship), pc.greater(pc.utf8_length(relationship), 0))
    role = pc.if_else(pc.fill_null(stated, False), relationship, pa.scalar("employee"))
    basis = _first_of(
        (by_residence, _join(person, " is primarily resident in ", resident)),
        (by_employer, _join(role, " of ", named, ": ", bases)),
        (by_government, _join(person, " works for the government of ", employer)),
    )
    return countries, basis


def _strings(rows: pa.Table, name: str) -> pa.Array:
    return pc.cast(rows.column(name).combine_chunks(), pa.string())


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _first_of(*choices: tuple[pa.Array, pa.Array]) -> pa.Array:
    """Per row, the value of the first choice whose condition holds, else null."""
    result = pa.nulls(len(choices[0][1]), choices[0][1].type)
    for condition, value in reversed(choices):
        result = pc.if_else(condition, value, result)
    return result
