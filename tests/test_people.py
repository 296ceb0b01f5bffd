"""Covered-person status, entities and travel readers, identities valid in time."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from borderwatch.enrich.covered import covered_status
from borderwatch.model.inventory import Identity
from borderwatch.model.people import Entity, Owner
from borderwatch.tables.identities import read_identities
from borderwatch.tables.people import read_entities, read_travel

CONCERN = {"CN", "HK", "MO", "CU", "IR", "KP", "RU", "VE"}


def entity(entity_id: str, *owners: tuple[str, str, float], country: str = "US") -> Entity:
    return Entity(entity_id, entity_id, country, country, tuple(Owner(*o) for o in owners))


def test_fifty_percent_rule_aggregates_and_follows_chains_in_any_order() -> None:
    entities = [
        # Listed before the entities that make them covered: the fixed point must cope.
        entity("c", ("entity", "b", 50.0)),
        entity("b", ("entity", "a", 30.0), ("country", "RU", 20.0)),
        entity("a", ("country", "CN", 50.0)),
        entity("just-under", ("entity", "a", 49.9)),
        entity("uncovered-holder", ("entity", "clean", 100.0)),
        entity("clean"),
    ]
    status = covered_status(entities, [], CONCERN)
    assert set(status.entities) == {"a", "b", "c"}
    assert status.entities["b"].countries == ("CN", "RU")
    assert "[a is 50% owned" in status.entities["b"].basis


def test_ownership_cycles_terminate() -> None:
    entities = [entity("x", ("entity", "y", 60.0)), entity("y", ("entity", "x", 60.0))]
    assert covered_status(entities, [], CONCERN).entities == {}


def test_people_are_covered_by_residence_employer_or_government() -> None:
    entities = [entity("shellco", country="KY"), entity("hk-office", country="HK")]
    rows = [
        Identity("p1", "p1", "US", "hk-office"),
        Identity("p2", "p2", "US", "shellco"),
        Identity("p3", "p3", "SG", None, resident_country="IR"),
        Identity("p4", "p4", "CN", "CN"),
        Identity("p5", "p5", "US", "shellco", resident_country="US"),
    ]
    status = covered_status(entities, rows, CONCERN)
    covered = {i.person: c.countries for i, c in status.identities.items()}
    assert covered == {"p1": ("HK",), "p3": ("IR",), "p4": ("CN",)}


def test_a_covered_person_holding_shares_makes_the_entity_covered() -> None:
    founder = Identity("founder", "founder", "CN", None, resident_country="CN")
    status = covered_status([entity("co", ("person", "founder", 50.0))], [founder], CONCERN)
    assert "co" in status.entities


def test_entities_reader_quarantines_bad_holdings(tmp_path: Path) -> None:
    path = tmp_path / "entities.csv"
    path.write_text(
        "entity_id,name,country,place_of_business,owners\n"
        "a,A,US,US,country:CN=60;entity:b=40\n"
        "b,B,US,US,country:CN=sixty\n"  # line 3
        "c,C,US,US,country:CN=70;entity:a=40\n"  # line 4: over 100%
        "d,D,USA,US,\n"  # line 5: bad country
        "a,A again,US,US,\n",  # line 6: duplicate
        encoding="utf-8",
    )
    read = read_entities(path)
    assert [e.entity_id for e in read.items] == ["a"]
    assert read.items[0].owners == (Owner("country", "CN", 60.0), Owner("entity", "b", 40.0))
    reasons = {q.position: q.reason for q in read.quarantined}
    assert set(reasons) == {"line 3", "line 4", "line 5", "line 6"}
    assert "KIND:REF=PERCENT" in reasons["line 3"] and "100%" in reasons["line 4"]
    assert read.records_read == 5


def test_identities_valid_in_time_and_overlaps_refused(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text(
        "principal,person,work_country,employer,valid_from,valid_to\n"
        "u,mei,CN,,,2026-02-28\n"
        "u,mei,US,,2026-03-01,\n"
        "u,mei,SG,,2026-06-01,2026-06-30\n"  # line 4: overlaps the open-ended row
        "v,ana,US,,2026-05-01,2026-04-01\n"  # line 5: backwards
        "w,raj,US,,31/01/2026,\n",  # line 6: not ISO
        encoding="utf-8",
    )
    read = read_identities(path)
    assert [(i.work_country, i.valid_from) for i in read.items] == [
        ("CN", None),
        ("US", dt.date(2026, 3, 1)),
    ]
    assert [q.position for q in read.quarantined] == ["line 4", "line 5", "line 6"]


def test_travel_reader(tmp_path: Path) -> None:
    path = tmp_path / "travel.csv"
    path.write_text(
        "person,country,start,end,approved_by\n"
        "hana,DE,2026-03-20,2026-03-25,ciso\n"
        "hana,DE,2026-03-25,2026-03-20,ciso\n"
        "hana,,2026-03-20,2026-03-25,ciso\n",
        encoding="utf-8",
    )
    read = read_travel(path)
    assert len(read.items) == 1 and read.items[0].end == dt.date(2026, 3, 25)
    assert len(read.quarantined) == 2
