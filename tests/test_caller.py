"""Caller classification: every kind of value a caller field holds, and IP countries."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from borderwatch.enrich import caller as c


def _classify(values: list[str | None]) -> list[dict]:
    return c.classify_callers(pa.array(values, pa.string())).to_pylist()


def test_kinds_of_caller_values() -> None:
    rows = _classify(
        [
            "81.2.69.142",
            "81.2.69.142:8443",
            "010.1.1.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "192.0.2.10",
            "224.0.0.1",
            "255.255.255.255",
            "AWS Internal",
            "ec2.amazonaws.com",
            "cloudtrail.amazonaws.com",
            "",
            None,
            "   ",
            "not-an-ip",
            "999.1.1.1",
            "2001:470::1",
            "[2400:8800::1]:443",
            "::1",
            "fe80::1%eth0",
            "fd00::1",
            "2001:db8::5",
            "::ffff:36.96.1.1",
        ]
    )
    kinds = [r["caller_kind"] for r in rows]
    assert kinds == [
        c.PUBLIC,
        c.PUBLIC,
        c.PRIVATE,
        c.PRIVATE,
        c.PRIVATE,
        c.PRIVATE,
        c.LOOPBACK,
        c.LINK_LOCAL,
        c.SHARED,
        c.DOCUMENTATION,
        c.MULTICAST,
        c.RESERVED,
        c.PROVIDER_INTERNAL,
        c.PROVIDER_SERVICE,
        c.PROVIDER_SERVICE,
        c.MISSING,
        c.MISSING,
        c.MISSING,
        c.UNRECOGNIZED,
        c.UNRECOGNIZED,
        c.PUBLIC,
        c.PUBLIC,
        c.LOOPBACK,
        c.LINK_LOCAL,
        c.PRIVATE,
        c.DOCUMENTATION,
        c.PUBLIC,
    ]
    ips = [r["ip"] for r in rows]
    assert ips[1] == "81.2.69.142"  # port dropped
    assert ips[2] == "10.1.1.1"  # leading zeros dropped
    assert ips[21] == "2400:8800::1"  # brackets and port dropped
    assert ips[26] == "36.96.1.1"  # IPv4-mapped IPv6 is judged as IPv4
    countries = [r["ip_country"] for r in rows]
    assert countries[0] == "GB" and countries[1] == "GB"
    assert countries[20] == "US"
    assert countries[21] == "HK"
    assert countries[26] == "CN"
    # Only public addresses carry a country; nothing else is guessed.
    for row in rows:
        if row["caller_kind"] != c.PUBLIC:
            assert row["ip_country"] is None, row


def test_many_callers_in_one_call() -> None:
    values = [f"{(i % 200) + 1}.{i % 256}.{(i // 256) % 256}.{i % 250 + 1}" for i in range(50_000)]
    table = c.classify_callers(pa.array(values))
    assert table.num_rows == 50_000
    assert table.column("caller").to_pylist() == values


def test_ip_data_version_names_the_kind_of_country() -> None:
    assert "registration" in c.ip_data_version()


@given(st.lists(st.one_of(st.none(), st.text(max_size=60)), max_size=50))
def test_never_raises_and_keeps_order(values: list[str | None]) -> None:
    table = c.classify_callers(pa.array(values, pa.string()))
    assert table.column("caller").to_pylist() == values
    assert None not in table.column("caller_kind").to_pylist()


@given(st.ip_addresses())
def test_any_address_is_classified(address) -> None:  # type: ignore[no-untyped-def]
    row = _classify([str(address)])[0]
    assert row["caller_kind"] not in (c.UNRECOGNIZED, c.MISSING)
    assert row["ip"] is not None
