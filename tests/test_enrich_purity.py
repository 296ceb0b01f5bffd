"""Every registered enricher is pure and batch-shaped, over generated batches: the same
input gives the same output, the input is not changed, rows keep their number and order,
a RecordBatch gives what a Table gives, and any split into batches gives the same rows as
the whole (what a distributed engine's mapInArrow relies on)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from borderwatch.api import load_policy
from borderwatch.enrich.base import CALLERS, IDENTITIES, EnrichContext, Enricher
from borderwatch.enrich.covered import covered_status
from borderwatch.enrich.geo import SourceSpec, load_sources
from borderwatch.enrich.stage import identity_batch
from borderwatch.inventory.locations import LocationRegistry
from borderwatch.model.inventory import Identity
from borderwatch.model.people import Entity, Owner
from borderwatch.registry import load_plugins

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
CITY = REAL / "maxmind-test-db" / "test-data" / "GeoIP2-City-Test.mmdb"
GOOGLE = REAL / "cloud-ip-ranges" / "google-cloud-ip-ranges.json"

POLICY = """\
borderwatch: policy/v1
name: purity
version: "1"
jurisdiction:
  corporate_egress:
    - {cidr: 10.20.0.0/16, country: US, office: Austin}
    - {cidr: "2001:db8::/32", country: GB, office: London}
data_classes:
  us_user_data:
    storage:
      approved: [{country: US}]
    access:
      prohibited_countries: [dsp_countries_of_concern]
      covered_person_countries: [dsp_countries_of_concern]
"""
CONCERN_SAMPLE = ["CN", "RU", "IR", "HK"]
OTHER_COUNTRIES = ["US", "GB", "DE", "KY", "SG"]
ENTITY_IDS = ["alpha", "beta", "gamma", "delta", "epsilon"]
PEOPLE = ["ann", "bob", "cy", "dee"]

ENRICHERS = list(load_plugins().enrichers)


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> EnrichContext:
    folder = tmp_path_factory.mktemp("purity")
    policy_path = folder / "policy.yaml"
    policy_path.write_text(POLICY)
    specs = [SourceSpec("mmdb", CITY), SourceSpec("provider", GOOGLE)]
    return EnrichContext(
        load_policy(policy_path),
        LocationRegistry.load_builtin(),
        load_sources(specs, cache_dir=folder / "cache"),
    )


def ip_caller(address: st.SearchStrategy[object]) -> st.SearchStrategy[str]:
    """An address as logs write it: bare, with a port, IPv6 in brackets, padded."""
    text = address.map(str)
    return st.one_of(
        text,
        st.tuples(text, st.integers(0, 65535)).map(
            lambda a: f"[{a[0]}]:{a[1]}" if ":" in a[0] else f"{a[0]}:{a[1]}"
        ),
        text.map(lambda a: f" {a} "),
    )


CALLER_VALUES = st.one_of(
    ip_caller(st.ip_addresses(v=4)),
    ip_caller(st.ip_addresses(v=6)),
    # Addresses the real data knows (MaxMind test ranges, Google Cloud, the egress).
    st.sampled_from(
        [
            "67.43.156.13",
            "81.2.69.160",
            "2.125.160.216",
            "8.34.208.10",
            "10.20.3.4",
            "2001:db8::1",
            "1.2.0.1",
            "89.160.20.112",
        ]
    ),
    st.sampled_from(["AWS Internal", "s3.amazonaws.com", "", "   ", "unknown", "localhost"]),
    st.text(max_size=20),
    st.none(),
)


@st.composite
def caller_batches(draw: st.DrawFn) -> pa.Table:
    # Distinct, as the stage gives them (SELECT DISTINCT caller), in any order.
    values = draw(st.lists(CALLER_VALUES, max_size=30, unique=True))
    return pa.table({"caller": pa.array(values, pa.string())})


@st.composite
def people(draw: st.DrawFn) -> tuple[list[Identity], list[Entity]]:
    countries = st.sampled_from([*CONCERN_SAMPLE, *OTHER_COUNTRIES])
    owner = st.one_of(
        st.builds(Owner, st.just("country"), countries, st.sampled_from([10.0, 30.0, 50.0])),
        st.builds(Owner, st.just("entity"), st.sampled_from(ENTITY_IDS), st.just(50.0)),
        st.builds(Owner, st.just("person"), st.sampled_from(PEOPLE), st.just(50.0)),
    )
    entities = [
        Entity(
            entity_id,
            entity_id.title() + " Ltd",
            draw(countries),
            draw(countries),
            tuple(draw(st.lists(owner, max_size=3))),
        )
        for entity_id in draw(st.lists(st.sampled_from(ENTITY_IDS), unique=True))
    ]
    identity = st.builds(
        Identity,
        principal=st.sampled_from(["p1", "p2", "p3"]),
        person=st.sampled_from(PEOPLE),
        work_country=st.none() | countries,
        employer=st.none() | countries | st.sampled_from([*ENTITY_IDS, "outsider"]),
        resident_country=st.none() | countries,
        relationship=st.sampled_from([None, "", "employee", "contractor"]),
    )
    return draw(st.lists(identity, max_size=12)), entities


def input_for(enricher: Enricher, batch: pa.Table, context: EnrichContext) -> pa.Table:
    """`batch` with the columns `enricher` needs, added by the enrichers that add them
    (a plug-in may read what a built-in adds)."""
    others = [e for e in ENRICHERS if e.table == enricher.table and e is not enricher]
    while not set(enricher.needs) <= set(batch.column_names):
        ready = next(e for e in others if set(e.needs) <= set(batch.column_names))
        batch = ready.enrich(batch, context)
        others.remove(ready)
    return batch


def same_everywhere(enricher: Enricher, batch: pa.Table, context: EnrichContext, cut: int) -> None:
    batch = input_for(enricher, batch, context)
    copy = pa.table({name: batch.column(name).to_pylist() for name in batch.column_names})
    copy = copy.cast(batch.schema)
    first = enricher.enrich(batch, context)
    # Same input, same output; the input is not changed.
    assert enricher.enrich(batch, context).equals(first)
    assert batch.equals(copy)
    # Rows keep their number and order; every input column comes back unchanged; exactly
    # the announced columns are added.
    assert first.num_rows == batch.num_rows
    assert first.column_names == [*batch.column_names, *enricher.adds]
    assert first.select(batch.column_names).equals(batch)
    # A RecordBatch gives what a Table gives, as a RecordBatch.
    record_batch = pa.RecordBatch.from_arrays(
        [column.combine_chunks() for column in batch.columns], schema=batch.schema
    )
    as_batch = enricher.enrich(record_batch, context)
    assert isinstance(as_batch, pa.RecordBatch)
    assert pa.Table.from_batches([as_batch]).equals(first)
    # Enriched in two batches, the rows are those of the whole.
    cut = min(cut, batch.num_rows)
    halves = [enricher.enrich(batch.slice(0, cut), context)]
    halves.append(enricher.enrich(batch.slice(cut), context))
    assert pa.concat_tables(halves).equals(first)


@pytest.mark.parametrize(
    "enricher", [e for e in ENRICHERS if e.table == CALLERS], ids=lambda e: e.name
)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=caller_batches(), cut=st.integers(0, 30))
def test_caller_enrichers_are_pure(
    enricher: Enricher, context: EnrichContext, batch: pa.Table, cut: int
) -> None:
    same_everywhere(enricher, batch, context, cut)


@pytest.mark.parametrize(
    "enricher", [e for e in ENRICHERS if e.table == IDENTITIES], ids=lambda e: e.name
)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(reference=people(), cut=st.integers(0, 12))
def test_identity_enrichers_are_pure(
    enricher: Enricher,
    context: EnrichContext,
    reference: tuple[list[Identity], list[Entity]],
    cut: int,
) -> None:
    identities, entities = reference
    with_people = EnrichContext(context.policy, context.locations, (), identities, entities)
    same_everywhere(enricher, identity_batch(identities), with_people, cut)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(reference=people())
def test_covered_person_rows_agree_with_the_fixed_point(
    context: EnrichContext, reference: tuple[list[Identity], list[Entity]]
) -> None:
    """Column-wise, each row gets the coverage the fixed point over rows gives it."""
    identities, entities = reference
    with_people = EnrichContext(context.policy, context.locations, (), identities, entities)
    enricher = load_plugins().enrichers.get("covered-person")
    rows = enricher.enrich(identity_batch(identities), with_people).to_pylist()
    expected = covered_status(entities, identities, with_people.concern_countries).identities
    for identity, row in zip(identities, rows, strict=True):
        coverage = expected.get(identity)
        assert row["covered_countries"] == (list(coverage.countries) if coverage else None)
        assert row["covered_basis"] == (coverage.basis if coverage else None)
