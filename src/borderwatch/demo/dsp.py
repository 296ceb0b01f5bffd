"""ClipStream's bulk data under the Data Security Program (docs/dsp.md).

ClipStream keeps its creators' contact dossiers (covered personal identifiers of US
persons, 28 CFR 202.212) in one S3 bucket, one folder per creator. A data-labelling
contractor who lives in China (a covered person, 28 CFR 202.211(a)(4)) has read a few
hundred new dossiers a day, from a US address, since ten months before the demo's hour.
No access rule fires (the caller is in the US, the demo's policy names no covered-person
countries), but the distinct creators reached cross 100,000 in the ninth month: bulk
covered personal identifiers, `dsp.bulk-threshold-reached`.
"""

from __future__ import annotations

import datetime as dt
import gzip
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from borderwatch.demo import company as co

DOSSIERS = "clipstream-creator-dossiers"
CONTRACTOR = "ext-labeling-cn"
CONTRACTOR_ARN = f"arn:aws:iam::{co.ACCOUNT}:user/{CONTRACTOR}"
CATEGORY = "covered_personal_identifiers"
# Dossiers read per day, and for how many days: 368 a day passes 100,000 distinct
# creators on day 272 of the contractor's access (the ninth month), and 281 days end
# 19 days before the demo's hour.
PER_DAY = 368
DAYS = 281
FIRST_DAY_BEFORE_END = 300
CREATORS = 2_400_000
CALLER = "12.34.77.18"  # a US address (the demo's US pool, 12.34.0.0/16)
DATA_CLASS = "creator_dossiers"


@dataclass(frozen=True)
class DspInputs:
    inventory: Path
    identities: Path
    cloudtrail: Path


def planted() -> list[co.Planted]:
    """The DSP problem the demo plants."""
    return [
        co.Planted("dsp.bulk-threshold-reached", CATEGORY, f"person:{CONTRACTOR}", "CN"),
    ]


def policy_class() -> str:
    """The data class of the dossiers, for the policy's data_classes (indented)."""
    return f"""\
  {DATA_CLASS}:
    protected: true
    description: Creators' contact dossiers (covered personal identifiers, 28 CFR 202.212)
    dsp_categories: [{CATEGORY}]
    storage:
      approved:
        - provider: aws
          country: US
"""


def policy_dsp() -> str:
    """The policy's dsp section: countries of concern and where dossiers name a creator."""
    return f"""\
dsp:
  countries_of_concern: [dsp_countries_of_concern]
  subject_keys:
    - match: {DOSSIERS}
      pattern: 'creators/(?P<subject>[0-9]+)/'
"""


def with_dsp(policy: str) -> str:
    """The demo's policy with the dossiers' class and the dsp section added."""
    return policy.replace("data_classes:\n", "data_classes:\n" + policy_class(), 1) + policy_dsp()


def write_inputs(root: Path, now: dt.datetime) -> DspInputs:
    """Write the dossier bucket's inventory, the contractor's identity and the
    contractor's CloudTrail data events (one gzipped file per day) under root."""
    inputs = DspInputs(
        inventory=root / "inventory-dsp.csv",
        identities=root / "identities-dsp.csv",
        cloudtrail=root / "cloudtrail-dsp",
    )
    inputs.inventory.write_text(
        "store_id,provider,region,service,data_classes,records,dsp_subjects\n"
        f"{DOSSIERS},aws,us-east-1,s3,{DATA_CLASS},{CREATORS},{CREATORS}\n",
        encoding="utf-8",
    )
    inputs.identities.write_text(
        "principal,person,work_country,employer,resident_country,relationship\n"
        f'{CONTRACTOR_ARN},{CONTRACTOR},US,"Bright Label Services LLC",CN,contractor\n',
        encoding="utf-8",
    )
    encoder = msgspec.json.Encoder()
    start = (now - dt.timedelta(days=FIRST_DAY_BEFORE_END)).replace(hour=9)
    for day in range(DAYS):
        when = start + dt.timedelta(days=day)
        records = [
            _record(when + dt.timedelta(seconds=30 * i), day * PER_DAY + i) for i in range(PER_DAY)
        ]
        folder = inputs.cloudtrail / "AWSLogs" / co.ACCOUNT / "CloudTrail" / "us-east-1"
        folder = folder / f"{when:%Y}" / f"{when:%m}" / f"{when:%d}"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{co.ACCOUNT}_CloudTrail_us-east-1_{when:%Y%m%dT%H%M}Z_dsp{day:04d}.json.gz"
        (folder / name).write_bytes(gzip.compress(encoder.encode({"Records": records}), 5))
    return inputs


def _record(when: dt.datetime, creator: int) -> dict[str, Any]:
    key = f"creators/{1_000_000 + creator}/dossier.json"
    return {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXTLABELINGCN01",
            "arn": CONTRACTOR_ARN,
            "accountId": co.ACCOUNT,
            "userName": CONTRACTOR,
        },
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "awsRegion": "us-east-1",
        "sourceIPAddress": CALLER,
        "userAgent": "Boto3/1.35.0",
        "eventID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{DOSSIERS}/{creator}")),
        "readOnly": True,
        "eventType": "AwsApiCall",
        "managementEvent": False,
        "recipientAccountId": co.ACCOUNT,
        "eventCategory": "Data",
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "requestParameters": {"bucketName": DOSSIERS, "key": key},
        "resources": [
            {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{DOSSIERS}/{key}"},
            {"accountId": co.ACCOUNT, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{DOSSIERS}"},
        ],
    }
