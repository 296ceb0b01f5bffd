"""Helpers every format's `normalise` function shares: typed field access and times.

A log record is untrusted: a field may be missing, null, or of the wrong type. These
helpers turn "wrong type" into a RecordError with the field's name (the reader then
quarantines the record) and "missing" into None, so that no reader coerces silently.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ParamSpec

import msgspec

P = ParamSpec("P")

# What a reason quotes of a hostile value: enough to find it, never the whole of it.
_QUOTED = 40


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
    try:
        return str(value)
    except ValueError:  # an integer past Python's 4,300-digit limit for str()
        raise RecordError(f"{key} is a number too long to be an identifier") from None


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
        try:
            seconds = value / 1000 if value > 1e11 else value
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            raise RecordError(
                f"{field} {quoted(value)} is not a valid epoch time (years 1 to 9999)"
            ) from None
    if not isinstance(value, str):
        raise RecordError(f"{field} is {kind_of(value)}, expected an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise RecordError(f"{field} {quoted(value)} is not an ISO 8601 time") from None
    return in_utc(parsed, field)


def in_utc(value: datetime, field: str) -> datetime:
    """An aware UTC datetime; a naive one is read as UTC (what cloud audit logs write).

    The representable range is Python's: years 1 to 9999 once in UTC. A time at either
    edge with an offset that carries it past (0001-01-01T00:00:00+01:00) is refused here
    with the field and the value, instead of an OverflowError stopping the scan.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise RecordError(
            f"{field} {quoted(value.isoformat())} is outside the years 1 to 9999 in UTC"
        ) from None


def quoted(value: Any) -> str:
    """A value for a reason: its first characters, escaped (repr), marked when cut."""
    try:
        shown = value if isinstance(value, str) else str(value)
    except ValueError:  # an integer past the 4,300 digits str() allows
        return "(a number too long to show)"
    cut = len(shown) > _QUOTED
    return repr(shown[:_QUOTED]) + ("..." if cut else "")


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


def principal_and_aliases(names: list[str | None]) -> tuple[str | None, list[str]]:
    """The first distinct non-empty name and the others it goes by; (None, []) if none."""
    known = unique(names)
    return (known[0], known[1:]) if known else (None, [])


def per_record(
    normalise: Callable[P, dict[str, Any]],
) -> Callable[P, dict[str, Any]]:
    """`normalise` made safe for one hostile record: it returns a row or raises RecordError.

    The readers' own checks raise RecordError with a precise reason. Anything else a
    value provokes (a RecursionError from deep nesting, a ValueError from a number or a
    time a library refuses, a bug) would otherwise escape the reader and stop the scan,
    losing every other record: it becomes a RecordError naming the exception, so the
    record is quarantined with its position and the scan goes on.
    """

    @functools.wraps(normalise)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> dict[str, Any]:
        try:
            row = normalise(*args, **kwargs)
        except RecordError:
            raise
        except MemoryError:
            raise
        except Exception as exc:  # one record, not the scan: see the docstring
            raise RecordError(
                f"record not readable ({type(exc).__name__}: {quoted(str(exc))})"
            ) from None
        return row

    return guarded


def text_checked(
    normalise: Callable[[Any], dict[str, Any]],
) -> Callable[[Any], dict[str, Any]]:
    """`normalise`, refusing a row whose text is not valid Unicode (see check_text).

    For records decoded by Python's json module (the salvage path of a broken file),
    which keeps a lone surrogate from a `\\ud800` escape; msgspec refuses those itself,
    so the usual paths do not pay for the check.
    """

    def checked(item: Any) -> dict[str, Any]:
        return check_text(normalise(item))

    return checked


def check_text(row: dict[str, Any]) -> dict[str, Any]:
    """The row; RecordError when a text value of it holds a lone surrogate.

    Arrow (and any UTF-8 writer) cannot hold such text: left in, it would make the
    whole batch fail when built, losing every record of it.
    """
    for name, value in row.items():
        values = value if isinstance(value, list) else (value,)
        for item in values:
            if isinstance(item, str) and not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    raise RecordError(
                        f"{name} {quoted(item)} holds a lone surrogate (an invalid \\u escape)"
                    ) from None
    return row
