"""Events delivered more than once: a sample of event ids, kept to find repeats.

One event can reach the logs twice: an organisation trail and an account trail write
the same CloudTrail events into different files, delivery is at least once, and logs
get exported twice. Such an event counted twice inflates every count of events and of
accesses; verdicts stay the same, since a repeat carries the same signals. Keeping every
event id of a year of logs would cost more than the digest itself, so a scan keeps only
the ids that end in SAMPLE_SUFFIX: one in 256 of random hexadecimal ids such as
CloudTrail's. Both copies of a repeated event have the same id, so both are in the
sample or neither is. A repeat found in the sample is certain, and the share of repeats
in the sample estimates their share overall, with a 95% interval; with fewer than
MIN_REPEATS repeats in the sample the estimate says too little and is withheld.

Pure functions over Arrow tables, and one query of the scan's DuckDB table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from borderwatch.runtime.tablestore import TableStore

SAMPLE_SUFFIX = "00"
TABLE = "event_id_sample"
SAMPLE_SCHEMA = pa.schema([("event_id", pa.string()), ("input_path", pa.string())])
# How much of an id an explanation shows: ids come from the logs and may be anything.
_SHOWN = 80
# Fewer repeats than this in the sample: no estimate (its interval would span an order of
# magnitude), only that there are some.
MIN_REPEATS = 30
# Why a format's events get read twice; the reader's name picks the sentence.
_CAUSES: dict[str, str] = {
    "cloudtrail": "two trails delivering the same events (an organisation trail and an "
    "account trail)",
    "s3-access": "server access logs copied between buckets or delivered to two targets",
    "gcp-audit": "two log sinks routing the same audit logs (an organisation sink and a "
    "project sink)",
    "azure-activity": "two diagnostic settings exporting the same Activity Log",
    "entra": "two diagnostic settings exporting the same sign-in logs",
    "gworkspace": "Reports API pulls whose time ranges overlap",
    "okta": "System Log pulls whose time ranges overlap",
    "github-audit": "audit log exports whose time ranges overlap, or a stream and an export",
    "oci-audit": "two service connectors moving the same audit logs",
    "k8s-audit": "two audit backends (a log file and a webhook) writing the same events",
}
_EXPORTED_TWICE = "the same logs exported or copied twice"


def sample_of(events: pa.Table, *, every: bool = False) -> pa.Table:
    """(event_id, input_path) of the events whose id ends in SAMPLE_SUFFIX (`every`: of
    all events, for --exact-repeats)."""
    ids = events.column("event_id")
    # One filter per batch (this runs on every batch read): a null id is never kept.
    keep = pc.is_valid(ids) if every else pc.fill_null(pc.ends_with(ids, SAMPLE_SUFFIX), False)
    return events.select(SAMPLE_SCHEMA.names).filter(keep).cast(SAMPLE_SCHEMA)


@dataclass(frozen=True)
class Repeats:
    """What the sample says about events read more than once."""

    sampled: int  # events in the sample
    repeated: int  # sampled events that are another copy of a sampled event
    example_id: str = ""
    example_inputs: tuple[str, ...] = ()  # up to two inputs holding the example
    # The readers (formats) of the inputs holding sampled repeats, when known.
    formats: tuple[str, ...] = ()

    def estimate(self, events_total: int) -> int:
        """Repeated events among `events_total`, scaled from the sample's share."""
        if not self.sampled:
            return 0
        return max(self.repeated, round(events_total * self.repeated / self.sampled))

    def interval(self, events_total: int) -> tuple[int, int]:
        """A 95% interval of the repeated events among `events_total` (Clopper-Pearson on
        the sample's share; never below the repeats seen, which are certain)."""
        if not self.sampled:
            return 0, 0
        # Imported here: scipy.stats takes most of a second to import, and only a scan
        # with many repeats needs it.
        from scipy.stats import binomtest

        low, high = binomtest(self.repeated, self.sampled).proportion_ci(0.95, "exact")
        return (
            max(self.repeated, round(events_total * low)),
            max(self.repeated, round(events_total * high)),
        )

    def estimated(self) -> bool:
        """Whether the sample holds enough repeats (MIN_REPEATS) for an estimate."""
        return self.repeated >= MIN_REPEATS

    def causes(self) -> str:
        """What makes events of these formats repeat, in words."""
        named = [_CAUSES[name] for name in self.formats if name in _CAUSES]
        return " or ".join([*dict.fromkeys(named), _EXPORTED_TWICE])

    def counted_once(self) -> str | None:
        """A sentence for the report when every id was kept (--exact-repeats), else None."""
        if not self.repeated:
            return None
        return (
            f"{self.repeated:,} events were read more than once (the same event id again), "
            f"e.g. event id {self._example()} in {self._where()}; with --exact-repeats "
            "each counts once in the accesses and the findings (the inputs' record counts "
            "still say what each input held)."
        )

    def _example(self) -> str:
        cut = self.example_id[:_SHOWN] + ("..." if len(self.example_id) > _SHOWN else "")
        return repr(cut)

    def _where(self) -> str:
        inside = " (twice in one input)" if len(self.example_inputs) == 1 else ""
        return " and ".join(self.example_inputs) + inside

    def warning(self, events_total: int) -> str | None:
        """A sentence for the report when the sample holds repeats, else None."""
        if not self.repeated:
            return None
        if self.estimated():
            low, high = self.interval(events_total)
            share = 100 * self.repeated / self.sampled
            how_many = (
                f"include about {self.estimate(events_total):,} repeats ({share:.1f}%; "
                f"95% interval {low:,} to {high:,})"
            )
        else:
            how_many = (
                f"include some repeats (too few in the sample, under {MIN_REPEATS}, to "
                "estimate how many: run --exact-repeats)"
            )
        causes = self.causes()
        return (
            f"some events were read more than once: {self.repeated:,} of the "
            f"{self.sampled:,} events checked (those whose id ends in "
            f"'{SAMPLE_SUFFIX}') repeat an event read before, e.g. event id "
            f"{self._example()} in {self._where()}. Counts of events and accesses, the "
            f"findings' counts among them, {how_many}; verdicts are not affected. "
            f"{causes[:1].upper()}{causes[1:]} do this: scan one copy of each, or run a full "
            "scan with --exact-repeats to count each event once."
        )


def count_once(engine: TableStore, table: str) -> None:
    """Keep one row per (event id, store, DSP subject) of `table`, unmerged access rows
    (one per access and subject, its event id in `min_event_id`, as
    `load_events(exact=True)` writes them).

    Copies of one event are the same access, so which row stays does not matter for the
    groups; the order makes it the same row every time when two events share an id.
    """
    # QUALIFY, not DISTINCT ON ... ORDER BY: the same rows, eight times faster here.
    engine.execute(
        f"""
        CREATE OR REPLACE TABLE {table} AS
        SELECT * FROM {table}
        QUALIFY row_number() OVER (
            PARTITION BY min_event_id, store_id, subject
            ORDER BY principal, aliases_key, caller, day, provider, region, first_seen,
                     min_action, min_claimed_country
        ) = 1
        """
    )


def find_repeats(engine: TableStore, formats: Mapping[str, str] | None = None) -> Repeats:
    """Repeats in the sample table of the scan (or of every scan, with state).

    `formats`: the reader of each input path, to name the causes of repeats per format.
    """
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
        _formats_of_repeats(engine, formats or {}),
    )


def _formats_of_repeats(engine: TableStore, formats: Mapping[str, str]) -> tuple[str, ...]:
    """The formats of the inputs holding a sampled repeat, sorted."""
    paths = engine.query(
        f"""
        SELECT DISTINCT input_path FROM {TABLE}
        WHERE event_id IN (SELECT event_id FROM {TABLE} GROUP BY event_id HAVING count(*) > 1)
        """
    ).column(0)
    return tuple(sorted({formats[p] for p in paths.to_pylist() if p in formats}))
