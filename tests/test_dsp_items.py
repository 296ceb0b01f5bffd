"""Data Security Program subjects named by DynamoDB item keys and by batch events.

- the CloudTrail readers (both paths) turn the key attributes CloudTrail logs for
  DynamoDB data events into item resource names (sources/cloudtrail_items.py), escaped
  so a hostile value cannot forge another attribute or item, without changing which
  store an event touches;
- an event naming several subjects (BatchGetItem, S3 DeleteObjects, several objects in
  `resources`) counts every one of them;
- named-subject counts at the threshold minus one, exactly and plus one for the 100,
  1,000, 10,000 and 100,000 levels, from generated DynamoDB events;
- day-by-day incremental scans give exactly the DSP findings of a full rescan, and a
  batch delivered twice counts its subjects once with --exact-repeats.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from borderwatch.cli import main
from borderwatch.ingest.digest import ProtectedKeys, access_rows
from borderwatch.sources import cloudtrail_fast
from borderwatch.sources.cloudtrail import CloudTrailSource
from borderwatch.sources.cloudtrail_items import ITEM_PARAMETERS, item_names

SOURCE = CloudTrailSource()
DYNAMODB = "dynamodb.amazonaws.com"
ACCOUNT = "111122223333"
TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table"

# ---------------------------------------------------------------------------------------
# The shapes CloudTrail logs, as resource names


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        # GetItem / PutItem / UpdateItem / DeleteItem: `key`, attributes sorted by name.
        (
            {"tableName": "Music", "key": {"SongTitle": "Call Me Today", "Artist": "No One"}},
            ["table/Music/item/Artist=No%20One/SongTitle=Call%20Me%20Today"],
        ),
        # BatchGetItem: per table, its keys; typed values count as their value.
        (
            {"requestItems": {"Music": {"keys": [{"Artist": "a"}, {"Artist": {"S": "b"}}]}}},
            ["table/Music/item/Artist=a", "table/Music/item/Artist=b"],
        ),
        # BatchWriteItem: the key of each put and delete request.
        (
            {
                "requestItems": {
                    "Music": [
                        {"putRequest": {"key": {"id": 7}}},
                        {"deleteRequest": {"key": {"id": "8"}}},
                    ]
                }
            },
            ["table/Music/item/id=7", "table/Music/item/id=8"],
        ),
        # TransactWriteItems / TransactGetItems as CloudTrail logs them.
        (
            {
                "requestItems": [
                    {"operation": "Put", "tableName": "Ex", "key": {"k": "v1"}},
                    {"operation": "Update", "tableName": "Ex", "key": {"k": "v2"}},
                ]
            },
            ["table/Ex/item/k=v1", "table/Ex/item/k=v2"],
        ),
        # The API's own shape of transact items.
        (
            {"transactItems": [{"Get": {"tableName": "Ex", "key": {"k": "v1"}}}]},
            ["table/Ex/item/k=v1"],
        ),
        # PartiQL: key values stay in the statement, other values are redacted.
        (
            {
                "statement": "SELECT * FROM \"Music\" WHERE Artist = 'Acme Band' AND "
                "SongTitle = 'PartiQL Rocks' AND Genre = ***(Redacted)"
            },
            ["table/Music/item/Artist=Acme%20Band/SongTitle=PartiQL%20Rocks"],
        ),
        (
            {
                "statement": 'UPDATE "Music" SET AwardsWon = ***(Redacted) '
                "WHERE Artist='Acme Band' AND SongTitle='It''s'"
            },
            ["table/Music/item/Artist=Acme%20Band/SongTitle=It%27s"],
        ),
        ({"statement": "DELETE FROM Music WHERE Artist = 'x'"}, ["table/Music/item/Artist=x"]),
        (
            {
                "statement": "INSERT INTO \"Music\" value {'Artist' : 'Acme Band', "
                "'SongTitle' : 'PartiQL Rocks', 'Year': ***(Redacted)}"
            },
            ["table/Music/item/Artist=Acme%20Band/SongTitle=PartiQL%20Rocks"],
        ),
        # BatchExecuteStatement
        (
            {
                "requests": [
                    {"statement": "SELECT * FROM Music WHERE Artist = 'a'"},
                    {"statement": "SELECT * FROM Music WHERE Artist = 'b'"},
                ]
            },
            ["table/Music/item/Artist=a", "table/Music/item/Artist=b"],
        ),
        # Query: the partition its key condition fixes by equality.
        (
            {
                "tableName": "Music",
                "keyConditionExpression": "#a = :a AND begins_with(SongTitle, :s)",
                "expressionAttributeNames": {"#a": "Artist"},
                "expressionAttributeValues": {":a": {"S": "x"}, ":s": "C"},
            },
            ["table/Music/item/Artist=x"],
        ),
        # A table given as its ARN keeps it.
        (
            {"tableName": "arn:aws:dynamodb:eu-west-1:999:table/T", "key": {"id": "1"}},
            ["arn:aws:dynamodb:eu-west-1:999:table/T/item/id=1"],
        ),
    ],
)
def test_item_names_of_each_shape(parameters: dict[str, Any], expected: list[str]) -> None:
    prefix = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:"
    got = item_names(DYNAMODB, parameters, "us-east-1", ACCOUNT)
    assert got == [e if e.startswith("arn:") else prefix + e for e in expected]


@pytest.mark.parametrize(
    "parameters",
    [
        {"tableName": "Music"},  # Scan, ExportTableToPointInTime: the whole store
        {"tableName": "Music", "keyConditionExpression": "Artist = :a"},  # values not logged
        {"statement": "SELECT * FROM Music"},
        {"statement": "SELECT * FROM Music WHERE Artist = 'a' OR Artist = 'b'"},
        {"statement": "SELECT * FROM Music WHERE Artist IN ['a', 'b']"},
        {"statement": "a statement that is not PartiQL"},
        {"tableName": "Music", "key": {}},
        {"tableName": "Music", "key": {"id": {"M": {"nested": "x"}}}},
        # One part unreadable: the event names no item at all (never a partial count).
        {"requestItems": {"Music": {"keys": [{"id": "1"}, "not a key"]}}},
        {"requestItems": {"Music": {"noKeys": []}}},
    ],
)
def test_what_cannot_be_read_whole_names_no_item(parameters: dict[str, Any]) -> None:
    assert item_names(DYNAMODB, parameters, "us-east-1", ACCOUNT) == []


def test_other_services_and_s3_object_keys_name_no_item() -> None:
    assert item_names("s3.amazonaws.com", {"bucketName": "b", "key": "x/1"}, "r", "a") == []
    assert item_names(DYNAMODB, {"tableName": "T", "key": "x/1"}, "r", "a") == []


def test_a_hostile_value_cannot_forge_another_attribute_or_item() -> None:
    forged = item_names(DYNAMODB, {"tableName": "T", "key": {"id": "1/ssn=2"}}, "r", "a")
    honest = item_names(DYNAMODB, {"tableName": "T", "key": {"id": "1", "ssn": "2"}}, "r", "a")
    assert forged == ["arn:aws:dynamodb:r:a:table/T/item/id=1%2Fssn%3D2"]
    assert honest == ["arn:aws:dynamodb:r:a:table/T/item/id=1/ssn=2"]
    # '%' itself is escaped, so an escaped-looking value stays distinct.
    escaped = item_names(DYNAMODB, {"tableName": "T", "key": {"id": "1%2Fssn%3D2"}}, "r", "a")
    assert escaped == ["arn:aws:dynamodb:r:a:table/T/item/id=1%252Fssn%253D2"]
    newline = item_names(DYNAMODB, {"tableName": "T", "key": {"i\nd": "x\n"}}, "r", "a")
    assert newline == ["arn:aws:dynamodb:r:a:table/T/item/i%0Ad=x%0A"]


# ---------------------------------------------------------------------------------------
# Both readers


def _ddb(number: int, action: str, parameters: dict[str, Any], **extra: Any) -> dict[str, Any]:
    record = {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser",
            "arn": f"arn:aws:iam::{ACCOUNT}:user/reader",
            "accountId": ACCOUNT,
            "userName": "reader",
        },
        "eventTime": "2026-03-02T10:00:00Z",
        "eventSource": DYNAMODB,
        "eventName": action,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "12.34.56.78",
        "eventID": f"ddb-{number:06d}",
        "recipientAccountId": ACCOUNT,
        "readOnly": True,
        "requestParameters": parameters,
        "resources": [{"type": "AWS::DynamoDB::Table", "ARN": f"{TABLE}/people"}],
    }
    record.update(extra)
    return record


_READER_RECORDS = [
    _ddb(1, "GetItem", {"tableName": "people", "key": {"person_id": "p1"}}),
    _ddb(2, "BatchGetItem", {"requestItems": {"people": {"keys": [{"person_id": "p2"}]}}}),
    _ddb(3, "Scan", {"tableName": "people"}),
    _ddb(4, "GetItem", {"tableName": "people", "key": {"person_id": "x/person_id=y"}}),
    _ddb(5, "ExecuteStatement", {"statement": "SELECT * FROM people WHERE person_id = 'p5'"}),
    _ddb(6, "GetItem", {"tableName": "people", "key": {"person_id": "p6"}}, resources=None),
    # The same shape as record 1 with another key: no remembered keys are reused.
    _ddb(7, "GetItem", {"tableName": "people", "key": {"person_id": "p7"}}),
    _ddb(8, "GetItem", {"tableName": "people", "key": "not an object"}),
    _ddb(9, "GetItem", {"tableName": "people", "key": None}),
    _ddb(10, "GetItem", {"tableName": "people", "key": {"person_id": 10}}),
    _ddb(11, "GetItem", {"tableName": "people", "key": {"person_id": "p1"}}, awsRegion=""),
]


@pytest.mark.parametrize("form", ["records", "lines"])
def test_both_cloudtrail_paths_give_the_same_item_names(
    tmp_path: Path, form: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "trail.json"
    if form == "records":
        path.write_text(json.dumps({"Records": _READER_RECORDS}))
    else:
        path.write_text("\n".join(json.dumps(r) for r in _READER_RECORDS) + "\n")
    fast = [row for batch in SOURCE.read(path, 4) for row in batch.events.to_pylist()]
    slow = [row for batch in SOURCE.read_forgiving(path, 4) for row in batch.events.to_pylist()]
    assert fast == slow
    resources = {row["event_id"]: row["resources"] for row in fast}
    table = [f"{TABLE}/people", "people"]
    assert resources["ddb-000001"] == [*table, f"{TABLE}/people/item/person_id=p1"]
    assert resources["ddb-000002"] == [*table, f"{TABLE}/people/item/person_id=p2"]
    assert resources["ddb-000003"] == table  # a Scan names no item
    assert resources["ddb-000004"] == [*table, f"{TABLE}/people/item/person_id=x%2Fperson_id%3Dy"]
    assert resources["ddb-000005"] == [*table, f"{TABLE}/people/item/person_id=p5"]
    assert resources["ddb-000006"] == ["people", f"{TABLE}/people/item/person_id=p6"]
    assert resources["ddb-000007"] == [*table, f"{TABLE}/people/item/person_id=p7"]
    assert resources["ddb-000008"] == table
    assert resources["ddb-000009"] == table
    assert resources["ddb-000010"] == [*table, f"{TABLE}/people/item/person_id=10"]
    no_region = f"arn:aws:dynamodb::{ACCOUNT}:table/people/item/person_id=p1"
    assert resources["ddb-000011"] == [*table, no_region]

    # The comparison is worth something only if the fast path read them all itself.
    def refuse(item: Any) -> dict[str, Any]:
        raise AssertionError("the typed fast path should have read this record")

    monkeypatch.setattr(cloudtrail_fast, "normalise", refuse)
    assert sum(b.events.num_rows for b in SOURCE.read(path, 4)) == len(_READER_RECORDS)


def test_item_names_change_no_store_an_event_touches(tmp_path: Path) -> None:
    path = tmp_path / "trail.json"
    path.write_text(json.dumps({"Records": _READER_RECORDS}))
    events = next(iter(SOURCE.read(path)))
    keys = ProtectedKeys.from_pairs([("people", "people"), (f"{TABLE}/people", "people")])
    rows, codes = keys.touched(events.events.column("resources").combine_chunks())
    assert rows.tolist() == list(range(len(_READER_RECORDS)))
    assert set(codes.tolist()) == {0}


def test_a_batch_gives_a_digest_row_per_subject_and_counts_the_event_once(tmp_path: Path) -> None:
    keys_of = [{"person_id": f"p{i}"} for i in range(100)]
    path = tmp_path / "trail.json"
    path.write_text(
        json.dumps(
            {
                "Records": [
                    _ddb(1, "BatchGetItem", {"requestItems": {"people": {"keys": keys_of}}}),
                    _ddb(2, "GetItem", {"tableName": "people", "key": {"person_id": "p0"}}),
                ]
            }
        )
    )
    events = next(iter(SOURCE.read(path))).events
    pattern = "table/people/item/person_id=(?P<subject>[^/]+)"
    keys = ProtectedKeys.from_pairs([("people", "people")], [("people", pattern)])
    digest = access_rows(events, keys)
    assert digest.num_rows == 101
    assert sum(digest.column("events").to_pylist()) == 2  # events, not subjects
    assert len(set(digest.column("subject").to_pylist())) == 100
    # Without a DSP store the digest is what it was: one row per event and store.
    plain = access_rows(events, ProtectedKeys.from_pairs([("people", "people")]))
    assert plain.num_rows == 2 and plain.column("subject").null_count == 2


# ---------------------------------------------------------------------------------------
# End to end: generated DynamoDB events

LEVELS = {  # category: (threshold, data class, rule over the threshold)
    "human_genomic": (100, "genomes", "dsp.prohibited-transaction"),
    "biometric": (1_000, "biometrics", "dsp.bulk-threshold-reached"),
    "personal_health": (10_000, "health", "dsp.bulk-threshold-reached"),
    "covered_personal_identifiers": (100_000, "identifiers", "dsp.bulk-threshold-reached"),
}
OFFSETS = {"minus-one": -1, "exactly": 0, "plus-one": 1}


def _write_case(folder: Path, categories: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    classes = "".join(
        f"  {LEVELS[c][1]}:\n    dsp_categories: [{c}]\n"
        "    storage:\n      approved:\n        - country: US\n"
        for c in categories
    )
    (folder / "policy.yaml").write_text(
        'borderwatch: policy/v1\nname: dsp-items\nversion: "1"\n'
        f"data_classes:\n{classes}"
        "coverage:\n  log_gap_min_daily_events: 1000000\n"
        "dsp:\n  countries_of_concern: [dsp_countries_of_concern]\n"
        "  subject_keys:\n    - match: 'ddb-*'\n"
        "      pattern: 'table/ddb-[a-z]+/item/person_id=(?P<subject>[^/]+)'\n"
    )
    inventory = ["store_id,provider,region,service,data_classes,dsp_subjects"]
    identities = ["principal,person,work_country,resident_country"]
    for category in categories:
        inventory.append(f"ddb-{LEVELS[category][1]},aws,us-east-1,dynamodb,{LEVELS[category][1]},")
        for level in OFFSETS:
            name = f"reader-{LEVELS[category][1]}-{level}"
            identities.append(f"arn:aws:iam::{ACCOUNT}:user/{name},{name},US,CN")
    (folder / "inventory.csv").write_text("\n".join(inventory) + "\n")
    (folder / "identities.csv").write_text("\n".join(identities) + "\n")


def _read(
    number: int, reader: str, table: str, day: str, action: str, parameters: dict[str, Any]
) -> dict[str, Any]:
    return _ddb(
        number,
        action,
        parameters,
        userIdentity={
            "type": "IAMUser",
            "arn": f"arn:aws:iam::{ACCOUNT}:user/{reader}",
            "accountId": ACCOUNT,
            "userName": reader,
        },
        eventTime=f"{day}T10:00:00Z",
        resources=[{"type": "AWS::DynamoDB::Table", "ARN": f"{TABLE}/{table}"}],
    )


def _reads(reader: str, table: str, subjects: int, start: int, day: str) -> Iterator[dict]:
    """Reads of subjects p0..p{subjects-1} of `table` by `reader`, in every shape: a
    GetItem, a Query, a PartiQL statement, a transaction, then batches of 100."""
    number = start
    singles = [
        ("GetItem", lambda s: {"tableName": table, "key": {"person_id": s}}),
        (
            "Query",
            lambda s: {
                "tableName": table,
                "keyConditionExpression": "person_id = :p",
                "expressionAttributeValues": {":p": {"S": s}},
            },
        ),
        (
            "ExecuteStatement",
            lambda s: {"statement": f"SELECT * FROM \"{table}\" WHERE person_id = '{s}'"},
        ),
        (
            "TransactGetItems",
            lambda s: {
                "requestItems": [{"operation": "Get", "tableName": table, "key": {"person_id": s}}]
            },
        ),
    ]
    ids = [f"p{i}" for i in range(subjects)]
    for (action, shape), subject in zip(singles, ids, strict=False):
        yield _read(number, reader, table, day, action, shape(subject))
        number += 1
    rest = ids[len(singles) :]
    for at in range(0, len(rest), 100):
        keys = [{"person_id": s} for s in rest[at : at + 100]]
        # Every batch also names p0 again: a subject read twice counts once.
        keys.append({"person_id": "p0"})
        yield _read(
            number, reader, table, day, "BatchGetItem", {"requestItems": {table: {"keys": keys}}}
        )
        number += 1


def _scan(folder: Path, logs: Path, out: Path, *extra: str) -> list[dict]:
    args = ["scan", "--policy", str(folder / "policy.yaml"), "--inventory"]
    args += [str(folder / "inventory.csv"), "--identities", str(folder / "identities.csv")]
    args += ["--events", str(logs), "--out", str(out), "--quiet", *extra]
    result = CliRunner().invoke(main, args)
    assert result.exit_code in (0, 1), result.output
    return json.loads((out / "findings.json").read_text())


def _dsp(findings: list[dict]) -> list[dict]:
    return sorted((f for f in findings if f["rule"].startswith("dsp.")), key=lambda f: f["id"])


@pytest.mark.parametrize("categories", [["human_genomic", "biometric", "personal_health"]])
def test_named_subject_counts_at_each_threshold_level(
    tmp_path: Path, categories: list[str]
) -> None:
    _threshold_levels(tmp_path, categories)


def test_named_subject_counts_at_the_100000_level(tmp_path: Path) -> None:
    _threshold_levels(tmp_path, ["covered_personal_identifiers"])


def _threshold_levels(tmp_path: Path, categories: list[str]) -> None:
    folder = tmp_path / "case"
    _write_case(folder, categories)
    logs = folder / "events"
    logs.mkdir()
    number = 1
    with (logs / "trail.jsonl").open("w") as handle:
        for category in categories:
            threshold, name, _ = LEVELS[category]
            for level, offset in OFFSETS.items():
                records = list(
                    _reads(
                        f"reader-{name}-{level}",
                        f"ddb-{name}",
                        threshold + offset,
                        number,
                        "2026-03-02",
                    )
                )
                number += len(records)
                handle.writelines(json.dumps(r) + "\n" for r in records)
    found = _dsp(_scan(folder, logs, tmp_path / "out"))
    got = sorted((f["rule"], f["resource"], f["principal"], f["count"]) for f in found)
    assert got == sorted(
        (LEVELS[c][2], c, f"person:reader-{LEVELS[c][1]}-plus-one", LEVELS[c][0] + 1)
        for c in categories
    )
    for finding in found:
        evidence = finding["evidence"]
        # Counted from the item keys, not from a store's volume (none is given).
        assert evidence["named_subjects"] == finding["count"]
        assert evidence["whole_store_subjects"] == 0
        assert not evidence.get("whole_stores")


def _batch_case(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "case"
    _write_case(folder, ["human_genomic"])
    logs = folder / "events"
    logs.mkdir()
    return folder, logs


def _batch_of_101() -> dict[str, Any]:
    """One BatchGetItem naming 101 genomes, by a covered person's reader."""
    keys = [{"person_id": f"g{i}"} for i in range(101)]
    return _read(
        1,
        "reader-genomes-plus-one",
        "ddb-genomes",
        "2026-03-02",
        "BatchGetItem",
        {"requestItems": {"ddb-genomes": {"keys": keys}}},
    )


def test_one_batch_event_counts_every_subject_it_names(tmp_path: Path) -> None:
    folder, logs = _batch_case(tmp_path)
    batch = _batch_of_101()
    (logs / "trail.jsonl").write_text(json.dumps(batch) + "\n")
    found = _dsp(_scan(folder, logs, tmp_path / "out"))
    assert [(f["rule"], f["count"]) for f in found] == [("dsp.prohibited-transaction", 101)]
    assert found[0]["evidence"]["named_subjects"] == 101


def test_an_s3_event_listing_several_objects_counts_each(tmp_path: Path) -> None:
    folder, logs = _batch_case(tmp_path)
    policy = (folder / "policy.yaml").read_text()
    policy += "    - match: 'genome-bucket'\n      pattern: 'genomes/(?P<subject>[0-9]+)/'\n"
    (folder / "policy.yaml").write_text(policy)
    with (folder / "inventory.csv").open("a") as handle:
        handle.write("genome-bucket,aws,us-east-1,s3,genomes,\n")
    objects = [{"ARN": f"arn:aws:s3:::genome-bucket/genomes/{i}/reads.bam"} for i in range(101)]
    record = _read(1, "reader-genomes-plus-one", "x", "2026-03-02", "DeleteObjects", {})
    record.update(
        eventSource="s3.amazonaws.com",
        requestParameters={"bucketName": "genome-bucket", "delete": ""},
        resources=objects,
    )
    (logs / "trail.jsonl").write_text(json.dumps(record) + "\n")
    found = _dsp(_scan(folder, logs, tmp_path / "out"))
    assert [(f["rule"], f["count"]) for f in found] == [("dsp.prohibited-transaction", 101)]


def test_a_batch_delivered_twice_counts_its_subjects_and_its_event_once(tmp_path: Path) -> None:
    folder, logs = _batch_case(tmp_path)
    batch = _batch_of_101()
    (logs / "a.jsonl").write_text(json.dumps(batch) + "\n")
    # The same event, written otherwise (a byte-identical file would be skipped as a copy).
    (logs / "b.jsonl").write_text(json.dumps(batch, sort_keys=True) + "\n")
    out = tmp_path / "out"
    found = _dsp(_scan(folder, logs, out, "--exact-repeats"))
    assert [(f["rule"], f["count"]) for f in found] == [("dsp.prohibited-transaction", 101)]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["events_total"] == 2
    assert summary["protected_accesses"] == 1


def test_day_by_day_incremental_scans_equal_a_full_rescan(tmp_path: Path) -> None:
    """Subjects named by item keys, over days a year apart: the per-day subject sets kept
    in the scan state give every DSP finding exactly as a full rescan."""
    folder, logs = _batch_case(tmp_path)
    reader = "reader-genomes-plus-one"
    days = {
        # 60 on day 1 and 41 more on day 365: 101 in one window; 41 on day 366 are not.
        "2025-01-01": list(_reads(reader, "ddb-genomes", 60, 1, "2025-01-01")),
        "2025-06-01": list(_reads("reader-genomes-exactly", "ddb-genomes", 100, 500, "2025-06-01")),
        "2025-12-31": [
            {**r, "eventID": f"late-{i}"}
            for i, r in enumerate(_reads(reader, "ddb-genomes", 101, 1000, "2025-12-31"))
            if i >= 4  # the batches: p0 again and p4..p100
        ],
        "2026-01-01": list(
            _reads("reader-genomes-minus-one", "ddb-genomes", 99, 2000, "2026-01-01")
        ),
    }
    rules_seen: set[str] = set()
    for day, records in sorted(days.items()):
        (logs / f"{day}.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
        daily = _dsp(_scan(folder, logs, tmp_path / "daily", "--incremental"))
        full_out = tmp_path / "full"
        full = _dsp(_scan(folder, logs, full_out))
        shutil.rmtree(full_out)
        for finding in (*daily, *full):
            finding.pop("provenance")
        assert daily == full, day
        rules_seen |= {f["rule"] for f in full}
    assert rules_seen == {"dsp.prohibited-transaction"}
    assert [f["count"] for f in full] == [101]


# ---------------------------------------------------------------------------------------
# Hostile parameters: never an exception, always names the readers agree on

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["SELECT * FROM t WHERE a = 'x'", "k = :v", "***(Redacted)", "'", "/="]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
_PARAMETERS = st.dictionaries(
    st.sampled_from(["tableName", *ITEM_PARAMETERS]),
    _JSON,
    max_size=5,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parameters=_PARAMETERS)
def test_any_parameters_give_text_names_and_never_raise(parameters: dict[str, Any]) -> None:
    names = item_names(DYNAMODB, parameters, "us-east-1", ACCOUNT)
    assert all(isinstance(n, str) and "/item/" in n for n in names)
    assert len(names) == len(set(names))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(parameters=st.lists(_PARAMETERS, min_size=1, max_size=4))
def test_both_paths_agree_on_any_parameters(parameters: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory(prefix="dsp2-items-") as folder:
        path = Path(folder) / "trail.json"
        records = [_ddb(i, "GetItem", p) for i, p in enumerate(parameters)]
        path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
        fast = [row for b in SOURCE.read(path) for row in b.events.to_pylist()]
        slow = [row for b in SOURCE.read_forgiving(path) for row in b.events.to_pylist()]
        assert fast == slow


def test_a_very_long_statement_names_no_item_and_takes_no_time() -> None:
    statement = "SELECT * FROM t WHERE " + " FROM " * 200_000 + "a = 'x'"
    assert item_names(DYNAMODB, {"statement": statement}, "r", "a") == []
