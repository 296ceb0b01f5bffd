"""ClipStream, a fictional short-video app under a data-security agreement.

US user data must live only on the trusted cloud's US regions (AWS US here, because the
demo's logs are CloudTrail) and must not be reached from countries of concern. The
company still has legacy copies on its own servers in Singapore and Virginia, staff in
the US, China, Singapore and Ireland, a few VPN and cloud-hosted callers, and one
approved emergency exception. Every planted problem is listed in `planted()`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from borderwatch.demo import oversight

ACCOUNT = "111122223333"
POLICY_NAME = "clipstream-nsa"


@dataclass(frozen=True)
class DemoStore:
    store_id: str
    provider: str
    region: str
    service: str
    data_classes: tuple[str, ...]
    records: int
    copy_of: str = ""
    country: str = ""


@dataclass(frozen=True)
class Person:
    user: str  # IAM user name
    person: str
    work_country: str
    employer: str

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{ACCOUNT}:user/{self.user}"


@dataclass(frozen=True)
class Planted:
    """One problem the scan must find: rule, subject, and whether an exception mutes it."""

    rule: str
    resource: str
    principal: str | None = None
    country: str | None = None
    status: str = "open"

    def describe(self) -> str:
        who = f" by {self.principal}" if self.principal else ""
        where = f" from {self.country}" if self.country else ""
        return f"{self.rule}: {self.resource}{who}{where} ({self.status})"


MEDIA = "clipstream-us-user-media"
PROFILES = "us-user-profiles"
ACCOUNTS = "us-user-accounts"
MEDIA_DR = "clipstream-us-user-media-dr"
LEGACY_SG = "sg-dc1-userdb-legacy"
LEGACY_VA = "va-dc2-userdb-backup"
EXPORT = "clipstream-analytics-export"
METRICS = "clipstream-business-metrics"
PUBLIC = "clipstream-public-videos"

US_DATA = ("us_user_data",)

STORES: tuple[DemoStore, ...] = (
    DemoStore(MEDIA, "aws", "us-east-1", "s3", US_DATA, 48_000_000),
    DemoStore(f"{MEDIA}-replica", "aws", "us-west-2", "s3", (), 48_000_000, copy_of=MEDIA),
    DemoStore(PROFILES, "aws", "us-west-2", "dynamodb", US_DATA, 150_000_000),
    DemoStore(ACCOUNTS, "aws", "us-east-1", "rds", US_DATA, 150_000_000),
    DemoStore(
        f"{ACCOUNTS}-snap-weekly",
        "aws",
        "us-east-2",
        "rds-snapshot",
        (),
        150_000_000,
        copy_of=ACCOUNTS,
    ),
    # Planted: a disaster-recovery replica that lands in Singapore.
    DemoStore(MEDIA_DR, "aws", "ap-southeast-1", "s3", (), 48_000_000, copy_of=MEDIA),
    # Planted: the legacy database on the company's own servers in Singapore...
    DemoStore(LEGACY_SG, "onprem", "sg-dc1", "mysql", US_DATA, 12_500_000, country="SG"),
    # ...and its backup on the company's own servers in Virginia: in the US, but not on
    # the trusted cloud, so still outside the approved locations.
    DemoStore(
        LEGACY_VA, "onprem", "va-dc2", "backup", (), 12_500_000, copy_of=LEGACY_SG, country="US"
    ),
    # Planted: a region typo nobody noticed: unknown is a verdict, not a pass.
    DemoStore(EXPORT, "aws", "us-east-7", "s3", US_DATA, 2_000_000),
    # Not protected by the agreement: business metrics and public videos.
    DemoStore(METRICS, "aws", "ap-southeast-1", "s3", ("business_metrics",), 9_000_000),
    DemoStore(PUBLIC, "aws", "eu-west-1", "s3", ("public_content",), 700_000_000),
)

PROTECTED_STORES = (MEDIA, PROFILES, ACCOUNTS)

_US = "ClipStream USDS Inc."
_CN = "ClipStream Technology (Beijing) Co., Ltd."
_SG = "ClipStream Pte. Ltd."
_IE = "ClipStream Ireland Ltd."

US_STAFF = tuple(
    Person(f"{first}.{last}", f"{first}.{last}", "US", _US)
    for first, last in [
        ("alice", "nguyen"),
        ("bob", "martinez"),
        ("carol", "smith"),
        ("dan", "okafor"),
        ("erin", "johnson"),
        ("frank", "miller"),
        ("grace", "lee"),
        ("hank", "davis"),
        ("ivy", "wilson"),
        ("jack", "brown"),
        ("kate", "moore"),
        ("liam", "taylor"),
        ("maya", "anderson"),
        ("noah", "thomas"),
        ("olivia", "jackson"),
        ("paul", "white"),
        ("quinn", "harris"),
        ("rosa", "clark"),
        ("sam", "lewis"),
        ("tina", "walker"),
    ]
)
CN_STAFF = tuple(
    Person(name, name, "CN", _CN)
    for name in ("chen.jie", "liu.yang", "zhao.min", "wang.lei", "zhang.wei", "li.na")
)
SG_STAFF = tuple(
    Person(name, name, "SG", _SG) for name in ("tan.wei.ming", "lim.hui.min", "raj.kumar")
)
IE_STAFF = tuple(
    Person(name, name, "IE", _IE) for name in ("aoife.byrne", "sean.murphy", "niamh.kelly")
)
STAFF = US_STAFF + CN_STAFF + SG_STAFF + IE_STAFF

# Planted actors.
WANG_LEI = next(p for p in CN_STAFF if p.user == "wang.lei")  # reads profiles from China
ZHANG_WEI = next(p for p in CN_STAFF if p.user == "zhang.wei")  # via a US VPN exit
LI_NA = next(p for p in CN_STAFF if p.user == "li.na")  # emergency access, approved
CONTRACTOR_ARN = f"arn:aws:iam::{ACCOUNT}:user/ext-support-hk"  # not in the directory
LEGACY_SYNC_ARN = f"arn:aws:iam::{ACCOUNT}:user/legacy-sync"  # private IP, no identity
REPLICATION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/s3-replication"
EXCEPTION_ID = "EXC-2026-014"


def planted() -> list[Planted]:
    """The problems the company plants (its oversight's among them); demo/dsp.py and
    demo/feed.py plant theirs, and demo/run.py joins them: the scan must find exactly all."""
    return [
        Planted("residency.store-outside-approved", LEGACY_SG, country="SG"),
        Planted("residency.copy-outside-approved", LEGACY_VA, country="US"),
        Planted("residency.copy-outside-approved", MEDIA_DR, country="SG"),
        Planted("residency.location-unknown", EXPORT),
        Planted("access.prohibited-jurisdiction", PROFILES, WANG_LEI.arn, "CN"),
        Planted("access.prohibited-jurisdiction", MEDIA, ZHANG_WEI.arn, "CN"),
        Planted("access.prohibited-jurisdiction", ACCOUNTS, CONTRACTOR_ARN, "HK"),
        Planted("access.prohibited-jurisdiction", MEDIA, LI_NA.arn, "CN", status="muted"),
        Planted("access.unknown-location", PROFILES, LEGACY_SYNC_ARN),
        *(Planted(rule, resource) for rule, resource in oversight.planted()),
    ]


def policy_yaml(today: dt.date, expires: dt.date | None = None) -> str:
    """The demo company's policy: trusted-cloud US regions only, no country of concern;
    the emergency exception expires 180 days after `today` unless `expires` is given."""
    expires = expires or today + dt.timedelta(days=180)
    return f"""\
borderwatch: policy/v1
name: {POLICY_NAME}
version: "{today.year}.1"
description: >-
  ClipStream national security agreement (fictional). US user data lives only on the
  trusted cloud's US regions and is never reached from a country of concern.
data_classes:
  us_user_data:
    protected: true
    description: Personal data of US users
    storage:
      approved:
        - provider: aws
          country: US
    access:
      prohibited_countries: [dsp_countries_of_concern]
  business_metrics:
    protected: false
    description: Aggregated metrics (an agreed carve-out)
  public_content:
    protected: false
    description: Public videos and comments
exceptions:
  - id: {EXCEPTION_ID}
    rule: access.prohibited-jurisdiction
    data_class: us_user_data
    person: {LI_NA.person}
    country: CN
    approver: Security committee (J. Roe, chair)
    ticket: SEC-4821
    expires: {expires.isoformat()}
    reason: Emergency incident response on the media pipeline, supervised by USDS staff
"""


def inventory_csv(stores: tuple[DemoStore, ...] = STORES) -> str:
    lines = ["store_id,provider,region,service,data_classes,records,copy_of,country"]
    for s in stores:
        lines.append(
            ",".join(
                [
                    s.store_id,
                    s.provider,
                    s.region,
                    s.service,
                    ";".join(s.data_classes),
                    str(s.records),
                    s.copy_of,
                    s.country,
                ]
            )
        )
    return "\n".join(lines) + "\n"


def identities_csv() -> str:
    lines = ["principal,person,work_country,employer"]
    for p in STAFF:
        lines.append(f'{p.arn},{p.person},{p.work_country},"{p.employer}"')
    lines.append(f'{REPLICATION_ROLE},s3-replication (service role),US,"{_US}"')
    return "\n".join(lines) + "\n"
