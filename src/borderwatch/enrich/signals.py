"""Every signal the caller value gives about where a request came from, per distinct caller.

One row per distinct caller value (the `callers` table the rules join). Each IP data
source answers the whole column at once (borderwatch.enrich.geo); the answers are combined in
the order the sources are given, which is their precedence: the user's sources in the
order given, the embedded iptocc data last (`geo.load_sources`).

- `ip_registered`: the first registered-country answer (RIR data, a MaxMind database's
  registered_country, iptocc);
- `ip_located`: the first located-country answer (a geolocation database, a geofeed);
- `ip_country` / `ip_country_kind` / `ip_country_source`: the one that decides, as the
  policy's `jurisdiction.ip_country` says, and the source it came from; with "located",
  an address no located source knows falls back to its registered country (kind
  "registered", lower confidence);
- `ip_answers`: every source's country answer (source, kind, country, version), in
  precedence order, so a reviewer sees all of them, not only the one that decided;
- `ip_disagree`: the distinct countries the sources gave ("GB,RO") when they do not
  all agree (within or across kinds); the verdict's confidence drops then;
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

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from borderwatch.enrich.caller import PUBLIC, classify_callers
from borderwatch.enrich.geo import (
    CompiledSource,
    GeoSource,
    Provenance,
    lookup_all,
)
from borderwatch.enrich.geo.table import LOCATED, REGISTERED, Interval, Record, build_table
from borderwatch.inventory.locations import LocationRegistry
from borderwatch.model.policy import EgressRange

EGRESS_SOURCE = "corporate-egress"

SIGNAL_COLUMNS = (
    "ip_registered",
    "ip_located",
    "ip_country",
    "ip_country_kind",
    "ip_country_source",
    "ip_answers",
    "ip_disagree",
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
    registered, registered_by = _first_with_source(answers, sources, _registered)
    located, located_by = _first_with_source(answers, sources, _located)
    if decide_by == REGISTERED:
        country, kind = registered, _constant_where(registered, REGISTERED)
        decided_by = registered_by
    else:
        country = pc.coalesce(located, registered)
        kind = pc.if_else(
            pc.is_valid(located),
            pa.scalar(LOCATED),
            _constant_where(registered, REGISTERED),
        )
        decided_by = pc.coalesce(located_by, registered_by)
    ip_answers = _answers(answers, sources)
    columns = {
        "ip_registered": registered,
        "ip_located": located,
        "ip_country": country,
        "ip_country_kind": kind,
        "ip_country_source": decided_by,
        "ip_answers": ip_answers,
        "ip_disagree": _disagreement(answers, sources),
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
            value = pc.if_else(public, value, pa.scalar(None, value.type))
        table = table.append_column(name, value)
    return table


def signal_versions(sources: Sequence[GeoSource]) -> dict[str, str]:
    """The data behind each source, for findings' provenance: kind and version by content."""
    versions = {}
    for source in sources:
        versions[f"ip:{source.source_id}"] = _source_version(source)
    return versions


def ip_country_precedence(sources: Sequence[GeoSource]) -> str:
    """How the caller IP's country is decided, for findings' provenance."""
    order = " > ".join(source.source_id for source in sources) or "no IP data"
    return f"first answer in source order: {order} (each finding names its country_source)"


def _source_version(source: GeoSource) -> str:
    described = source.describe()
    parts = [described.get("kind", ""), described.get("version", "")]
    return " ".join(p for p in parts if p)


ANSWER_TYPE = pa.struct(
    [
        pa.field("ip", pa.string()),
        pa.field("precedence", pa.int32()),
        pa.field("source", pa.string()),
        pa.field("kind", pa.string()),
        pa.field("country", pa.string()),
        pa.field("version", pa.string()),
    ]
)


def _answers(answers: pa.Table, sources: Sequence[GeoSource]) -> pa.Array:
    """Per row, the list of every source's country answer, in precedence order.

    Built column-wise: one struct array per source (null where it has no country), laid
    side by side and read row by row with one `take`, then the nulls dropped.
    """
    n = answers.num_rows
    if not sources or n == 0:
        return pa.array([None] * n, pa.list_(ANSWER_TYPE))
    parts = []
    ips = pc.cast(answers.column("ip").combine_chunks(), pa.string())
    for rank, source in enumerate(sources, start=1):
        located = _located(answers, source.source_id)
        registered = _registered(answers, source.source_id)
        country = pc.coalesce(located, registered)
        kind = pc.if_else(
            pc.is_valid(located), pa.scalar(LOCATED), _constant_where(registered, REGISTERED)
        )
        version = pa.repeat(pa.scalar(_source_version(source), pa.string()), n)
        names = pa.repeat(pa.scalar(source.source_id, pa.string()), n)
        struct = pa.StructArray.from_arrays(
            [ips, pa.array(np.full(n, rank, dtype=np.int32)), names, kind, country, version],
            fields=list(ANSWER_TYPE),
            mask=pc.is_null(country),
        )
        parts.append(struct)
    stacked = pa.concat_arrays(parts)
    k = len(parts)
    # Position of row r's answer from source j in `stacked`: j * n + r, read row by row.
    row_major = (np.arange(k)[None, :] * n + np.arange(n)[:, None]).ravel()
    valid = np.asarray(stacked.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    keep = valid[row_major]
    counts = keep.reshape(n, k).sum(axis=1)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    values = stacked.take(pa.array(row_major[keep]))
    lists = pa.ListArray.from_arrays(pa.array(offsets), values)
    return pc.if_else(pc.greater(pa.array(counts), 0), lists, pa.scalar(None, lists.type))


def _disagreement(answers: pa.Table, sources: Sequence[GeoSource]) -> pa.Array:
    """ "GB,RO" where the sources' countries are not all the same, else null.

    Each source's country is compared with the first one given: a few whole-column
    comparisons; only the (rare) disagreeing rows are spelled out one by one.
    """
    n = answers.num_rows
    countries = [
        pc.coalesce(_located(answers, s.source_id), _registered(answers, s.source_id))
        for s in sources
    ]
    if len(countries) < 2:
        return pa.nulls(n, pa.string())
    first = pc.coalesce(*countries)
    differs = np.zeros(n, dtype=bool)
    for country in countries:
        differs |= np.asarray(
            pc.fill_null(pc.not_equal(country, first), False).to_numpy(zero_copy_only=False),
            dtype=bool,
        )
    out = np.full(n, None, dtype=object)
    rows = np.flatnonzero(differs)
    if len(rows):
        picked = [c.take(pa.array(rows)).to_pylist() for c in countries]
        out[rows] = [",".join(sorted({c for c in row if c})) for row in zip(*picked, strict=True)]
    return pa.array(out.tolist(), pa.string())


def _text(answers: pa.Table, source: str, column: str) -> pa.Array:
    return pc.cast(answers.column(f"{source}.{column}").combine_chunks(), pa.string())


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


def _first_with_source(
    answers: pa.Table, sources: Sequence[GeoSource], pick: Pick
) -> tuple[pa.Array, pa.Array]:
    """The first non-null answer in source order, and the id of the source that gave it."""
    value = pa.nulls(answers.num_rows, pa.string())
    source_id = pa.nulls(answers.num_rows, pa.string())
    for source in reversed(sources):  # earlier sources overwrite later ones
        found = pick(answers, source.source_id)
        has = pc.is_valid(found)
        value = pc.if_else(has, found, value)
        source_id = pc.if_else(has, pa.scalar(source.source_id), source_id)
    return value, source_id


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
