"""Checks the policy's meaning, which the typed model cannot see, and prepares its input.

The model checks shapes and types. This pass checks what needs the whole policy or the
reference data: the format marker, country codes and group names (expanding groups),
exceptions against the data classes and rules, dates, and that protected data has
somewhere to live. Every location it reports is "claimed", so the loader drops the
model's own, less helpful error about the same value.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from borderwatch.errors import Problem
from borderwatch.model.policy import (
    DataClass,
    Policy,
    PolicyException,
    StorageRule,
)
from borderwatch.policy.countries import country_groups, iso_countries, unknown_country_hint
from borderwatch.policy.dsp import pattern_problem, threshold_problem
from borderwatch.policy.regions import RegionLookup, partition_problem, unknown_region
from borderwatch.policy.yamldoc import Loc, YamlDocument, to_plain

__all__ = [
    "FORMAT_MARKER",
    "LOADER_FIELDS",
    "SUBJECT_MATCHERS",
    "Prepared",
    "allowed_keys",
    "close_match",
    "prepare",
    "unknown_class_hint",
]

FORMAT_MARKER = "policy/v1"
# Policy fields the loader fills in; a file that sets them would forge its provenance.
LOADER_FIELDS = ("source", "sha256")
SUBJECT_MATCHERS = ("data_class", "store", "principal", "person", "country")

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def allowed_keys(model: type[BaseModel]) -> list[str]:
    """The keys a person may write for `model` in the YAML (loader-filled ones excluded)."""
    keys = [name for name in model.model_fields if name not in LOADER_FIELDS]
    if model is Policy:
        keys.insert(0, "borderwatch")
    if model is DataClass:
        keys.remove("name")  # the mapping key names the data class
    return keys


def close_match(word: str, choices: Iterable[str]) -> str | None:
    """The choice `word` most likely misspells, if any is close enough."""
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


@dataclass
class Prepared:
    """The model's input (groups expanded, names filled in) and what this pass found."""

    data: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)
    claimed: set[Loc] = field(default_factory=set)

    def is_claimed(self, loc: Loc) -> bool:
        """Whether a problem was already reported at `loc` or around it."""
        return any(loc[: len(claim)] == claim for claim in self.claimed)


def prepare(
    doc: YamlDocument, known_rules: set[str] | None, locations: RegionLookup | None = None
) -> Prepared:
    """Run the policy-level checks on a parsed document and build the model's input.

    With `locations`, every region an approved location names must resolve in it.
    """
    return _Checker(doc, known_rules, locations).run()


class _Checker:
    def __init__(
        self, doc: YamlDocument, known_rules: set[str] | None, locations: RegionLookup | None
    ) -> None:
        self.doc = doc
        self.known_rules = known_rules
        self.locations = locations
        self.out = Prepared(data=to_plain(doc.root))

    def report(
        self, loc: Loc, message: str, hint: str, *, key: bool = False, claim: bool = False
    ) -> None:
        """Record a problem at `loc`; `claim` it when it replaces the model's error there."""
        self.out.problems.append(Problem(self.doc.location(loc, key=key), message, hint))
        if claim:
            self.out.claimed.add(loc)

    def run(self) -> Prepared:
        self.check_marker()
        for name in LOADER_FIELDS:
            if name in self.doc.root:
                self.report(
                    (name,),
                    f"'{name}' is set by borderwatch when it reads the policy",
                    f"remove '{name}'; the loader records where the policy came from",
                    key=True,
                )
                self.out.data.pop(name, None)
        self.check_data_classes()
        self.check_exceptions()
        self.check_egress()
        self.check_unprotected_classes()
        self.check_store_classes()
        self.check_dsp()
        legacy = self.doc.root.get("legacy_locations")
        for index, item in enumerate(legacy if isinstance(legacy, list) else []):
            if isinstance(item, Mapping):
                self.check_region(("legacy_locations", index), item)
        return self.out

    def check_dsp(self) -> None:
        """Countries of concern expanded; a threshold other than the regulation's needs a
        reason; subject key patterns must compile."""
        if not isinstance(self.doc.root.get("dsp"), Mapping):
            return  # absent, or the wrong type, which the model reports
        self.expand_country_list(("dsp", "countries_of_concern"))
        thresholds = self.doc.get(("dsp", "thresholds"))
        for category, item in (thresholds or {}).items() if isinstance(thresholds, Mapping) else ():
            problem = threshold_problem(category, item)
            if problem is not None:
                self.report(("dsp", "thresholds", category), *problem, key=True)
        keys = self.doc.get(("dsp", "subject_keys"))
        for index, item in enumerate(keys if isinstance(keys, list) else []):
            pattern = item.get("pattern") if isinstance(item, Mapping) else None
            problem = pattern_problem(pattern) if isinstance(pattern, str) else None
            if problem is not None:
                self.report(("dsp", "subject_keys", index, "pattern"), *problem, claim=True)

    def check_egress(self) -> None:
        ranges = self.doc.get(("jurisdiction", "corporate_egress"))
        if not isinstance(ranges, list):
            return  # absent, or the wrong type, which the model reports
        for index, item in enumerate(ranges):
            if isinstance(item, Mapping) and item.get("country") is not None:
                self.check_single_country(("jurisdiction", "corporate_egress", index, "country"))

    def check_marker(self) -> None:
        marker = self.doc.root.get("borderwatch")
        self.out.data.pop("borderwatch", None)
        if "borderwatch" not in self.doc.root:
            self.report(
                (),
                "the format marker 'borderwatch: policy/v1' is missing",
                "add 'borderwatch: policy/v1' as the first line, so the file is read as a "
                "policy of this format version",
            )
        elif marker != FORMAT_MARKER:
            self.report(
                ("borderwatch",),
                f"unsupported policy format {marker!r}",
                f"this version of borderwatch reads 'borderwatch: {FORMAT_MARKER}'",
            )

    # -- data classes --------------------------------------------------------------

    def check_data_classes(self) -> None:
        raw = self.doc.root.get("data_classes")
        if "data_classes" in self.doc.root and (raw is None or raw == {}):
            self.report(
                ("data_classes",),
                "the policy defines no data classes",
                "add at least one data class under data_classes, e.g. us_user_data with "
                "storage.approved and access.prohibited_countries",
                key=True,
            )
            self.out.data["data_classes"] = {}
            return
        if not isinstance(raw, Mapping):
            return  # the model reports the wrong type
        classes = self.out.data["data_classes"]
        for name, value in raw.items():
            loc: Loc = ("data_classes", name)
            if not isinstance(name, str):
                self.report(
                    loc,
                    f"data class name {name!r} is not text",
                    f'quote it: "{name}":',
                    key=True,
                    claim=True,
                )
                classes.pop(name, None)
                continue
            if value is None:
                # `public_content:` with nothing under it: a class with every default.
                classes[name] = {"name": name}
                value = {}
            if not isinstance(value, Mapping):
                continue
            if "name" in value:
                self.report(
                    (*loc, "name"),
                    f"unknown key 'name' in data class '{name}'",
                    "a data class is named by its key under data_classes; remove 'name'",
                    key=True,
                )
            classes[name]["name"] = name
            self.check_data_class(loc, name, value)

    def check_data_class(self, loc: Loc, name: str, raw: Mapping[str, Any]) -> None:
        storage = raw.get("storage")
        approved = storage.get("approved") if isinstance(storage, Mapping) else None
        if isinstance(approved, list):
            for index, item in enumerate(approved):
                if isinstance(item, Mapping) and item.get("country") is not None:
                    self.check_single_country((*loc, "storage", "approved", index, "country"))
                if isinstance(item, Mapping):
                    self.check_region((*loc, "storage", "approved", index), item)
                    self.check_partition((*loc, "storage", "approved", index), item)
        access = raw.get("access")
        if isinstance(access, Mapping):
            for key in ("prohibited_countries", "allowed_countries", "covered_person_countries"):
                self.expand_country_list((*loc, "access", key))

        protected = raw.get("protected")
        if protected not in (True, None) or approved:
            return  # unprotected, or a value only the model can judge, or approved places
        if storage is not None and not isinstance(storage, Mapping):
            return  # the model reports the wrong type
        if approved is not None and not isinstance(approved, list):
            return  # the model reports the wrong type
        # A misspelt 'storage' or 'approved' is already reported; saying "nothing is
        # approved" as well would send the reader after a second, non-existent mistake.
        if "storage" in _intended_keys(raw, DataClass) or (
            isinstance(storage, Mapping) and "approved" in _intended_keys(storage, StorageRule)
        ):
            return
        self.report(
            loc,
            f"protected data class '{name}' has no approved storage location",
            "say where it may be stored, e.g. storage: {approved: [{country: US}]}; "
            "or mark it 'protected: false' if it needs no protection",
            key=True,
        )

    def check_region(self, loc: Loc, place: Mapping[str, Any]) -> None:
        """A region the policy names (approved or legacy) must be one the registry knows."""
        region, provider = place.get("region"), place.get("provider")
        if self.locations is None or not isinstance(region, str) or not region.strip():
            return  # not checked here, absent, or the wrong type (the model reports it)
        if provider is not None and not isinstance(provider, str):
            return  # the model reports the wrong type
        unknown = unknown_region(self.locations, provider, region)
        if unknown is not None:
            self.report((*loc, "region"), *unknown)

    def check_partition(self, loc: Loc, place: Mapping[str, Any]) -> None:
        """An approval's partition must be known, its provider's, and its region's."""
        partition, provider, region = (place.get(k) for k in ("partition", "provider", "region"))
        if self.locations is None or not isinstance(partition, str) or not partition.strip():
            return  # not checked here, absent, or the wrong type (the model reports it)
        if not isinstance(provider, (str, type(None))) or not isinstance(region, (str, type(None))):
            return  # the model reports the wrong type
        if region is not None and unknown_region(self.locations, provider, region) is not None:
            region = None  # already reported by check_region; judge the partition alone
        problem = partition_problem(self.locations, provider, region, partition)
        if problem is not None:
            self.report((*loc, "partition"), *problem)

    def expand_country_list(self, loc: Loc) -> None:
        raw = self.doc.get(loc)
        if not isinstance(raw, list):
            return  # absent (default: none) or the wrong type, which the model reports
        groups = country_groups()
        countries = iso_countries()
        codes: set[str] = set()
        for index, item in enumerate(raw):
            if isinstance(item, str) and item in groups:
                codes |= groups[item].codes
            elif isinstance(item, str) and item in countries:
                codes.add(item)
            elif isinstance(item, str):
                looks_like_code = len(item) == 2 and item.isalpha()
                self.report(
                    (*loc, index),
                    f"'{item}' is not an ISO 3166-1 alpha-2 country code"
                    if looks_like_code
                    else f"'{item}' is neither an ISO 3166-1 alpha-2 country code nor a country "
                    "group",
                    unknown_country_hint(item, groups_allowed=True),
                    claim=True,
                )
            else:
                self.report(
                    (*loc, index),
                    f"country list entry {item!r} is not text",
                    "write an ISO code such as CN, or a group name such as "
                    "dsp_countries_of_concern",
                    claim=True,
                )
        _set_in(self.out.data, loc, sorted(codes))

    def check_single_country(self, loc: Loc) -> None:
        value = self.doc.get(loc)
        if isinstance(value, str) and value in iso_countries():
            return
        if isinstance(value, str):
            self.report(
                loc,
                f"'{value}' is not an ISO 3166-1 alpha-2 country code",
                unknown_country_hint(value, groups_allowed=False),
                claim=True,
            )
        else:
            self.report(
                loc,
                f"country {value!r} is not text",
                "write an ISO 3166-1 alpha-2 code such as US",
                claim=True,
            )

    def check_unprotected_classes(self) -> None:
        raw = self.doc.root.get("unprotected_classes")
        defined = self.doc.root.get("data_classes")
        if not isinstance(raw, list) or not isinstance(defined, Mapping):
            return  # absent, or the wrong type, which the model reports
        for index, name in enumerate(raw):
            if isinstance(name, str) and name in defined:
                self.report(
                    ("unprotected_classes", index),
                    f"'{name}' is both defined under data_classes and listed as unprotected",
                    "list a class in one place: under data_classes (with its rules) or in "
                    "unprotected_classes (known, needs no protection)",
                )

    def check_store_classes(self) -> None:
        raw = self.doc.root.get("store_classes")
        if not isinstance(raw, list):
            return  # absent, or the wrong type, which the model reports
        known = self.known_class_names()
        for index, item in enumerate(raw):
            names = item.get("data_classes") if isinstance(item, Mapping) else None
            if not isinstance(names, list):
                continue
            for position, name in enumerate(names):
                if isinstance(name, str) and name not in known:
                    self.report(
                        ("store_classes", index, "data_classes", position),
                        f"store_classes names data class '{name}', which the policy does not "
                        "define",
                        unknown_class_hint(name, known),
                    )

    def known_class_names(self) -> list[str]:
        """The data class names defined or declared unprotected in the document."""
        defined = self.doc.root.get("data_classes")
        listed = self.doc.root.get("unprotected_classes")
        names = [str(k) for k in defined] if isinstance(defined, Mapping) else []
        if isinstance(listed, list):
            names.extend(str(name) for name in listed if isinstance(name, str))
        return names

    # -- exceptions ------------------------------------------------------------------

    def check_exceptions(self) -> None:
        raw = self.doc.root.get("exceptions")
        if not isinstance(raw, list):
            return  # absent, empty (null) or the wrong type, which the model reports
        first_use: dict[str, int | None] = {}
        for index, item in enumerate(raw):
            if not isinstance(item, Mapping):
                continue
            loc: Loc = ("exceptions", index)
            ident = item.get("id")
            label = f"exception '{ident}'" if isinstance(ident, str) else f"exception {index + 1}"
            if isinstance(ident, str):
                if ident in first_use:
                    self.report(
                        (*loc, "id"),
                        f"duplicate exception id '{ident}'",
                        f"it is already used on line {first_use[ident]}; give every "
                        "exception its own id so a muted finding names exactly one approval",
                    )
                else:
                    first_use[ident] = self.doc.location((*loc, "id")).line
            self.check_exception(loc, label, item)

    def check_exception(self, loc: Loc, label: str, raw: Mapping[str, Any]) -> None:
        given = [name for name in SUBJECT_MATCHERS if raw.get(name) is not None]
        if not given and not set(SUBJECT_MATCHERS) & _intended_keys(raw, PolicyException):
            self.report(
                loc,
                f"{label} does not say what it covers",
                "an exception must say what it covers: add at least one of "
                + ", ".join(SUBJECT_MATCHERS)
                + "; otherwise it would mute every finding of its rule",
            )
        data_class = raw.get("data_class")
        defined = self.doc.root.get("data_classes")
        if (
            isinstance(data_class, str)
            and isinstance(defined, Mapping)
            and data_class not in defined
        ):
            self.report(
                (*loc, "data_class"),
                f"{label} names data class '{data_class}', which the policy does not define",
                unknown_class_hint(data_class, [str(k) for k in defined]),
            )
        rule = raw.get("rule")
        if self.known_rules is not None and isinstance(rule, str) and rule not in self.known_rules:
            suggestion = close_match(rule, sorted(self.known_rules))
            self.report(
                (*loc, "rule"),
                f"{label} names unknown rule '{rule}'",
                f"did you mean '{suggestion}'?"
                if suggestion
                else "known rules (see `borderwatch rules`): "
                + ", ".join(sorted(self.known_rules)),
            )
        if raw.get("country") is not None:
            self.check_single_country((*loc, "country"))
        if raw.get("expires") is not None:
            self.check_date((*loc, "expires"), label)

    def check_date(self, loc: Loc, label: str) -> None:
        value = self.doc.get(loc)
        valid = isinstance(value, str) and _DATE.fullmatch(value) is not None
        if valid:
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                valid = False
        if not valid:
            self.report(
                loc,
                f"'expires' of {label} is not a valid date: {value!r}",
                "write the last day the exception applies as YYYY-MM-DD, e.g. 2027-03-31",
                claim=True,
            )


def unknown_class_hint(name: str, known: Iterable[str]) -> str:
    """What to write instead of a data class name the policy does not know."""
    choices = list(known)
    same_letters = [choice for choice in choices if choice.casefold() == name.casefold()]
    suggestion = same_letters[0] if same_letters else close_match(name, choices)
    if suggestion:
        return f"did you mean '{suggestion}'?"
    if choices:
        return "known data classes: " + ", ".join(choices)
    return "define it under data_classes"


def _intended_keys(raw: Mapping[str, Any], model: type[BaseModel]) -> set[str]:
    """The keys that the unknown keys in `raw` were probably meant to be."""
    allowed = allowed_keys(model)
    intended = set()
    for key in raw:
        if isinstance(key, str) and key not in allowed:
            match = close_match(key, allowed)
            if match:
                intended.add(match)
    return intended


def _set_in(data: Any, loc: Loc, value: Any) -> None:
    for part in loc[:-1]:
        data = data[part]
    data[loc[-1]] = value
