"""The cloud location registry: which countries a provider's region (or site) places data in.

Built-in tables live in `inventory/data/locations-*.csv` (columns
`provider,location,kind,countries,name,partition`); users may add or override rows with their
own CSV files. `LocationRegistry.resolve` turns whatever an inventory or a log says
("West Europe", "us-east-1a", an S3 LocationConstraint of None) into a `Location` with the
countries, and never guesses: anything it cannot place is kind "unknown" with a reason.
The format and the rules are described in docs/locations.md.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

from borderwatch.errors import InputError, Problem, SourceLocation

DATA_DATE = "2026-12-06"
"""The date the built-in tables were last checked against the providers' lists."""

COLUMNS = ("provider", "location", "kind", "countries", "name", "partition")
ROW_KINDS = ("region", "multi-region", "global")
KINDS = (*ROW_KINDS, "site", "unknown")
GLOBAL_REASON = "global: data may be placed anywhere"

_PROVIDER_ALIASES: dict[str, str] = {
    "aws": "aws",
    "amazon": "aws",
    "amazon web services": "aws",
    "ec2": "aws",
    "gcp": "gcp",
    "google": "gcp",
    "google cloud": "gcp",
    "gce": "gcp",
    "azure": "azure",
    "microsoft": "azure",
    "microsoft azure": "azure",
    "oci": "oci",
    "oracle": "oci",
    "oracle cloud": "oci",
    "onprem": "onprem",
    "on-prem": "onprem",
    "on-premises": "onprem",
    "datacenter": "onprem",
    "dc": "onprem",
    "self-hosted": "onprem",
}

_COUNTRY = re.compile(r"^[A-Z]{2}$")
# us-east-1a: a region id followed by one zone letter. Local and Wavelength zones
# (us-east-1-bos-1a) are not matched on purpose: they may sit in another country.
_AWS_ZONE = re.compile(r"^(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)(?P<zone>[a-z])$")
# europe-west1-b: a region id, a dash and one zone letter.
_GCP_ZONE = re.compile(r"^(?P<region>[a-z]+(?:-[a-z]+)*\d+)-(?P<zone>[a-z])$")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Location:
    """Where a provider's location places data, resolved from what the caller gave."""

    provider: str
    location: str
    kind: str
    countries: tuple[str, ...]
    name: str = ""
    partition: str = ""
    raw: str = ""
    reason: str = ""


def canonical_provider(provider: str | None) -> str:
    """The canonical provider name for an alias ("Amazon" -> "aws"); others lower-cased."""
    if provider is None:
        return ""
    text = _SPACES.sub(" ", provider.strip().lower())
    return _PROVIDER_ALIASES.get(text, text)


def _key(text: str) -> str:
    """Lookup key of a location id: trimmed, lower-cased, inner whitespace collapsed."""
    return _SPACES.sub(" ", text.strip().lower())


def _squash(text: str) -> str:
    """Lookup key of an Azure display name: lower-cased with all whitespace removed."""
    return _SPACES.sub("", text.lower())


@dataclass(frozen=True)
class _Source:
    """One CSV file's name for messages and its bytes."""

    name: str
    data: bytes


class LocationRegistry:
    """Provider locations and their countries, from the built-in and user CSV files."""

    def __init__(
        self,
        rows: Sequence[Location],
        blobs: Sequence[bytes],
        aliases: dict[tuple[str, str], str] | None = None,
    ) -> None:
        self._rows: dict[tuple[str, str], Location] = {}
        for row in rows:
            self._rows[(row.provider, _key(row.location))] = row
        # Other spellings of a location id that providers' own data uses (Azure service
        # tags write "germanywc" for germanywestcentral): (provider, alias) -> location.
        self._aliases = {
            key: target for key, target in (aliases or {}).items() if (key[0], target) in self._rows
        }
        self._names: dict[tuple[str, str], Location] = {}
        for row in self._rows.values():
            if row.provider == "azure" and row.name:
                key = (row.provider, _squash(row.name))
                if key not in self._rows:
                    self._names.setdefault(key, row)
        self._providers = tuple(sorted({p for p, _ in self._rows}))
        self._blobs = tuple(blobs)
        digest = hashlib.sha256()
        for blob in self._blobs:
            digest.update(len(blob).to_bytes(8, "big"))
            digest.update(blob)
        self.version = f"locations-{DATA_DATE}+sha256:{digest.hexdigest()[:12]}"

    # ------------------------------------------------------------------ loading

    @classmethod
    def load_builtin(cls) -> LocationRegistry:
        """The registry of the packaged tables; parsed once per process."""
        return _builtin()

    @classmethod
    def from_files(cls, paths: Sequence[Path]) -> LocationRegistry:
        """A registry of only these CSV files (same columns as the built-in ones)."""
        return cls._from_sources([_read_path(Path(p)) for p in paths])

    def with_extra(self, paths: Sequence[Path]) -> LocationRegistry:
        """This registry plus the rows of `paths`; a row of `paths` overrides one here.

        Typically `LocationRegistry.load_builtin().with_extra(paths)`.
        """
        extra = LocationRegistry.from_files(paths)
        return LocationRegistry(
            [*self._rows.values(), *extra._rows.values()],
            [*self._blobs, *extra._blobs],
            self._aliases,
        )

    @classmethod
    def _from_sources(cls, sources: Sequence[_Source]) -> LocationRegistry:
        problems: list[Problem] = []
        rows: list[Location] = []
        seen: dict[tuple[str, str], SourceLocation] = {}
        for source in sources:
            for row, where in _parse(source, problems):
                key = (row.provider, _key(row.location))
                if key in seen:
                    problems.append(
                        Problem(
                            where,
                            f"duplicate location {row.provider} {row.location!r}, "
                            f"already defined at {seen[key]}",
                            "keep one row per provider and location",
                        )
                    )
                    continue
                seen[key] = where
                rows.append(row)
        if problems:
            raise InputError(f"{len(problems)} problem(s) in the location tables", problems)
        return cls(rows, [s.data for s in sources])

    # ---------------------------------------------------------------- questions

    def providers(self) -> tuple[str, ...]:
        """The canonical providers that have at least one location."""
        return self._providers

    def all_locations(self) -> Iterator[Location]:
        """Every location, sorted by provider and location id."""
        for key in sorted(self._rows):
            yield self._rows[key]

    def resolve(
        self, provider: str | None, location: str | None, site_country: str | None = None
    ) -> Location:
        """Place `location` of `provider` in countries; kind "unknown" when it cannot.

        `site_country` is the country an inventory gives for an on-premises site; it is used
        only when the location is not a known cloud location.
        """
        prov = canonical_provider(provider)
        raw = location if location is not None else ""
        found = self._lookup(prov, raw)
        if found is not None:
            return found

        text = raw.strip()
        country = (site_country or "").strip().upper()
        if country:
            if not _COUNTRY.match(country):
                return self._unknown(
                    prov,
                    raw,
                    f"site country {site_country!r} is not an ISO 3166-1 alpha-2 code",
                )
            if prov == "onprem":
                how = f"on-premises site in {country} as given by the inventory"
            elif prov in self._providers:
                how = (
                    f"{prov} location {text!r} is not a known cloud location; "
                    f"site in {country} as given by the inventory"
                )
            else:
                how = f"site in {country} as given by the inventory"
            return Location(prov, text, "site", (country,), raw=raw, reason=how)
        if prov == "onprem":
            return self._unknown(prov, raw, f"on-premises site {text!r} has no country")
        if not prov:
            return self._unknown(prov, raw, "no provider given")
        if prov not in self._providers:
            return self._unknown(prov, raw, f"unknown provider {prov!r}")
        if not text:
            return self._unknown(prov, raw, "no location given")
        return self._unknown(prov, raw, f"unknown location {text!r} for provider {prov!r}")

    # ------------------------------------------------------------------ helpers

    def _lookup(self, prov: str, raw: str) -> Location | None:
        key = _key(raw)
        if prov == "aws":
            if not key:
                return self._found(
                    prov, "us-east-1", raw, "S3 LocationConstraint empty means us-east-1"
                )
            if key == "eu":
                return self._found(
                    prov, "eu-west-1", raw, "S3 LocationConstraint 'EU' means eu-west-1"
                )
        if not key:
            return None
        row = self._rows.get((prov, key))
        if row is not None:
            return replace(row, raw=raw)
        alias = self._aliases.get((prov, key))
        if alias is not None:
            return self._found(prov, alias, raw, f"{prov} short name {key!r} means {alias}")
        if prov == "azure":
            row = self._rows.get((prov, _squash(key))) or self._names.get((prov, _squash(key)))
            if row is not None:
                how = f"Azure display name {raw.strip()!r} means {row.location}"
                return replace(row, raw=raw, reason=row.reason or how)
        zone = {"aws": _AWS_ZONE, "gcp": _GCP_ZONE}.get(prov)
        match = zone.match(key) if zone else None
        if match:
            region = match.group("region")
            hit = self._rows.get((prov, region))
            if hit is not None and hit.kind == "region":
                return self._found(prov, region, raw, f"availability zone {key} of {hit.location}")
        return None

    def _found(self, prov: str, location: str, raw: str, reason: str) -> Location | None:
        row = self._rows.get((prov, location))
        if row is None:
            return None
        return replace(row, raw=raw, reason=reason)

    @staticmethod
    def _unknown(prov: str, raw: str, reason: str) -> Location:
        return Location(prov, raw.strip(), "unknown", (), raw=raw, reason=reason)


@functools.cache
def _builtin() -> LocationRegistry:
    folder = resources.files("borderwatch.inventory").joinpath("data")
    entries = sorted(folder.iterdir(), key=lambda e: e.name)
    sources = [
        _Source(f"borderwatch/inventory/data/{entry.name}", entry.read_bytes())
        for entry in entries
        if entry.name.startswith("locations-") and entry.name.endswith(".csv")
    ]
    alias_sources = [
        _Source(f"borderwatch/inventory/data/{entry.name}", entry.read_bytes())
        for entry in entries
        if entry.name.startswith("aliases-") and entry.name.endswith(".csv")
    ]
    table = LocationRegistry._from_sources(sources)
    return LocationRegistry(
        list(table._rows.values()),
        [*table._blobs, *(s.data for s in alias_sources)],
        _parse_aliases(alias_sources),
    )


def _parse_aliases(sources: Sequence[_Source]) -> dict[tuple[str, str], str]:
    """`provider,alias,location` rows: another spelling of a location id."""
    aliases: dict[tuple[str, str], str] = {}
    for source in sources:
        for row in csv.DictReader(io.StringIO(source.data.decode("utf-8-sig"))):
            provider = canonical_provider(row["provider"])
            aliases[(provider, _key(row["alias"]))] = _key(row["location"])
    return aliases


def _read_path(path: Path) -> _Source:
    try:
        return _Source(str(path), path.read_bytes())
    except OSError as exc:
        raise InputError(
            f"cannot read location table {path}",
            [Problem(SourceLocation(str(path)), f"cannot read: {exc.strerror or exc}")],
        ) from exc


def _parse(source: _Source, problems: list[Problem]) -> Iterator[tuple[Location, SourceLocation]]:
    """Yield each valid row of one CSV with where it was; add a Problem for each bad one."""
    try:
        text = source.data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(
            Problem(SourceLocation(source.name), f"not UTF-8 text: {exc}", "save it as UTF-8")
        )
        return
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != COLUMNS:
        problems.append(
            Problem(
                SourceLocation(source.name, 1),
                f"header must be exactly {','.join(COLUMNS)}",
                "put the column names on the first line, no comments before them",
            )
        )
        return
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue

        def problem(column: int, message: str, hint: str | None = None, line: int = line) -> None:
            problems.append(Problem(SourceLocation(source.name, line, column), message, hint))

        if len(cells) != len(COLUMNS):
            problem(1, f"expected {len(COLUMNS)} columns, found {len(cells)}")
            continue
        provider_text, location, kind, countries_text, name, partition = (c.strip() for c in cells)
        provider = canonical_provider(provider_text)
        bad = len(problems)
        if not provider:
            problem(1, "provider is empty")
        if not location:
            problem(2, "location is empty")
        if kind not in ROW_KINDS:
            problem(3, f"kind {kind!r} is not one of {', '.join(ROW_KINDS)}")
        codes = [c.strip() for c in countries_text.split(";")] if countries_text else []
        for code in codes:
            if not _COUNTRY.match(code):
                problem(
                    4,
                    f"country {code!r} is not two upper-case letters",
                    "use ISO 3166-1 alpha-2 codes separated by ';', e.g. US;CA",
                )
        if len(set(codes)) != len(codes):
            problem(4, f"a country is listed twice in {countries_text!r}")
        if kind == "region" and len(codes) != 1:
            problem(4, f"a region has exactly one country, found {len(codes)}")
        elif kind == "multi-region" and not codes:
            problem(4, "a multi-region needs at least one country")
        elif kind == "global" and codes:
            problem(4, "a global location lists no countries (data may be anywhere)")
        if len(problems) != bad:
            continue
        yield (
            Location(
                provider=provider,
                location=location,
                kind=kind,
                countries=tuple(sorted(codes)),
                name=name,
                partition=partition,
                raw=location,
                reason=GLOBAL_REASON if kind == "global" else "",
            ),
            SourceLocation(source.name, line),
        )
