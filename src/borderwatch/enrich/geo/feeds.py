"""CSV range lists: RFC 8805 geofeeds and user-supplied anonymiser lists."""

from __future__ import annotations

import csv
import io
import ipaddress
import re
from pathlib import Path

from borderwatch.enrich.geo.provenance import unreadable
from borderwatch.enrich.geo.registries import RawRanges
from borderwatch.enrich.geo.table import FLAGS, LOCATED, Interval, Record
from borderwatch.errors import Problem, SourceLocation

_COUNTRY = re.compile(r"^[A-Z]{2}$")
_LAST_MODIFIED = re.compile(r"last[ -]modified:?\s*(\d{4}-\d{2}-\d{2}[T ]?[0-9:.]*)", re.I)
# What an anonymiser list's `kind` sets; "anonymous" goes with every hiding kind.
ANONYMISER_KINDS: dict[str, int] = {
    "vpn": FLAGS["vpn"] | FLAGS["anonymous"],
    "proxy": FLAGS["public_proxy"] | FLAGS["anonymous"],
    "tor": FLAGS["tor"] | FLAGS["anonymous"],
    "relay": FLAGS["relay"] | FLAGS["anonymous"],
    "hosting": FLAGS["hosting"],
}


def read_geofeed(path: Path, provider: str | None = None) -> RawRanges:
    """Parse an RFC 8805 geofeed (`prefix,country,region,city,postal`; # comments).

    The country is where the operator says the range is used: a located country. A bad
    row (bad prefix, country not ISO alpha-2) is a problem with its line; others are kept.
    """
    out = RawRanges()
    for number, row in _rows(path, out):
        prefix = row[0].strip()
        country = row[1].strip().upper() if len(row) > 1 else ""
        try:
            net = ipaddress.ip_network(prefix, strict=False)
        except ValueError:
            out.problems.append(_bad(path, number, f"{prefix!r} is not an IP prefix"))
            continue
        if country and not _COUNTRY.match(country):
            out.problems.append(_bad(path, number, f"country {country!r} is not ISO alpha-2"))
            continue
        region = row[2].strip() if len(row) > 2 and row[2].strip() else None
        city = row[3].strip() if len(row) > 3 and row[3].strip() else None
        record = Record(
            country=country or None,
            subdivision=region,
            city=city,
            provider=provider,
            country_kind=LOCATED if country else None,
        )
        iv = Interval(int(net.network_address), int(net.broadcast_address), record)
        (out.v4 if net.version == 4 else out.v6).append(iv)
    return out


def read_anonymisers(path: Path) -> RawRanges:
    """Parse a user anonymiser list: `prefix,kind[,note]`, kind in vpn|proxy|tor|hosting|relay."""
    out = RawRanges()
    for number, row in _rows(path, out):
        prefix = row[0].strip()
        kind = row[1].strip().lower() if len(row) > 1 else ""
        if number == 1 and prefix.lower() == "prefix":
            continue  # header
        try:
            net = ipaddress.ip_network(prefix, strict=False)
        except ValueError:
            out.problems.append(_bad(path, number, f"{prefix!r} is not an IP prefix"))
            continue
        if kind not in ANONYMISER_KINDS:
            out.problems.append(
                _bad(path, number, f"kind {kind!r} is not one of {', '.join(ANONYMISER_KINDS)}")
            )
            continue
        iv = Interval(
            int(net.network_address),
            int(net.broadcast_address),
            Record(flags=ANONYMISER_KINDS[kind]),
        )
        (out.v4 if net.version == 4 else out.v6).append(iv)
    return out


def _rows(path: Path, out: RawRanges) -> list[tuple[int, list[str]]]:
    try:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError as exc:
        raise unreadable(path, exc) from exc
    rows: list[tuple[int, list[str]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("#"):
            found = _LAST_MODIFIED.search(stripped)
            if found and out.file_date is None:
                out.file_date = found.group(1).strip()
            continue
        if not stripped:
            continue
        rows.append((number, next(csv.reader(io.StringIO(stripped)))))
    return rows


def _bad(path: Path, line: int, message: str) -> Problem:
    return Problem(SourceLocation(str(path), line), message, "the row was skipped")
