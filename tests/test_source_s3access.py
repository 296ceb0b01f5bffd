"""The S3 server access log reader: raw text lines, JSON-string lines, Panther JSON, damage."""

from __future__ import annotations

import gzip
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from borderwatch.sources.cloudtrail import CloudTrailSource
from borderwatch.sources.inputs import head_bytes
from borderwatch.sources.s3_access import S3AccessSource
from readerkit import (
    ALL_SAMPLES,
    PANTHER,
    Read,
    check_byte_damage,
    check_sniff_isolation,
    fuzz_settings,
    json_lines,
    read_with,
)

SAMPLE = PANTHER / "AWS.S3ServerAccess.jsonl"
SCENARIO = PANTHER / "scenario_AWS.S3ServerAccess.jsonl"
SOURCE = S3AccessSource()

OWNER = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
# Lines as AWS documents them, with the fields added over the years, and one more
# hypothetical trailing field that a newer format might add.
RAW = [
    f"{OWNER} eu-data [06/Feb/2026:00:00:38 +0000] 192.0.2.3 "
    "arn:aws:iam::123456789012:user/alice 3E57427F3EXAMPLE REST.GET.OBJECT reports/q1.csv "
    '"GET /eu-data/reports/q1.csv HTTP/1.1" 200 - 113 113 7 6 "-" '
    '"aws-cli/2.15.0 Python/3.11" - Ow3Pxa/VEXAMPLE= SigV4 ECDHE-RSA-AES128-GCM-SHA256 '
    "AuthHeader eu-data.s3.eu-west-1.amazonaws.com TLSv1.2 - Yes",
    f"{OWNER} eu-data [06/Feb/2026:00:01:57 +0100] 2001:db8:4006:812::200e - "
    '891CE47D2EXAMPLE REST.GET.BUCKET - "GET /eu-data?list-type=2 HTTP/1.1" 403 '
    'AccessDenied 243 - 42 - "-" "curl/8.5.0" - BNaBsXZQQDbssi6xMBdBU2sLt+Yf5kZDmeBUP35sFoKa '
    "SigV4 ECDHE-RSA-AES128-SHA AuthHeader eu-data.s3.amazonaws.com TLSv1.3 - - newfield",
    f"{OWNER} eu-data [06/Feb/2026:00:02:00 +0000] 198.51.100.9 "
    "arn:aws:sts::123456789012:assumed-role/Loader/etl 7B4A0FABBEXAMPLE REST.PUT.OBJECT "
    'in/a.json "PUT /in/a.json HTTP/1.1" 200 - - 532 20 19 "-" "Boto3/1.34" -',
    "this line was cut short by a copy tool",
    f"{OWNER} eu-data [31/Feb/2026:00:02:00 +0000] 198.51.100.9 - X REST.GET.OBJECT k "
    '"GET /k HTTP/1.1" 200 -',
]


def read_all(path: Path) -> Read:
    return read_with(SOURCE, path, batch_size=3)


def test_raw_text_lines(tmp_path: Path) -> None:
    path = tmp_path / "2026-02-06-00-05-00-ABC"
    path.write_text("\n".join(RAW) + "\n")
    assert SOURCE.sniff(path, head_bytes(path))
    assert not CloudTrailSource().sniff(path, head_bytes(path))
    read, rows, quarantined = read_all(path)
    assert read == 5 and len(rows) == 3
    get, listing, put = rows
    assert get["event_id"] == "3E57427F3EXAMPLE"
    assert get["event_time"].isoformat() == "2026-02-06T00:00:38+00:00"
    assert (get["caller"], get["principal"], get["principal_type"]) == (
        "192.0.2.3",
        "arn:aws:iam::123456789012:user/alice",
        "IAMUser",
    )
    assert get["resources"] == [
        "eu-data",
        "arn:aws:s3:::eu-data",
        "arn:aws:s3:::eu-data/reports/q1.csv",
    ]
    assert (get["read_only"], get["error_code"], get["region"]) == (True, None, "eu-west-1")
    assert get["user_agent"] == "aws-cli/2.15.0 Python/3.11"
    assert listing["caller"] == "2001:db8:4006:812::200e"
    assert (listing["principal"], listing["principal_type"]) == (None, "Anonymous")
    assert listing["event_time"].isoformat() == "2026-02-05T23:01:57+00:00"  # +0100 to UTC
    assert listing["error_code"] == "AccessDenied" and listing["resources"][0] == "eu-data"
    assert put["read_only"] is False and put["principal_aliases"] == [
        "arn:aws:iam::123456789012:role/Loader",
        "etl",
    ]
    positions = {q.position: q.reason for q in quarantined}
    assert "not an S3 server access log line" in positions["line 4"]
    assert "not an access log time" in positions["line 5"]


def test_panther_json_samples_account_for_every_line() -> None:
    records = json_lines(SAMPLE)
    timed = [r for r in records if r.get("time")]
    read, rows, quarantined = read_all(SAMPLE)
    assert read == len(records) == 16
    assert len(rows) == len(timed) == 11
    assert all("time missing" in q.reason for q in quarantined)
    first = rows[0]
    assert (first["action"], first["error_code"], first["caller"]) == (
        "REST.PUT.OBJECT",
        "SignatureDoesNotMatch",
        "54.159.198.108",
    )
    assert first["region"] == "us-west-2" and first["resources"][0] == "cloudtrail"
    status_only = [r for r in rows if r["action"] == "REST.HEAD.BUCKET"]
    assert {r["error_code"] for r in status_only} == {"InternalServerError"}


def test_panther_scenario_lines_are_raw_lines_in_json_strings() -> None:
    read, rows, quarantined = read_all(SCENARIO)
    assert read == 3 and len(rows) == 3 and not quarantined
    assert rows[0]["resources"][0] == "acme.customerdata-prod"
    assert rows[0]["principal"] == "arn:aws:iam::493859302102:user/tracy_stone"
    assert rows[0]["event_time"].isoformat() == "2020-11-01T10:43:07+00:00"


def test_http_status_alone_marks_a_failure() -> None:
    from borderwatch.sources.s3_access import normalise

    row = normalise({"bucket": "b", "time": "2026-01-01 00:00:00", "httpstatus": "404"})
    assert row["error_code"] == "404"


def test_damage_is_placed_and_told_as_in_every_line_reader(tmp_path: Path) -> None:
    # Trailing garbage after the gzip member loses nothing: the reason must not say so.
    good = "\n".join(RAW[:3]).encode() + b"\n"
    trailing = tmp_path / "trailing.gz"
    trailing.write_bytes(gzip.compress(good) + b"GARBAGE appended by someone")
    read, rows, quarantined = read_all(trailing)
    assert read == 4 and len(rows) == 3
    (garbage,) = quarantined
    assert garbage.position == "after line 3"
    assert "trailing garbage" in garbage.reason
    assert "lost" not in garbage.reason
    # Damage before the first line is at the start of the file, not "after line 0".
    broken = tmp_path / "broken.gz"
    broken.write_bytes(gzip.compress(good * 50)[:40])
    read, rows, quarantined = read_all(broken)
    assert read == 1 and not rows
    (damage,) = quarantined
    assert damage.position == "start of file"
    assert damage.reason.endswith("records after this point are lost")


def test_sniff_claims_only_s3_access_logs() -> None:
    check_sniff_isolation(SOURCE, [SAMPLE, SCENARIO], ALL_SAMPLES)


@fuzz_settings()
@given(data=st.data())
def test_random_corruption_never_raises_and_accounts(tmp_path: Path, data: st.DataObject) -> None:
    original = ("\n".join(RAW) + "\n").encode() + SAMPLE.read_bytes()[:3000]
    check_byte_damage(SOURCE, data, original, tmp_path / "fuzz.log", batch_size=3)
