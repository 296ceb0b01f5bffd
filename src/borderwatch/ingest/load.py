"""Load the event inputs of a scan into the engine: every input once, with or without
the incremental state, with its accounting, repeats and copies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from borderwatch.ingest.copies import content_copies, copy_note
from borderwatch.ingest.digest import ProtectedKeys
from borderwatch.ingest.events import TABLE as ACCESS_TABLE
from borderwatch.ingest.events import ProgressCallback, load_events
from borderwatch.ingest.expansion import InputFile
from borderwatch.ingest.repeats import count_once, find_repeats
from borderwatch.ingest.state import ScanState
from borderwatch.model.events import QuarantinedRecord
from borderwatch.model.scan import InputSummary
from borderwatch.registry import Kind
from borderwatch.runtime.options import ScanOptions
from borderwatch.runtime.steps import StepStop
from borderwatch.runtime.tablestore import TableStore
from borderwatch.sources.base import Source


@dataclass
class Loaded:
    """What loading the event inputs produced besides the engine's tables."""

    inputs: list[InputSummary]
    quarantined: list[QuarantinedRecord]
    warnings: list[str]
    notes: list[str] = field(default_factory=list)


def load_inputs(
    engine: TableStore,
    files: Sequence[InputFile],
    keys: ProtectedKeys,
    sources: Kind[Source],
    *,
    state_path: Path | None,
    event_format: str | None,
    exact_repeats: bool,
    progress: ProgressCallback | None,
    stops: StepStop,
    options: ScanOptions | None = None,
    spark: Any = None,
) -> Loaded:
    """Read the event inputs; with state, only those no earlier scan has read.

    An input with the same bytes as another (a copied folder, a file moved into an
    archive between incremental scans) is read once; the copy says so in its note.
    `options`: the scan's tuning (runtime/options.py); None: the defaults. `spark`: the
    SparkSession whose tasks read the inputs (`scan --engine spark`), else None.
    """
    if state_path is None:
        found = content_copies(files)
        copies = [
            InputSummary(
                files[index].display,
                "events",
                "copy",
                0,
                0,
                0,
                copy_note(files[copy.first].display, copy.sha256, decompressed=copy.decompressed),
            )
            for index, copy in found.items()
        ]
        load = load_events(
            engine,
            sources,
            (),
            keys=keys,
            files=[item for index, item in enumerate(files) if index not in found],
            forced_format=event_format,
            progress=progress,
            exact=exact_repeats,
            options=options,
            spark=spark,
        )
        summaries = _in_input_order(files, [*load.inputs, *copies])
        if exact_repeats:
            count_once(engine, ACCESS_TABLE)
            once = find_repeats(engine).counted_once()
            return Loaded(
                summaries,
                load.quarantined,
                [],
                [*_copies_note(len(copies)), *([once] if once else [])],
            )
        return Loaded(
            summaries,
            load.quarantined,
            _repeats_warning(engine, summaries),
            _copies_note(len(copies)),
        )
    # Digests, the inputs read and the sample of event ids are committed together: a
    # scan killed before the commit leaves the state as the scan before it left it.
    with ScanState.transaction(engine) as state:
        stops.reached("state-opened")
        notes = state.check_keys(keys)
        plan = state.plan(files)
        load = load_events(
            engine,
            sources,
            (),
            keys=keys,
            files=plan.to_read,
            append=True,
            forced_format=event_format,
            progress=progress,
            reached=stops.reached,
            options=options,
        )
        stops.reached("inputs-read")
        copied = [item for item, _ in plan.copies]
        copy_summaries = [summary for _, summary in plan.copies]
        state.remember(
            [*plan.to_read, *copied],
            [*load.inputs, *copy_summaries],
            load.quarantined,
            plan.fingerprints,
            plan.carried,
        )
        summaries = _in_input_order(files, [*plan.earlier, *load.inputs, *copy_summaries])
        repeats = _repeats_warning(engine, summaries)
        stops.reached("state-written")
    stops.reached("state-committed")
    return Loaded(
        summaries,
        [*plan.earlier_quarantine, *load.quarantined],
        [*plan.changed, *repeats],
        [*notes, *_copies_note(len(copied))],
    )


def _repeats_warning(engine: TableStore, summaries: Sequence[InputSummary]) -> list[str]:
    """A warning when the sampled event ids show events read more than once."""
    events = sum(summary.accepted for summary in summaries)
    formats = {summary.path: summary.format for summary in summaries}
    warning = find_repeats(engine, formats).warning(events)
    return [warning] if warning else []


def _in_input_order(
    files: Sequence[InputFile], summaries: list[InputSummary]
) -> list[InputSummary]:
    """Summaries in the order the inputs were named (each input has one)."""
    position = {item.display: index for index, item in enumerate(files)}
    return sorted(summaries, key=lambda summary: position.get(summary.path, len(position)))


def _copies_note(count: int) -> list[str]:
    if not count:
        return []
    inputs, verb, whose = (
        ("input has", "was", "its") if count == 1 else ("inputs have", "were", "their")
    )
    return [
        f"{count:,} {inputs} the same content as another input and {verb} not read again: "
        f"{whose} records are counted once (see the inputs' notes)"
    ]
