"""Inventory and identity readers: good rows kept, bad rows quarantined with a line."""

from __future__ import annotations

from pathlib import Path

import pytest

from borderwatch.errors import InputError
from borderwatch.inventory.graph import resolve_copies
from borderwatch.inventory.stores import read_inventory
from borderwatch.model.inventory import Store
from borderwatch.tables.identities import read_identities


def test_csv_inventory_with_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "inv.csv"
    path.write_text(
        "store_id,provider,region,service,data_classes,records,copy_of,country\n"
        "a,aws,us-east-1,s3,us_user_data;eu_data,10,,\n"
        "b,AWS,us-west-2,s3,,1_000,a,\n"
        ",aws,us-east-1,s3,,1,,\n"  # line 4: missing store_id
        "c,aws,us-east-1,s3,,many,,\n"  # line 5: bad records
        "\n"
        "d,onprem,sg-dc1,mysql,x,1,,Singapore\n"  # line 7: bad country
        "a,aws,us-east-1,s3,,1,,\n"  # line 8: duplicate
        "e,aws,us-east-1\n",  # line 9: short row
        encoding="utf-8",
    )
    read = read_inventory(path)
    assert [s.store_id for s in read.stores] == ["a", "b"]
    assert read.stores[0].data_classes == ("us_user_data", "eu_data")
    assert read.stores[1].provider == "aws" and read.stores[1].records == 1000
    assert read.stores[1].copy_of == "a"
    assert read.stores[0].origin.endswith("inv.csv:2")
    reasons = {q.position: q.reason for q in read.quarantined}
    assert set(reasons) == {"line 4", "line 5", "line 7", "line 8", "line 9"}
    assert "store_id" in reasons["line 4"]
    assert "records" in reasons["line 5"]
    assert "country" in reasons["line 7"]
    assert "duplicate" in reasons["line 8"]
    assert "columns" in reasons["line 9"]
    assert read.records_read == 7


def test_yaml_inventory(tmp_path: Path) -> None:
    path = tmp_path / "inv.yaml"
    path.write_text(
        "stores:\n"
        "  - store_id: a\n"
        "    provider: gcp\n"
        "    region: US\n"
        "    data_classes: [us_user_data]\n"
        "    aliases: [projects/p/datasets/a]\n"
        "  - just a string\n"
        "  - store_id: b\n"
        "    provider: onprem\n"
        "    region: va-dc2\n"
        "    country: us\n",
        encoding="utf-8",
    )
    read = read_inventory(path)
    assert [s.store_id for s in read.stores] == ["a", "b"]
    assert read.stores[0].aliases == ("projects/p/datasets/a",)
    assert read.stores[1].country == "US"
    assert [(q.position, q.reason) for q in read.quarantined] == [
        ("line 7", "row is not a mapping")
    ]


def test_invalid_yaml_is_an_input_error_with_a_line(tmp_path: Path) -> None:
    path = tmp_path / "inv.yaml"
    path.write_text("stores:\n  - store_id: a\n    provider: [aws\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_inventory(path)
    assert info.value.problems and info.value.problems[0].location.line is not None


def test_not_utf8_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "inv.csv"
    path.write_bytes(b"store_id,provider\n\xff\xfe,aws\n")
    with pytest.raises(InputError, match="UTF-8"):
        read_inventory(path)


def test_identities(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text(
        "principal,person,work_country,employer\n"
        "arn:aws:iam::1:user/a,a,us,Example Inc.\n"
        "arn:aws:iam::1:user/b,,US,Example Inc.\n"
        "b@example.com,b,,\n",
        encoding="utf-8",
    )
    read = read_identities(path)
    assert [(i.principal, i.work_country) for i in read.items] == [
        ("arn:aws:iam::1:user/a", "US"),
        ("b@example.com", None),
    ]
    assert read.quarantined[0].position == "line 3"
    assert "person" in read.quarantined[0].reason


def test_copies_inherit_classes_transitively_and_cycles_stop() -> None:
    stores = [
        Store("orig", "aws", "us-east-1", data_classes=("us_user_data",)),
        Store("replica", "aws", "us-west-2", copy_of="orig"),
        Store("snap", "aws", "eu-west-1", data_classes=("logs",), copy_of="replica"),
        Store("x", "aws", "us-east-1", copy_of="y"),
        Store("y", "aws", "us-east-1", copy_of="x"),
        Store("orphan", "aws", "us-east-1", copy_of="missing"),
    ]
    info = resolve_copies(stores)
    assert info["snap"].copy_path == ("orig", "replica", "snap")
    assert set(info["snap"].data_classes) == {"us_user_data", "logs"}
    assert info["replica"].data_classes == ("us_user_data",)
    assert "cycle" in info["x"].problem
    assert "missing" in info["orphan"].problem


def test_a_csv_without_the_required_columns_is_refused_not_read_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "not-an-inventory.csv"
    path.write_text("hostname\nweb-1\n", encoding="utf-8")
    with pytest.raises(InputError, match="store_id, provider"):
        read_inventory(path)
