"""Registration-country sources: RIR delegated statistics and ipverse per-country lists."""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path

from borderwatch.enrich.geo.provenance import unreadable
from borderwatch.enrich.geo.table import REGISTERED, Interval, Record
from borderwatch.errors import InputError, Problem, SourceLocation

_MD5 = re.compile(r"([0-9a-fA-F]{32})")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


@dataclass
class RawRanges:
    """Intervals of a text source, the problems of its bad lines, and its inner date."""

    v4: list[Interval] = field(default_factory=list)
    v6: list[Interval] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    file_date: str | None = None


def read_rir_delegated(path: Path) -> RawRanges:
    """Parse `delegated-<rir>-extended-latest`: allocated/assigned ranges by country.

    An IPv4 record's value is an address count (not always a power of two), an IPv6
    record's value a prefix length. Header, summary, ASN and available/reserved lines are
    skipped; a bad line becomes a problem with its line number, the rest is kept. When a
    `.md5` file sits beside it, it must match.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise unreadable(path, exc) from exc
    _check_md5(path, raw)
    out = RawRanges()
    text = raw.decode("utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split("|")
        if (
            re.fullmatch(r"\d+(\.\d+)?", parts[0]) and len(parts) >= 3
        ):  # version: 2|rir|serial|..|enddate
            out.file_date = _date(parts[2]) or (_date(parts[5]) if len(parts) > 5 else None)
            continue
        if len(parts) >= 6 and parts[5] == "summary":
            continue
        if len(parts) < 7:
            out.problems.append(
                _bad(path, number, "expected registry|cc|type|start|value|date|status")
            )
            continue
        _registry, cc, kind, start, value, _date_field, status = parts[:7]
        if kind not in ("ipv4", "ipv6") or status not in ("allocated", "assigned"):
            continue
        cc = cc.upper()
        if not _COUNTRY.match(cc) or cc == "ZZ":
            out.problems.append(_bad(path, number, f"country {cc!r} is not an ISO code"))
            continue
        try:
            first, last = _span(kind, start, value)
        except ValueError as exc:
            out.problems.append(_bad(path, number, str(exc)))
            continue
        record = Record(country=cc, registered_country=cc, country_kind=REGISTERED)
        (out.v4 if kind == "ipv4" else out.v6).append(Interval(first, last, record))
    return out


def _span(kind: str, start: str, value: str) -> tuple[int, int]:
    if kind == "ipv4":
        first = int(ipaddress.IPv4Address(start))
        count = int(value)
        if count < 1 or first + count - 1 > 0xFFFFFFFF:
            raise ValueError(f"address count {value!r} does not fit after {start}")
        return first, first + count - 1
    network = ipaddress.IPv6Network(f"{start}/{int(value)}", strict=False)
    return int(network.network_address), int(network.broadcast_address)


def _check_md5(path: Path, raw: bytes) -> None:
    side = path.with_name(path.name + ".md5")
    if not side.is_file():
        return
    match = _MD5.search(side.read_text(encoding="utf-8", errors="replace"))
    if match and match.group(1).lower() != hashlib.md5(raw).hexdigest():
        raise InputError(
            f"RIR file {path} does not match its checksum",
            [
                Problem(
                    SourceLocation(str(side)),
                    "md5 of the data file differs from the one published beside it",
                    "download both files again from the same mirror at the same time",
                )
            ],
        )


def _date(text: str) -> str | None:
    if re.fullmatch(r"\d{8}", text):
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return None


def _bad(path: Path, line: int, message: str) -> Problem:
    return Problem(SourceLocation(str(path), line), message, "the line was skipped")


def read_ipverse(path: Path) -> RawRanges:
    """Read ipverse `country/<cc>/ipv{4,6}-aggregated.txt` files under `path`."""
    root = path / "country" if (path / "country").is_dir() else path
    files = sorted(root.glob("*/ipv[46]-aggregated.txt"))
    if not files:
        raise InputError(
            f"no ipverse country lists under {path}",
            [
                Problem(
                    SourceLocation(str(path)),
                    "expected country/<cc>/ipv4-aggregated.txt files",
                    "point at the root of an ipverse country-ip-blocks checkout",
                )
            ],
        )
    out = RawRanges()
    for file in files:
        cc = file.parent.name.upper()
        if not _COUNTRY.match(cc):
            continue
        record = Record(country=cc, registered_country=cc, country_kind=REGISTERED)
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                net = ipaddress.ip_network(line, strict=False)
            except ValueError:
                out.problems.append(_bad(file, number, f"{line!r} is not an IP prefix"))
                continue
            iv = Interval(int(net.network_address), int(net.broadcast_address), record)
            (out.v4 if net.version == 4 else out.v6).append(iv)
    return out
