"""The Enricher contract: a pure function from a batch to the same batch with more columns.

An enricher reads columns of one table the enrich stage builds (`callers`: one row per
distinct caller of a protected access; `identities`: one row per identity row) and adds
columns to it. It is given the reference data it may consult in an `EnrichContext` and
nothing else: no engine, no files, no clock. That keeps it batch-shaped, so the same
enricher runs over a whole table here and over each Arrow batch of a distributed engine
(Spark's mapInArrow) later, with the same result.

Enrichers are plug-ins (`Registry.enrichers`); the stage (`enrich/stage.py`) runs every
registered enricher of a table, each once the columns it needs are there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol, TypeVar

import pyarrow as pa

from borderwatch.enrich.geo import GeoSource
from borderwatch.inventory.locations import LocationRegistry
from borderwatch.model.inventory import Identity
from borderwatch.model.people import Entity
from borderwatch.model.policy import Policy

# The tables the enrich stage builds, and so the tables an enricher can extend.
CALLERS = "callers"
IDENTITIES = "identities"

Batch = TypeVar("Batch", pa.Table, pa.RecordBatch)


@dataclass(frozen=True)
class EnrichContext:
    """The reference data enrichers consult; read-only, the same for every batch."""

    policy: Policy
    locations: LocationRegistry
    # IP data in precedence order (enrich.geo.load_sources).
    geo_sources: Sequence[GeoSource] = ()
    identities: Sequence[Identity] = ()
    entities: Sequence[Entity] = field(default=())

    @cached_property
    def concern_countries(self) -> frozenset[str]:
        """Countries whose people and entities are covered persons (the policy's
        `covered_person_countries` over every protected data class, and the Data
        Security Program's countries of concern)."""
        return frozenset(
            country
            for data_class in self.policy.protected_classes()
            for country in data_class.access.covered_person_countries
        ) | frozenset(self.policy.dsp.countries_of_concern)


class Enricher(Protocol):
    """Adds columns to one table of the enrich stage; see the module docstring.

    `enrich` must be pure: the same batch and context give the same result, the batch
    is not changed, every input column comes back unchanged and rows keep their number
    and order; exactly the columns in `adds` are new.
    """

    @property
    def name(self) -> str:
        """Unique name in the registry (`caller-location`)."""

    @property
    def table(self) -> str:
        """The table it extends: `CALLERS` or `IDENTITIES`."""

    @property
    def needs(self) -> tuple[str, ...]:
        """Columns it reads; it runs once another enricher (or the stage) made them."""

    @property
    def adds(self) -> tuple[str, ...]:
        """Columns it adds."""

    def enrich(self, batch: Batch, context: EnrichContext) -> Batch:
        """`batch` with the `adds` columns appended (a Table for a Table, a RecordBatch
        for a RecordBatch)."""


def as_table(batch: pa.Table | pa.RecordBatch) -> pa.Table:
    """A Table view of either batch type (no copy)."""
    return batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])


def like(batch: Batch, table: pa.Table) -> Batch:
    """`table` in the type of `batch`: enrichers return what they were given."""
    if isinstance(batch, pa.Table):
        return table
    columns = [column.combine_chunks() for column in table.columns]
    return pa.RecordBatch.from_arrays(columns, schema=table.schema)
