"""The canonical access-event schema every source maps into, and the quarantine record.

One row is one request a principal made to a cloud or identity service. Columns are
kept to what the rules and the report need; the vendor's raw record is not carried.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

EVENT_SCHEMA = pa.schema(
    [
        # The log's own id where it has one (CloudTrail eventID), else derived from
        # input path and record position so that it is stable across runs.
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("event_time", pa.timestamp("us", tz="UTC")),
        pa.field("source_format", pa.string(), nullable=False),
        pa.field("input_path", pa.string(), nullable=False),
        # 1-based record number inside the input (line for JSON lines, index for arrays).
        pa.field("input_record", pa.int64(), nullable=False),
        pa.field("provider", pa.string()),  # aws, gcp, azure, oci, ...
        pa.field("account", pa.string()),
        pa.field("region", pa.string()),
        pa.field("service", pa.string()),  # e.g. s3.amazonaws.com
        pa.field("action", pa.string()),  # e.g. GetObject
        pa.field("principal", pa.string()),  # the best identity string, usually an ARN
        # Other names the same principal goes by (user name, session issuer, email), used
        # to match the identity directory.
        pa.field("principal_aliases", pa.list_(pa.string())),
        pa.field("principal_type", pa.string()),
        pa.field("caller", pa.string()),  # raw caller value as logged (IP, host, text)
        # The log vendor's own claim of where the caller was (Okta geographicalContext,
        # Entra location, GitHub actor_location): a signal kept apart, never the verdict.
        pa.field("claimed_country", pa.string()),
        pa.field("claimed_location", pa.string()),
        pa.field("user_agent", pa.string()),
        # Identifiers of the resources touched: names and ARNs, as the log gives them.
        pa.field("resources", pa.list_(pa.string())),
        pa.field("read_only", pa.bool_()),
        pa.field("error_code", pa.string()),
    ]
)

EVENT_COLUMNS: tuple[str, ...] = tuple(EVENT_SCHEMA.names)


@dataclass(frozen=True)
class QuarantinedRecord:
    """A record that could not be read, with enough provenance to find it again."""

    input_path: str
    # Where in the input: "line 12", "record 3 of Records", "byte 1024", "whole file".
    position: str
    reason: str
    # A short excerpt of the raw record, for a person to recognise it (untrusted text).
    excerpt: str = ""
    source_format: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "input_path": self.input_path,
            "position": self.position,
            "reason": self.reason,
            "excerpt": self.excerpt,
            "source_format": self.source_format,
        }


def excerpt_of(raw: str | bytes, limit: int = 200) -> str:
    """A bounded, printable excerpt of untrusted raw input for quarantine files."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    text = raw if len(raw) <= limit else raw[:limit] + "…"
    if text.isprintable():  # the common case, without a pass per character
        return text
    return "".join(ch if ch.isprintable() else "\ufffd" for ch in text)


def empty_events() -> pa.Table:
    """A table with the event schema and no rows."""
    return EVENT_SCHEMA.empty_table()
