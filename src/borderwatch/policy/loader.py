"""Read a policy file or built-in pack into a `Policy`, reporting every problem at once.

The steps, each adding to one list of problems: bytes to text to a YAML tree (syntax and
duplicate keys), policy-level checks that need the whole document (checks.py), then the
typed model, whose errors are rephrased and placed at their line (messages.py). The
policy is returned only when the list is empty.
"""

from __future__ import annotations

import hashlib
import os
import re
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import NoReturn

from pydantic import ValidationError

from borderwatch.errors import PolicyError, Problem, SourceLocation
from borderwatch.model.policy import Policy
from borderwatch.policy.checks import close_match, prepare
from borderwatch.policy.messages import problem_from_error
from borderwatch.policy.regions import RegionLookup
from borderwatch.policy.yamldoc import parse_policy_bytes

__all__ = ["builtin_packs", "load_policy", "validate_policy"]

BUILTIN_PREFIX = "builtin:"


def load_policy(
    ref: str | Path,
    *,
    known_rules: set[str] | None = None,
    builtin_only: bool = False,
    locations: RegionLookup | None = None,
) -> Policy:
    """Load and validate a policy.

    `ref` is the path of a policy YAML file or the name of a built-in pack (see
    `builtin_packs`); an existing path wins over a pack of the same name. With
    `builtin_only`, files are never read and only pack names are accepted. When
    `known_rules` is given, every exception's `rule` must be one of them; when
    `locations` (a LocationRegistry) is given, every approved region must resolve in it.

    The returned policy records its `source` (the path as given, or "builtin:<name>") and
    the `sha256` of the file's bytes. Raises `PolicyError` listing every problem found,
    each with file, line, column and a hint.
    """
    origin, data = _read(ref, builtin_only=builtin_only)
    policy, problems = _check(origin, data, known_rules, locations)
    if policy is None:
        count = len(problems)
        raise PolicyError(
            f"the policy {origin} has {count} problem{'' if count == 1 else 's'}:", problems
        )
    return policy


def validate_policy(
    ref: str | Path,
    *,
    known_rules: set[str] | None = None,
    locations: RegionLookup | None = None,
) -> list[Problem]:
    """Every problem in a policy file or pack, in reading order; [] when it is valid."""
    try:
        load_policy(ref, known_rules=known_rules, locations=locations)
    except PolicyError as exc:
        return exc.problems
    return []


def builtin_packs() -> dict[str, str]:
    """The built-in policy packs: name -> the first sentence of its description."""
    packs: dict[str, str] = {}
    for name, entry in sorted(_pack_files().items()):
        doc, _ = parse_policy_bytes(entry.read_bytes(), BUILTIN_PREFIX + name)
        description = doc.root.get("description") if doc is not None else None
        packs[name] = _first_sentence(description) if isinstance(description, str) else ""
    return packs


def _check(
    origin: str, data: bytes, known_rules: set[str] | None, locations: RegionLookup | None
) -> tuple[Policy | None, list[Problem]]:
    doc, problems = parse_policy_bytes(data, origin)
    if doc is None:
        return None, problems
    prepared = prepare(doc, known_rules, locations)
    problems.extend(prepared.problems)
    policy: Policy | None = None
    try:
        policy = Policy.model_validate(
            {**prepared.data, "source": origin, "sha256": hashlib.sha256(data).hexdigest()}
        )
    except ValidationError as exc:
        problems.extend(
            problem_from_error(doc, error)
            for error in exc.errors(include_url=False)
            if not prepared.is_claimed(tuple(error["loc"]))
        )
    problems.sort(key=lambda p: (p.location.line or 0, p.location.column or 0, p.message))
    return (policy if not problems else None), problems


def _read(ref: str | Path, *, builtin_only: bool) -> tuple[str, bytes]:
    """The name to show in locations and the bytes of the policy `ref` points at."""
    text = os.fspath(ref)
    if not builtin_only:
        path = Path(ref)
        if path.is_dir():
            _fail(text, "this is a folder, not a policy file", "give the path of the YAML file")
        if path.is_file():
            try:
                return text, path.read_bytes()
            except OSError as exc:
                _fail(text, f"cannot read the policy file: {exc.strerror}", "check permissions")
    packs = _pack_files()
    name = text.removeprefix(BUILTIN_PREFIX)
    if name in packs:
        return BUILTIN_PREFIX + name, packs[name].read_bytes()
    listing = "built-in packs: " + ", ".join(sorted(packs)) + " (see `borderwatch packs`)"
    suggestion = close_match(name, packs)
    if suggestion:
        listing = f"did you mean '{suggestion}'? {listing}"
    if builtin_only:
        _fail(text, f"'{text}' is not a built-in policy pack (files are not read here)", listing)
    _fail(
        text,
        f"no policy file or built-in pack named '{text}'",
        f"{listing}; or give the path of a policy YAML file",
    )


def _fail(origin: str, message: str, hint: str) -> NoReturn:
    raise PolicyError(
        f"cannot load the policy {origin}:", [Problem(SourceLocation(origin), message, hint)]
    )


def _pack_files() -> dict[str, Traversable]:
    folder = resources.files("borderwatch.policy").joinpath("packs")
    return {
        entry.name.removesuffix(".yaml"): entry
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml") and entry.is_file()
    }


def _first_sentence(text: str) -> str:
    flat = " ".join(text.split())
    return re.split(r"(?<=\.)\s+(?=[A-Z])", flat, maxsplit=1)[0]
