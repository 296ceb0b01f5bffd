"""Helpers the cloud and identity readers share (GCP, Azure, Entra, OCI, Okta).

Pure functions over decoded JSON. Field access stays in `borderwatch.sources.record`;
this module adds what several of these formats need: case-folded top-level keys (log
shippers such as Panther and BigQuery exports lower-case them), the vendors' country
claims as ISO codes, and byte markers for sniffing.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from borderwatch.policy import iso_countries
from borderwatch.sources.record import RecordError, kind_of

# Country names vendors write that are neither the ISO short name nor its common name.
_COUNTRY_ALIASES = {
    "russia": "RU",
    "czech republic": "CZ",
    "united states of america": "US",
    "usa": "US",
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "korea": "KR",
    "republic of korea": "KR",
    "hong kong sar": "HK",
    "macau": "MO",
    "turkey": "TR",
    "the netherlands": "NL",
    "ivory coast": "CI",
}


def folded(item: dict[str, Any]) -> dict[str, Any]:
    """The record with lower-cased top-level keys; the first spelling of a key wins."""
    result: dict[str, Any] = {}
    for key, value in item.items():
        result.setdefault(key.lower() if isinstance(key, str) else key, value)
    return result


def require_object(item: Any, what: str = "record") -> dict[str, Any]:
    """item when it is a JSON object, else RecordError."""
    if not isinstance(item, dict):
        raise RecordError(f"{what} is {kind_of(item)}, expected a JSON object")
    return item


def folded_object(item: Any) -> dict[str, Any]:
    """folded(item) when it is a JSON object, else RecordError (see require_object)."""
    return folded(require_object(item))


def optional_object(holder: dict[str, Any], key: str, label: str | None = None) -> dict[str, Any]:
    """holder[key] as an object; {} when missing or null; RecordError for another type."""
    value = holder.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RecordError(f"{label or key} is {kind_of(value)}, expected an object")
    return value


@functools.cache
def _country_index() -> Mapping[str, str]:
    index: dict[str, str] = {}
    for code, country in iso_countries().items():
        for name in (code, country.alpha3, country.name, country.common_name):
            if name:
                index.setdefault(name.casefold(), code)
    for name, code in _COUNTRY_ALIASES.items():
        index.setdefault(name, code)
    return index


def country_code(value: Any) -> str | None:
    """ISO alpha-2 of a vendor's country claim ("United States", "US", "USA"); else None.

    Unknown names give None: a guess would be a claim the vendor did not make.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    return _country_index().get(value.strip().casefold())


def place(*parts: Any) -> str | None:
    """'City, State, Country' from the parts present (non-empty text only)."""
    words = [p.strip() for p in parts if isinstance(p, str) and p.strip()]
    return ", ".join(words) or None


def has_markers(head: bytes, *markers: bytes) -> bool:
    """True when every marker occurs in head, ignoring case."""
    lowered = head.lower()
    return all(marker.lower() in lowered for marker in markers)


def any_marker(head: bytes, *markers: bytes) -> bool:
    """True when at least one marker occurs in head, ignoring case."""
    lowered = head.lower()
    return any(marker.lower() in lowered for marker in markers)


def is_json_start(head: bytes) -> bool:
    """The head starts like a JSON object or array (after a BOM and blanks)."""
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"{", b"["))
