"""Classify raw caller values and find the registered country of public IP addresses.

Caller fields hold more than addresses: "AWS Internal", service host names
("ec2.amazonaws.com"), "ip:port", bracketed IPv6, blanks. Each value is classified, never
guessed. The work runs on whole Arrow columns of *distinct* callers: IPv4 parsing and
range checks in pyarrow/numpy, country lookup through iptocc's batch call (Rust). Only
IPv6 values, rare in audit logs, are parsed one by one with the standard library.
"""

from __future__ import annotations

import ipaddress
from importlib.metadata import PackageNotFoundError, version

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from borderwatch.enrich.geo.addresses import parse_ipv6

# Caller kinds. Only PUBLIC carries a country; PROVIDER_* callers are the cloud itself.
PUBLIC = "public"
PRIVATE = "private"
LOOPBACK = "loopback"
LINK_LOCAL = "link_local"
SHARED = "shared"  # carrier-grade NAT, RFC 6598
DOCUMENTATION = "documentation"
MULTICAST = "multicast"
RESERVED = "reserved"
PROVIDER_INTERNAL = "provider_internal"
PROVIDER_SERVICE = "provider_service"
MISSING = "missing"
UNRECOGNIZED = "unrecognized"

PROVIDER_KINDS = (PROVIDER_INTERNAL, PROVIDER_SERVICE)

CALLER_SCHEMA = pa.schema(
    [
        pa.field("caller", pa.string()),
        pa.field("caller_kind", pa.string()),
        pa.field("ip", pa.string()),
        pa.field("ip_country", pa.string()),
    ]
)

_IPV4 = r"^(?P<a>\d{1,3})\.(?P<b>\d{1,3})\.(?P<c>\d{1,3})\.(?P<d>\d{1,3})(?::\d{1,5})?$"
_IPV6_LIKE = r"^\[?[0-9A-Fa-f]*:[0-9A-Fa-f:.]*(?:%[0-9A-Za-z]+)?\]?(?::\d{1,5})?$"
# Host names of cloud services acting on a principal's behalf. Suffix match, lower-case.
_SERVICE_HOSTS = (
    r"^[a-z0-9.-]+\.(?:amazonaws\.com|amazon\.com|googleapis\.com|google\.com"
    r"|azure\.com|microsoft\.com|oraclecloud\.com)$"
)
_PROVIDER_INTERNAL = ("aws internal", "aws internal service", "internal")

# Special-purpose IPv4 blocks (RFC 6890 and friends) as (first, last, kind).
_SPECIAL_V4 = [
    ("0.0.0.0/8", RESERVED),
    ("10.0.0.0/8", PRIVATE),
    ("100.64.0.0/10", SHARED),
    ("127.0.0.0/8", LOOPBACK),
    ("169.254.0.0/16", LINK_LOCAL),
    ("172.16.0.0/12", PRIVATE),
    ("192.0.0.0/24", RESERVED),
    ("192.0.2.0/24", DOCUMENTATION),
    ("192.168.0.0/16", PRIVATE),
    ("198.18.0.0/15", RESERVED),
    ("198.51.100.0/24", DOCUMENTATION),
    ("203.0.113.0/24", DOCUMENTATION),
    ("224.0.0.0/4", MULTICAST),
    ("240.0.0.0/4", RESERVED),
]


def ip_data_version() -> str:
    """Which IP-to-country data answered: the embedded RIR registration data of iptocc."""
    try:
        return f"iptocc {version('iptocc')} (RIR registration country)"
    except PackageNotFoundError:  # pragma: no cover - iptocc is a hard dependency
        return "iptocc (version unknown)"


def classify_callers(callers: pa.Array | pa.ChunkedArray, *, with_country: bool = True) -> pa.Table:
    """Classify distinct caller values; return CALLER_SCHEMA with one row per input value.

    `ip` is the normalised address (no port, no brackets) for IP callers; `ip_country`
    is the registered country of public addresses, None when the registry has none (and
    always None without `with_country`, for callers that look countries up themselves).
    """
    if isinstance(callers, pa.ChunkedArray):
        callers = callers.combine_chunks()
    callers = callers.cast(pa.string())
    n = len(callers)
    trimmed = pc.utf8_trim_whitespace(callers)
    lowered = pc.utf8_lower(trimmed)
    kinds = np.full(n, UNRECOGNIZED, dtype=object)
    ips = np.full(n, None, dtype=object)

    missing = pc.fill_null(pc.equal(pc.utf8_length(trimmed), 0), True)
    kinds[_mask(missing)] = MISSING
    internal = pc.is_in(lowered, value_set=pa.array(_PROVIDER_INTERNAL))
    kinds[_mask(internal)] = PROVIDER_INTERNAL
    service = pc.match_substring_regex(lowered, _SERVICE_HOSTS)
    kinds[_mask(service)] = PROVIDER_SERVICE

    _classify_ipv4(trimmed, kinds, ips)
    _classify_ipv6(trimmed, kinds, ips)

    public = kinds == PUBLIC
    countries = np.full(n, None, dtype=object)
    if with_country and public.any():
        countries[public] = _registered_countries(list(ips[public]))
    return pa.table(
        {
            "caller": callers,
            "caller_kind": pa.array(kinds.tolist(), pa.string()),
            "ip": pa.array(ips.tolist(), pa.string()),
            "ip_country": pa.array(countries.tolist(), pa.string()),
        },
        schema=CALLER_SCHEMA,
    )


def _mask(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(array, False).to_numpy(zero_copy_only=False), dtype=bool)


def _classify_ipv4(trimmed: pa.Array, kinds: np.ndarray, ips: np.ndarray) -> None:
    candidates = _mask(pc.match_substring_regex(trimmed, _IPV4))
    if not candidates.any():
        return
    index = np.flatnonzero(candidates)
    parts = pc.extract_regex(trimmed.take(pa.array(index)), _IPV4)
    octets = np.stack(
        [np.asarray(pc.cast(pc.struct_field(parts, [i]), pa.int64()).to_numpy()) for i in range(4)],
        axis=1,
    )
    valid = (octets <= 255).all(axis=1)
    index, octets = index[valid], octets[valid]
    numbers = (octets[:, 0] << 24) | (octets[:, 1] << 16) | (octets[:, 2] << 8) | octets[:, 3]
    found = np.full(len(index), PUBLIC, dtype=object)
    for cidr, kind in _SPECIAL_V4:
        net = ipaddress.IPv4Network(cidr)
        inside = (numbers >= int(net.network_address)) & (numbers <= int(net.broadcast_address))
        found[inside] = kind
    kinds[index] = found
    # Re-print from the octets: drops ports and leading zeros ("010.1.1.1:443").
    ips[index] = [f"{a}.{b}.{c}.{d}" for a, b, c, d in octets.tolist()]


def _classify_ipv6(trimmed: pa.Array, kinds: np.ndarray, ips: np.ndarray) -> None:
    candidates = _mask(pc.match_substring_regex(trimmed, _IPV6_LIKE)) & (kinds == UNRECOGNIZED)
    for i in np.flatnonzero(candidates):
        address = parse_ipv6(str(trimmed[int(i)].as_py()))
        if address is None:
            continue
        if address.ipv4_mapped is not None:
            kinds[i], ips[i] = _ipv4_kind(address.ipv4_mapped), str(address.ipv4_mapped)
            continue
        kinds[i], ips[i] = _ipv6_kind(address), address.compressed


def _ipv4_kind(address: ipaddress.IPv4Address) -> str:
    for cidr, kind in _SPECIAL_V4:
        if address in ipaddress.IPv4Network(cidr):
            return kind
    return PUBLIC


def _ipv6_kind(address: ipaddress.IPv6Address) -> str:
    if address.is_loopback:
        return LOOPBACK
    if address.is_link_local:
        return LINK_LOCAL
    if address.is_multicast:
        return MULTICAST
    if address in ipaddress.IPv6Network("2001:db8::/32"):
        return DOCUMENTATION
    if address.is_private:  # unique local fc00::/7 and other non-global blocks
        return PRIVATE
    if address.is_reserved or address.is_unspecified:
        return RESERVED
    return PUBLIC


def _registered_countries(addresses: list[str]) -> list[str | None]:
    import iptocc

    return list(iptocc.country_code(addresses))
