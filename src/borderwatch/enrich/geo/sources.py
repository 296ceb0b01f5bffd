"""Load IP range sources (compiled once, cached) and look up whole columns in them."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Protocol, TypeAlias

import numpy as np
import pyarrow as pa

from borderwatch.enrich.geo import cache
from borderwatch.enrich.geo.addresses import ParsedAddresses, parse_addresses
from borderwatch.enrich.geo.feeds import read_anonymisers, read_geofeed
from borderwatch.enrich.geo.mmdb import read_mmdb
from borderwatch.enrich.geo.provenance import file_sha256, provenance
from borderwatch.enrich.geo.providers import read_provider_ranges
from borderwatch.enrich.geo.registries import RawRanges, read_ipverse, read_rir_delegated
from borderwatch.enrich.geo.results import result_table
from borderwatch.enrich.geo.table import REGISTERED, RangeTable, Record, build_table
from borderwatch.inventory.locations import LocationRegistry

Values: TypeAlias = pa.Array | pa.ChunkedArray | Sequence[str | None]


@dataclass(frozen=True)
class SourceSpec:
    """A source to load: its kind (see `KINDS`), its file or folder, an optional id."""

    kind: str
    path: Path
    name: str | None = None

    @property
    def source_id(self) -> str:
        if self.name:
            return self.name
        stem = self.path.name
        for suffix in (".mmdb", ".json", ".csv", ".txt"):
            stem = stem.removesuffix(suffix)
        return stem or self.kind


class GeoSource(Protocol):
    """Anything that answers a column of parsed addresses with the result schema."""

    source_id: str

    def answer(self, parsed: ParsedAddresses, registry: LocationRegistry) -> pa.Table: ...

    def describe(self) -> dict[str, str]: ...


@dataclass
class CompiledSource:
    """A source compiled into a `RangeTable`."""

    source_id: str
    table: RangeTable

    def answer(self, parsed: ParsedAddresses, registry: LocationRegistry) -> pa.Table:
        return result_table(self.table.records, self.table.find(parsed), self.source_id, registry)

    def describe(self) -> dict[str, str]:
        prov = self.table.provenance
        return {
            "source": self.source_id,
            "kind": prov.source,
            "ranges_v4": str(self.table.ranges_v4),
            "ranges_v6": str(self.table.ranges_v6),
            "path": prov.path,
            "version": prov.version_text(),
            "sha256": prov.sha256,
            "cache": "reused" if self.table.from_cache else "compiled",
            "problems": str(len(self.table.problems)),
        }


@dataclass
class IptoccSource:
    """The embedded default: iptocc's RIR registration data, lookup-only.

    iptocc does not expose its ranges, so this source cannot be compiled; it is called
    once per column through iptocc's batch function (Rust) on the valid addresses only.
    """

    source_id: str = "iptocc"

    def answer(self, parsed: ParsedAddresses, registry: LocationRegistry) -> pa.Table:
        import iptocc

        found = np.full(len(parsed), -1, dtype=np.int64)
        rows = np.flatnonzero(parsed.family != 0)
        records: list[Record] = []
        if len(rows):
            texts = parsed.to_strings().take(pa.array(rows)).to_pylist()
            countries = list(iptocc.country_code(texts))
            codes: dict[str, int] = {}
            for row, cc in zip(rows.tolist(), countries, strict=True):
                if cc:
                    if cc not in codes:
                        codes[cc] = len(records)
                        records.append(Record(cc, cc, country_kind=REGISTERED))
                    found[row] = codes[cc]
        return result_table(records, found, self.source_id, registry)

    def describe(self) -> dict[str, str]:
        try:
            release = version("iptocc")
        except PackageNotFoundError:  # pragma: no cover - iptocc is a hard dependency
            release = "unknown"
        return {
            "source": self.source_id,
            "kind": "iptocc (embedded RIR registration data, lookup-only)",
            "ranges_v4": "n/a",
            "ranges_v6": "n/a",
            "path": "(package data)",
            "version": f"iptocc {release}",
            "sha256": "n/a",
            "cache": "n/a",
            "problems": "0",
        }


def _mmdb(path: Path) -> tuple[str, RawRanges, bool]:
    found = read_mmdb(path)
    raw = RawRanges(v4=found.v4, v6=found.v6, file_date=found.file_date)
    return f"mmdb:{found.database_type}", raw, found.alias_6to4


def _rir(path: Path) -> tuple[str, RawRanges, bool]:
    if path.is_dir():
        return "ipverse", read_ipverse(path), False
    return "rir-delegated", read_rir_delegated(path), False


def _geofeed(path: Path) -> tuple[str, RawRanges, bool]:
    return "geofeed", read_geofeed(path), False


def _provider(path: Path) -> tuple[str, RawRanges, bool]:
    provider, raw = read_provider_ranges(path)
    return f"provider:{provider}", raw, False


def _anonymisers(path: Path) -> tuple[str, RawRanges, bool]:
    return "anonymisers", read_anonymisers(path), False


# kind -> compiler; a compiler returns (label, ranges, 6to4 aliased).
KINDS: dict[str, Callable[[Path], tuple[str, RawRanges, bool]]] = {
    "mmdb": _mmdb,
    "rir": _rir,
    "geofeed": _geofeed,
    "provider": _provider,
    "anonymisers": _anonymisers,
}


def compile_source(spec: SourceSpec) -> RangeTable:
    """Read and compile one source file (no cache)."""
    sha = file_sha256(spec.path)
    label, raw, alias = KINDS[spec.kind](spec.path)
    prov = provenance(label, spec.path, sha, raw.file_date)
    return build_table(spec.kind, prov, raw.v4, raw.v6, raw.problems, alias)


def load_source(spec: SourceSpec, cache_dir: Path | str | None = None) -> CompiledSource:
    """The compiled table of `spec`, from the cache when its content was compiled before.

    The cache key is the file's sha256 and `cache.COMPILER_VERSION`; `table.from_cache`
    says whether it was reused. A cache folder that cannot be written is not an error.
    """
    folder = cache.default_cache_dir(cache_dir)
    sha = file_sha256(spec.path)
    where = cache.cache_path(folder, spec.kind, sha)
    table = cache.load(where, spec.path)
    if table is None:
        label, raw, alias = KINDS[spec.kind](spec.path)
        prov = provenance(label, spec.path, sha, raw.file_date)
        table = build_table(spec.kind, prov, raw.v4, raw.v6, raw.problems, alias)
        with contextlib.suppress(OSError):  # still usable; compiled again next time
            cache.save(table, where)
    return CompiledSource(spec.source_id, table)


def load_sources(
    specs: Sequence[SourceSpec], cache_dir: Path | str | None = None, with_default: bool = True
) -> list[GeoSource]:
    """Load every spec (ids made unique), plus the embedded iptocc source if asked.

    The order is the precedence: the user's sources in the order given, then iptocc,
    which always answers last (docs/jurisdiction.md).
    """
    sources: list[GeoSource] = []
    seen: set[str] = {"iptocc"} if with_default else set()
    for spec in specs:
        loaded = load_source(spec, cache_dir)
        base, k = loaded.source_id, 2
        while loaded.source_id in seen:
            loaded.source_id, k = f"{base}#{k}", k + 1
        seen.add(loaded.source_id)
        sources.append(loaded)
    if with_default:
        sources.append(IptoccSource())
    return sources


def lookup(
    values: Values | ParsedAddresses, source: GeoSource, registry: LocationRegistry | None = None
) -> pa.Table:
    """One source's answer for every value: the columns of `results.RESULT_COLUMNS`."""
    parsed = values if isinstance(values, ParsedAddresses) else parse_addresses(values)
    return source.answer(parsed, registry or LocationRegistry.load_builtin())


def lookup_all(
    values: Values, sources: Sequence[GeoSource], registry: LocationRegistry | None = None
) -> pa.Table:
    """Every source's answer side by side: `value`, `ip`, then `<source id>.<column>`."""
    array = (
        values
        if isinstance(values, pa.Array | pa.ChunkedArray)
        else pa.array(list(values), pa.string())
    )
    parsed = parse_addresses(array)
    registry = registry or LocationRegistry.load_builtin()
    columns: dict[str, pa.Array | pa.ChunkedArray] = {"value": array, "ip": parsed.to_strings()}
    for source in sources:
        answer = source.answer(parsed, registry)
        for name in answer.column_names:
            columns[f"{source.source_id}.{name}"] = answer.column(name)
    return pa.table(columns)
