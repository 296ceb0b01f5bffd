"""Partitions are hard boundaries: a copy or an approval never crosses them silently.

AWS GovCloud, China, ISO and the European Sovereign Cloud, Azure's national clouds and
OCI's realms other than oc1 need separate accounts and credentials. An approval covers
only its provider's commercial partition unless it names the partition or a region of it
(docs/policy.md), and a copy in another partition than its original is called out
(rule residency.copy-crosses-partition, docs/rules.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from borderwatch import api
from borderwatch.cli import main
from borderwatch.errors import PolicyError
from borderwatch.inventory.locations import LocationRegistry
from borderwatch.model.findings import Finding

HEADER = "store_id,provider,region,service,data_classes,records,copy_of\n"


def _policy(approved: str) -> str:
    return (
        "borderwatch: policy/v1\nname: partitions\nversion: '1'\n"
        "data_classes:\n  eu_data:\n    storage:\n      approved:\n"
        + "".join(f"        - {line}\n" for line in approved.splitlines())
        + "coverage:\n  nothing_judged: low\n"
    )


def _scan(tmp_path: Path, approved: str, inventory: str) -> dict[tuple[str, str], Finding]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(_policy(approved), encoding="utf-8")
    stores = tmp_path / "stores.csv"
    stores.write_text(HEADER + inventory, encoding="utf-8")
    result = api.scan(policy=policy, inventory=[stores])
    return {
        (f.rule, f.resource or ""): f for f in result.findings if not f.rule.startswith("coverage.")
    }


SOVEREIGN = "eu,aws,eusc-de-east-1,s3,eu_data,10,\n"


def test_a_country_approval_does_not_cover_the_sovereign_cloud(tmp_path: Path) -> None:
    found = _scan(tmp_path, "{provider: aws, country: DE}", SOVEREIGN)
    finding = found[("residency.store-outside-approved", "eu")]
    assert "partition aws-eusc is not approved" in finding.message
    assert finding.evidence["partition"] == "aws-eusc"
    assert finding.evidence["partition_not_approved"] is True


@pytest.mark.parametrize(
    "approved",
    [
        "{provider: aws, country: DE, partition: aws-eusc}",
        "{partition: aws-eusc}",
        "{provider: aws, region: eusc-de-east-1}",
    ],
)
def test_an_approval_naming_the_partition_or_region_covers_it(
    tmp_path: Path, approved: str
) -> None:
    assert _scan(tmp_path, approved, SOVEREIGN) == {}


def test_a_partition_approval_covers_only_that_partition(tmp_path: Path) -> None:
    inventory = SOVEREIGN + "com,aws,eu-central-1,s3,eu_data,10,\n"
    found = _scan(tmp_path, "{country: DE, partition: aws-eusc}", inventory)
    assert set(found) == {("residency.store-outside-approved", "com")}
    # Outside for its partition: the commercial one is not named by this approval.
    assert (
        "partition aws is not approved"
        in found[("residency.store-outside-approved", "com")].message
    )


@pytest.mark.parametrize(
    ("provider", "region", "partition"),
    [
        ("aws", "us-gov-west-1", "aws-us-gov"),
        ("aws", "cn-north-1", "aws-cn"),
        ("azure", "usgovvirginia", "AzureUSGovernment"),
        ("azure", "chinanorth", "AzureChinaCloud"),
        ("oci", "us-langley-1", "oc2"),
    ],
)
def test_other_sovereign_partitions_need_naming_too(
    tmp_path: Path, provider: str, region: str, partition: str
) -> None:
    inventory = f"s,{provider},{region},db,eu_data,10,\n"
    country = LocationRegistry.load_builtin().resolve(provider, region).countries[0]
    found = _scan(tmp_path, f"{{provider: {provider}, country: {country}}}", inventory)
    finding = found[("residency.store-outside-approved", "s")]
    assert f"partition {partition.lower()} is not approved" in finding.message.lower()
    named = f"{{provider: {provider}, country: {country}, partition: {partition}}}"
    assert _scan(tmp_path, named, inventory) == {}


def test_a_store_outside_for_its_country_does_not_blame_the_partition(tmp_path: Path) -> None:
    found = _scan(tmp_path, "{provider: aws, country: FR}", SOVEREIGN)
    finding = found[("residency.store-outside-approved", "eu")]
    assert "partition" not in finding.message
    assert finding.evidence["partition_not_approved"] is False


def test_a_copy_across_partitions_is_called_out(tmp_path: Path) -> None:
    inventory = (
        "orig,aws,eu-central-1,s3,eu_data,10,\n"
        "dr,aws,eusc-de-east-1,s3,,10,orig\n"
        "same,aws,eu-west-1,s3,,10,orig\n"
    )
    both = "{country: DE}\n{country: IE}\n{partition: aws-eusc}"
    found = _scan(tmp_path, both, inventory)
    # Both places approved: still a finding, because no replication crosses a partition.
    assert set(found) == {("residency.copy-crosses-partition", "dr")}
    crossing = found[("residency.copy-crosses-partition", "dr")]
    assert crossing.evidence["copied_from"] == "orig"
    assert crossing.evidence["copied_from_partition"] == "aws"
    assert crossing.evidence["partition"] == "aws-eusc"
    assert "export or a misdeclared inventory" in crossing.message
    # Not approved as well: the copy-outside finding says so in its own text.
    found = _scan(tmp_path, "{country: DE}\n{country: IE}", inventory)
    outside = found[("residency.copy-outside-approved", "dr")]
    assert "partition aws-eusc is not approved" in outside.message
    assert "crosses from partition aws (orig) to aws-eusc" in outside.message
    assert ("residency.copy-crosses-partition", "dr") in found


def _load(tmp_path: Path, approved: str) -> PolicyError:
    path = tmp_path / "policy.yaml"
    path.write_text(_policy(approved), encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        api.load_policy(path)
    return caught.value


def test_an_unknown_partition_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    text = str(_load(tmp_path, "{provider: aws, partition: aws-euc}"))
    assert "partition 'aws-euc' is not a known partition" in text
    assert "did you mean 'aws-eusc'" in text
    assert "policy.yaml:8:38:" in text  # the line and column of the value


def test_a_partition_of_another_provider_or_region_is_refused(tmp_path: Path) -> None:
    text = str(_load(tmp_path, "{provider: azure, partition: aws-us-gov}"))
    assert "partition 'aws-us-gov' is not a partition of provider 'azure'" in text
    text = str(_load(tmp_path, "{provider: aws, region: eu-central-1, partition: aws-eusc}"))
    assert "region 'eu-central-1' is in partition 'aws', not 'aws-eusc'" in text


def test_the_cli_exits_2_on_an_unknown_partition(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(_policy("{partition: AzureUSGov}"), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(policy)])
    assert result.exit_code == 2, result.output
    assert "did you mean 'AzureUSGovernment'" in result.output


def test_partition_names_are_case_insensitive(tmp_path: Path) -> None:
    inventory = "s,azure,usgovvirginia,db,eu_data,10,\n"
    assert _scan(tmp_path, "{partition: azureusgovernment}", inventory) == {}


def test_the_rules_command_lists_the_crossing_rule() -> None:
    result = CliRunner().invoke(main, ["rules"], terminal_width=200)
    assert result.exit_code == 0
    assert "residency.copy-crosses-partition" in result.output


def test_an_empty_approval_names_all_four_keys(tmp_path: Path) -> None:
    text = str(_load(tmp_path, "{}"))
    assert "needs provider, region, country or partition" in text
    assert "give provider, region, country or partition" in text


def test_an_azure_copy_into_the_china_cloud_crosses(tmp_path: Path) -> None:
    inventory = "db,azure,westeurope,sql,eu_data,10,\ndb-cn,azure,chinanorth,sql,,10,db\n"
    found = _scan(tmp_path, "{provider: azure}\n{partition: AzureChinaCloud}", inventory)
    assert set(found) == {("residency.copy-crosses-partition", "db-cn")}
    evidence = found[("residency.copy-crosses-partition", "db-cn")].evidence
    assert (evidence["copied_from_partition"], evidence["partition"]) == (
        "AzureCloud",
        "AzureChinaCloud",
    )


def test_an_onprem_copy_crosses_nothing(tmp_path: Path) -> None:
    inventory = "db,aws,us-gov-west-1,rds,eu_data,10,\ntape,onprem,vault-1,tape,,10,db\n"
    found = _scan(tmp_path, "{partition: aws-us-gov}\n{provider: onprem}", inventory)
    assert not any(rule == "residency.copy-crosses-partition" for rule, _ in found)
