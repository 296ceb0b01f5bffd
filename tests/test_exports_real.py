"""Provider exports (GCP CAI, Azure ARM cassettes, OCI cassettes) to stores, on real data."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from borderwatch.collect.exports.azure_arm import stores_from_arm
from borderwatch.collect.exports.common import ClassesMap, classes_from_tags
from borderwatch.collect.exports.gcp_cai import read_cai, stores_from_cai
from borderwatch.collect.exports.oci_search import region_of_ad, stores_from_oci
from borderwatch.commands.exports import expand, import_command, import_exports
from borderwatch.errors import InputError
from borderwatch.inventory.locations import LocationRegistry
from borderwatch.inventory.stores import read_inventory

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
CAI = REAL / "gcp-policy-library-cai"
AZURE = REAL / "cloud-custodian" / "tools" / "c7n_azure" / "tests_azure" / "cassettes"
OCI = REAL / "cloud-custodian" / "tools" / "c7n_oci" / "tests" / "cassettes"
BROKEN = {
    CAI / "validator/test/fixtures/gcp_glb_external_ip/assets/data.json",
    CAI / "validator/test/fixtures/gke_container_optimized_os/assets/data.json",
}
REGISTRY = LocationRegistry.load_builtin()


def cai_files() -> list[Path]:
    files = [p for p in expand([CAI]) if p.suffix == ".json"]
    assert len(files) > 100, f"real data missing under {CAI}"
    return files


def unknowns(stores: list) -> set[str]:
    return {
        s.region
        for s in stores
        if not s.region or REGISTRY.resolve(s.provider, s.region).kind == "unknown"
    }


def test_gcp_cai_real_exports() -> None:
    result, errors = import_exports("gcp-cai", cai_files())
    assert {Path(str(e.problems[0].location.path)) for e in errors} == BROKEN
    assert all("not valid JSON" in str(e) for e in errors)
    stores = result.stores
    assert len(stores) > 80
    # The exact set of locations the registry cannot place ("" = no location in the asset).
    assert unknowns(stores) == {""}
    regions = {s.region for s in stores}
    assert REGISTRY.resolve("gcp", "US-CENTRAL1").countries == ("US",)
    assert REGISTRY.resolve("gcp", "US").countries == ("US",)
    assert REGISTRY.resolve("gcp", "EU").kind == "multi-region"
    assert REGISTRY.resolve("gcp", "europe-west1").countries == ("BE",)
    assert {"US-CENTRAL1", "US", "EU", "europe-west1", "europe-north1-c"} <= regions
    services = {s.service for s in stores}
    assert {"gcs", "bigquery", "cloudsql", "spanner", "bigtable", "compute-disk"} <= services
    spanner = {s.region for s in stores if s.service == "spanner"}
    assert "us-central1" in spanner  # regional-us-central1
    snapshots = [s for s in stores if s.service == "compute-snapshot"]
    assert snapshots and all(s.copy_kind == "snapshot" for s in snapshots)


def test_broken_cai_file_names_its_path() -> None:
    path = sorted(BROKEN)[0]
    with pytest.raises(InputError) as info:
        read_cai(path)
    assert str(path) in str(info.value)


def test_cai_sql_replica_and_labels() -> None:
    assets = [
        {
            "name": "//cloudsql.googleapis.com/projects/p/instances/main",
            "asset_type": "sqladmin.googleapis.com/Instance",
            "resource": {
                "data": {
                    "name": "main",
                    "project": "p",
                    "region": "us-central1",
                    "settings": {
                        "userLabels": {
                            "borderwatch-data-classes": "us_user_data",
                            "borderwatch-data-class-2": "payments",
                        }
                    },
                }
            },
        },
        {
            "name": "//cloudsql.googleapis.com/projects/p/instances/replica",
            "asset_type": "sqladmin.googleapis.com/Instance",
            "resource": {
                "data": {
                    "name": "replica",
                    "project": "p",
                    "region": "asia-east2",
                    "masterInstanceName": "p:main",
                }
            },
        },
    ]
    result = stores_from_cai(assets)
    main, replica = result.stores
    assert main.data_classes == ("us_user_data", "payments")
    assert replica.copy_of == main.store_id and replica.copy_kind == "read-replica"


def test_azure_real_cassettes() -> None:
    files = expand([AZURE])
    assert len(files) >= 40, f"real data missing under {AZURE}"
    result, errors = import_exports("azure-arm", files)
    assert errors == []
    stores = result.stores
    assert unknowns(stores) == set()
    assert {"East US", "South Central US", "eastus", "centralus"} <= {s.region for s in stores}
    grs = [s for s in stores if s.copy_kind == "replication" and s.service == "storage-account"]
    assert len(grs) == 1 and grs[0].region == "eastus2"  # Standard_GRS in centralus
    assert {"cosmosdb", "managed-disk", "mysql", "storage-account"} <= {s.service for s in stores}


def test_azure_pairs_and_cosmos_replicas() -> None:
    resources = [
        {
            "id": "/s/1/rg/x/providers/Microsoft.Storage/storageAccounts/a",
            "name": "a",
            "type": "Microsoft.Storage/storageAccounts",
            "location": "West Europe",
            "sku": {"name": "Standard_RAGRS"},
            "tags": {"borderwatch:data-classes": "us_user_data; payments"},
        },
        {
            "id": "/s/1/rg/x/providers/Microsoft.DocumentDB/databaseAccounts/c",
            "name": "c",
            "type": "microsoft.documentdb/databaseaccounts",
            "location": "East US",
            "properties": {
                "locations": [
                    {"locationName": "East US", "failoverPriority": 0},
                    {"locationName": "Southeast Asia", "failoverPriority": 1},
                ]
            },
        },
    ]
    stores = {s.store_id.rsplit("/", 1)[-1]: s for s in stores_from_arm(resources).stores}
    assert stores["a#geo-replica"].region == "northeurope"
    assert stores["a"].data_classes == ("us_user_data", "payments")
    assert stores["southeastasia"].region == "Southeast Asia"
    assert stores["southeastasia"].copy_kind == "replication"


def test_oci_real_cassettes_and_search_output() -> None:
    files = expand([OCI])
    assert len(files) >= 40, f"real data missing under {OCI}"
    result, errors = import_exports("oci-search", files)
    assert errors == []
    buckets = {s.store_id: s for s in result.stores}
    assert buckets["<namespace>/test_bucket"].region == "us-ashburn-1"
    assert unknowns(result.stores) <= {""}
    assert region_of_ad("NQNU:US-ASHBURN-AD-1") == "us-ashburn-1"
    assert region_of_ad("abcd:EU-FRANKFURT-1-AD-2") == "eu-frankfurt-1"
    cli_items = [
        (
            {
                "resource-type": "AutonomousDatabase",
                "identifier": "ocid1.autonomousdatabase.oc1..a",
                "display-name": "users",
                "freeform-tags": {"borderwatch:data-classes": "us_user_data"},
            },
            "",
        ),
        (
            {
                "resource-type": "VolumeBackup",
                "identifier": "ocid1.volumebackup.oc1..b",
                "sourceVolumeBackupId": "ocid1.volumebackup.oc1..a",
            },
            "",
        ),
    ]
    stores = stores_from_oci(cli_items, region="us-phoenix-1").stores
    assert stores[0].data_classes == ("us_user_data",) and stores[0].region == "us-phoenix-1"
    assert stores[1].copy_kind == "backup-copy"


def test_classes_map_and_tag_conventions(tmp_path: Path) -> None:
    mapping = tmp_path / "classes.yaml"
    mapping.write_text("classes:\n  - match: '*users*'\n    data_classes: [us_user_data]\n")
    rules = ClassesMap.load(mapping)
    assert rules.classes_for(["acme-users-prod"]) == ("us_user_data",)
    assert classes_from_tags([{"Key": "borderwatch:data-classes", "Value": "a;b"}]) == ("a", "b")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- match: 3\n")
    with pytest.raises(InputError):
        ClassesMap.load(bad)


def test_import_command_writes_a_readable_inventory(tmp_path: Path) -> None:
    out = tmp_path / "inventory.yaml"
    broken = sorted(BROKEN)[0]
    good = CAI / "validator/test/fixtures/storage_location/assets/storage_buckets/data.json"
    assert good.is_file()
    result = CliRunner().invoke(
        import_command, ["gcp-cai", str(good), str(broken), "--out", str(out)]
    )
    assert result.exit_code == 2  # one file was unreadable; the others are still written
    assert str(broken) in result.output
    doc = YAML(typ="safe").load(out.read_text())
    assert doc["stores"]
    read = read_inventory(out)
    assert read.quarantined == [] and len(read.stores) == len(doc["stores"])
