"""Loading, validating and shipping policies (the data-security agreement as YAML).

`load_policy` reads a file or a built-in pack into the typed `Policy`; `validate_policy`
returns every problem with file, line, column and a hint; `builtin_packs` lists the packs.
The format is described in docs/policy.md.
"""

from __future__ import annotations

from borderwatch.policy.countries import Country, CountryGroup, country_groups, iso_countries
from borderwatch.policy.loader import builtin_packs, load_policy, validate_policy

__all__ = [
    "Country",
    "CountryGroup",
    "builtin_packs",
    "country_groups",
    "iso_countries",
    "load_policy",
    "validate_policy",
]
