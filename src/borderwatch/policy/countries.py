"""ISO 3166-1 countries and the named country groups a policy may use in country lists.

The country table (`data/iso3166.csv`: alpha-2, alpha-3, ISO short name, common name) holds
the 249 officially assigned ISO 3166-1 codes, taken from the Debian `iso-codes` 4.15
package and cross-checked against the tz database's `iso3166.tab`. User-assigned codes
such as XK are not in it, so a policy cannot name a place no data source will report.
"""

from __future__ import annotations

import csv
import difflib
import functools
import io
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType

__all__ = [
    "Country",
    "CountryGroup",
    "country_groups",
    "iso_countries",
    "unknown_country_hint",
]

# The 27 EU member states. (DOMAIN.md section 4 lists 26: it leaves out Hungary.)
_EU_27 = (
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
    "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
)  # fmt: skip

# Codes people often write that ISO 3166-1 does not assign to a country (EU institutions
# and some agencies use UK and EL), mapped to what the policy should say instead.
_NOT_ISO_CODES = {
    "UK": "the ISO code of the United Kingdom is 'GB'",
    "EL": "the ISO code of Greece is 'GR'",
    "EU": "the EU is not a country: use the group 'eu' in a country list",
}


@dataclass(frozen=True)
class Country:
    """One ISO 3166-1 entry."""

    alpha2: str
    alpha3: str
    name: str
    common_name: str = ""


@dataclass(frozen=True)
class CountryGroup:
    """A named set of ISO codes usable wherever a policy takes a list of countries."""

    name: str
    codes: frozenset[str]
    description: str


@functools.cache
def iso_countries() -> Mapping[str, Country]:
    """Every ISO 3166-1 country by alpha-2 code, read once from the packaged table."""
    text = resources.files("borderwatch.policy").joinpath("data/iso3166.csv").read_text("utf-8")
    rows = csv.DictReader(io.StringIO(text))
    # Read-only: the result is cached and shared by every caller.
    return MappingProxyType(
        {
            row["alpha2"]: Country(row["alpha2"], row["alpha3"], row["name"], row["common_name"])
            for row in rows
        }
    )


@functools.cache
def country_groups() -> Mapping[str, CountryGroup]:
    """The built-in country groups by name (see docs/policy.md for their sources)."""
    groups = [
        CountryGroup(
            "dsp_countries_of_concern",
            # 28 CFR 202.601; "China" includes Hong Kong and Macau per 202.208. TW is not in.
            frozenset({"CN", "HK", "MO", "CU", "IR", "KP", "RU", "VE"}),
            "DOJ Data Security Program countries of concern (28 CFR 202.601, 202.208)",
        ),
        CountryGroup(
            "padfa_foreign_adversaries",
            # 15 U.S.C. 9901 by reference to 10 U.S.C. 4872(d)(2); no Cuba or Venezuela.
            frozenset({"CN", "RU", "IR", "KP"}),
            "PADFA foreign adversary countries (15 U.S.C. 9901)",
        ),
        CountryGroup("eu", frozenset(_EU_27), "The 27 EU member states"),
        CountryGroup(
            "eea",
            frozenset([*_EU_27, "IS", "LI", "NO"]),
            "European Economic Area: EU-27 plus Iceland, Liechtenstein and Norway",
        ),
        CountryGroup(
            "gdpr_adequate",
            # GDPR Art. 45 adequacy decisions. The US is left out on purpose: its decision
            # covers only Data Privacy Framework-certified companies, not the country, so a
            # policy that relies on it must name the US (and check certification) itself.
            # Canada's decision covers only organisations under PIPEDA.
            frozenset(
                {"AD", "AR", "CA", "FO", "GG", "IL", "IM", "JP", "JE", "NZ", "KR", "CH", "GB", "UY"}
            ),
            "Countries with a GDPR adequacy decision (Art. 45); the US is not included",
        ),
    ]
    return MappingProxyType({group.name: group for group in groups})


def unknown_country_hint(text: str, *, groups_allowed: bool) -> str:
    """What to write instead of `text`, which is neither an ISO code nor a group name."""
    countries = iso_countries()
    upper = text.strip().upper()
    groups = country_groups()
    if text in groups and not groups_allowed:
        return (
            f"'{text}' is a country group; a group is only allowed in a list such as "
            "prohibited_countries. Name one ISO code here, or add one entry per country"
        )
    if upper in countries:
        return f"country codes are upper case: write '{upper}' ({countries[upper].name})"
    if upper in _NOT_ISO_CODES:
        return _NOT_ISO_CODES[upper]
    by_alpha3 = {country.alpha3: country for country in countries.values()}
    if upper in by_alpha3:
        country = by_alpha3[upper]
        return f"'{upper}' is an alpha-3 code; write '{country.alpha2}' ({country.name})"
    by_name = {
        name.casefold(): country
        for country in countries.values()
        for name in (country.name, country.common_name)
        if name
    }
    if text.strip().casefold() in by_name:
        country = by_name[text.strip().casefold()]
        return f"write the ISO code '{country.alpha2}' for {country.name}"
    if groups_allowed:
        close = difflib.get_close_matches(text.casefold(), list(groups), n=1, cutoff=0.6)
        if close:
            return f"did you mean the group '{close[0]}'?"
        return "use an ISO 3166-1 alpha-2 code (e.g. US, DE, CN) or a group: " + ", ".join(groups)
    return "use an ISO 3166-1 alpha-2 code such as US, DE or CN"
