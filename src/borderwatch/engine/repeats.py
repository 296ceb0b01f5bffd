"""Events delivered more than once: a sample of event ids, kept to find repeats.

One event can reach the logs twice: an organisation trail and an account trail write
the same CloudTrail events into different files, delivery is at least once, and logs
get exported twice. Such an event counted twice inflates every count of events and of
accesses; verdicts stay the same, since a repeat carries the same signals. Keeping every
event id of a year of logs would cost more than the digest itself, so a scan keeps only
the ids that end in SAMPLE_SUFFIX: one in 256 of random hexadecimal ids such as
CloudTrail's. Both copies of a repeated event have the same id, so both are in the
sample or neither is. A repeat found in the sample is certain, and the share of repeats
in the sample estimates their share overall.

Pure functions over Arrow tables, and one query of the scan's DuckDB table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from borderwatch.engine.duckdb_engine import DuckDBEngine

SAMPLE_SUFFIX = "00"
TABLE = "event_id_sample"
SAMPLE_SCHEMA = pa.schema([("event_id", pa.string()), ("input_path", pa.string())])
# How much of an id an explanation shows: ids come from the logs and may be anything.
_SHOWN = 80


def sample_of(events: pa.Table) -> pa.Table:
    """(event_id, input_path) of the events whose id ends in SAMPLE_SUFFIX."""
    ids = events.column("event_id")
    keep = pc.fill_null(pc.ends_with(ids, SAMPLE_SUFFIX), False)
    return events.select(SAMPLE_SCHEMA.names).filter(keep).cast(SAMPLE_SCHEMA)


@dataclass(frozen=True)
class Repeats:
    """What the sample says about events read more than once."""

    sampled: int  # events in the sample
    repeated: int  # sampled events that are another copy of a sampled event
    example_id: str = ""
    example_inputs: tuple[str, ...] = ()  # up to two inputs holding the example

    def estimate(self, events_total: int) -> int:
        """Repeated events among `events_total`, scaled from the sample's share."""
        if not self.sampled:
            return 0
        return max(self.repeated, round(events_total * self.repeated / self.sampled))

    def warning(self, events_total: int) -> str | None:
        """A sentence for the report when the sample holds repeats, else None."""
        if not self.repeated:
            return None
        estimate = self.estimate(events_total)
        share = 100 * self.repeated / self.sampled
        example = self.example_id[:_SHOWN] + ("..." if len(self.example_id) > _SHOWN else "")
        where = " and ".join(self.example_inputs)
        inside = " (twice in one input)" if len(self.example_inputs) == 1 else ""
        return (
            f"some events were read more than once: {self.repeated:,} of the "
            f"{self.sampled:,} events checked (those whose id ends in "
            f"'{SAMPLE_SUFFIX}') repeat an event read before, e.g. event id {example!r} "
            f"in {where}{inside}. Counts of events and accesses, the findings' counts "
            f"among them, include about {estimate:,} repeats ({share:.1f}%); verdicts "
            "are not affected. Two trails delivering the same events (an organisation "
            "trail and an account trail) or logs exported twice do this: scan one copy "
            "of each."
        )


def find_repeats(engine: DuckDBEngine) -> Repeats:
    """Repeats in the sample table of the scan (or of every scan, with state)."""
    totals = engine.query(
        f"""
        SELECT coalesce(sum(copies), 0) AS sampled, coalesce(sum(copies - 1), 0) AS repeated
        FROM (SELECT count(*) AS copies FROM {TABLE} GROUP BY event_id)
        """
    ).to_pylist()[0]
    sampled, repeated = int(totals["sampled"]), int(totals["repeated"])
    if not repeated:
        return Repeats(sampled, 0)
    example = engine.query(
        f"""
        SELECT event_id, list(DISTINCT input_path ORDER BY input_path) AS inputs
        FROM {TABLE}
        GROUP BY event_id
        HAVING count(*) > 1
        ORDER BY event_id
        LIMIT 1
        """
    ).to_pylist()[0]
    return Repeats(
        sampled,
        repeated,
        str(example["event_id"]),
        tuple(str(path) for path in example["inputs"][:2]),
    )
