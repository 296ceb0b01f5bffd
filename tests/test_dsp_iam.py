"""Who can read a DSP store, by AWS policy semantics (inventory/iam_access.py): what
grants, what a Deny removes and what it does not, and what is unknown rather than "no
access"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from borderwatch.inventory.iam import read_iam
from borderwatch.inventory.iam_access import potential_access
from borderwatch.model.events import QuarantinedRecord
from borderwatch.model.inventory import Store
from borderwatch.model.scan import InputSummary

USER = "arn:aws:iam::111122223333:user/u"
BUCKET = Store("bank", "aws", "us-east-1", "s3")
TABLE = Store("visits", "aws", "us-west-2", "dynamodb")


def _reach(tmp_path: Path, *statements: dict[str, Any], bucket: dict | None = None) -> list:
    export = {
        "UserDetailList": [
            {
                "UserName": "u",
                "Arn": USER,
                "UserPolicyList": [
                    {"PolicyName": "p", "PolicyDocument": {"Statement": list(statements)}}
                ],
            }
        ]
    }
    paths = [tmp_path / "auth.json"]
    paths[0].write_text(json.dumps(export))
    if bucket is not None:
        paths.append(tmp_path / "bucket.json")
        paths[1].write_text(json.dumps({"Policy": json.dumps(bucket)}))
    inputs: list[InputSummary] = []
    quarantined: list[QuarantinedRecord] = []
    found = potential_access(read_iam(paths, inputs, quarantined), [BUCKET, TABLE])
    assert not quarantined
    return [(r.store_id, r.verdict, r.conditional, r.actions) for r in found]


def allow(action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


@pytest.mark.parametrize(
    ("statement", "reached"),
    [
        (allow("s3:GetObject", "arn:aws:s3:::bank/*"), {"bank"}),
        (allow("S3:get*", "arn:aws:s3:::bank/users/*"), {"bank"}),  # part of the bucket
        (allow("s3:ListBucket", "arn:aws:s3:::bank"), set()),  # lists keys, reads no data
        (allow("s3:GetObject", "arn:aws:s3:::bank"), set()),  # the bucket, not objects
        (allow("s3:GetObject", "arn:aws:s3:::bankrupt/*"), set()),
        (allow("*", "*"), {"bank", "visits"}),
        (allow("dynamodb:Query", "arn:aws:dynamodb:us-west-2:999:table/visits"), {"visits"}),
        (allow("dynamodb:Query", "arn:aws:dynamodb:eu-west-1:999:table/visits"), set()),
        ({"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}, {"visits"}),
        (
            {"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::bank/*"},
            set(),
        ),
    ],
)
def test_what_grants_reading(tmp_path: Path, statement: dict, reached: set[str]) -> None:
    found = _reach(tmp_path, statement)
    assert {store for store, verdict, _, _ in found if verdict == "allowed"} == reached


def test_an_unconditional_deny_on_the_whole_store_removes_access(tmp_path: Path) -> None:
    deny = {"Effect": "Deny", "Action": "s3:GetObject*", "Resource": "arn:aws:s3:::bank/*"}
    assert _reach(tmp_path, allow("s3:*", "*"), deny) == []


def test_a_deny_on_part_of_the_store_or_with_a_condition_leaves_access(tmp_path: Path) -> None:
    part = {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::bank/secret/*"}
    assert _reach(tmp_path, allow("s3:GetObject", "*"), part) == [
        ("bank", "allowed", False, ("s3:GetObject",))
    ]
    conditional = {
        "Effect": "Deny",
        "Action": "s3:*",
        "Resource": "*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    assert _reach(tmp_path, allow("s3:GetObject", "*"), conditional) == [
        ("bank", "allowed", True, ("s3:GetObject",))
    ]


def test_a_policy_variable_is_unknown_never_no_access(tmp_path: Path) -> None:
    found = _reach(tmp_path, allow("s3:GetObject", "arn:aws:s3:::bank/${aws:username}/*"))
    assert ("bank", "unknown", False, ()) in found


def test_a_bucket_policy_grants_the_principal_its_account_or_anyone(tmp_path: Path) -> None:
    for principal in (USER, "111122223333", "arn:aws:iam::111122223333:root", "*"):
        bucket = {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": principal} if principal != "*" else "*",
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::bank/*",
                }
            ]
        }
        found = _reach(tmp_path, allow("sqs:*", "*"), bucket=bucket)
        assert ("bank", "allowed", False, ("s3:GetObject",)) in found, principal


def test_an_unreadable_file_is_quarantined_and_the_rest_read(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    inputs: list[InputSummary] = []
    quarantined: list[QuarantinedRecord] = []
    read_iam([bad], inputs, quarantined)
    assert [q.reason[:8] for q in quarantined] == ["not JSON"]
    assert [(i.records_read, i.accepted, i.quarantined) for i in inputs] == [(1, 0, 1)]
