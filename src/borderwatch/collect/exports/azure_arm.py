"""Azure Resource Manager / Resource Graph resource JSON to stores.

Input shapes (all accepted): a list of resources; an ARM list response `{"value": [...]}`;
`az graph query` output `{"data": [...]}`; one resource object; and recorded HTTP
exchanges (VCR cassettes `{"interactions": [...]}`), whose response bodies are read.
Resource types are compared case-insensitively (Resource Graph lower-cases them). A
resource seen twice (same `id`) is kept once, first seen wins.

Mapped types (service; copies):

- Microsoft.Storage/storageAccounts (storage-account): SKU GRS, RA-GRS, GZRS or RA-GZRS
  adds a `#geo-replica` copy in `properties.secondaryLocation`, else in the paired region
  (data/azure-pairs.csv).
- Microsoft.DocumentDB/databaseAccounts (cosmosdb): the primary is the location with
  failoverPriority 0; every other `properties.locations[].locationName` is a
  `#replica/<region>` copy.
- Microsoft.Sql/servers/databases (sql-database): `createMode`/`secondaryType`
  Secondary/Geo with `sourceDatabaseId` is a read-replica of that database.
- Microsoft.Compute/disks (managed-disk), snapshots (disk-snapshot, a snapshot of
  `creationData.sourceResourceId`).
- MySQL/PostgreSQL/MariaDB servers and flexibleServers: `sourceServerResourceId` makes
  a read-replica.
- Microsoft.Sql/servers, DataLakeStore/accounts, KeyVault/vaults, Cache/Redis,
  Synapse/workspaces: plain stores.

Store ids are the ARM ids; the resource name is an alias. `location` may be an id
(`eastus`), a display name (`East US`) or `global`; the location registry resolves all.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from borderwatch.collect.exports.common import (
    ExportResult,
    azure_pairs,
    classes_from_tags,
    load_json_file,
)
from borderwatch.errors import Problem, SourceLocation
from borderwatch.model.inventory import Store

_GEO = ("GRS", "RAGRS", "GZRS", "RAGZRS")
_SERVICES = {
    "microsoft.storage/storageaccounts": "storage-account",
    "microsoft.documentdb/databaseaccounts": "cosmosdb",
    "microsoft.sql/servers": "sql-server",
    "microsoft.sql/servers/databases": "sql-database",
    "microsoft.compute/disks": "managed-disk",
    "microsoft.compute/snapshots": "disk-snapshot",
    "microsoft.dbformysql/servers": "mysql",
    "microsoft.dbformysql/flexibleservers": "mysql",
    "microsoft.dbforpostgresql/servers": "postgresql",
    "microsoft.dbforpostgresql/flexibleservers": "postgresql",
    "microsoft.dbformariadb/servers": "mariadb",
    "microsoft.datalakestore/accounts": "datalake-store",
    "microsoft.keyvault/vaults": "key-vault",
    "microsoft.cache/redis": "redis",
    "microsoft.synapse/workspaces": "synapse",
}


def resources_in(doc: Any) -> Iterator[Mapping[str, Any]]:
    """Every ARM resource object (with `id` and `type`) in a parsed document."""
    if isinstance(doc, list):
        for item in doc:
            yield from resources_in(item)
        return
    if not isinstance(doc, Mapping):
        return
    if isinstance(doc.get("interactions"), list):
        for exchange in doc["interactions"]:
            body = ((exchange or {}).get("response") or {}).get("body") or {}
            if isinstance(body, Mapping) and "data" in body:
                yield from resources_in(body["data"])
            elif isinstance(body, Mapping) and isinstance(body.get("string"), str):
                try:
                    yield from resources_in(json.loads(body["string"]))
                except json.JSONDecodeError:
                    continue
        return
    for key in ("value", "data"):
        if isinstance(doc.get(key), list):
            yield from resources_in(doc[key])
            return
    if isinstance(doc.get("type"), str) and isinstance(doc.get("id"), str):
        yield doc


def read_arm(path: Path) -> ExportResult:
    """Stores of one ARM / Resource Graph / cassette JSON file."""
    return stores_from_arm(list(resources_in(load_json_file(path))), source=str(path))


def stores_from_arm(
    resources: list[Mapping[str, Any]], *, source: str = "arm.json"
) -> ExportResult:
    """Pure mapping of ARM resources to stores; unmapped types are skipped."""
    result = ExportResult()
    pairs = azure_pairs()
    seen: set[str] = set()
    links: dict[str, tuple[str, str]] = {}
    for res in resources:
        rtype = str(res.get("type", "")).lower()
        service = _SERVICES.get(rtype)
        rid = str(res.get("id", ""))
        if service is None or not rid or rid.lower() in seen:
            continue
        seen.add(rid.lower())
        where = f"{source}#{rid}"
        props: Mapping[str, Any] = res.get("properties") or {}
        location = str(res.get("location") or "").strip()
        if rtype == "microsoft.documentdb/databaseaccounts":
            first = _cosmos_locations(props)
            location = first[0] if first else location
        name = str(res.get("name") or rid.rsplit("/", 1)[-1])
        store = Store(
            store_id=rid,
            provider="azure",
            region=location,
            service=service,
            data_classes=classes_from_tags(res.get("tags")),
            aliases=(name,),
            origin=where,
        )
        result.stores.append(store)
        if not location:
            result.problems.append(Problem(SourceLocation(where), f"{rtype} has no location"))
        if rtype == "microsoft.storage/storageaccounts":
            sku = str((res.get("sku") or {}).get("name") or "").upper().replace("-", "")
            if sku.endswith(_GEO):
                key = location.lower().replace(" ", "")
                secondary = str(props.get("secondaryLocation") or "") or pairs.get(key, "")
                if not secondary:
                    result.problems.append(
                        Problem(
                            SourceLocation(where),
                            f"{sku} copies data to the paired region of {location!r}, "
                            "which is not in the pairs table: the copy's location is unknown",
                        )
                    )
                result.stores.append(
                    replace(
                        store,
                        store_id=f"{rid}#geo-replica",
                        region=secondary,
                        aliases=(),
                        copy_of=rid,
                        copy_kind="replication",
                    )
                )
        elif rtype == "microsoft.documentdb/databaseaccounts":
            for extra in _cosmos_locations(props)[1:]:
                result.stores.append(
                    replace(
                        store,
                        store_id=f"{rid}#replica/{extra.lower().replace(' ', '')}",
                        region=extra,
                        aliases=(),
                        copy_of=rid,
                        copy_kind="replication",
                    )
                )
        elif rtype == "microsoft.sql/servers/databases":
            mode = str(props.get("createMode") or props.get("secondaryType") or "")
            source_id = str(props.get("sourceDatabaseId") or "")
            if source_id and mode.lower() in {"secondary", "onlinesecondary", "geo"}:
                links[rid] = (source_id, "read-replica")
        elif rtype == "microsoft.compute/snapshots":
            source_id = str((props.get("creationData") or {}).get("sourceResourceId") or "")
            if source_id:
                links[rid] = (source_id, "snapshot")
        elif props.get("sourceServerResourceId"):
            links[rid] = (str(props["sourceServerResourceId"]), "read-replica")
    ids = {s.store_id.lower(): s.store_id for s in result.stores}
    result.stores = [
        replace(
            s,
            copy_of=ids.get(links[s.store_id][0].lower(), links[s.store_id][0]),
            copy_kind=links[s.store_id][1],
        )
        if s.store_id in links
        else s
        for s in result.stores
    ]
    return result


def _cosmos_locations(props: Mapping[str, Any]) -> list[str]:
    """Cosmos DB regions, primary (failoverPriority 0) first, each once."""
    entries = props.get("locations") or props.get("readLocations") or []
    ordered = sorted(
        (e for e in entries if isinstance(e, Mapping)),
        key=lambda e: int(e.get("failoverPriority") or 0),
    )
    names: dict[str, str] = {}
    for entry in ordered:
        name = str(entry.get("locationName") or "").strip()
        if name:
            names.setdefault(name.lower().replace(" ", ""), name)
    return list(names.values())
