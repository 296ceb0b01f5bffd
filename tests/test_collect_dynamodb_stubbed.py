"""DynamoDB global-table replicas through botocore's Stubber.

moto does not return `Replicas` (see the strict xfail in test_collect_aws.py); the
Stubber checks every stubbed response against DynamoDB's own service model, so the
DescribeTable shape the collector reads is the one AWS documents.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ParamValidationError
from botocore.stub import Stubber

from borderwatch.collect.aws.base import DATA_CLASS_TAG
from borderwatch.collect.aws.runner import collect_aws
from borderwatch.inventory.locations import LocationRegistry

ACCOUNT = "123456789012"
SOURCE_ARN = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/profiles"
REPLICA_ARN = f"arn:aws:dynamodb:ap-east-1:{ACCOUNT}:table/profiles"


def _described_table() -> dict[str, Any]:
    return {
        "Table": {
            "TableName": "profiles",
            "TableArn": SOURCE_ARN,
            "TableStatus": "ACTIVE",
            "ItemCount": 1200,
            "GlobalTableVersion": "2019.11.21",
            "Replicas": [
                {"RegionName": "ap-east-1", "ReplicaStatus": "ACTIVE"},
                {"RegionName": "us-east-1", "ReplicaStatus": "ACTIVE"},
            ],
        }
    }


def _stubbed_client(described: dict[str, Any]) -> tuple[Any, Stubber]:
    client = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    stub = Stubber(client)
    stub.add_response("list_tables", {"TableNames": ["profiles"]}, {})
    stub.add_response("describe_table", described, {"TableName": "profiles"})
    stub.add_response(
        "list_tags_of_resource",
        {"Tags": [{"Key": DATA_CLASS_TAG, "Value": "us_user_data"}]},
        {"ResourceArn": SOURCE_ARN},
    )
    return client, stub


def test_a_replica_in_hong_kong_is_a_copy_of_the_source_table() -> None:
    client, stub = _stubbed_client(_described_table())

    def clients(service: str, region: str) -> Any:
        assert (service, region) == ("dynamodb", "us-east-1")
        return client

    with stub:
        collection = collect_aws(
            clients, regions=["us-east-1"], services=["dynamodb"], account=ACCOUNT
        )
        stub.assert_no_pending_responses()
    stores = {s.store_id: s for s in collection.stores}
    assert set(stores) == {SOURCE_ARN, REPLICA_ARN}
    source, replica = stores[SOURCE_ARN], stores[REPLICA_ARN]
    assert (source.copy_of, source.data_classes, source.records) == (
        None,
        ("us_user_data",),
        1200,
    )
    assert (replica.region, replica.copy_of, replica.copy_kind) == (
        "ap-east-1",
        SOURCE_ARN,
        "global-table-replica",
    )
    assert any("not collected" in note for note in replica.notes)
    assert LocationRegistry.load_builtin().resolve("aws", replica.region).countries == ("HK",)
    assert collection.gaps == []


def test_the_stubbed_shape_is_checked_against_the_service_model() -> None:
    """A response the model does not allow is refused, so the test above is not a
    hand-made dict the real API could never return."""
    broken = _described_table()
    broken["Table"]["Replicas"] = [{"Region": "ap-east-1"}]  # not a ReplicaDescription key
    with pytest.raises(ParamValidationError):
        _stubbed_client(broken)
