"""IP range data from real sources, compiled once into sorted range tables, looked up fast.

Sources: MaxMind DB files, RIR delegated statistics, ipverse country lists, RFC 8805
geofeeds, cloud providers' published ranges, user anonymiser lists, and the embedded
iptocc data (lookup-only). See docs/geo.md.
"""

from borderwatch.enrich.geo.addresses import ParsedAddresses, parse_addresses
from borderwatch.enrich.geo.results import RESULT_COLUMNS
from borderwatch.enrich.geo.sources import (
    KINDS,
    CompiledSource,
    GeoSource,
    IptoccSource,
    SourceSpec,
    compile_source,
    load_source,
    load_sources,
    lookup,
    lookup_all,
)
from borderwatch.enrich.geo.table import FLAGS, Provenance, RangeTable, Record

__all__ = [
    "FLAGS",
    "KINDS",
    "RESULT_COLUMNS",
    "CompiledSource",
    "GeoSource",
    "IptoccSource",
    "ParsedAddresses",
    "Provenance",
    "RangeTable",
    "Record",
    "SourceSpec",
    "compile_source",
    "load_source",
    "load_sources",
    "lookup",
    "lookup_all",
    "parse_addresses",
]
