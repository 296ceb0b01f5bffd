"""Read the entities file (companies and their owners) and approved travel.

Entities CSV columns: entity_id, name, country (organised under the laws of),
place_of_business, owners. `owners` lists holdings separated by `;`, each
`KIND:REF=PERCENT` with KIND one of `country` (a government: REF is an ISO code),
`entity` (REF is an entity_id) or `person` (REF is a person id from the identities):
`country:CN=30;entity:holdco=25`. YAML: a list under `entities:`; `owners` may also be
a list of {kind, ref, percent}.

Travel CSV columns: person, country, start, end (ISO dates, inclusive), approved_by.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from borderwatch.model.people import Entity, Owner, Travel
from borderwatch.tables import convert
from borderwatch.tables.records import TableRead, read_table
from borderwatch.tables.rows import Row

OWNER_KINDS = ("country", "entity", "person")
_HOLDING = re.compile(r"^\s*(country|entity|person)\s*:\s*([^=]+?)\s*=\s*([0-9.]+)\s*%?\s*$")


def read_entities(path: Path) -> TableRead[Entity]:
    """Entities with their owners; a row with an unreadable holding is quarantined."""
    return read_table(
        path, "entities", "entities", entity_from_row, _duplicate_entity, ("entity_id",)
    )


def read_travel(path: Path) -> TableRead[Travel]:
    """Approved trips; a row with dates out of order is quarantined."""
    return read_table(
        path, "travel", "travel", travel_from_row, required=("person", "country", "start", "end")
    )


def entity_from_row(row: Row) -> Entity:
    values = row.values
    entity_id = convert.text(values, "entity_id", required=True)
    assert entity_id is not None
    owners = _owners(values.get("owners"))
    if sum(o.percent for o in owners) > 100.0001:
        raise convert.CellError("'owners' add up to more than 100%")
    return Entity(
        entity_id=entity_id,
        name=convert.text(values, "name") or entity_id,
        country=convert.country(values, "country"),
        place_of_business=convert.country(values, "place_of_business"),
        owners=owners,
        origin=f"{row.path}:{row.line}",
    )


def travel_from_row(row: Row) -> Travel:
    values = row.values
    person = convert.text(values, "person", required=True)
    country = convert.country(values, "country")
    start, end = convert.date(values, "start"), convert.date(values, "end")
    if person is None or country is None or start is None or end is None:
        raise convert.CellError("travel needs person, country, start and end")
    if start > end:
        raise convert.CellError("'start' is after 'end'")
    return Travel(
        person=person,
        country=country,
        start=start,
        end=end,
        approved_by=convert.text(values, "approved_by"),
        origin=f"{row.path}:{row.line}",
    )


def _owners(raw: Any) -> tuple[Owner, ...]:
    if raw is None or raw == "":
        return ()
    if isinstance(raw, list):
        return tuple(_owner_from_mapping(item) for item in raw)
    return tuple(_owner_from_text(part) for part in str(raw).split(";") if part.strip())


def _owner_from_text(text: str) -> Owner:
    match = _HOLDING.match(text)
    if not match:
        raise convert.CellError(
            f"'owners' entry {text.strip()[:40]!r} is not KIND:REF=PERCENT "
            "(e.g. country:CN=30 or entity:holdco=25)"
        )
    return _owner(match.group(1), match.group(2), match.group(3))


def _owner_from_mapping(item: Any) -> Owner:
    if not isinstance(item, dict):
        raise convert.CellError("each 'owners' item needs kind, ref and percent")
    return _owner(str(item.get("kind", "")), str(item.get("ref", "")), item.get("percent"))


def _owner(kind: str, ref: str, percent: Any) -> Owner:
    if kind not in OWNER_KINDS:
        raise convert.CellError(f"owner kind {kind!r} is not one of {', '.join(OWNER_KINDS)}")
    try:
        share = float(percent)
    except (TypeError, ValueError):
        raise convert.CellError(f"owner percent {percent!r} is not a number") from None
    if not 0 <= share <= 100:
        raise convert.CellError(f"owner percent {share} is not between 0 and 100")
    ref = ref.strip()
    if kind == "country":
        ref = convert.country_code(ref, "owner country")
    return Owner(kind, ref, share)


def _duplicate_entity(entity: Entity, kept: list[Entity]) -> str | None:
    if any(other.entity_id == entity.entity_id for other in kept):
        return f"duplicate entity_id {entity.entity_id!r}"
    return None
