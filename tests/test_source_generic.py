"""The mapping-driven generic reader: mapping errors, CSV/JSON/Parquet, the honeybucket scan."""

from __future__ import annotations

import csv
import gzip
import json
from collections import Counter
from pathlib import Path
from typing import Any

import iptocc
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from borderwatch.api import new_context, scan
from borderwatch.policy import country_groups
from borderwatch.sources.generic import GenericSource, source_from_mapping_file
from borderwatch.sources.inputs import head_bytes
from borderwatch.sources.mapping import MappingError, parse_mapping
from readerkit import (
    ALL_SAMPLES,
    Read,
    check_byte_damage,
    check_sniff_isolation,
    fuzz_settings,
    read_with,
)
from readerkit import HONEYBUCKET as HONEY

MAPPING = Path(__file__).resolve().parent / "mappings" / "honeybucket.yaml"
BUCKET = "microsoft-devtest"


def read_all(source: Any, path: Path) -> Read:
    return read_with(source, path, batch_size=50)


def honey_rows() -> list[dict[str, str]]:
    with HONEY.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_honeybucket_every_row_is_read_with_its_fields() -> None:
    source = source_from_mapping_file(MAPPING)
    assert source.name == "otrf-honeybucket-csv"
    read, rows, quarantined = read_all(source, HONEY)
    assert read == len(rows) == 301 and not quarantined
    assert len({r["caller"] for r in rows}) == 224
    assert all(BUCKET in r["resources"] for r in rows)
    first = rows[0]
    assert first["event_id"] == "283770f5-968d-448d-9328-0b010f4d3696"
    assert first["event_time"].isoformat() == "2022-02-18T17:34:57+00:00"
    assert first["caller"] == "177.131.167.145"
    assert first["principal"] == "ANONYMOUS_PRINCIPAL"
    assert first["principal_type"] == "AWSAccount"
    assert first["action"] == "ListObjects"
    assert first["region"] == "eu-west-1" and first["provider"] == "aws"
    expected_actions = Counter(r["Event Name"] for r in honey_rows())
    assert Counter(r["action"] for r in rows) == expected_actions


def test_honeybucket_sniffs_by_header_and_others_do_not() -> None:
    check_sniff_isolation(source_from_mapping_file(MAPPING), [HONEY], ALL_SAMPLES)
    # Without header columns the generic source never claims a file.
    plain = parse_mapping(b"name: x\ninput: csv\ncolumns: {event_time: Event DateTime}\n", "m")
    assert not GenericSource(plain).sniff(HONEY, head_bytes(HONEY))


def test_honeybucket_scan_finds_non_eea_callers_only(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "borderwatch: policy/v1\nname: eu-only\nversion: '1'\n"
        "data_classes:\n  eu_data:\n    storage:\n      approved:\n"
        "        - {provider: aws, region: eu-west-1}\n"
        "    access:\n      allowed_countries: [eea]\n",
        encoding="utf-8",
    )
    inventory = tmp_path / "stores.csv"
    inventory.write_text(
        "store_id,provider,region,service,data_classes,records,copy_of\n"
        f"{BUCKET},aws,eu-west-1,s3,eu_data,1,\n",
        encoding="utf-8",
    )
    source = source_from_mapping_file(MAPPING)
    ctx = new_context()
    ctx.registry.sources.add(source.name, source)
    result = scan(
        policy=policy,
        inventory=[inventory],
        events=[HONEY],
        context=ctx,
        event_format=source.name,
    )
    (summary,) = [i for i in result.inputs if i.kind == "events"]
    assert (summary.records_read, summary.accepted, summary.quarantined) == (301, 301, 0)
    assert summary.format == "otrf-honeybucket-csv"

    # Expected independently: each event's caller country by iptocc, outside the EEA.
    eea = country_groups()["eea"].codes
    per_country: Counter[str] = Counter()
    ips_by_country: dict[str, set[str]] = {}
    for row in honey_rows():
        country = iptocc.country_code(row["Source IP"])
        if country and country not in eea:
            per_country[country] += 1
            ips_by_country.setdefault(country, set()).add(row["Source IP"])
    assert per_country, "the honeybucket has non-EEA callers"

    # An allow-list (EEA only): its findings cite the allow-list (issue 15).
    findings = [f for f in result.findings if f.rule == "access.outside-allowed-countries"]
    assert {f.resource for f in findings} == {BUCKET}
    assert {f.country for f in findings} == set(per_country)
    assert not {f.country for f in findings} & eea
    counted: Counter[str] = Counter()
    for finding in findings:
        counted[finding.country or ""] += finding.count
        assert set(finding.evidence["callers"]) <= ips_by_country[finding.country or ""]
    assert counted == per_country


def test_mapping_errors_name_line_and_column() -> None:
    bad = (
        b"name: x\n"
        b"input: xml\n"
        b"colour: red\n"
        b"columns:\n"
        b"  event_time: Time\n"
        b"  caller_ip: Source\n"
        b"  principal: {column: User, parse: eval}\n"
    )
    with pytest.raises(MappingError) as caught:
        parse_mapping(bad, "bad.yaml")
    where = {str(p.location): p.message for p in caught.value.problems}
    assert "bad.yaml:2:8" in where and "xml" in where["bad.yaml:2:8"]
    assert "bad.yaml:3:1" in where and "colour" in where["bad.yaml:3:1"]
    assert "bad.yaml:6:3" in where and "caller_ip" in where["bad.yaml:6:3"]
    assert any("parse" in m and "eval" in m for m in where.values())
    with pytest.raises(MappingError, match="event_time"):
        parse_mapping(b"name: x\ninput: csv\ncolumns: {caller: ip}\n", "m.yaml")
    with pytest.raises(MappingError, match=r"m.yaml:2:\d+: YAML syntax error"):
        parse_mapping(b"name: x\n  input: [csv\n", "m.yaml")
    with pytest.raises(MappingError, match="empty"):
        parse_mapping(b"", "m.yaml")


def test_python_literal_cells_are_never_evaluated_as_code(tmp_path: Path) -> None:
    mapping = parse_mapping(
        b"name: lit\ninput: csv\ncolumns:\n  event_time: t\n"
        b"  principal: {column: who, parse: python-literal, path: name}\n",
        "m",
    )
    path = tmp_path / "x.csv"
    marker = tmp_path / "pwned"
    path.write_text(
        "t,who\n"
        "2026-01-01T00:00:00Z,\"{'name': 'alice'}\"\n"
        f"2026-01-01T00:00:00Z,\"__import__('pathlib').Path('{marker}').touch()\"\n"
        "2026-01-01T00:00:00Z,\n",
        encoding="utf-8",
    )
    read, rows, quarantined = read_all(GenericSource(mapping), path)
    assert read == 3 and [r["principal"] for r in rows] == ["alice", None]
    (q,) = quarantined
    assert q.position == "line 3" and "not a Python literal" in q.reason
    assert not marker.exists()


def test_csv_damage_is_quarantined_with_line_numbers(tmp_path: Path) -> None:
    mapping = parse_mapping(
        b"name: c\ninput: csv\ntime_format: '%d/%m/%Y %H:%M'\n"
        b"columns: {event_time: when, caller: ip, resources: [bucket]}\n",
        "m",
    )
    path = tmp_path / "c.csv.gz"
    path.write_bytes(
        gzip.compress(
            b"when,ip,bucket\n"
            b"01/02/2026 10:00,192.0.2.1,b1\n"
            b"2026-02-01,192.0.2.2,b1\n"
            b"01/02/2026 10:00,192.0.2.3\n"
            b'"01/02/2026\n11:00",192.0.2.4,b2\n'
            b",192.0.2.5,b2\n"
        )
    )
    read, rows, quarantined = read_all(GenericSource(mapping), path)
    assert read == 5 and len(rows) == 2
    assert rows[0]["event_time"].isoformat() == "2026-02-01T10:00:00+00:00"
    assert rows[0]["resources"] == ["b1"]
    # A quoted cell may span lines; the record keeps its first line's number.
    assert rows[1]["event_time"].isoformat() == "2026-02-01T11:00:00+00:00"
    assert rows[1]["input_record"] == 4
    positions = {q.position: q.reason for q in quarantined}
    assert "time_format" in positions["line 3"]
    assert "2 fields" in positions["line 4"]
    assert "time missing" in positions["line 7"]


def test_json_lines_and_parquet_with_epoch_and_nested_paths(tmp_path: Path) -> None:
    yaml = (
        "name: {name}\ninput: {kind}\nepoch: ms\nheader: [ts, who]\ncolumns:\n"
        "  event_time: ts\n  principal: who.name\n  caller: net.ip\n"
        "  provider: {{value: gcp}}\n  read_only: ro\n  resources: [objs]\n"
    )
    records = [
        {"ts": 1767225600000, "who": {"name": "a"}, "net": {"ip": "192.0.2.9"}, "ro": True,
         "objs": ["o1", "o2"]},
        {"ts": None, "who": {"name": "b"}, "net": {"ip": "192.0.2.8"}, "ro": False,
         "objs": []},
    ]  # fmt: skip
    jsonl = tmp_path / "e.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in records) + "\n{broken\n")
    parquet = tmp_path / "e.parquet"
    pq.write_table(pa.Table.from_pylist(records), parquet)
    for kind, path, extra in (("jsonl", jsonl, 1), ("parquet", parquet, 0)):
        source = GenericSource(parse_mapping(yaml.format(name=kind, kind=kind).encode(), "m"))
        assert source.sniff(path, head_bytes(path))
        read, rows, quarantined = read_all(source, path)
        assert read == 2 + extra and len(rows) == 1 and len(quarantined) == 1 + extra
        (row,) = rows
        assert row["event_time"].isoformat() == "2026-01-01T00:00:00+00:00"
        assert (row["principal"], row["caller"], row["provider"]) == ("a", "192.0.2.9", "gcp")
        assert row["read_only"] is True and row["resources"] == ["o1", "o2"]
        assert row["event_id"].startswith("sha256:")


@fuzz_settings()
@given(data=st.data())
def test_random_corruption_never_raises_and_accounts(tmp_path: Path, data: st.DataObject) -> None:
    source, original = source_from_mapping_file(MAPPING), HONEY.read_bytes()[:6000]
    path = tmp_path / "fuzz.csv"
    check_byte_damage(source, data, original, path, batch_size=50, gzip_layer=False)
