"""The AWS collector against moto in server mode: resources made through the real API,
collected through the real API, then scanned with the built-in US-only policy pack."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from borderwatch.api import scan
from borderwatch.collect.aws.base import DATA_CLASS_TAG, data_classes_from_tags
from borderwatch.collect.aws.clients import Boto3Clients
from borderwatch.collect.aws.runner import collect_aws, discover_regions
from borderwatch.collect.writer import write_inventory
from borderwatch.commands.inventory import inventory
from borderwatch.inventory.stores import read_inventory
from borderwatch.model.inventory import Store

pytest_plugins = ("awsemu",)  # the moto server fixtures `aws_endpoint` and `aws`

ACCOUNT = "123456789012"  # moto's default account
US_DATA = [{"Key": DATA_CLASS_TAG, "Value": "us_user_data"}]


def client(endpoint: str, service: str, region: str) -> Any:
    return boto3.client(service, region_name=region, endpoint_url=endpoint)


def run_collect(endpoint: str, out: Path, *args: str) -> tuple[list[Store], str]:
    """Run `inventory collect aws` as a user would; the stores it wrote and its stderr."""
    result = CliRunner().invoke(
        inventory, ["collect", "aws", "--out", str(out), "--endpoint-url", endpoint, *args]
    )
    assert result.exit_code == 0, result.output + repr(result.exception)
    read = read_inventory(out)
    assert read.quarantined == []
    return read.stores, result.stderr


def by_id(stores: list[Store]) -> dict[str, Store]:
    return {s.store_id: s for s in stores}


def findings(inventory_path: Path, out: Path, rule: str) -> dict[str, Any]:
    result = scan(policy="us-protected-data", inventory=[inventory_path], out=out)
    return {f.resource: f for f in result.findings if f.rule == rule}


def make_bucket(endpoint: str, name: str, region: str, tags: list[dict[str, str]] | None) -> None:
    s3 = client(endpoint, "s3", region)
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    if tags:
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tags})


def test_s3_replica_in_singapore_is_a_copy_outside_the_us(aws: str, tmp_path: Path) -> None:
    make_bucket(aws, "users-us", "us-east-1", US_DATA)
    make_bucket(aws, "users-sg", "ap-southeast-1", None)
    make_bucket(aws, "users-west", "us-west-2", US_DATA)
    s3 = client(aws, "s3", "us-east-1")
    s3.put_bucket_versioning(Bucket="users-us", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_replication(
        Bucket="users-us",
        ReplicationConfiguration={
            "Role": f"arn:aws:iam::{ACCOUNT}:role/replication",
            "Rules": [
                {
                    "ID": "to-sg",
                    "Status": "Enabled",
                    "Priority": 1,
                    "Filter": {},
                    "DeleteMarkerReplication": {"Status": "Disabled"},
                    "Destination": {"Bucket": "arn:aws:s3:::users-sg"},
                }
            ],
        },
    )
    out = tmp_path / "inventory.yaml"
    stores, stderr = run_collect(
        aws, out, "--region", "us-east-1", "--service", "s3", "--history", str(tmp_path / "h")
    )
    got = by_id(stores)
    assert got["users-us"].region == "us-east-1"  # LocationConstraint None
    assert got["users-us"].data_classes == ("us_user_data",)
    assert got["users-us"].aliases == ("arn:aws:s3:::users-us",)
    replica = got["users-sg"]
    assert (replica.region, replica.copy_of, replica.copy_kind) == (
        "ap-southeast-1",
        "users-us",
        "replication",
    )
    assert replica.data_classes == ()  # inherited in the scan through copy_of
    assert got["users-west"].region == "us-west-2"
    assert "us-east-1 s3" in stderr
    assert len(list((tmp_path / "h").glob("inventory-aws-123456789012-*.yaml"))) == 1

    found = findings(out, tmp_path / "scan", "residency.copy-outside-approved")
    assert set(found) == {"users-sg"}
    evidence = found["users-sg"].evidence
    assert list(evidence["copy_path"]) == ["users-us", "users-sg"]
    assert evidence["region"] == "ap-southeast-1"
    assert list(evidence["outside_countries"]) == ["SG"]
    assert found["users-sg"].data_classes == ("us_user_data",)
    everything = scan(policy="us-protected-data", inventory=[out]).findings
    assert not [f for f in everything if f.resource in ("users-west", "users-us")]


def test_rds_snapshot_copied_to_ireland_is_a_copy_outside_the_us(aws: str, tmp_path: Path) -> None:
    rds = client(aws, "rds", "us-east-1")
    rds.create_db_instance(
        DBInstanceIdentifier="orders",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="admin",
        MasterUserPassword="not-a-secret-1",
        AllocatedStorage=20,
        Tags=US_DATA,
    )
    snapshot = rds.create_db_snapshot(
        DBInstanceIdentifier="orders", DBSnapshotIdentifier="orders-nightly"
    )["DBSnapshot"]
    client(aws, "rds", "eu-west-1").copy_db_snapshot(
        SourceDBSnapshotIdentifier=snapshot["DBSnapshotArn"],
        TargetDBSnapshotIdentifier="orders-nightly-dr",
        SourceRegion="us-east-1",
    )
    out = tmp_path / "inventory.yaml"
    stores, _ = run_collect(
        aws, out, "--region", "us-east-1", "--region", "eu-west-1", "--service", "rds"
    )
    got = by_id(stores)
    instance = f"arn:aws:rds:us-east-1:{ACCOUNT}:db:orders"
    local = f"arn:aws:rds:us-east-1:{ACCOUNT}:snapshot:orders-nightly"
    copy = f"arn:aws:rds:eu-west-1:{ACCOUNT}:snapshot:orders-nightly-dr"
    assert got[instance].data_classes == ("us_user_data",)
    assert "orders" in got[instance].aliases
    assert (got[local].copy_of, got[local].copy_kind) == (instance, "snapshot")
    # moto gives the copy no SourceDBSnapshotIdentifier: linked by DBInstanceIdentifier.
    assert (got[copy].region, got[copy].copy_of, got[copy].copy_kind) == (
        "eu-west-1",
        instance,
        "snapshot-copy",
    )
    found = findings(out, tmp_path / "scan", "residency.copy-outside-approved")
    assert set(found) == {copy}
    assert list(found[copy].evidence["copy_path"]) == [instance, copy]
    assert list(found[copy].evidence["outside_countries"]) == ["IE"]


def test_rds_cross_region_read_replica(aws: str, tmp_path: Path) -> None:
    rds = client(aws, "rds", "us-east-1")
    source = rds.create_db_instance(
        DBInstanceIdentifier="users",
        DBInstanceClass="db.t3.micro",
        Engine="mysql",
        MasterUsername="admin",
        MasterUserPassword="not-a-secret-1",
        AllocatedStorage=20,
        Tags=US_DATA,
    )["DBInstance"]
    client(aws, "rds", "eu-central-1").create_db_instance_read_replica(
        DBInstanceIdentifier="users", SourceDBInstanceIdentifier=source["DBInstanceArn"]
    )
    out = tmp_path / "inventory.yaml"
    stores, _ = run_collect(
        aws, out, "--region", "us-east-1", "--region", "eu-central-1", "--service", "rds"
    )
    replica = by_id(stores)[f"arn:aws:rds:eu-central-1:{ACCOUNT}:db:users"]
    assert (replica.copy_of, replica.copy_kind) == (source["DBInstanceArn"], "read-replica")
    found = findings(out, tmp_path / "scan", "residency.copy-outside-approved")
    assert set(found) == {replica.store_id}  # same name, distinct store_id (the ARN)


@pytest.mark.xfail(
    strict=True,
    reason="moto 5.2.5 accepts UpdateTable ReplicaUpdates but DescribeTable returns no "
    "Replicas and no table in the replica region; CreateGlobalTable is not implemented",
)
def test_dynamodb_global_table_replica_in_hong_kong(aws: str, tmp_path: Path) -> None:
    ddb = client(aws, "dynamodb", "us-east-1")
    ddb.create_table(
        TableName="profiles",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        Tags=US_DATA,
    )
    ddb.update_table(TableName="profiles", ReplicaUpdates=[{"Create": {"RegionName": "ap-east-1"}}])
    out = tmp_path / "inventory.yaml"
    stores, _ = run_collect(aws, out, "--region", "us-east-1", "--service", "dynamodb")
    replica = by_id(stores).get(f"arn:aws:dynamodb:ap-east-1:{ACCOUNT}:table/profiles")
    assert replica is not None
    assert replica.copy_kind == "global-table-replica"


def test_dynamodb_table_tags_and_item_count(aws: str, tmp_path: Path) -> None:
    ddb = client(aws, "dynamodb", "us-west-2")
    ddb.create_table(
        TableName="sessions",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        Tags=US_DATA,
    )
    for n in range(3):
        ddb.put_item(TableName="sessions", Item={"id": {"S": str(n)}})
    stores, _ = run_collect(
        aws, tmp_path / "i.yaml", "--region", "us-west-2", "--service", "dynamodb"
    )
    table = by_id(stores)[f"arn:aws:dynamodb:us-west-2:{ACCOUNT}:table/sessions"]
    assert table.data_classes == ("us_user_data",)
    assert table.aliases == ("sessions",)
    assert table.records == 3


def test_every_service_runs_in_every_region(aws: str, tmp_path: Path) -> None:
    out = tmp_path / "inventory.yaml"
    _, stderr = run_collect(aws, out, "--region", "us-east-2", "--region", "eu-west-1")
    services = ("s3", "rds", "dynamodb", "ebs", "backup", "elasticache", "redshift", "opensearch")
    for service in services:
        assert f"us-east-2 {service}" in stderr
        assert service == "s3" or f"eu-west-1 {service}" in stderr  # S3 lists once
    document = YAML(typ="safe").load(out.read_text())
    assert document["collected"]["account"] == ACCOUNT
    assert document["collected"]["regions"] == ["us-east-2", "eu-west-1"]
    # moto 5.2.5 answers every call but AWS Backup ListCopyJobs: a gap, never silence.
    unsupported = "404: not an AWS error response (operation not supported by the endpoint?)"
    gaps = [f"backup {r} ListCopyJobs: {unsupported}" for r in ("us-east-2", "eu-west-1")]
    assert document["collected"]["gaps"] == gaps
    text = out.read_text()
    assert "# COLLECTION GAPS (2)" in text
    for gap in gaps:
        assert f"#   - {gap}" in text
        assert gap in stderr


def test_access_denied_is_a_gap_in_the_file_and_the_header(aws: str, tmp_path: Path) -> None:
    class Denied:
        """Real clients, except that RDS answers AccessDenied."""

        def __init__(self) -> None:
            self.real = Boto3Clients(endpoint_url=aws)

        def __call__(self, service: str, region: str) -> Any:
            made = self.real(service, region)
            if service == "rds":
                made.meta.events.register("before-call", _deny)
            return made

    make_bucket(aws, "kept", "us-east-1", US_DATA)
    collection = collect_aws(Denied(), regions=["us-east-1"], services=["rds", "s3"])
    assert {(g.service, g.operation) for g in collection.gaps} == {
        ("rds", "DescribeDBClusters"),
        ("rds", "DescribeDBInstances"),
        ("rds", "DescribeDBSnapshots"),
        ("rds", "DescribeDBClusterSnapshots"),
    }
    assert all(g.reason == "AccessDenied: no" for g in collection.gaps)
    assert [s.store_id for s in collection.stores] == ["kept"]  # S3 still collected
    out = tmp_path / "inventory.yaml"
    write_inventory(collection, out)
    text = out.read_text()
    assert "# COLLECTION GAPS (4)" in text
    assert "#   - rds us-east-1 DescribeDBInstances: AccessDenied: no" in text
    assert len(YAML(typ="safe").load(text)["collected"]["gaps"]) == 4


def _deny(**_: Any) -> Any:
    from botocore.awsrequest import AWSResponse

    return AWSResponse("", 403, {}, None), {"Error": {"Code": "AccessDenied", "Message": "no"}}


def test_region_discovery_skips_regions_not_opted_in(aws: str) -> None:
    from borderwatch.collect.aws.base import Scope
    from borderwatch.inventory.locations import LocationRegistry

    scope = Scope(Boto3Clients(endpoint_url=aws), ACCOUNT, LocationRegistry.load_builtin())
    regions = discover_regions(scope)
    assert "us-east-1" in regions and "eu-west-1" in regions
    assert "ap-east-1" not in regions  # moto marks it not-opted-in


def test_tag_convention() -> None:
    assert data_classes_from_tags([{"Key": DATA_CLASS_TAG, "Value": "a; b;a"}]) == ("a", "b")
    # S3 refuses ';' in tag values: spaces, '/', '+' and ',' separate classes too.
    assert data_classes_from_tags({DATA_CLASS_TAG: "a b/c+d,e"}) == ("a", "b", "c", "d", "e")
    assert data_classes_from_tags([{"Key": "DataClasses", "Value": "x"}]) == ("x",)
    both = {"data-classes": "fallback", DATA_CLASS_TAG: "primary"}
    assert data_classes_from_tags(both) == ("primary",)
    assert data_classes_from_tags([{"Key": "Owner", "Value": "x"}]) == ()


def test_no_credentials_is_an_error_not_an_empty_inventory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    out = tmp_path / "inventory.yaml"
    result = CliRunner().invoke(
        inventory,
        [
            "collect",
            "aws",
            "--out",
            str(out),
            "--region",
            "us-east-1",
            "--endpoint-url",
            "http://127.0.0.1:9",
        ],
    )
    assert result.exit_code == 1
    assert "Unable to locate credentials" in result.stderr
    assert not out.exists()
