"""A reader of served-recommendation logs (JSON lines, CSV or Parquet) through a mapping.

The mapping file is the generic reader's (docs/mapping.md) with the feed's own fields
(FEED_FIELDS): which column holds the time a recommendation was served, the viewer's
region, the item, the item's topic, source country and creator, its position in the
feed, and the manual-intervention flag or reason. Rows come out in FEED_SCHEMA, never as
access events. A record without a usable time, with a position that is not a whole
number from 1 to a billion, or with a manual flag that is not true/false (or 1/0) is
quarantined with its position in the file and the reason, like every source's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from borderwatch.model.feed import FEED_SCHEMA
from borderwatch.sources.batches import BatchBuilder, reader_columns
from borderwatch.sources.generic import GenericSource, extract, number_of, text_of
from borderwatch.sources.mapping import MappedFields, Mapping, load_mapping
from borderwatch.sources.record import RecordError, check_text, flag, kind_of, per_record

__all__ = ["FEED_FIELDS", "FeedSource", "load_feed_mapping"]

# What a feed mapping may map: every column of a feed row a reader fills.
FEED_FIELDS = MappedFields(reader_columns(FEED_SCHEMA), what="field of a feed record")
_TEXT_FIELDS = ("viewer_region", "item", "topic", "source_country", "creator")
# No feed is a billion items deep: a larger position is a broken record.
MAX_POSITION = 1_000_000_000


def load_feed_mapping(path: str | Path) -> FeedSource:
    """The feed reader for one mapping file (MappingError lists every problem in it)."""
    return FeedSource(load_mapping(path, FEED_FIELDS))


class FeedSource(GenericSource):
    """Reads served recommendations through a feed mapping (see module docstring)."""

    def __init__(self, mapping: Mapping) -> None:
        super().__init__(mapping)
        self.description = (
            mapping.description or f"feed log ({mapping.input}) mapped by {mapping.origin}"
        )

    def builder(self, path: Path) -> BatchBuilder:
        return BatchBuilder(self.name, str(path), FEED_SCHEMA)

    @per_record
    def normalise(self, item: Any) -> dict[str, Any]:
        """The feed columns of one record (a CSV row dict, JSON object or Parquet row)."""
        if not isinstance(item, dict):
            raise RecordError(f"record is {kind_of(item)}, expected an object")
        fields = self.mapping.fields
        row: dict[str, Any] = {
            "event_time": self._time([extract(item, spec) for spec in fields["event_time"]])
        }
        for name in _TEXT_FIELDS:
            row[name] = _first(name, [extract(item, spec) for spec in fields.get(name, ())])
        row["position"] = _position([extract(item, spec) for spec in fields.get("position", ())])
        reason = _first(
            "intervention_reason",
            [extract(item, spec) for spec in fields.get("intervention_reason", ())],
        )
        manual = _manual([extract(item, spec) for spec in fields.get("manual", ())])
        row["intervention_reason"] = reason
        # A reason says someone intervened, whatever the flag says.
        row["manual"] = bool(manual) or reason is not None
        return check_text(row)


def _first(name: str, values: list[Any]) -> str | None:
    return next((t for v in values if (t := text_of(v, name)) is not None), None)


def _position(values: list[Any]) -> int | None:
    for value in values:
        if text_of(value, "position") is None:
            continue
        number = number_of(value)
        if number is None or number != int(number) or number < 1:
            raise RecordError(f"position {repr(value)[:40]} is not a whole number of 1 or more")
        if number > MAX_POSITION:
            # Also keeps the value inside the column's 64-bit integers.
            raise RecordError(f"position {repr(value)[:40]} is beyond {MAX_POSITION:,}")
        return int(number)
    return None


def _manual(values: list[Any]) -> bool | None:
    for value in values:
        if text_of(value, "manual") is None:
            continue
        decided = flag(value.strip() if isinstance(value, str) else value)
        if decided is None and not isinstance(value, bool) and str(value).strip() in "01":
            decided = str(value).strip() == "1"  # 0/1 flags, as numbers or text
        if decided is None:
            raise RecordError(f"manual flag {repr(value)[:40]} is neither true nor false")
        return decided
    return None
