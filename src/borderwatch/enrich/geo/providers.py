"""Cloud providers' published ranges: AWS, Google Cloud, Azure service tags, Oracle, GitHub.

Each file is recognised by its shape, not its name. A range's record names the provider
and its region (as the provider spells it); the region's country is resolved at lookup
time through the location registry. Geofeed-shaped provider files (DigitalOcean, Linode)
are read as geofeeds with the provider named from the file name.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from borderwatch.enrich.geo.feeds import read_geofeed
from borderwatch.enrich.geo.provenance import unreadable
from borderwatch.enrich.geo.registries import RawRanges
from borderwatch.enrich.geo.table import Interval, Record, underlay
from borderwatch.errors import InputError, Problem, SourceLocation

# (prefix, region, service) triples of one provider file.
Entries = Iterator[tuple[str, str | None, str | None]]
GEOFEED_PROVIDERS = ("digitalocean", "linode", "akamai", "hetzner", "vultr", "ovh")


def _aws(doc: dict[str, Any]) -> Entries:
    for item in doc.get("prefixes", []):
        yield item.get("ip_prefix", ""), item.get("region"), item.get("service")
    for item in doc.get("ipv6_prefixes", []):
        yield item.get("ipv6_prefix", ""), item.get("region"), item.get("service")


def _gcp(doc: dict[str, Any]) -> Entries:
    for item in doc.get("prefixes", []):
        prefix = item.get("ipv4Prefix") or item.get("ipv6Prefix") or ""
        yield prefix, item.get("scope"), item.get("service")


def _azure(doc: dict[str, Any]) -> Entries:
    for value in doc.get("values", []):
        props = value.get("properties", {})
        for prefix in props.get("addressPrefixes", []):
            yield prefix, props.get("region") or None, value.get("name")


def _oci(doc: dict[str, Any]) -> Entries:
    for region in doc.get("regions", []):
        for item in region.get("cidrs", []):
            tags = item.get("tags") or []
            yield item.get("cidr", ""), region.get("region"), ",".join(tags) or None


def _github(doc: dict[str, Any]) -> Entries:
    for key, value in doc.items():
        if isinstance(value, list) and key not in ("ssh_keys", "domains"):
            for prefix in value:
                if isinstance(prefix, str) and "/" in prefix:
                    yield prefix, None, key


# provider -> (recognise the document, read its entries, its date field)
FORMATS: dict[
    str, tuple[Callable[[dict[str, Any]], bool], Callable[[dict[str, Any]], Entries], str]
] = {
    "aws": (lambda d: "prefixes" in d and "createDate" in d, _aws, "createDate"),
    "gcp": (lambda d: "prefixes" in d and "creationTime" in d, _gcp, "creationTime"),
    "azure": (lambda d: "values" in d and "changeNumber" in d, _azure, "changeNumber"),
    "oci": (lambda d: "regions" in d, _oci, "last_updated_timestamp"),
    "github": (lambda d: "verifiable_password_authentication" in d, _github, ""),
}


def read_provider_ranges(path: Path) -> tuple[str, RawRanges]:
    """(provider, ranges) of a provider's published file; geofeeds are recognised too."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise unreadable(path, exc) from exc
    except UnicodeDecodeError as exc:
        raise _unknown(path, "the file is not UTF-8 text") from exc
    if not text.lstrip().startswith("{"):
        provider = next((p for p in GEOFEED_PROVIDERS if p in path.name.lower()), None)
        return provider or "geofeed", read_geofeed(path, provider=provider)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"cannot read provider ranges {path}",
            [Problem(SourceLocation(str(path), exc.lineno, exc.colno), exc.msg, "fix the JSON")],
        ) from exc
    if not isinstance(doc, dict):
        raise _unknown(path, "the JSON document is not an object")
    for provider, (matches, entries, date_key) in FORMATS.items():
        if matches(doc):
            return provider, _compile(path, provider, entries(doc), _version(doc, date_key))
    raise _unknown(path, "not a known provider range format")


def _version(doc: dict[str, Any], key: str) -> str | None:
    """The file's own date or version: AWS createDate, Google creationTime, Oracle
    last_updated_timestamp, Azure changeNumber (with its cloud); None when it has none."""
    value = doc.get(key) if key else None
    if value in (None, ""):
        return None
    if key == "changeNumber":
        cloud = doc.get("cloud")
        return f"{cloud} changeNumber {value}" if cloud else f"changeNumber {value}"
    return str(value)


def _compile(path: Path, provider: str, entries: Entries, version: str | None) -> RawRanges:
    out = RawRanges(file_date=version)
    regional: tuple[list[Interval], list[Interval]] = ([], [])
    background: tuple[list[Interval], list[Interval]] = ([], [])
    for number, (prefix, region, service) in enumerate(entries, start=1):
        try:
            net = ipaddress.ip_network(prefix, strict=False)
        except ValueError:
            out.problems.append(
                Problem(
                    SourceLocation(str(path)),
                    f"entry {number}: {prefix!r} is not an IP prefix",
                    "the entry was skipped",
                )
            )
            continue
        record = Record(provider=provider, provider_region=region, provider_service=service)
        iv = Interval(int(net.network_address), int(net.broadcast_address), record)
        families = regional if region else background
        families[0 if net.version == 4 else 1].append(iv)
    # The most specific regional answer wins; region-less entries fill only the gaps.
    out.v4 = underlay(regional[0], background[0])
    out.v6 = underlay(regional[1], background[1])
    return out


def _unknown(path: Path, message: str) -> InputError:
    return InputError(
        f"cannot read provider ranges {path}",
        [
            Problem(
                SourceLocation(str(path)),
                message,
                "give AWS ip-ranges.json, Google cloud.json, Azure service tags, Oracle "
                "public_ip_ranges.json, GitHub meta or an RFC 8805 geofeed",
            )
        ],
    )
