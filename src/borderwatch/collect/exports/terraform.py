"""Terraform plans (`terraform show -json PLAN`) to the stores the plan will leave behind.

What is read (docs/plan-check.md has the whole story):

- `planned_values.root_module` and its `child_modules`, recursively: every managed
  resource that will exist after the apply (created, updated, replaced or unchanged).
  Resources the plan deletes are not in `planned_values`; they are listed separately from
  `resource_changes` (`PlanResult.deleted`) and not checked.
- `resource_changes`: the actions of each resource (shown in the table; `only_changes`
  keeps just create/update/replace).
- `configuration.provider_config` and the configuration's resources: the provider block
  each resource uses, for its `region` (a constant, or a `var.x` whose value the plan
  carries), and the references between resources (a replica's source).

Every store's id is its Terraform address (`aws_s3_bucket.user_media`), so findings name
the resource a reviewer must change; the real name (bucket name, identifier) is an alias.
Copies that are not resources of their own get the address plus a suffix:
`aws_dynamodb_table.t#replica/eu-west-1`, `azurerm_storage_account.s#geo-replica`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from borderwatch.collect.exports.common import azure_pairs, classes_from_tags, load_json_file
from borderwatch.errors import InputError, Problem, SourceLocation
from borderwatch.model.inventory import Store

_PROVIDERS = {"aws": "aws", "google": "gcp", "azurerm": "azure", "oci": "oci"}
_INDEX = re.compile(r"\[[^\]]*\]")
_ARN_REGION = re.compile(r"^arn:[^:]+:[^:]+:(?P<region>[a-z0-9-]*):")
_GEO_REDUNDANT = {"GRS", "RAGRS", "GZRS", "RAGZRS"}
_CHANGING = {"create", "update"}

# Types that are one regional store with no copy semantics of their own: type -> service.
_SIMPLE: dict[str, str] = {
    "aws_ebs_volume": "ebs",
    "aws_efs_file_system": "efs",
    "aws_neptune_cluster": "neptune",
    "aws_docdb_cluster": "docdb",
    "aws_redshift_cluster": "redshift",
    "aws_elasticsearch_domain": "elasticsearch",
    "aws_opensearch_domain": "opensearch",
    "aws_elasticache_replication_group": "elasticache",
    "aws_backup_vault": "backup",
    "aws_kinesis_stream": "kinesis",
    "aws_glacier_vault": "glacier",
    "aws_timestream_database": "timestream",
    "google_storage_bucket": "gcs",
    "google_bigquery_dataset": "bigquery",
    "google_compute_disk": "compute-disk",
    "google_compute_region_disk": "compute-disk",
    "google_compute_instance": "compute-disk",
    "google_firestore_database": "firestore",
    "google_filestore_instance": "filestore",
    "google_redis_instance": "memorystore",
    "google_alloydb_cluster": "alloydb",
    "azurerm_managed_disk": "managed-disk",
    "azurerm_mssql_server": "sql-server",
    "azurerm_sql_server": "sql-server",
    "azurerm_postgresql_server": "postgresql",
    "azurerm_postgresql_flexible_server": "postgresql",
    "azurerm_mysql_server": "mysql",
    "azurerm_mysql_flexible_server": "mysql",
    "azurerm_mariadb_server": "mariadb",
    "azurerm_redis_cache": "redis",
    "azurerm_data_lake_store": "datalake",
    "azurerm_key_vault": "key-vault",
    "oci_objectstorage_bucket": "object-storage",
    "oci_database_autonomous_database": "autonomous-database",
    "oci_core_volume": "block-volume",
    "oci_core_volume_backup": "block-volume-backup",
}

# Types whose store may copy another resource, named by one attribute (by reference in
# the configuration, else by its planned value): type -> (service, attribute, copy kind).
_LINKED: dict[str, tuple[str, str, str]] = {
    "aws_db_instance": ("rds", "replicate_source_db", "read-replica"),
    "aws_rds_cluster": ("aurora", "replication_source_identifier", "read-replica"),
    "aws_ebs_snapshot": ("ebs-snapshot", "volume_id", "snapshot"),
    "aws_ebs_snapshot_copy": ("ebs-snapshot", "source_snapshot_id", "snapshot-copy"),
    "aws_db_snapshot": ("rds-snapshot", "db_instance_identifier", "snapshot"),
    "aws_db_snapshot_copy": ("rds-snapshot", "source_db_snapshot_identifier", "snapshot-copy"),
    "aws_neptune_cluster_snapshot": ("neptune-snapshot", "db_cluster_identifier", "snapshot"),
    "google_sql_database_instance": ("cloudsql", "master_instance_name", "read-replica"),
    "google_compute_snapshot": ("compute-snapshot", "source_disk", "snapshot"),
}


@dataclass(frozen=True)
class PlannedResource:
    """A managed resource that will exist after the apply, and where its provider puts it."""

    address: str
    type: str
    provider: str  # aws, gcp, azure, oci, or the Terraform provider name
    region: str  # raw region/location string; "" when not known
    region_basis: str  # where the region came from
    actions: tuple[str, ...]


@dataclass
class PlanResult:
    """What one plan will leave: resources, the stores among them, deletes and problems."""

    path: str
    format_version: str = ""
    terraform_version: str = ""
    resources: list[PlannedResource] = field(default_factory=list)
    stores: list[Store] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def resource(self, address: str) -> PlannedResource | None:
        base = address.split("#", 1)[0]
        return next((r for r in self.resources if r.address == base), None)


def read_plan(path: Path, *, only_changes: bool = False) -> PlanResult:
    """Read and parse a plan file (UTF-8, UTF-8 BOM, UTF-16, CRLF); InputError if unusable."""
    doc = load_json_file(path)
    return parse_plan(doc, source=str(path), only_changes=only_changes)


def parse_plan(doc: Any, *, source: str = "plan.json", only_changes: bool = False) -> PlanResult:
    """The stores a parsed `terraform show -json` plan will leave behind."""
    if not isinstance(doc, Mapping) or "format_version" not in doc:
        raise InputError(
            f"{source}: not a Terraform plan",
            [
                Problem(
                    SourceLocation(source),
                    "expected the JSON object of `terraform show -json PLANFILE` "
                    "(with format_version and planned_values)",
                    "run `terraform plan -out tf.plan && terraform show -json tf.plan > plan.json`",
                )
            ],
        )
    result = PlanResult(
        source, str(doc.get("format_version", "")), str(doc.get("terraform_version", ""))
    )
    planned = doc.get("planned_values")
    if not isinstance(planned, Mapping):
        note = "no planned_values: nothing will exist after this plan"
        if "values" in doc:
            note += " (this looks like `terraform show -json` of a state, not of a plan)"
        result.notes.append(note)
        planned = {}
    _Parser(doc, result, only_changes).run(planned.get("root_module") or {})
    return result


def _strip_index(address: str) -> str:
    return _INDEX.sub("", address)


def _module_prefix(address: str) -> str:
    """`module.a.module.b.aws_s3_bucket.x[0]` -> `module.a.module.b.` (indices kept)."""
    parts = address.split(".")
    prefix: list[str] = []
    index = 0
    while index + 1 < len(parts) and parts[index] == "module":
        prefix += parts[index : index + 2]
        index += 2
    return ".".join(prefix) + "." if prefix else ""


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _blocks(value: Any) -> list[Mapping[str, Any]]:
    if isinstance(value, Mapping):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, Mapping)]
    return []


class _Parser:
    def __init__(self, doc: Mapping[str, Any], result: PlanResult, only_changes: bool) -> None:
        self.doc = doc
        self.result = result
        self.only_changes = only_changes
        self.actions: dict[str, tuple[str, ...]] = {}
        for change in doc.get("resource_changes") or []:
            if not isinstance(change, Mapping) or change.get("mode", "managed") != "managed":
                continue
            acts = tuple((change.get("change") or {}).get("actions") or ())
            address = str(change.get("address", ""))
            self.actions[address] = acts
            if acts == ("delete",):
                result.deleted.append(address)
        config = doc.get("configuration") or {}
        self.provider_config: Mapping[str, Any] = config.get("provider_config") or {}
        self.config_resources: dict[str, Mapping[str, Any]] = {}
        self._index_config(config.get("root_module") or {}, "")
        self.variables: Mapping[str, Any] = doc.get("variables") or {}
        self.by_base: dict[str, str] = {}  # address without indices -> first planned address
        self.by_alias: dict[str, str] = {}  # bucket name, identifier, ARN -> store id
        self.links: dict[str, tuple[str, str]] = {}  # copy store id -> (source ref, kind)
        self.pairs = azure_pairs()

    # ------------------------------------------------------------ configuration

    def _index_config(self, module: Mapping[str, Any], prefix: str) -> None:
        for res in module.get("resources") or []:
            if isinstance(res, Mapping) and "address" in res:
                self.config_resources[prefix + str(res["address"])] = res
        for name, call in (module.get("module_calls") or {}).items():
            if isinstance(call, Mapping):
                self._index_config(call.get("module") or {}, f"{prefix}module.{name}.")

    def _config(self, address: str) -> Mapping[str, Any]:
        return self.config_resources.get(_strip_index(address)) or {}

    def _constant(self, expression: Any) -> str:
        """A constant string expression, or a `var.x` the plan gives a value for."""
        if not isinstance(expression, Mapping):
            return ""
        if isinstance(expression.get("constant_value"), str):
            return str(expression["constant_value"]).strip()
        for ref in expression.get("references") or []:
            if isinstance(ref, str) and ref.startswith("var."):
                var = self.variables.get(ref[4:])
                if isinstance(var, Mapping) and isinstance(var.get("value"), str):
                    return str(var["value"]).strip()
        return ""

    def _provider_region(self, address: str, provider_name: str) -> tuple[str, str]:
        """(region, basis) from the provider block the resource uses."""
        key = str(self._config(address).get("provider_config_key") or provider_name)
        candidates = [key]
        if ":" in key:  # "module.x:aws" inherits the root "aws" unless configured
            candidates.append(key.split(":", 1)[1])
        candidates.append(provider_name)
        for candidate in candidates:
            block = self.provider_config.get(candidate)
            if not isinstance(block, Mapping):
                continue
            expressions = block.get("expressions") or {}
            for attr in ("region", "location"):
                value = self._constant(expressions.get(attr))
                if value:
                    return value, f"provider {candidate} {attr}"
        return "", f"the {provider_name} provider sets no region in the configuration"

    def _references(self, address: str, path: tuple[str, ...]) -> list[str]:
        """Planned addresses of the resources a configuration expression refers to."""
        found: list[str] = []
        prefix = _module_prefix(address)
        for expression in _walk(self._config(address).get("expressions") or {}, path):
            for ref in expression.get("references") or []:
                parts = str(ref).split(".")
                if len(parts) >= 2 and parts[0] != "var" and "_" in parts[0]:
                    base = _strip_index(prefix + ".".join(parts[:2]))
                    target = self.by_base.get(base)
                    if target and target not in found:
                        found.append(target)
        return found

    # ------------------------------------------------------------ walking

    def run(self, root: Mapping[str, Any]) -> None:
        planned = list(_resources(root))
        for res in planned:
            self.by_base.setdefault(_strip_index(str(res.get("address", ""))), str(res["address"]))
        stores: list[Store] = []
        for res in planned:
            stores.extend(self._resource(res))
        for store in stores:
            for alias in store.aliases:
                self.by_alias.setdefault(alias, store.store_id)
        known = {s.store_id for s in stores}
        linked: list[Store] = []
        for store in stores:
            link = self.links.get(store.store_id)
            if link is None:
                linked.append(store)
                continue
            source, kind = link
            source_id = source if source in known else self.by_alias.get(source, source)
            if source_id == store.store_id:
                linked.append(store)
                continue
            linked.append(replace(store, copy_of=source_id, copy_kind=store.copy_kind or kind))
        self.result.stores = linked

    def _resource(self, res: Mapping[str, Any]) -> list[Store]:
        address = str(res.get("address", ""))
        rtype = str(res.get("type", ""))
        if res.get("mode", "managed") != "managed" or not rtype:
            return []
        prefix = rtype.split("_", 1)[0]
        provider = _PROVIDERS.get(prefix, prefix)
        values: Mapping[str, Any] = res.get("values") or {}
        acts = self.actions.get(address, ())
        if self.only_changes and not (set(acts) & _CHANGING):
            return []
        region, basis = self._region(address, rtype, prefix, values)
        self.result.resources.append(PlannedResource(address, rtype, provider, region, basis, acts))
        handler = getattr(self, f"_r_{rtype}", None)
        if handler is None and rtype not in _SIMPLE and rtype not in _LINKED:
            return []
        base = Store(
            store_id=address,
            provider=provider,
            region=region,
            service=_SIMPLE.get(rtype, rtype.split("_", 1)[-1]),
            data_classes=classes_from_tags(
                {**_mapping(values.get("tags_all")), **_mapping(values.get("tags"))}
                | {**_mapping(values.get("effective_labels")), **_mapping(values.get("labels"))}
                | _mapping(values.get("freeform_tags"))
            ),
            aliases=_aliases(values),
            origin=f"{self.result.path}#{address}",
        )
        if rtype in _LINKED:
            service, attr, kind = _LINKED[rtype]
            self._link_source(base.store_id, values, attr, kind)
            return [replace(base, service=service)]
        if handler is None:
            return [base]
        stores: list[Store] = handler(base, values)
        return stores

    def _region(
        self, address: str, rtype: str, prefix: str, values: Mapping[str, Any]
    ) -> tuple[str, str]:
        if rtype == "aws_db_snapshot_copy" and _text(values.get("destination_region")):
            return _text(values["destination_region"]), "destination_region"
        for attr in ("region", "location", "location_id", "zone", "availability_zone"):
            value = _text(values.get(attr))
            if value:
                return value, f"resource {attr}"
        if rtype == "google_spanner_instance":
            config = _text(values.get("config")).rsplit("/", 1)[-1]
            config = config.removeprefix("regional-")
            if config:
                return config, "instance config"
        if rtype == "google_compute_snapshot":
            locations = values.get("storage_locations") or []
            if isinstance(locations, list) and locations:
                return str(locations[0]), "storage_locations"
        if rtype == "google_bigtable_instance":
            clusters = _blocks(values.get("cluster"))
            if clusters and _text(clusters[0].get("zone")):
                return _text(clusters[0]["zone"]), "first cluster zone"
        if rtype == "azurerm_cosmosdb_account":
            first = sorted(
                _blocks(values.get("geo_location")), key=lambda g: g.get("failover_priority", 0)
            )
            if first and _text(first[0].get("location")):
                return _text(first[0]["location"]), "geo_location with failover_priority 0"
        if rtype == "azurerm_mssql_database":
            for server in self._references(address, ("server_id",)):
                found = self._planned_values(server)
                if _text(found.get("location")):
                    return _text(found["location"]), f"location of {server}"
        if prefix == "azurerm":
            return "", "no location in the planned values"
        return self._provider_region(address, prefix)

    def _planned_values(self, address: str) -> Mapping[str, Any]:
        for res in _resources((self.doc.get("planned_values") or {}).get("root_module") or {}):
            if res.get("address") == address:
                return res.get("values") or {}
        return {}

    # ------------------------------------------------------------ AWS

    def _r_aws_s3_bucket(self, base: Store, values: Mapping[str, Any]) -> list[Store]:
        store = replace(base, service="s3")
        for rule in _blocks(values.get("replication_configuration")):
            for item in _blocks(rule.get("rules")):
                for dest in _blocks(item.get("destination")):
                    self._link_arn(_text(dest.get("bucket")), base.store_id)
        return [store]

    def _r_aws_s3_bucket_replication_configuration(
        self, base: Store, values: Mapping[str, Any]
    ) -> list[Store]:
        sources = self._references(base.store_id, ("bucket",))
        source = sources[0] if sources else _text(values.get("bucket"))
        if not source:
            return []
        targets = self._references(base.store_id, ("rule", "destination", "bucket"))
        for target in targets:
            self.links[target] = (source, "replication")
        if not targets:
            for rule in _blocks(values.get("rule")):
                for dest in _blocks(rule.get("destination")):
                    self._link_arn(_text(dest.get("bucket")), source)
        return []

    def _link_arn(self, arn: str, source: str) -> None:
        name = arn.rsplit(":", 1)[-1] if arn else ""
        if name:
            target = self.by_alias_pending(name)
            self.links[target] = (source, "replication")

    def by_alias_pending(self, name: str) -> str:
        """The store id of a bucket named `name` among the planned buckets, else the name."""
        for res in _resources((self.doc.get("planned_values") or {}).get("root_module") or {}):
            if res.get("type") == "aws_s3_bucket" and (res.get("values") or {}).get("bucket") == (
                name
            ):
                return str(res["address"])
        return name

    def _r_aws_dynamodb_table(self, base: Store, values: Mapping[str, Any]) -> list[Store]:
        store = replace(base, service="dynamodb")
        stores = [store]
        for replica in _blocks(values.get("replica")):
            region = _text(replica.get("region_name"))
            if region:
                stores.append(_copy(store, f"replica/{region}", region, "global-table-replica"))
        return stores

    def _link_source(self, store_id: str, values: Mapping[str, Any], attr: str, kind: str) -> None:
        """Link `store_id` as a `kind` copy of what `attr` refers to, or names, if anything."""
        source = self._references(store_id, (attr,))
        raw = _text(values.get(attr))
        if source or raw:
            self.links[store_id] = (source[0] if source else raw, kind)

    def _r_aws_backup_plan(self, base: Store, values: Mapping[str, Any]) -> list[Store]:
        """A backup plan's copy actions: one copy store per destination vault."""
        stores: list[Store] = []
        for index, rule in enumerate(_blocks(values.get("rule"))):
            vaults = self._references(base.store_id, ("rule", "target_vault_name"))
            source = vaults[0] if vaults else f"backup-vault:{_text(rule.get('target_vault_name'))}"
            for action in _blocks(rule.get("copy_action")):
                arn = _text(action.get("destination_vault_arn"))
                match = _ARN_REGION.match(arn)
                region = match.group("region") if match else ""
                target = arn.rsplit(":", 1)[-1] if arn else f"rule{index}"
                aliases = (arn,) if arn else ()
                copy = _copy(base, f"copy/{target}", region, "backup-copy", copy_of=source)
                stores.append(replace(copy, service="backup", aliases=aliases))
        return stores

    # ------------------------------------------------------------ Google

    def _r_google_spanner_instance(self, base: Store, values: Mapping[str, Any]) -> list[Store]:
        return [replace(base, service="spanner")]

    def _r_google_bigtable_instance(self, base: Store, values: Mapping[str, Any]) -> list[Store]:
        store = replace(base, service="bigtable")
        stores = [store]
        for cluster in _blocks(values.get("cluster"))[1:]:
            zone = _text(cluster.get("zone"))
            name = _text(cluster.get("cluster_id")) or zone
            stores.append(_copy(store, f"cluster/{name}", zone, "replication"))
        return stores

    # ------------------------------------------------------------ Azure

    def _r_azurerm_storage_account(self, base: Store, values: Mapping[str, Any]) -> list[Store]:
        store = replace(base, service="storage-account")
        stores = [store]
        kind = _text(values.get("account_replication_type")).upper().replace("-", "")
        if kind in _GEO_REDUNDANT:
            region = base.region.lower().replace(" ", "")
            paired = self.pairs.get(region, "")
            if not paired:
                self.result.problems.append(
                    Problem(
                        SourceLocation(f"{self.result.path}#{base.store_id}"),
                        f"{kind} replicates to the paired region of {base.region!r}, "
                        "which is not in the Azure pairs table; the copy's location is unknown",
                    )
                )
            stores.append(_copy(store, "geo-replica", paired, "replication"))
        return stores

    def _r_azurerm_mssql_database(self, base: Store, values: Mapping[str, Any]) -> list[Store]:
        store = replace(base, service="sql-database")
        if _text(values.get("create_mode")) in {"Secondary", "OnlineSecondary"}:
            attr = "creation_source_database_id"
            self._link_source(base.store_id, values, attr, "read-replica")
        return [store]

    def _r_azurerm_cosmosdb_account(self, base: Store, values: Mapping[str, Any]) -> list[Store]:
        store = replace(base, service="cosmosdb")
        stores = [store]
        seen = {base.region.lower().replace(" ", "")}
        for geo in sorted(
            _blocks(values.get("geo_location")), key=lambda g: g.get("failover_priority", 0)
        ):
            location = _text(geo.get("location"))
            key = location.lower().replace(" ", "")
            if not location or key in seen:
                continue
            seen.add(key)
            stores.append(_copy(store, f"replica/{key}", location, "replication"))
        return stores


def _copy(store: Store, suffix: str, region: str, kind: str, copy_of: str = "") -> Store:
    """A copy of `store` in `region` that is no resource of its own: `store`'s address plus
    `#suffix`, no aliases, a `kind` copy of `copy_of` (by default of `store` itself)."""
    return replace(
        store,
        store_id=f"{store.store_id}#{suffix}",
        region=region,
        aliases=(),
        copy_of=copy_of or store.store_id,
        copy_kind=kind,
    )


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _aliases(values: Mapping[str, Any]) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for attr in ("bucket", "identifier", "cluster_identifier", "name", "arn", "id"):
        value = values.get(attr)
        if isinstance(value, str) and value.strip():
            found.setdefault(value.strip(), None)
    bucket = values.get("bucket")
    if isinstance(bucket, str) and bucket.strip():
        found.setdefault(f"arn:aws:s3:::{bucket.strip()}", None)
    return tuple(found)


def _resources(module: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for res in module.get("resources") or []:
        if isinstance(res, Mapping) and "address" in res:
            yield res
    for child in module.get("child_modules") or []:
        if isinstance(child, Mapping):
            yield from _resources(child)


def _walk(expressions: Any, path: tuple[str, ...]) -> Iterator[Mapping[str, Any]]:
    """Expressions at `path` through nested blocks (lists of mappings) of a configuration."""
    if not path:
        if isinstance(expressions, Mapping):
            yield expressions
        return
    for block in _blocks(expressions):
        yield from _walk(block.get(path[0]), path[1:])
