"""Small, strict converters from row cells to typed values, with messages for people."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")


class CellError(ValueError):
    """A cell that cannot be used; the message names the column and says why."""


def text(values: dict[str, Any], column: str, *, required: bool = False) -> str | None:
    """A cell as stripped text; None when empty. Required columns must be non-empty."""
    raw = values.get(column)
    value = "" if raw is None else str(raw).strip()
    if not value:
        if required:
            raise CellError(f"missing required '{column}'")
        return None
    return value


def text_list(values: dict[str, Any], column: str) -> tuple[str, ...]:
    """A list cell: a YAML list, or text separated by ';' (CSV)."""
    raw = values.get(column)
    if raw is None or raw == "":
        return ()
    items = raw if isinstance(raw, list | tuple) else str(raw).split(";")
    seen: dict[str, None] = {}
    for item in items:
        cleaned = str(item).strip()
        if cleaned:
            seen.setdefault(cleaned, None)
    return tuple(seen)


def count(values: dict[str, Any], column: str) -> int | None:
    """A non-negative whole number, or None when empty."""
    raw = values.get(column)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        raise CellError(f"'{column}' must be a whole number, not {raw!r}")
    try:
        number = int(str(raw).replace("_", "").replace(",", "").strip())
    except ValueError:
        raise CellError(f"'{column}' must be a whole number, not {str(raw)[:40]!r}") from None
    if number < 0:
        raise CellError(f"'{column}' must not be negative")
    return number


def country(values: dict[str, Any], column: str) -> str | None:
    """An ISO 3166-1 alpha-2 code (upper-cased), or None when empty."""
    value = text(values, column)
    if value is None:
        return None
    value = value.upper()
    if not COUNTRY_CODE.match(value):
        raise CellError(f"'{column}' must be an ISO 3166 two-letter code, not {value[:20]!r}")
    return value


def date(values: dict[str, Any], column: str) -> dt.date | None:
    """An ISO date (YYYY-MM-DD), or None when empty. YAML may already hold a date."""
    raw = values.get(column)
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    value = text(values, column)
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CellError(f"'{column}' must be a date like 2026-01-31, not {value[:20]!r}") from None
