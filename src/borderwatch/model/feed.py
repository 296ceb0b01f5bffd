"""The feed audit as data: served recommendations, their counts, and the tests the
policy declares in advance (pre-registered) about them.

A served-recommendation log says which item was shown to whom, where in the feed, and
whether someone put it there by hand. It is not an access log: its records never become
access events. A reader turns each record into a row of FEED_SCHEMA; ingest reduces the
rows to counts (FEED_VIEWS_SCHEMA, FEED_DAYS_SCHEMA, FEED_INTERVENTIONS_SCHEMA), so a
year of feed logs is held as counts per day and value, not as rows.

The policy's `feed_audit` section (FeedAudit) declares, before the data is seen, which
attribute's exposure is tested, over which windows, which change matters and at what
alpha; the cap on the share of views from manual intervention; and the interventions
that were approved, with their reasons (docs/oversight.md, "Feed audit").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# The item attributes a test may be declared on, and the viewer's region: each is a
# column of the feed rows and an `attribute` of the exposure counts.
ATTRIBUTES: tuple[str, ...] = ("topic", "source_country", "creator", "viewer_region")

# One served recommendation, as a feed reader yields it. The last three columns are the
# provenance every reader's rows carry (sources/batches.py fills them).
FEED_SCHEMA = pa.schema(
    [
        pa.field("event_time", pa.timestamp("us", tz="UTC")),
        pa.field("viewer_region", pa.string()),
        pa.field("item", pa.string()),
        pa.field("topic", pa.string()),
        pa.field("source_country", pa.string()),
        pa.field("creator", pa.string()),
        # 1 is the top of the feed; None when the log does not say.
        pa.field("position", pa.int64()),
        # True when the item was placed by hand (a "heated" or pinned item); a record
        # with an intervention reason is manual whatever its flag says.
        pa.field("manual", pa.bool_()),
        pa.field("intervention_reason", pa.string()),
        pa.field("source_format", pa.string()),
        pa.field("input_path", pa.string()),
        pa.field("input_record", pa.int64()),
    ]
)

# Views per day, viewer region, attribute and value (value None: the record did not
# say). Every view counts once under each attribute.
FEED_VIEWS_SCHEMA = pa.schema(
    [
        pa.field("day", pa.date32()),
        pa.field("viewer_region", pa.string()),
        pa.field("attribute", pa.string()),
        pa.field("value", pa.string()),
        pa.field("views", pa.int64()),
    ]
)

# Views per day and how many of them came from manual intervention.
FEED_DAYS_SCHEMA = pa.schema(
    [
        pa.field("day", pa.date32()),
        pa.field("views", pa.int64()),
        pa.field("manual_views", pa.int64()),
    ]
)

# Manual views per day, reason (None: flagged without a reason) and item.
FEED_INTERVENTIONS_SCHEMA = pa.schema(
    [
        pa.field("day", pa.date32()),
        pa.field("reason", pa.string()),
        pa.field("item", pa.string()),
        pa.field("views", pa.int64()),
    ]
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Window(_Strict):
    """Whole days, first to last, both included (UTC)."""

    first: dt.date = Field(alias="from")
    last: dt.date = Field(alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.first > self.last:
            raise ValueError(f"the window starts ({self.first}) after it ends ({self.last})")
        return self

    def overlaps(self, other: Window) -> bool:
        return self.first <= other.last and other.first <= self.last

    def __str__(self) -> str:
        return f"{self.first} to {self.last}"


class ExposureTest(_Strict):
    """A pre-registered test: has the exposure share of an attribute's values moved
    between the reviewed baseline window and the comparison window?

    A value's change is reported when its Benjamini-Hochberg adjusted p-value (G-test of
    its share in one window against the other) is below `alpha` and the change in share
    is at least `min_effect`; the whole distribution's move is reported when the
    Jensen-Shannon distance (base 2, 0 to 1) reaches `max_distance`.
    """

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=80)
    attribute: str
    baseline: Window
    comparison: Window
    # The smallest change in a value's share of views that matters, as a fraction
    # (0.01: one percentage point). Smaller changes are not reported however certain.
    min_effect: float = Field(gt=0, le=1)
    alpha: float = Field(gt=0, lt=1)
    max_distance: float = Field(default=1.0, gt=0, le=1)
    # When the test was declared (pre-registered), for the record.
    registered: dt.date | None = None
    description: str = ""

    @field_validator("attribute")
    @classmethod
    def _known_attribute(cls, value: str) -> str:
        if value not in ATTRIBUTES:
            raise ValueError(f"unknown attribute {value!r}: use one of {', '.join(ATTRIBUTES)}")
        return value

    @model_validator(mode="after")
    def _apart(self) -> ExposureTest:
        if self.baseline.overlaps(self.comparison):
            raise ValueError(
                f"the baseline ({self.baseline}) and comparison ({self.comparison}) windows "
                "overlap: a test compares two separate spans of days"
            )
        if self.registered is not None and self.registered > self.comparison.first:
            raise ValueError(
                f"registered {self.registered}, after its comparison window began "
                f"({self.comparison.first}): a test declared once the data could be seen is "
                "not pre-registered; declare a new test for a later window"
            )
        return self


class ApprovedIntervention(_Strict):
    """A reason for placing items by hand that the reviewer approved."""

    reason: str = Field(min_length=1)
    approver: str = Field(min_length=1)
    ticket: str = Field(min_length=1)
    # The last day the approval covers; None: no end.
    expires: dt.date | None = None
    description: str = ""


class InterventionRules(_Strict):
    """How much of a day's views may come from manual intervention, and for what."""

    # The highest share of one day's views that may be manual, exactly (0.0002 is
    # 0.02%); a day above it is reported, a day at it is not. Nine decimal places at
    # most, so the comparison stays exact in 64-bit integers.
    cap: Decimal = Field(ge=0, le=1, decimal_places=9)
    approved: tuple[ApprovedIntervention, ...] = ()

    @model_validator(mode="after")
    def _one_approval_per_reason(self) -> InterventionRules:
        reasons = [item.reason for item in self.approved]
        repeated = sorted({r for r in reasons if reasons.count(r) > 1})
        if repeated:
            raise ValueError(f"each reason is approved once: {', '.join(repeated)} repeated")
        return self

    @field_validator("cap", mode="before")
    @classmethod
    def _exact(cls, value: object) -> object:
        # YAML reads 0.0002 as a float; its shortest text is what the author wrote.
        if isinstance(value, float):
            return Decimal(repr(value))
        return value


class FeedAudit(_Strict):
    """The policy's `feed_audit` section: pre-registered tests and the intervention cap."""

    tests: tuple[ExposureTest, ...] = ()
    intervention: InterventionRules | None = None

    @model_validator(mode="after")
    def _unique_ids(self) -> FeedAudit:
        ids = [test.id for test in self.tests]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"test ids must be unique: {', '.join(repeated)} repeated")
        return self


@dataclass(frozen=True)
class FeedTestOutcome:
    """What one declared exposure test found, for the scan's summary: a test that ran
    and raised nothing is evidence too, and one that could not run says so."""

    test_id: str
    attribute: str
    status: str  # "tested", or "no-data" (a window without views: coverage.feed-no-data)
    baseline_total: int = 0
    comparison_total: int = 0
    values_tested: int = 0
    distance: float | None = None
    # The values whose shift was reported (None: views without the attribute).
    shifted_values: tuple[str | None, ...] = ()
    distance_exceeded: bool = False
    empty_windows: tuple[str, ...] = ()
    # Days of the declared windows without any view, when the test ran.
    days_missing: int = 0

    @property
    def raised(self) -> bool:
        return bool(self.shifted_values) or self.distance_exceeded

    def as_dict(self) -> dict[str, object]:
        row: dict[str, object] = dict(vars(self))
        row["shifted_values"] = list(self.shifted_values)
        row["empty_windows"] = list(self.empty_windows)
        row["raised"] = self.raised
        return row
