"""The Data Security Program (28 CFR 202) as policy data: categories, thresholds, agreements.

The numbers are the regulation's (28 CFR 202.205 and 202.222); a policy may set others
only with a written reason (policy/checks.py refuses an override without one), so a
reviewer sees every departure from the rule and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DspCategory = Literal[
    "human_omic",
    "human_genomic",
    "biometric",
    "precise_geolocation",
    "personal_health",
    "personal_financial",
    "covered_personal_identifiers",
    "government_related",
]

# The pseudo-category of data that combines several categories (28 CFR 202.205: the
# lowest threshold of the categories combined applies).
COMBINED = "combined"


@dataclass(frozen=True)
class BulkThreshold:
    """One category's bulk threshold as the regulation states it."""

    # Bulk is *more than* this many (28 CFR 202.205); 0 for government-related data,
    # which is covered at any volume (202.222).
    more_than: int
    unit: str  # "US persons" or "US devices"
    section: str


REGULATION: dict[str, BulkThreshold] = {
    "human_genomic": BulkThreshold(100, "US persons", "28 CFR 202.205(a)(1), 202.224"),
    "human_omic": BulkThreshold(1_000, "US persons", "28 CFR 202.205(a)(1), 202.224"),
    "biometric": BulkThreshold(1_000, "US persons", "28 CFR 202.205(a)(2), 202.204"),
    "precise_geolocation": BulkThreshold(1_000, "US devices", "28 CFR 202.205(a)(3), 202.242"),
    "personal_health": BulkThreshold(10_000, "US persons", "28 CFR 202.205(a)(4), 202.241"),
    "personal_financial": BulkThreshold(10_000, "US persons", "28 CFR 202.205(a)(5), 202.240"),
    "covered_personal_identifiers": BulkThreshold(
        100_000, "US persons", "28 CFR 202.205(a)(6), 202.212"
    ),
    "government_related": BulkThreshold(0, "US persons or devices", "28 CFR 202.222"),
}

# Categories whose bulk data makes any covered data transaction prohibited (202.303).
OMIC_CATEGORIES = ("human_omic", "human_genomic")


@dataclass(frozen=True)
class DspCount:
    """One counterparty's count of one category, as the scan found it (for reports).

    `verdict` is reached (some window over the threshold), unknown (a store read whole
    has no volume) or below; the window is the first over the threshold, else None.
    """

    counterparty: str
    category: str
    threshold: int
    unit: str
    verdict: str
    peak_count: int
    window_from: str | None = None
    window_to: str | None = None
    distinct_count: int | None = None
    transaction_class: str = ""

    def as_dict(self) -> dict[str, object]:
        return dict(vars(self))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ThresholdOverride(_Strict):
    """A threshold the policy sets instead of the regulation's, and why."""

    value: int = Field(ge=0)
    reason: str = ""


class SubjectKey(_Strict):
    """Where the logs name a data subject for the stores whose id or alias matches a glob.

    `pattern` is a regular expression (RE2 syntax) searched in each resource name a log
    gives (an S3 object ARN, a mapped field); its first group is the subject's id.
    """

    match: str
    pattern: str


class CisaRequirements(_Strict):
    """Whether the CISA security requirements (28 CFR 202.248) are in place for an
    agreement, and the evidence that shows it."""

    in_place: bool = False
    evidence: str = ""

    @model_validator(mode="after")
    def _evidence_when_in_place(self) -> CisaRequirements:
        if self.in_place and not self.evidence.strip():
            raise ValueError("CISA requirements in place need an evidence reference")
        return self


class Agreement(_Strict):
    """The kind of transaction under which a counterparty reaches the data.

    `counterparty` is written as findings name it: `entity:<entity id>`,
    `person:<person>` or `country:<ISO code>`.
    """

    counterparty: str
    kind: Literal["data_brokerage", "vendor", "employment", "investment"]
    cisa: CisaRequirements = CisaRequirements()
    reference: str = ""


class DspRules(_Strict):
    """The policy's `dsp:` section (docs/dsp.md)."""

    # Countries of concern (28 CFR 202.601); groups are expanded by the loader.
    countries_of_concern: tuple[str, ...] = ()
    thresholds: dict[DspCategory, ThresholdOverride] = {}
    subject_keys: tuple[SubjectKey, ...] = ()
    agreements: tuple[Agreement, ...] = ()

    def threshold(self, category: str) -> int:
        """Bulk is more than this many subjects of `category` in this policy."""
        override = next((o for name, o in self.thresholds.items() if name == category), None)
        return override.value if override is not None else REGULATION[category].more_than
