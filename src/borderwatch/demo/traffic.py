"""Generate ClipStream's CloudTrail traffic: background activity plus the planted events.

Caller addresses are drawn from blocks whose registered country is checked against the
embedded IP data at generation time, so the demo stays honest if that data changes.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from borderwatch.demo import company as co

# Address blocks by registered country (checked at run time, see AddressPools).
_BLOCKS: dict[str, tuple[str, ...]] = {
    "US": ("12.34.0.0/16", "24.1.0.0/16", "65.55.0.0/16"),
    "US-cloud": ("3.80.0.0/16", "54.80.0.0/16"),  # cloud-hosted callers (CI, jobs)
    "US-v6": ("2001:4860::/32",),
    "CN": ("36.96.0.0/16", "220.181.0.0/16", "114.240.0.0/16"),
    "HK": ("203.198.0.0/16", "1.64.0.0/16"),
    "SG": ("202.156.0.0/16", "175.156.0.0/16"),
    "IE": ("87.32.0.0/16", "86.40.0.0/16"),
    "NL-vpn": ("185.107.56.0/24",),  # a commercial VPN exit
    "private": ("10.20.0.0/16",),
}
_EXPECTED_COUNTRY = {
    "US": "US",
    "US-cloud": "US",
    "US-v6": "US",
    "CN": "CN",
    "HK": "HK",
    "SG": "SG",
    "IE": "IE",
    "NL-vpn": "NL",
}


class AddressPools:
    """Per-pool lists of addresses whose registered country is what the demo claims."""

    def __init__(self, rng: random.Random, per_pool: int = 64) -> None:
        import iptocc

        self.pools: dict[str, list[str]] = {}
        for pool, blocks in _BLOCKS.items():
            candidates = [_random_address(rng, rng.choice(blocks)) for _ in range(per_pool)]
            expected = _EXPECTED_COUNTRY.get(pool)
            if expected is not None:
                countries = iptocc.country_code(candidates)
                candidates = [
                    a for a, c in zip(candidates, countries, strict=True) if c == expected
                ]
            if not candidates:
                raise RuntimeError(
                    f"demo address pool {pool!r} has no address registered in {expected}; "
                    "the embedded IP data changed: update borderwatch/demo/traffic.py"
                )
            self.pools[pool] = candidates

    def pick(self, rng: random.Random, pool: str) -> str:
        return rng.choice(self.pools[pool])


def _random_address(rng: random.Random, cidr: str) -> str:
    net = ipaddress.ip_network(cidr)
    offset = rng.randrange(1, min(net.num_addresses - 1, 2**32))
    return str(net.network_address + offset)


@dataclass(frozen=True)
class Access:
    """One request: who, from where, what, when."""

    principal: str
    identity: dict[str, Any]
    caller: str
    store: str
    action: str
    when: dt.datetime
    error: str | None = None


_STORE_REGION = {s.store_id: s.region for s in co.STORES}
_STORE_SERVICE = {s.store_id: s.service for s in co.STORES}
_ACTIONS = {
    "s3": (("GetObject", True), ("PutObject", False), ("ListObjects", True), ("HeadObject", True)),
    "dynamodb": (("GetItem", True), ("Query", True), ("UpdateItem", False), ("PutItem", False)),
    "rds": (("ExecuteStatement", False), ("BatchExecuteStatement", False)),
}


def _user_identity(person: co.Person) -> dict[str, Any]:
    return {
        "type": "IAMUser",
        "principalId": "AIDA" + uuid.uuid5(uuid.NAMESPACE_DNS, person.user).hex[:16].upper(),
        "arn": person.arn,
        "accountId": co.ACCOUNT,
        "userName": person.user,
    }


def _plain_user(arn: str) -> dict[str, Any]:
    name = arn.rsplit("/", 1)[-1]
    return {
        "type": "IAMUser",
        "principalId": "AIDA" + name.upper()[:16],
        "arn": arn,
        "accountId": co.ACCOUNT,
        "userName": name,
    }


def _replication_identity() -> dict[str, Any]:
    return {
        "type": "AssumedRole",
        "principalId": "AROAREPLICATION:s3-replication",
        "arn": f"arn:aws:sts::{co.ACCOUNT}:assumed-role/s3-replication/s3-replication",
        "accountId": co.ACCOUNT,
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": "AROAREPLICATION",
                "arn": co.REPLICATION_ROLE,
                "accountId": co.ACCOUNT,
                "userName": "s3-replication",
            }
        },
    }


def generate(total: int, seed: int, end: dt.datetime) -> Iterator[Access]:
    """`total` accesses over the 30 days before `end`: planted ones first, then background."""
    rng = random.Random(seed)
    pools = AddressPools(rng)
    start = end - dt.timedelta(days=30)

    def when() -> dt.datetime:
        return start + dt.timedelta(seconds=rng.randrange(30 * 86400))

    planted = list(_planted(rng, pools, when))
    yield from planted
    daily = list(_replication(start, end))
    yield from daily
    background = max(total - len(planted) - len(daily), 0)
    protected = co.PROTECTED_STORES
    unprotected = (co.METRICS, co.PUBLIC)
    for _ in range(background):
        roll = rng.random()
        if roll < 0.62:
            person = rng.choice(co.US_STAFF)
            pool = rng.choices(["US", "US-cloud", "US-v6", "NL-vpn"], [80, 10, 6, 4])[0]
            yield _access(rng, person, pools.pick(rng, pool), rng.choice(protected), when())
        elif roll < 0.70:
            person = rng.choice(co.SG_STAFF)
            yield _access(rng, person, pools.pick(rng, "SG"), rng.choice(protected), when())
        elif roll < 0.76:
            person = rng.choice(co.IE_STAFF)
            yield _access(rng, person, pools.pick(rng, "IE"), rng.choice(protected), when())
        elif roll < 0.86:
            # China-based staff work on metrics and public content, not US user data.
            person = rng.choice(co.CN_STAFF[:3])
            yield _access(rng, person, pools.pick(rng, "CN"), rng.choice(unprotected), when())
        elif roll < 0.865:
            # ... and their attempts on protected data are denied by the gateway.
            person = rng.choice(co.CN_STAFF[:3])
            yield _access(
                rng, person, pools.pick(rng, "CN"), co.MEDIA, when(), error="AccessDenied"
            )
        elif roll < 0.95:
            yield Access(
                co.REPLICATION_ROLE,
                _replication_identity(),
                "s3.amazonaws.com",
                co.MEDIA,
                "GetObject",
                when(),
            )
        else:
            yield Access(
                co.REPLICATION_ROLE,
                _replication_identity(),
                "AWS Internal",
                co.PROFILES,
                "Query",
                when(),
            )


# What S3 replication does every day: it reads the media bucket and writes its replicas,
# and gathers business metrics and public videos from the other regions.
_REPLICATED = (
    (co.MEDIA, "GetObject"),
    (f"{co.MEDIA}-replica", "ReplicateObject"),
    (co.MEDIA_DR, "ReplicateObject"),
    (co.METRICS, "ReplicateObject"),
    (co.PUBLIC, "ReplicateObject"),
)


def _replication(start: dt.datetime, end: dt.datetime) -> Iterator[Access]:
    """One replicated object per day and bucket, at noon (or the window's edge).

    A complete trail: every region the company uses has events on every day of the
    window, and every replica is seen in the logs (the coverage rules find nothing).
    """
    last = end - dt.timedelta(seconds=1)
    day = start.date()
    while day <= last.date():
        noon = dt.datetime.combine(day, dt.time(12), tzinfo=start.tzinfo)
        at = min(max(noon, start), last)
        for store, action in _REPLICATED:
            yield Access(
                co.REPLICATION_ROLE, _replication_identity(), "s3.amazonaws.com", store, action, at
            )
        day += dt.timedelta(days=1)


def _access(
    rng: random.Random,
    person: co.Person,
    caller: str,
    store: str,
    at: dt.datetime,
    error: str | None = None,
) -> Access:
    action = rng.choice(_ACTIONS[_STORE_SERVICE[store]])[0]
    return Access(person.arn, _user_identity(person), caller, store, action, at, error)


def _planted(rng: random.Random, pools: AddressPools, when: Any) -> Iterator[Access]:
    for _ in range(12):
        yield _access(rng, co.WANG_LEI, pools.pick(rng, "CN"), co.PROFILES, when())
    for _ in range(7):  # through a US VPN exit: only the identity gives him away
        yield _access(rng, co.ZHANG_WEI, pools.pick(rng, "US-cloud"), co.MEDIA, when())
    for _ in range(5):
        yield _access(rng, co.LI_NA, pools.pick(rng, "CN"), co.MEDIA, when())
    for _ in range(3):
        yield Access(
            co.CONTRACTOR_ARN,
            _plain_user(co.CONTRACTOR_ARN),
            pools.pick(rng, "HK"),
            co.ACCOUNTS,
            "ExecuteStatement",
            when(),
        )
    for _ in range(40):
        yield Access(
            co.LEGACY_SYNC_ARN,
            _plain_user(co.LEGACY_SYNC_ARN),
            pools.pick(rng, "private"),
            co.PROFILES,
            "Query",
            when(),
        )


def to_record(access: Access, rng: random.Random) -> dict[str, Any]:
    """The CloudTrail record of one access, as S3 delivery would hold it."""
    region = _STORE_REGION[access.store]
    service = _STORE_SERVICE[access.store]
    read_only = {**dict(_ACTIONS[service]), "ReplicateObject": False}.get(access.action, True)
    record: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": access.identity,
        "eventTime": access.when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "awsRegion": region,
        "sourceIPAddress": access.caller,
        "userAgent": rng.choice(["aws-sdk-go-v2/1.30.3", "Boto3/1.35.0", "aws-cli/2.17.0"]),
        "requestID": f"{rng.getrandbits(64):016X}",
        "eventID": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": False,
        "recipientAccountId": co.ACCOUNT,
        "eventCategory": "Data",
    }
    if service == "s3":
        key = f"media/{rng.getrandbits(40):010x}.mp4"
        record["eventSource"] = "s3.amazonaws.com"
        record["requestParameters"] = {"bucketName": access.store, "key": key}
        record["resources"] = [
            {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{access.store}/{key}"},
            {
                "accountId": co.ACCOUNT,
                "type": "AWS::S3::Bucket",
                "ARN": f"arn:aws:s3:::{access.store}",
            },
        ]
    elif service == "dynamodb":
        arn = f"arn:aws:dynamodb:{region}:{co.ACCOUNT}:table/{access.store}"
        record["eventSource"] = "dynamodb.amazonaws.com"
        record["requestParameters"] = {"tableName": access.store}
        record["resources"] = [
            {"accountId": co.ACCOUNT, "type": "AWS::DynamoDB::Table", "ARN": arn}
        ]
    else:
        arn = f"arn:aws:rds:{region}:{co.ACCOUNT}:cluster:{access.store}"
        record["eventSource"] = "rds-data.amazonaws.com"
        record["requestParameters"] = {"resourceArn": arn, "database": "accounts"}
        record["resources"] = [{"accountId": co.ACCOUNT, "type": "AWS::RDS::DBCluster", "ARN": arn}]
    record["eventName"] = access.action
    if access.error:
        record["errorCode"] = access.error
        record["errorMessage"] = "Access Denied"
    return record
