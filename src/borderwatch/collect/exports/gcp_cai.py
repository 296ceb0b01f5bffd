"""Google Cloud Asset Inventory exports (`gcloud asset export` / `search-all-resources`).

Input: a JSON list of assets, one asset object, or newline-delimited JSON (one asset per
line, the format of `gcloud asset export --output-path`). Each asset has `name`,
`asset_type` (or `assetType`) and `resource.data`. Mapped asset types and where the
location comes from:

Mapped asset types (service; where the location comes from):

- storage.googleapis.com/Bucket (gcs): `data.location` (US-CENTRAL1, US, EU, nam4).
- bigquery.googleapis.com/Dataset (bigquery): `data.location`.
- sqladmin.googleapis.com/Instance (cloudsql): `data.region`; `masterInstanceName`
  (`project:instance`) makes the instance a read-replica of its master.
- spanner.googleapis.com/Instance (spanner): `config`'s last segment, `regional-` removed.
- bigtableadmin.googleapis.com/Instance, google.bigtable.Instance (bigtable): the asset
  has no location (clusters carry it): unknown. bigtableadmin.googleapis.com/Cluster:
  `data.location`'s last segment, a replication copy of its instance.
- compute.googleapis.com/Disk, RegionDisk (compute-disk): the zone / region URL.
- compute.googleapis.com/Snapshot (compute-snapshot): `storageLocations[0]`; a snapshot
  of `sourceDisk`.
- appengine.googleapis.com/Application (datastore): `locationId`; the legacy ids
  `us-central` and `europe-west` are us-central1 and europe-west1.
- firestore.googleapis.com/Database (firestore): `locationId`.

`resource.location` is used when the data has no location. Store ids are the asset names
(`//storage.googleapis.com/my-bucket`); the short name is an alias.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from borderwatch.collect.exports.common import (
    ExportResult,
    classes_from_tags,
    decode_text,
    nested_too_deep,
)
from borderwatch.errors import InputError, Problem, SourceLocation
from borderwatch.model.inventory import Store

# App Engine's two legacy location ids are the Cloud regions us-central1 and europe-west1
# (Google Cloud "App Engine locations": "called europe-west and us-central in App Engine").
_APPENGINE_LEGACY = {"us-central": "us-central1", "europe-west": "europe-west1"}

_SERVICES = {
    "storage.googleapis.com/Bucket": "gcs",
    "bigquery.googleapis.com/Dataset": "bigquery",
    "sqladmin.googleapis.com/Instance": "cloudsql",
    "spanner.googleapis.com/Instance": "spanner",
    "bigtableadmin.googleapis.com/Instance": "bigtable",
    "google.bigtable.Instance": "bigtable",
    "bigtableadmin.googleapis.com/Cluster": "bigtable",
    "compute.googleapis.com/Disk": "compute-disk",
    "compute.googleapis.com/RegionDisk": "compute-disk",
    "compute.googleapis.com/Snapshot": "compute-snapshot",
    "appengine.googleapis.com/Application": "datastore",
    "firestore.googleapis.com/Database": "firestore",
}


def load_assets(path: Path) -> list[Any]:
    """The assets of one export file; InputError naming the file when it is not JSON."""
    try:
        text = decode_text(path.read_bytes())
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"cannot read {path}", [Problem(SourceLocation(str(path)), f"cannot read: {exc}")]
        ) from exc
    try:
        doc = json.loads(text)
    except RecursionError as exc:
        raise nested_too_deep(path) from exc
    except json.JSONDecodeError as exc:
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) > 1 and all(line.lstrip().startswith("{") for line in lines):
            try:
                return [json.loads(line) for line in lines]
            except (json.JSONDecodeError, RecursionError):
                pass
        raise InputError(
            f"{path}: not valid JSON (nor one JSON asset per line)",
            [Problem(SourceLocation(str(path), exc.lineno, exc.colno), exc.msg)],
        ) from exc
    if isinstance(doc, Mapping) and isinstance(doc.get("assets"), list):
        return list(doc["assets"])
    return doc if isinstance(doc, list) else [doc]


def read_cai(path: Path) -> ExportResult:
    """Stores of one Cloud Asset Inventory file."""
    return stores_from_cai(load_assets(path), source=str(path))


def _last(value: Any) -> str:
    return str(value).rstrip("/").rsplit("/", 1)[-1].strip() if value else ""


def stores_from_cai(assets: list[Any], *, source: str = "cai.json") -> ExportResult:
    """Pure mapping of parsed assets to stores; unmapped asset types are skipped."""
    result = ExportResult()
    links: dict[str, tuple[str, str]] = {}
    for index, asset in enumerate(assets):
        where = f"{source}#/{index}"
        if not isinstance(asset, Mapping):
            result.problems.append(Problem(SourceLocation(where), "an asset is not an object"))
            continue
        atype = str(asset.get("asset_type") or asset.get("assetType") or "")
        service = _SERVICES.get(atype)
        if service is None:
            continue
        name = str(asset.get("name") or "")
        resource = asset.get("resource") or {}
        data = resource.get("data") or {} if isinstance(resource, Mapping) else {}
        if not name:
            result.problems.append(Problem(SourceLocation(where), f"{atype} asset has no name"))
            continue
        region = _location(atype, data) or str(resource.get("location") or "").strip()
        labels = data.get("labels") or (data.get("settings") or {}).get("userLabels")
        if atype == "spanner.googleapis.com/Instance":
            labels = labels or (data.get("instance") or {}).get("labels")
        aliases = [_last(name)]
        for key in ("selfLink", "name", "id"):
            if isinstance(data.get(key), str) and data[key] not in aliases:
                aliases.append(data[key])
        if atype == "sqladmin.googleapis.com/Instance" and data.get("project"):
            aliases.append(f"{data['project']}:{data.get('name') or _last(name)}")
            master = str(data.get("masterInstanceName") or "")
            if master:
                links[name] = (master, "read-replica")
        if atype == "compute.googleapis.com/Snapshot" and data.get("sourceDisk"):
            links[name] = (str(data["sourceDisk"]), "snapshot")
        if atype == "bigtableadmin.googleapis.com/Cluster":
            parent = name.rsplit("/clusters/", 1)[0]
            links[name] = (parent, "replication")
        result.stores.append(
            Store(
                store_id=name,
                provider="gcp",
                region=region,
                service=service,
                data_classes=classes_from_tags(labels),
                aliases=tuple(a for a in dict.fromkeys(aliases) if a and a != name),
                origin=where,
            )
        )
        if not region:
            result.problems.append(
                Problem(SourceLocation(where), f"{atype} {name} has no location in the export")
            )
    result.stores = _link(result.stores, links)
    return result


def _location(atype: str, data: Mapping[str, Any]) -> str:
    if atype in ("storage.googleapis.com/Bucket", "bigquery.googleapis.com/Dataset"):
        return str(data.get("location") or "").strip()
    if atype == "sqladmin.googleapis.com/Instance":
        return str(data.get("region") or data.get("gceZone") or "").strip()
    if atype == "spanner.googleapis.com/Instance":
        config = data.get("config") or (data.get("instance") or {}).get("config")
        return _last(config).removeprefix("regional-")
    if atype == "bigtableadmin.googleapis.com/Cluster":
        return _last(data.get("location"))
    if atype == "compute.googleapis.com/Disk":
        return _last(data.get("zone"))
    if atype == "compute.googleapis.com/RegionDisk":
        return _last(data.get("region"))
    if atype == "compute.googleapis.com/Snapshot":
        locations = data.get("storageLocations") or []
        return str(locations[0]).strip() if isinstance(locations, list) and locations else ""
    if atype == "appengine.googleapis.com/Application":
        location = str(data.get("locationId") or "").strip()
        return _APPENGINE_LEGACY.get(location, location)
    if atype == "firestore.googleapis.com/Database":
        return str(data.get("locationId") or "").strip()
    return ""


def _link(stores: list[Store], links: dict[str, tuple[str, str]]) -> list[Store]:
    """Set copy_of/copy_kind from source references (ids, aliases, self links)."""
    index: dict[str, str] = {}
    for store in stores:
        index.setdefault(store.store_id, store.store_id)
        for alias in store.aliases:
            index.setdefault(alias, store.store_id)
    linked = []
    for store in stores:
        link = links.get(store.store_id)
        if link is None:
            linked.append(store)
            continue
        source, kind = link
        linked.append(replace(store, copy_of=index.get(source, source), copy_kind=kind))
    return linked
