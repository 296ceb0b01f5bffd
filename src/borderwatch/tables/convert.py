"""Small, strict converters from row cells to typed values, with messages for people."""

from __future__ import annotations

import datetime as dt
from typing import Any

from borderwatch.policy.countries import iso_countries, unknown_country_hint


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
    """An assigned ISO 3166-1 alpha-2 code (upper-cased), or None when empty.

    Checked as strictly as the policy checks its own codes, with the same hints: `UK`
    is refused (-> GB), as are alpha-3 codes (`USA` -> US) and codes ISO never assigned.
    """
    value = text(values, column)
    if value is None:
        return None
    return country_code(value, f"'{column}'")


def country_code(value: str, label: str) -> str:
    """`value` as an assigned ISO 3166-1 alpha-2 code; CellError with a hint otherwise."""
    code = value.strip().upper()
    if code in iso_countries():
        return code
    raise CellError(
        f"{label} {value.strip()[:20]!r} is not an ISO 3166-1 alpha-2 country code "
        f"({unknown_country_hint(value, groups_allowed=False)})"
    )


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
