"""Helpers every format's `normalise` function shares: typed field access and times.

A log record is untrusted: a field may be missing, null, or of the wrong type. These
helpers turn "wrong type" into a RecordError with the field's name (the reader then
quarantines the record) and "missing" into None, so that no reader coerces silently.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import msgspec


class RecordError(ValueError):
    """The record cannot be read as an event; the message says why."""


def text(holder: dict[str, Any], key: str) -> str | None:
    """holder[key] as text; None when missing, null or empty; RecordError when not text.

    Numbers are accepted as their text because reshaping tools write account ids and
    ports as numbers; objects, lists and booleans are not.
    """
    value = holder.get(key)
    if value is None or isinstance(value, str):
        return value or None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RecordError(f"{key} is {kind_of(value)}, expected a string")
    return str(value)


def obj(holder: dict[str, Any], key: str) -> dict[str, Any]:
    """holder[key] when it is an object, else an empty one (absent and odd alike)."""
    value = holder.get(key)
    return value if isinstance(value, dict) else {}


def path(holder: dict[str, Any], *keys: str) -> Any:
    """The value at holder[k1][k2]...; None as soon as a step is missing or not an object."""
    value: Any = holder
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def text_at(holder: dict[str, Any], *keys: str) -> str | None:
    """text() of the value at a nested path; the error names the whole path."""
    parent = path(holder, *keys[:-1])
    if not isinstance(parent, dict):
        return None
    try:
        return text(parent, keys[-1])
    except RecordError:
        raise RecordError(
            f"{'.'.join(keys)} is {kind_of(parent[keys[-1]])}, expected a string"
        ) from None


def flag(value: Any) -> bool | None:
    """A boolean from true/false or "true"/"false"; None for anything else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def kind_of(value: Any) -> str:
    """'an object', 'a list', ... for error messages."""
    if value is None:
        return "null"
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    return names.get(type(value), "a number")


def parse_time(value: Any, field: str, *, epoch: bool = False) -> datetime:
    """An ISO 8601 time (or, with `epoch`, seconds/milliseconds) as an aware UTC datetime.

    Times without an offset are read as UTC, which is what every cloud audit log writes.
    Epoch numbers are accepted only where the format writes them (GitHub, Okta exports):
    elsewhere a number is a sign of a mangled record.
    """
    if isinstance(value, bool) or value is None:
        raise RecordError(f"{field} is {kind_of(value)}, expected a time")
    if epoch and isinstance(value, int | float):
        seconds = value / 1000 if value > 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            raise RecordError(f"{field} {value!r} is not a valid epoch time") from None
    if not isinstance(value, str):
        raise RecordError(f"{field} is {kind_of(value)}, expected an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise RecordError(f"{field} {value[:40]!r} is not an ISO 8601 time") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def first_time(*candidates: tuple[Any, str]) -> datetime:
    """parse_time of the first candidate (value, field name) that is present."""
    for value, field in candidates:
        if value is not None:
            return parse_time(value, field)
    names = " or ".join(field for _, field in candidates)
    raise RecordError(f"{names} missing: an event without a time cannot be judged")


def content_id(item: Any) -> str:
    """A stable id for a record without one: the hash of its canonical JSON."""
    digest = hashlib.sha256(msgspec.json.encode(item, order="sorted")).hexdigest()
    return "sha256:" + digest[:32]


def unique(values: list[str | None]) -> list[str]:
    """Non-empty values in first-seen order, each once."""
    return list(dict.fromkeys(v for v in values if v))
