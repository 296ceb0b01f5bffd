"""The scan a team writes first: one pure-Python loop over the records.

json module to parse, one `iptocc.country_code(ip)` call per address, plain dicts for the
inventory and the identities. It produces the access findings of the demo policy
(prohibited jurisdiction and unknown location) as {(rule, resource, principal, country):
count}, for the benchmark to compare with borderwatch's findings.
"""

from __future__ import annotations

import csv
import gzip
import ipaddress
import json
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import iptocc

from borderwatch.api import load_policy
from borderwatch.inventory.locations import LocationRegistry

Key = tuple[str, str, str | None, str | None]

_PROVIDER_INTERNAL = {"aws internal", "aws internal service", "internal"}
_SERVICE_SUFFIXES = (".amazonaws.com", ".amazon.com")


def _records(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as handle:
        magic = handle.read(2)  # the first bytes only: the file is read once, below
    opener = gzip.open if magic == b"\x1f\x8b" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        first = handle.read(1)
        handle.seek(0)
        if first == "{" and not path.name.endswith(".jsonl"):
            doc = json.load(handle)
            if "Records" not in doc:
                return  # a digest file
            yield from doc["Records"]
        else:
            for line in handle:
                if line.strip():
                    yield json.loads(line)


def _store_name(value: str) -> list[str]:
    """The names a resource value may go by in an inventory: itself, the bucket/table."""
    names = [value]
    if value.startswith("arn:"):
        parts = value.split(":", 5)
        if len(parts) == 6:
            if parts[2] == "s3":
                names.append(parts[5].split("/", 1)[0])
            else:
                for sep in ("/", ":"):
                    if sep in parts[5]:
                        names.append(parts[5].split(sep, 2)[1])
                        break
    return names


def naive_scan(
    policy_path: Path, inventory: Path, identities: Path, files: list[Path]
) -> dict[Key, int]:
    """{(rule, resource, principal, country): distinct events} over every record."""
    policy = load_policy(policy_path)
    protected = {dc.name for dc in policy.protected_classes()}
    prohibited: dict[str, set[str]] = {
        dc.name: set(dc.access.prohibited_countries) for dc in policy.protected_classes()
    }
    stores: dict[str, set[str]] = {}  # store_id -> protected classes
    with inventory.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            classes = {c for c in row["data_classes"].split(";") if c in protected}
            if classes:
                stores[row["store_id"]] = classes
    people: dict[str, str] = {}  # principal -> work country
    with identities.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            people[row["principal"]] = row["work_country"]
    locations = LocationRegistry.load_builtin()
    region_country: dict[str, str] = {}

    hits: dict[Key, set[str]] = defaultdict(set)
    for path in files:
        for record in _records(path):
            if not record.get("eventTime") or record.get("errorCode"):
                continue
            touched: list[str] = []
            for resource in record.get("resources") or []:
                arn = resource.get("ARN")
                if arn:
                    touched.extend(_store_name(arn))
            for value in (record.get("requestParameters") or {}).values():
                if isinstance(value, str):
                    touched.extend(_store_name(value))
            hit_stores = {s for s in touched if s in stores}
            if not hit_stores:
                continue
            identity = record.get("userIdentity") or {}
            principal = identity.get("arn")
            issuer = (identity.get("sessionContext") or {}).get("sessionIssuer") or {}
            work = people.get(principal or "") or people.get(issuer.get("arn") or "")
            caller = record.get("sourceIPAddress") or ""
            countries: set[str] = set()
            if work:
                countries.add(work)
            try:
                address = ipaddress.ip_address(caller)
            except ValueError:
                address = None
            if address is not None and address.is_global:
                country = iptocc.country_code(str(address))
                if country:
                    countries.add(country)
            if caller.lower() in _PROVIDER_INTERNAL or caller.endswith(_SERVICE_SUFFIXES):
                region = record.get("awsRegion") or ""
                if region not in region_country:
                    location = locations.resolve("aws", region)
                    region_country[region] = (
                        location.countries[0] if len(location.countries) == 1 else ""
                    )
                if region_country[region]:
                    countries.add(region_country[region])
            event_id = record["eventID"]
            for store in hit_stores:
                if not countries:
                    hits[("access.unknown-location", store, principal, None)].add(event_id)
                for country in countries:
                    if any(country in prohibited[c] for c in stores[store]):
                        key = ("access.prohibited-jurisdiction", store, principal, country)
                        hits[key].add(event_id)
    return {key: len(ids) for key, ids in hits.items()}
