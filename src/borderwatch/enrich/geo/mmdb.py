"""Compile a MaxMind DB file (GeoIP2/GeoLite2, Anonymous-IP, IPinfo) into range intervals.

The `maxminddb` reader iterates every network with its record; IPv4 networks of an IPv6
database come out as IPv4 (the ::/96 subtree), and its aliases (::ffff:0:0/96, 2002::/16)
are skipped. IPv4-mapped input addresses are looked up as IPv4 by `parse_addresses`; a
probe decides whether 2002::/16 (6to4) is aliased onto the IPv4 tree too.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import maxminddb

from borderwatch.enrich.geo.table import FLAGS, LOCATED, REGISTERED, Interval, Record
from borderwatch.errors import InputError, Problem, SourceLocation

# Anonymous-IP fields (top level, or under "traits" in City/Enterprise/Insights).
_FLAG_FIELDS = {
    "is_anonymous": FLAGS["anonymous"],
    "is_anonymous_vpn": FLAGS["vpn"],
    "is_hosting_provider": FLAGS["hosting"],
    "is_public_proxy": FLAGS["public_proxy"],
    "is_residential_proxy": FLAGS["residential_proxy"],
    "is_tor_exit_node": FLAGS["tor"],
    "is_anonymous_proxy": FLAGS["anonymous"],
}


class MmdbRanges:
    """The intervals and facts read from one MaxMind DB file."""

    def __init__(self) -> None:
        self.v4: list[Interval] = []
        self.v6: list[Interval] = []
        self.file_date: str | None = None
        self.database_type = ""
        self.alias_6to4 = False


def read_mmdb(path: Path) -> MmdbRanges:
    """Every network of the database as an `Interval`; a broken file is an `InputError`."""
    out = MmdbRanges()
    try:
        reader = maxminddb.open_database(str(path), maxminddb.MODE_AUTO)
    except FileNotFoundError as exc:
        raise _broken(path, "file not found", "check the path") from exc
    except Exception as exc:  # the reader raises several types for a bad file
        raise _broken(path, f"not a readable MaxMind DB file ({_reason(exc)})") from exc
    try:
        meta = reader.metadata()
        out.database_type = str(meta.database_type)
        out.file_date = datetime.fromtimestamp(int(meta.build_epoch), tz=UTC).isoformat(
            timespec="seconds"
        )
        first_v4: ipaddress.IPv4Network | None = None
        # Millions of networks share a few thousand distinct records: each distinct one
        # is read once (keyed by its printed form), and the bounds are computed from the
        # prefix length instead of through ipaddress's broadcast_address.
        records: dict[str, Record] = {}
        for network, data in reader:
            key = repr(data)
            record = records.get(key)
            if record is None:
                record = records[key] = _record(data)
            start = int(network.network_address)
            bits = (32 if network.version == 4 else 128) - network.prefixlen
            interval = Interval(start, start | ((1 << bits) - 1), record)
            if network.version == 4:
                out.v4.append(interval)
                if first_v4 is None:
                    first_v4 = network
            else:
                out.v6.append(interval)
        if meta.ip_version == 6 and first_v4 is not None:
            out.alias_6to4 = _aliases_6to4(reader, first_v4)
    except InputError:
        raise
    except Exception as exc:
        raise _broken(path, f"corrupt MaxMind DB file ({_reason(exc)})") from exc
    finally:
        reader.close()
    return out


def _aliases_6to4(reader: Any, network: ipaddress.IPv4Network) -> bool:
    """True when 2002:<v4>:: answers like <v4> with a /16-longer prefix (MaxMind aliases)."""
    six_to_four = ipaddress.IPv6Address((0x2002 << 112) | (int(network.network_address) << 80))
    found, prefix = reader.get_with_prefix_len(str(six_to_four))
    return bool(found) and prefix == 16 + network.prefixlen


def _record(data: Any) -> Record:
    if not isinstance(data, dict):
        return Record()
    found_traits = data.get("traits")
    traits: dict[str, Any] = found_traits if isinstance(found_traits, dict) else {}
    flags = 0
    for key, bit in _FLAG_FIELDS.items():
        if data.get(key) is True or traits.get(key) is True:
            flags |= bit
    located = _iso(data.get("country"))
    if located is None and isinstance(data.get("country_code"), str):  # IPinfo layout
        located = data["country_code"].upper() or None
    registered = _iso(data.get("registered_country"))
    kind = LOCATED if located else (REGISTERED if registered else None)
    subdivisions = data.get("subdivisions")
    subdivision = None
    if isinstance(subdivisions, list) and subdivisions and isinstance(subdivisions[0], dict):
        code = subdivisions[0].get("iso_code")
        subdivision = f"{located}-{code}" if located and isinstance(code, str) else None
    city = data.get("city")
    city_name = None
    if isinstance(city, dict) and isinstance(city.get("names"), dict):
        name = city["names"].get("en")
        city_name = name if isinstance(name, str) else None
    return Record(
        country=located or registered,
        registered_country=registered,
        represented_country=_iso(data.get("represented_country")),
        subdivision=subdivision,
        city=city_name,
        flags=flags,
        country_kind=kind,
    )


def _iso(value: Any) -> str | None:
    if isinstance(value, dict):
        code = value.get("iso_code")
        return code if isinstance(code, str) and code else None
    return None


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _broken(path: Path, message: str, hint: str | None = None) -> InputError:
    return InputError(
        f"cannot use MaxMind DB {path}",
        [
            Problem(
                SourceLocation(str(path)),
                message,
                hint or "download the database again; it may be truncated or not an .mmdb file",
            )
        ],
    )
