"""Read every event input through its source into the engine, accounting for each record."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from borderwatch.engine.duckdb_engine import DuckDBEngine
from borderwatch.model.events import EVENT_SCHEMA, QuarantinedRecord
from borderwatch.model.scan import InputSummary
from borderwatch.registry import Kind
from borderwatch.sources.base import Source
from borderwatch.sources.inputs import InputFile, expand_inputs, head_bytes

# progress(files_done, files_total, events_so_far, current_display_name)
ProgressCallback = Callable[[int, int, int, str], None]


@dataclass
class EventLoad:
    """What loading the event inputs produced, besides the `events` table."""

    inputs: list[InputSummary] = field(default_factory=list)
    quarantined: list[QuarantinedRecord] = field(default_factory=list)
    events_total: int = 0


def pick_source(sources: Kind[Source], path: Path, forced: str | None) -> Source | None:
    """The source named by `forced`, else the first whose sniff accepts the file's head."""
    if forced:
        return sources.get(forced)
    head = head_bytes(path)
    for source in sources:
        if source.sniff(path, head):
            return source
    return None


def load_events(
    engine: DuckDBEngine,
    sources: Kind[Source],
    paths: Sequence[str | Path],
    *,
    forced_format: str | None = None,
    progress: ProgressCallback | None = None,
) -> EventLoad:
    """Create table `events` and fill it from every input; never stop on a bad file."""
    engine.create_table("events", EVENT_SCHEMA.empty_table())
    files: list[InputFile] = expand_inputs(list(paths)) if paths else []
    load = EventLoad()
    for done, item in enumerate(files):
        if progress:
            progress(done, len(files), load.events_total, item.display)
        load.inputs.append(_load_one(engine, sources, item, forced_format, load))
    if progress:
        progress(len(files), len(files), load.events_total, "")
    return load


def _load_one(
    engine: DuckDBEngine,
    sources: Kind[Source],
    item: InputFile,
    forced_format: str | None,
    load: EventLoad,
) -> InputSummary:
    try:
        source = pick_source(sources, item.path, forced_format)
    except OSError as exc:
        source, reason = None, f"cannot read file: {exc.strerror or exc}"
    else:
        reason = "no reader recognises this format (try --format)"
    if source is None:
        load.quarantined.append(QuarantinedRecord(item.display, "whole file", reason))
        return InputSummary(item.display, "events", "unrecognised", 1, 0, 1, reason)
    read = accepted = quarantined = 0
    note = ""
    for batch in source.read(item.path):
        if batch.skipped_reason:
            note = f"skipped: {batch.skipped_reason}"
        if batch.events.num_rows:
            engine.append("events", batch.events.select(EVENT_SCHEMA.names))
        load.quarantined.extend(batch.quarantined)
        read += batch.records_read
        accepted += batch.events.num_rows
        quarantined += len(batch.quarantined)
    load.events_total += accepted
    return InputSummary(item.display, "events", source.name, read, accepted, quarantined, note)
