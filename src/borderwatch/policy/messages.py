"""The typed model's validation errors, said for a person and placed at their line.

pydantic reports each error with a `loc` path through the input, which is also a path
through the YAML tree, so every message can point at the key or value it is about.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from borderwatch.errors import Problem
from borderwatch.model.dsp import (
    Agreement,
    CisaRequirements,
    DspRules,
    SubjectKey,
    ThresholdOverride,
)
from borderwatch.model.policy import (
    AccessRule,
    ApprovedLocation,
    DataClass,
    Policy,
    PolicyException,
    StorageRule,
)
from borderwatch.policy.checks import allowed_keys, close_match
from borderwatch.policy.yamldoc import Loc, YamlDocument

__all__ = ["problem_from_error"]


_REQUIRED_HINTS = {
    "name": "give the policy a short name, e.g. name: us-protected-data",
    "version": 'give the policy a version, quoted, e.g. version: "2026.1"',
    "data_classes": "add data_classes with at least one class, e.g. us_user_data",
    "id": "give every exception a unique id, e.g. id: EXC-2026-001",
    "approver": "say who approved the exception, e.g. approver: Jane Roe (CISO)",
    "ticket": "name the ticket that records the approval, e.g. ticket: SEC-1234",
    "expires": "give the last day the exception applies, e.g. expires: 2027-03-31",
}


def _context(doc: YamlDocument, loc: Loc) -> tuple[str, type[BaseModel] | None]:
    """What the mapping at `loc` is, in words, and the model that describes it."""
    match loc:
        case ():
            return "the policy", Policy
        case ("data_classes", name):
            return f"data class '{name}'", DataClass
        case ("data_classes", name, "storage"):
            return f"the storage of data class '{name}'", StorageRule
        case ("data_classes", name, "access"):
            return f"the access rules of data class '{name}'", AccessRule
        case ("data_classes", name, "storage", "approved", int(index)):
            return f"approved location {index + 1} of data class '{name}'", ApprovedLocation
        case ("data_classes",):
            return "data_classes", None
        case ("dsp",):
            return "the dsp section", DspRules
        case ("dsp", "subject_keys", int(index)):
            return f"subject key {index + 1} of the dsp section", SubjectKey
        case ("dsp", "agreements", int(index)):
            return f"agreement {index + 1} of the dsp section", Agreement
        case ("dsp", "agreements", int(index), "cisa"):
            return f"the CISA requirements of agreement {index + 1}", CisaRequirements
        case ("dsp", "thresholds", str(category)):
            return f"the threshold of {category}", ThresholdOverride
        case ("exceptions",):
            return "exceptions", None
        case ("exceptions", int(index)):
            ident = doc.get((*loc, "id"))
            label = f"exception '{ident}'" if isinstance(ident, str) else f"exception {index + 1}"
            return label, PolicyException
        case _:
            return "'" + ".".join(str(part) for part in loc) + "'", None


def problem_from_error(doc: YamlDocument, error: ErrorDetails) -> Problem:
    """One pydantic error as a Problem with its file, line, column and a hint."""
    loc: Loc = tuple(error["loc"])
    handler = _HANDLERS.get(error["type"], _generic)
    return handler(doc, loc, error)


def _where(doc: YamlDocument, loc: Loc) -> str:
    """'key' in context, for messages about the value at `loc`."""
    if not loc:
        return "the policy"
    label, model = _context(doc, loc)
    if model is not None:
        return label  # a known mapping names itself: "data class 'x'", "exception 2"
    context, _ = _context(doc, loc[:-1])
    field = loc[-1]
    if isinstance(field, int):
        return f"entry {field + 1} of {context}"
    if context == "the policy":
        return f"'{field}'"
    return f"'{field}' in {context}"


def _unknown_key(doc: YamlDocument, loc: Loc, error: ErrorDetails) -> Problem:
    key = str(loc[-1])
    context, model = _context(doc, loc[:-1])
    allowed = allowed_keys(model) if model else []
    suggestion = close_match(key, allowed)
    hint = (
        f"did you mean '{suggestion}'?"
        if suggestion
        else "allowed keys here: " + ", ".join(allowed)
        if allowed
        else "remove it"
    )
    return Problem(doc.location(loc, key=True), f"unknown key '{key}' in {context}", hint)


def _missing(doc: YamlDocument, loc: Loc, error: ErrorDetails) -> Problem:
    key = str(loc[-1])
    context, _ = _context(doc, loc[:-1])
    hint = _REQUIRED_HINTS.get(key, f"add '{key}'")
    parent = doc.get(loc[:-1])
    if isinstance(parent, dict) and key in parent:
        # The key is written but empty (null), which the loader treats as not given.
        return Problem(doc.location(loc, key=True), f"'{key}' in {context} has no value", hint)
    return Problem(
        doc.location(loc[:-1], key=True), f"{context} is missing required key '{key}'", hint
    )


def _describe_value(value: Any) -> str:
    if value is None:
        return "empty"
    kinds = {
        bool: "true/false",
        int: "a number",
        float: "a number",
        list: "a list",
        dict: "a mapping",
    }
    kind = next((name for typ, name in kinds.items() if isinstance(value, typ)), "text")
    return f"{value!r} ({kind})" if kind not in ("a list", "a mapping") else kind


def _not_text(doc: YamlDocument, loc: Loc, error: ErrorDetails) -> Problem:
    value = error["input"]
    field = loc[-1] if loc else "value"
    hint = (
        f'quote it so it stays exactly as written: {field}: "{value}"'
        if isinstance(value, int | float) and not isinstance(value, bool)
        else "write text here"
    )
    return Problem(
        doc.location(loc),
        f"{_where(doc, loc)} must be text, not {_describe_value(value)}",
        hint,
    )


def _not_bool(doc: YamlDocument, loc: Loc, error: ErrorDetails) -> Problem:
    return Problem(
        doc.location(loc),
        f"{_where(doc, loc)} must be true or false, not {_describe_value(error['input'])}",
        "write true or false",
    )


def _not_mapping(doc: YamlDocument, loc: Loc, error: ErrorDetails) -> Problem:
    _, model = _context(doc, loc)
    keys = allowed_keys(model) if model else []
    hint = (
        ("write it as indented 'key: value' lines; keys: " + ", ".join(keys))
        if keys
        else ("write it as indented 'key: value' lines")
    )
    return Problem(
        doc.location(loc),
        f"{_where(doc, loc)} must be a mapping of keys, not {_describe_value(error['input'])}",
        hint,
    )


def _not_list(doc: YamlDocument, loc: Loc, error: ErrorDetails) -> Problem:
    field = loc[-1] if loc else "value"
    value = error["input"]
    example = f"{field}: [{value}]" if isinstance(value, str) else f"{field}: [a, b]"
    return Problem(
        doc.location(loc),
        f"{_where(doc, loc)} must be a list, not {_describe_value(value)}",
        f"write {example}, or one '- item' per line",
    )


def _not_date(doc: YamlDocument, loc: Loc, error: ErrorDetails) -> Problem:
    return Problem(
        doc.location(loc),
        f"{_where(doc, loc)} is not a valid date: {error['input']!r}",
        "write the date as YYYY-MM-DD, e.g. 2027-03-31",
    )


def _value_error(doc: YamlDocument, loc: Loc, error: ErrorDetails) -> Problem:
    context, model = _context(doc, loc)
    message = str(error["msg"]).removeprefix("Value error, ")
    hint = (
        "give provider, region, country or partition, e.g. {provider: oci, country: US}"
        if model is ApprovedLocation
        else "see docs/policy.md"
    )
    return Problem(doc.location(loc), f"{context}: {message}", hint)


def _generic(doc: YamlDocument, loc: Loc, error: ErrorDetails) -> Problem:
    return Problem(doc.location(loc), f"{_where(doc, loc)}: {error['msg']}", "see docs/policy.md")


_Handler = Callable[[YamlDocument, Loc, ErrorDetails], Problem]

# pydantic error types (https://docs.pydantic.dev/latest/errors/validation_errors/) that
# people meet in a hand-written policy; anything else falls back to pydantic's wording.
_HANDLERS: dict[str, _Handler] = {
    "extra_forbidden": _unknown_key,
    "missing": _missing,
    "string_type": _not_text,
    "bool_type": _not_bool,
    "bool_parsing": _not_bool,
    "model_type": _not_mapping,
    "model_attributes_type": _not_mapping,
    "dict_type": _not_mapping,
    "tuple_type": _not_list,
    "list_type": _not_list,
    "date_type": _not_date,
    "date_parsing": _not_date,
    "date_from_datetime_parsing": _not_date,
    "date_from_datetime_inexact": _not_date,
    "value_error": _value_error,
}
