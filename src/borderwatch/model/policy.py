"""The agreement as data: what is protected, where it may live, who may not reach it.

These pydantic models are the typed form of the policy YAML (docs/policy.md). They hold
no I/O; `borderwatch.policy.load_policy` reads a file into them with line-accurate errors.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from borderwatch.model.dsp import DspCategory, DspRules
from borderwatch.model.feed import FeedAudit
from borderwatch.model.findings import Severity
from borderwatch.model.oversight import OversightRules

ISO_COUNTRY_PATTERN = r"^[A-Z]{2}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ApprovedLocation(_Strict):
    """A place protected data may be stored. Every field given must match.

    `provider` alone approves all of a provider's regions; `country` alone approves any
    provider's location in that country; `provider` + `country` approves one provider's
    regions in one country (e.g. a trusted cloud's US regions only).

    Partitions (AWS GovCloud, China, ISO and European Sovereign Cloud, Azure's national
    clouds, OCI realms other than oc1) are hard boundaries: an approval covers only its
    provider's commercial partition unless it names `partition` (e.g. `aws-eusc`) or a
    `region`, which implies the region's own partition.
    """

    provider: str | None = None
    region: str | None = None
    country: str | None = Field(default=None, pattern=ISO_COUNTRY_PATTERN)
    partition: str | None = None

    @model_validator(mode="after")
    def _needs_something(self) -> ApprovedLocation:
        if (self.provider, self.region, self.country, self.partition) == (None,) * 4:
            raise ValueError("an approved location needs provider, region, country or partition")
        return self


class StorageRule(_Strict):
    approved: tuple[ApprovedLocation, ...] = ()


class AccessRule(_Strict):
    """Who may not reach the data. Country lists hold ISO codes once groups are expanded."""

    prohibited_countries: tuple[str, ...] = ()
    # An allow-list: when given, every established country outside it is prohibited too
    # (e.g. EU data reachable only from the EEA).
    allowed_countries: tuple[str, ...] | None = None
    # Covered persons (28 CFR 202.211) with respect to these countries may not reach the
    # data, wherever they sit: employees of entities owned from there, residents there.
    covered_person_countries: tuple[str, ...] = ()


class DataClass(_Strict):
    """One class of data and, when protected, its storage and access rules."""

    name: str
    protected: bool = True
    description: str = ""
    storage: StorageRule = StorageRule()
    access: AccessRule = AccessRule()
    # The Data Security Program categories this class holds (docs/dsp.md).
    dsp_categories: tuple[DspCategory, ...] = ()


class PolicyException(_Strict):
    """An approved deviation. Matching findings are muted (kept, marked), never dropped.

    Every matcher given must match the finding; an exception with none but `rule` mutes
    every finding of that rule, so the loader requires at least one subject matcher.
    """

    id: str
    rule: str | None = None  # a rule id; None matches every rule
    data_class: str | None = None
    store: str | None = None
    principal: str | None = None
    person: str | None = None
    country: str | None = Field(default=None, pattern=ISO_COUNTRY_PATTERN)
    approver: str
    ticket: str
    expires: dt.date
    reason: str = ""

    def is_active(self, on: dt.date) -> bool:
        """An exception is active through the whole of its expiry date."""
        return on <= self.expires


class EgressRange(_Strict):
    """One of the organisation's own egress ranges, and the office country behind it."""

    cidr: str
    country: str = Field(pattern=ISO_COUNTRY_PATTERN)
    office: str = ""

    @field_validator("cidr")
    @classmethod
    def _is_network(cls, value: str) -> str:
        try:
            return str(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{value!r} is not an IP network such as 203.0.113.0/24") from None


class JurisdictionRules(_Strict):
    """How a caller's jurisdiction is decided (docs/jurisdiction.md)."""

    # Which IP country decides when sources disagree: where the address is used
    # (a geolocation database, a geofeed) or where its range is registered (RIR data).
    # With "located", an address no located source knows falls back to its registered
    # country at lower confidence.
    ip_country: Literal["located", "registered"] = "located"
    corporate_egress: tuple[EgressRange, ...] = ()


class StoreClasses(_Strict):
    """Data classes given by the policy to every store whose id or alias matches a glob."""

    match: str
    data_classes: tuple[str, ...]


class LegacyLocation(_Strict):
    """A place protected data must leave (the old own data centres), and by when.

    Matches stores by provider and region (an on-premises site id is its region), or by
    country; every field given must match.
    """

    name: str
    provider: str | None = None
    region: str | None = None
    country: str | None = Field(default=None, pattern=ISO_COUNTRY_PATTERN)
    deadline: dt.date

    @model_validator(mode="after")
    def _needs_a_place(self) -> LegacyLocation:
        if self.provider is None and self.region is None and self.country is None:
            raise ValueError("a legacy location needs provider, region or country")
        return self


class CoverageRules(_Strict):
    """The coverage rules' severities and how sparse a log may be before a day without
    events stops meaning missing logs (docs/rules.md)."""

    log_gap: Severity = Severity.MEDIUM
    store_unobserved: Severity = Severity.HIGH
    nothing_judged: Severity = Severity.HIGH
    # Days without events are gaps only for a place whose median day with events holds
    # this many: with 7, a day without any happens by chance less than once in 1,000
    # days (Poisson), while a sparse export (a honeypot bucket's 301 events over two
    # years) has empty days by nature.
    log_gap_min_daily_events: int = Field(default=7, ge=1)


class Policy(_Strict):
    """The whole policy: data classes by name, exceptions, and where it came from."""

    name: str
    version: str
    description: str = ""
    data_classes: dict[str, DataClass]
    # Class names the inputs may use that need no protection (public content, logs):
    # declared so that a misspelt protected class is an error, never silently unprotected.
    unprotected_classes: tuple[str, ...] = ()
    exceptions: tuple[PolicyException, ...] = ()
    jurisdiction: JurisdictionRules = JurisdictionRules()
    store_classes: tuple[StoreClasses, ...] = ()
    legacy_locations: tuple[LegacyLocation, ...] = ()
    coverage: CoverageRules = CoverageRules()
    # Data Security Program counting (model/dsp.py, docs/dsp.md); off without categories.
    dsp: DspRules = DspRules()
    # Trusted reviewer keys and protected namespaces (model/oversight.py).
    oversight: OversightRules = OversightRules()
    # Pre-registered tests of the served feed and the manual-intervention cap (model/feed.py).
    feed_audit: FeedAudit | None = None
    # Where the policy was read from and the sha256 of its bytes, for provenance.
    source: str = ""
    sha256: str = ""

    def protected_classes(self) -> list[DataClass]:
        return [dc for dc in self.data_classes.values() if dc.protected]

    def known_classes(self) -> list[str]:
        """Every class name an input may use: defined ones, then those declared unprotected."""
        return [
            *self.data_classes,
            *(c for c in self.unprotected_classes if c not in self.data_classes),
        ]
