"""Oracle Cloud resource search output (and recorded OCI API exchanges) to stores.

Input shapes: `oci search resource structured-search --query-text "query all resources"`
output (`{"data": {"items": [...]}}`, kebab-case keys such as `resource-type`); the SDK's
camelCase form (`resourceType`); a plain list of items; and VCR cassettes (YAML or JSON,
`interactions:`) whose responses are search results or Object Storage bucket lists.

Search results carry no region. It comes, in order, from: the item's own `region`; its
availability domain (`NQNU:US-ASHBURN-AD-1` -> us-ashburn-1, `xyz:EU-FRANKFURT-1-AD-2` ->
eu-frankfurt-1; the two legacy names `US-ASHBURN` and `PHX` are Ashburn and Phoenix); the
region in the recorded request's host (`query.us-ashburn-1.oci.oraclecloud.com`); the
`--region` the search was run in. Otherwise the store's region is empty (unknown).

Mapped resource types (service): Bucket (object-storage), AutonomousDatabase
(autonomous-database), Database, DbSystem, MysqlDbSystem, Volume (block-volume), BootVolume,
VolumeBackup and BootVolumeBackup (a backup of `volumeId`/`bootVolumeId`; with
`sourceVolumeBackupId` a backup-copy of that backup).

Store ids are OCIDs (bucket: `namespace/name` when the list gives no OCID); the display
name is an alias. Data classes come from freeform tags (`borderwatch:data-classes`) and
from the defined tag `borderwatch.data-classes`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from borderwatch.collect.exports.common import (
    ExportResult,
    classes_from_tags,
    decode_text,
    nested_too_deep,
)
from borderwatch.errors import InputError, Problem, SourceLocation
from borderwatch.model.inventory import Store
from borderwatch.yamlbounds import check_yaml_bounds

_SERVICES = {
    "bucket": "object-storage",
    "autonomousdatabase": "autonomous-database",
    "database": "database",
    "dbsystem": "db-system",
    "mysqldbsystem": "mysql",
    "volume": "block-volume",
    "bootvolume": "boot-volume",
    "volumebackup": "block-volume-backup",
    "bootvolumebackup": "boot-volume-backup",
}
_HOST_REGION = re.compile(r"^https?://[a-z]+\.(?:[a-z]+\.)?(?P<region>[a-z]+-[a-z]+-\d+)\.o")
_LEGACY_AD = {"us-ashburn": "us-ashburn-1", "phx": "us-phoenix-1"}
_AD = re.compile(r"^(?:[^:]+:)?(?P<region>.+?)-ad-\d+$", re.IGNORECASE)


def _get(item: Mapping[str, Any], key: str) -> Any:
    """A field by its camelCase or kebab-case name (`resourceType` / `resource-type`)."""
    wanted = key.replace("-", "").lower()
    for name, value in item.items():
        if str(name).replace("-", "").replace("_", "").lower() == wanted:
            return value
    return None


def region_of_ad(ad: str) -> str:
    """The region of an availability domain name, or "" when it has none."""
    match = _AD.match(ad.strip()) if ad else None
    if not match:
        return ""
    region = match.group("region").lower()
    return _LEGACY_AD.get(region, region)


def load_document(path: Path) -> Any:
    """A parsed JSON or YAML (cassette) document; InputError naming the file."""
    try:
        text = decode_text(path.read_bytes())
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"cannot read {path}", [Problem(SourceLocation(str(path)), f"cannot read: {exc}")]
        ) from exc
    if path.suffix.lower() in (".yml", ".yaml"):
        check_yaml_bounds(text, str(path), "YAML export")
        try:
            return YAML(typ="safe").load(text)
        except YAMLError as exc:
            raise InputError(
                f"{path}: not valid YAML", [Problem(SourceLocation(str(path)), str(exc))]
            ) from exc
    try:
        return json.loads(text)
    except RecursionError as exc:
        raise nested_too_deep(path) from exc
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}: not valid JSON",
            [Problem(SourceLocation(str(path), exc.lineno, exc.colno), exc.msg)],
        ) from exc


def items_in(doc: Any, host_region: str = "") -> Iterator[tuple[Mapping[str, Any], str]]:
    """(item, region from the request host) for every resource item of a document."""
    if isinstance(doc, list):
        for item in doc:
            if isinstance(item, Mapping):
                yield item, host_region
        return
    if not isinstance(doc, Mapping):
        return
    if isinstance(doc.get("interactions"), list):
        for exchange in doc["interactions"]:
            request = (exchange or {}).get("request") or {}
            uri = str(request.get("uri") or "")
            match = _HOST_REGION.match(uri)
            region = match.group("region") if match else ""
            body = ((exchange or {}).get("response") or {}).get("body") or {}
            data = body.get("data") if isinstance(body, Mapping) else None
            if uri.split("?", 1)[0].endswith("/b") and isinstance(data, list):
                for bucket in data:  # Object Storage ListBuckets
                    if isinstance(bucket, Mapping):
                        yield {**bucket, "resourceType": "Bucket"}, region
            elif "/resources" in uri:
                yield from items_in(data, region)
        return
    data = doc.get("data")
    if isinstance(data, Mapping) and isinstance(data.get("items"), list):
        yield from items_in(data["items"], host_region)
    elif isinstance(doc.get("items"), list):
        yield from items_in(doc["items"], host_region)
    elif isinstance(data, list):
        yield from items_in(data, host_region)


def read_oci(path: Path, *, region: str | None = None) -> ExportResult:
    """Stores of one OCI search output or cassette."""
    doc = load_document(path)
    return stores_from_oci(list(items_in(doc)), region=region, source=str(path))


def stores_from_oci(
    items: list[tuple[Mapping[str, Any], str]],
    *,
    region: str | None = None,
    source: str = "oci.json",
) -> ExportResult:
    """Pure mapping of (item, host region) pairs to stores; other resource types skipped."""
    result = ExportResult()
    seen: set[str] = set()
    links: dict[str, tuple[str, str]] = {}
    for item, host_region in items:
        rtype = str(_get(item, "resourceType") or "").replace("-", "").lower()
        service = _SERVICES.get(rtype)
        if service is None:
            continue
        name = str(_get(item, "displayName") or _get(item, "name") or "")
        ocid = str(_get(item, "identifier") or _get(item, "id") or "")
        if not ocid and rtype == "bucket":
            ocid = f"{_get(item, 'namespace') or '?'}/{name}"
        if not ocid or ocid in seen:
            continue
        seen.add(ocid)
        place = (
            str(_get(item, "region") or "")
            or region_of_ad(str(_get(item, "availabilityDomain") or ""))
            or host_region
            or (region or "")
        )
        defined = _get(item, "definedTags") or {}
        tags = dict(_get(item, "freeformTags") or {})
        if isinstance(defined, Mapping) and isinstance(defined.get("borderwatch"), Mapping):
            ns = defined["borderwatch"]
            tags.update({f"borderwatch:{k}": v for k, v in ns.items()})
        where = f"{source}#{ocid}"
        result.stores.append(
            Store(
                store_id=ocid,
                provider="oci",
                region=place,
                service=service,
                data_classes=classes_from_tags(tags),
                aliases=(name,) if name and name != ocid else (),
                origin=where,
            )
        )
        if not place:
            result.problems.append(
                Problem(
                    SourceLocation(where),
                    f"{rtype} {ocid} has no region",
                    "give the region the search was run in (--region)",
                )
            )
        copied = _get(item, "sourceVolumeBackupId") or _get(item, "sourceBootVolumeBackupId")
        volume = _get(item, "volumeId") or _get(item, "bootVolumeId")
        if copied:
            links[ocid] = (str(copied), "backup-copy")
        elif volume and rtype.endswith("backup"):
            links[ocid] = (str(volume), "backup")
    result.stores = [
        replace(s, copy_of=links[s.store_id][0], copy_kind=links[s.store_id][1])
        if s.store_id in links
        else s
        for s in result.stores
    ]
    return result
