"""Every signal the caller value gives about where a request came from, per distinct caller.

One row per distinct caller value (the `callers` table the rules join). Each IP data
source answers the whole column at once (borderwatch.geo); the answers are combined in
the order the sources were given, which is their precedence:

- `ip_registered`: the first registered-country answer (RIR data, iptocc, a MaxMind
  database's registered_country);
- `ip_located`: the first located-country answer (a geolocation database, a geofeed);
- `ip_country` / `ip_country_kind`: the one that decides, as the policy's
  `jurisdiction.ip_country` says; with "located", an address no located source knows
  falls back to its registered country (kind "registered", lower confidence);
- `host_provider`, `host_region`, `host_country`: the caller is inside a cloud
  provider's published range (a workload, not a person's desk);
- `anonymiser`: VPN, proxy, Tor or hosting flags from any source;
- `egress_country`, `egress_office`: the caller is one of the organisation's own egress
  ranges (policy `jurisdiction.corporate_egress`), located at that office.
Only public addresses get countries: private, reserved and non-IP callers are classified
by `jurisdiction.caller`, never guessed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from borderwatch.geo import (
    CompiledSource,
    GeoSource,
    Provenance,
    lookup_all,
)
from borderwatch.geo.table import LOCATED, REGISTERED, Interval, Record, build_table
from borderwatch.inventory.locations import LocationRegistry
from borderwatch.jurisdiction.caller import PUBLIC, classify_callers
from borderwatch.model.policy import EgressRange

EGRESS_SOURCE = "corporate-egress"

SIGNAL_COLUMNS = (
    "ip_registered",
    "ip_located",
    "ip_country",
    "ip_country_kind",
    "host_provider",
    "host_region",
    "host_country",
    "anonymiser",
    "egress_country",
    "egress_office",
)


def egress_source(ranges: Sequence[EgressRange]) -> CompiledSource | None:
    """The policy's corporate egress ranges as a lookup source (None when there are none)."""
    if not ranges:
        return None
    v4: list[Interval] = []
    v6: list[Interval] = []
    for item in ranges:
        network = ipaddress.ip_network(item.cidr, strict=False)
        record = Record(country=item.country, city=item.office or None, country_kind=LOCATED)
        interval = Interval(int(network.network_address), int(network.broadcast_address), record)
        (v4 if network.version == 4 else v6).append(interval)
    provenance = Provenance("policy corporate_egress", "policy", "", "policy", "")
    return CompiledSource(EGRESS_SOURCE, build_table("egress", provenance, v4, v6))


def caller_signals(
    callers: pa.Array | pa.ChunkedArray,
    sources: Sequence[GeoSource],
    registry: LocationRegistry,
    *,
    decide_by: str = LOCATED,
    egress: CompiledSource | None = None,
) -> pa.Table:
    """Classify distinct caller values and attach every IP signal (see module docstring)."""
    # Countries come from `sources` below (iptocc among them), not from the classifier.
    classified = classify_callers(callers, with_country=False)
    public = pc.equal(classified.column("caller_kind"), PUBLIC)
    everything = [*sources, *([egress] if egress else [])]
    answers = lookup_all(classified.column("ip"), everything, registry)
    registered = _first(answers, sources, _registered)
    located = _first(answers, sources, _located)
    if decide_by == REGISTERED:
        country, kind = registered, _constant_where(registered, REGISTERED)
    else:
        country = pc.coalesce(located, registered)
        kind = pc.if_else(
            pc.is_valid(located),
            pa.scalar(LOCATED),
            _constant_where(registered, REGISTERED),
        )
    columns = {
        "ip_registered": registered,
        "ip_located": located,
        "ip_country": country,
        "ip_country_kind": kind,
        "host_provider": _first(answers, sources, lambda t, s: _text(t, s, "provider")),
        "host_region": _first(answers, sources, lambda t, s: _text(t, s, "provider_region")),
        "host_country": _first(answers, sources, lambda t, s: _text(t, s, "provider_country")),
        "anonymiser": _first(answers, sources, lambda t, s: _text(t, s, "anonymiser")),
        "egress_country": _egress(answers, egress, "country"),
        "egress_office": _egress(answers, egress, "city"),
    }
    table = classified.drop_columns(["ip_country"])
    for name in SIGNAL_COLUMNS:
        value = columns[name]
        if not name.startswith("egress_"):
            # Only public addresses say anything about a place; the organisation's own
            # egress ranges may be private (a VPN concentrator, a private link).
            value = pc.if_else(public, value, pa.scalar(None, pa.string()))
        table = table.append_column(name, value)
    return table


def signal_versions(sources: Sequence[GeoSource]) -> dict[str, str]:
    """The data behind each source, for findings' provenance: kind, date, checksum."""
    versions = {}
    for source in sources:
        described = source.describe()
        sha = described.get("sha256", "")
        parts = [described.get("kind", ""), described.get("file_date", "")]
        if sha:
            parts.append(f"sha256:{sha[:12]}")
        versions[f"ip:{source.source_id}"] = " ".join(p for p in parts if p)
    return versions


def _text(answers: pa.Table, source: str, column: str) -> pa.Array:
    return pc.cast(answers.column(f"{source}.{column}"), pa.string())


def _registered(answers: pa.Table, source: str) -> pa.Array:
    country = _text(answers, source, "country")
    kind = _text(answers, source, "country_kind")
    own = pc.if_else(pc.equal(kind, REGISTERED), country, pa.scalar(None, pa.string()))
    return pc.coalesce(_text(answers, source, "registered_country"), own)


def _located(answers: pa.Table, source: str) -> pa.Array:
    country = _text(answers, source, "country")
    kind = _text(answers, source, "country_kind")
    return pc.if_else(pc.equal(kind, LOCATED), country, pa.scalar(None, pa.string()))


Pick = Callable[[pa.Table, str], pa.Array]


def _first(answers: pa.Table, sources: Sequence[GeoSource], pick: Pick) -> pa.Array:
    """The first non-null answer in source order (the sources' precedence)."""
    arrays = [pick(answers, source.source_id) for source in sources]
    if not arrays:
        return pa.nulls(answers.num_rows, pa.string())
    return pc.coalesce(*arrays)


def _egress(answers: pa.Table, egress: CompiledSource | None, column: str) -> pa.Array:
    if egress is None:
        return pa.nulls(answers.num_rows, pa.string())
    return _text(answers, egress.source_id, column)


def _constant_where(values: pa.Array, constant: str) -> pa.Array:
    return pc.if_else(pc.is_valid(values), pa.scalar(constant), pa.scalar(None, pa.string()))
