"""Policy YAML as a tree that remembers where every key and value was written.

Parsing never raises: bad bytes, YAML syntax errors and duplicate keys all come back as
`Problem`s with a 1-based line and column, so the loader can report them with the rest.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, SequenceNode

from borderwatch.errors import Problem, SourceLocation
from borderwatch.yamlbounds import yaml_bounds_problem

__all__ = ["Loc", "YamlDocument", "parse_policy_bytes", "to_plain"]

# A path into the document, as pydantic reports it: mapping keys and list indexes.
Loc = tuple[str | int, ...]

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_MERGE_TAG = "tag:yaml.org,2002:merge"

# Substrings of ruamel's syntax messages and what a person should do about them.
_SYNTAX_HINTS = {
    "found character '\\t'": "YAML indents with spaces only; replace the tabs with spaces",
    "mapping values are not allowed": (
        "a value containing ': ' must be quoted, or the line is indented wrongly"
    ),
    "could not find expected ':'": "every line of a mapping needs 'key: value'",
    "expected <block end>": "this line is indented differently from the lines above it",
    "found undefined alias": "an alias (*name) must refer to an anchor (&name) defined earlier",
    "expected a single document": "a policy file holds one document; remove the extra '---'",
    "while scanning a quoted scalar": "a quoted string is not closed; add the closing quote",
}
_DEFAULT_SYNTAX_HINT = "check the indentation and quoting on this line and the one before"


@dataclass(frozen=True)
class YamlDocument:
    """A parsed policy file: the round-trip tree and the name shown in error locations."""

    origin: str
    root: Any = field(repr=False)

    def location(self, loc: Loc, *, key: bool = False) -> SourceLocation:
        """Where `loc` was written (1-based). With `key`, the key itself, not its value.

        When part of `loc` is absent (a missing key, a merged key without positions) this
        is the innermost place that exists, which is where the missing thing belongs.
        """
        node = self.root
        line, column = _start_of(node)
        for index, part in enumerate(loc):
            last = index == len(loc) - 1
            position = _position_in(node, part, want_key=key or not last)
            if position is None:
                break
            line, column = position
            node = node[part]
        return SourceLocation(self.origin, line + 1, column + 1)

    def get(self, loc: Loc) -> Any:
        """The raw value at `loc`, or None when it is not there."""
        node = self.root
        for part in loc:
            in_mapping = isinstance(node, dict) and part in node
            in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
            if not (in_mapping or in_list):
                return None
            node = node[part]
        return node


def _start_of(node: Any) -> tuple[int, int]:
    if isinstance(node, CommentedMap | CommentedSeq):
        return node.lc.line, node.lc.col
    return 0, 0


def _position_in(node: Any, part: str | int, *, want_key: bool) -> tuple[int, int] | None:
    # Keys brought in by a merge (<<: *anchor) have no recorded position: stop there.
    try:
        if isinstance(node, CommentedMap) and part in node:
            position = node.lc.key(part) if want_key else node.lc.value(part)
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            position = node.lc.item(part)
        else:
            return None
    except (KeyError, IndexError, TypeError):
        return None
    return int(position[0]), int(position[1])


def parse_policy_bytes(data: bytes, origin: str) -> tuple[YamlDocument | None, list[Problem]]:
    """Decode and parse a policy file: the document (None if unusable) and its problems."""
    start = SourceLocation(origin, 1, 1)
    if not data.strip():
        return None, [Problem(start, "the policy file is empty", _START_HINT)]
    try:
        # utf-8-sig: a byte-order mark from a Windows editor is harmless, so accept it.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [_not_utf8(data, exc, origin)]
    bounds = yaml_bounds_problem(text, origin)
    if bounds is not None:
        return None, [bounds]
    yaml = _policy_yaml()
    try:
        duplicates = list(_duplicate_keys(yaml.compose(text), origin))
        root = yaml.load(text)
    except MarkedYAMLError as exc:
        return None, [_syntax_problem(exc, origin)]
    except (YAMLError, ValueError) as exc:
        return None, [Problem(start, f"the policy is not valid YAML: {exc}", _DEFAULT_SYNTAX_HINT)]
    if root is None:
        return None, [Problem(start, "the policy file holds only comments", _START_HINT)]
    if not isinstance(root, CommentedMap):
        kind = "a list" if isinstance(root, list) else "a single value"
        return None, [
            Problem(start, f"the policy must be a mapping of keys, not {kind}", _START_HINT)
        ]
    # With duplicates reported, the rest of the document is still checked, so one pass
    # shows every mistake.
    return YamlDocument(origin, root), duplicates


_START_HINT = (
    "a policy starts with 'borderwatch: policy/v1', then name, version and data_classes; "
    "see docs/policy.md"
)


def _policy_yaml() -> YAML:
    yaml = YAML(typ="rt")
    # Duplicates are found on the composed nodes, where every one is still visible, so the
    # constructor may keep going and let the other problems be reported too.
    yaml.allow_duplicate_keys = True
    # Dates stay text: datetime would raise a bare ValueError for 2026-02-30 with no line,
    # and the loader checks the date where it knows the key.
    constructors = dict(yaml.constructor.yaml_constructors)
    constructors[_TIMESTAMP_TAG] = _timestamp_as_text
    yaml.constructor.yaml_constructors = constructors
    return yaml


def _timestamp_as_text(constructor: Any, node: Node) -> str:
    return str(node.value)


def _duplicate_keys(root: Node | None, origin: str) -> Iterator[Problem]:
    seen_nodes: set[int] = set()
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:  # aliases share nodes; visit each once
            continue
        seen_nodes.add(id(node))
        if isinstance(node, MappingNode):
            first_line: dict[tuple[str, Any], int] = {}
            for key_node, value_node in node.value:
                stack.append(value_node)
                if key_node.tag == _MERGE_TAG or isinstance(key_node.value, list):
                    continue
                ident = (key_node.tag, key_node.value)
                if ident in first_line:
                    mark = key_node.start_mark
                    yield Problem(
                        SourceLocation(origin, mark.line + 1, mark.column + 1),
                        f"duplicate key '{key_node.value}'",
                        f"it is already set on line {first_line[ident]}; YAML would keep "
                        "only one of them, so merge the two or remove one",
                    )
                else:
                    first_line[ident] = key_node.start_mark.line + 1
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)


def _syntax_problem(exc: MarkedYAMLError, origin: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    where = (
        SourceLocation(origin, mark.line + 1, mark.column + 1)
        if mark is not None
        else SourceLocation(origin, 1, 1)
    )
    problem = exc.problem or exc.context or "unreadable YAML"
    message = f"YAML syntax error: {problem}"
    if exc.context and exc.problem and exc.context_mark is not None:
        started = f"{exc.context} on line {exc.context_mark.line + 1}"
        # ruamel's contexts read either "while parsing X" or "expected X" (+ "but found Y").
        message = (
            f"YAML syntax error {started}: {exc.problem}"
            if exc.context.startswith("while")
            else f"YAML syntax error: {started}, {exc.problem}"
        )
    text = f"{exc.context} {exc.problem}"
    hint = next(
        (hint for needle, hint in _SYNTAX_HINTS.items() if needle in text), _DEFAULT_SYNTAX_HINT
    )
    return Problem(where, message, hint)


def _not_utf8(data: bytes, exc: UnicodeDecodeError, origin: str) -> Problem:
    line = data.count(b"\n", 0, exc.start) + 1
    column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
    return Problem(
        SourceLocation(origin, line, column),
        f"the policy file is not UTF-8 text (byte 0x{data[exc.start]:02x} cannot be decoded)",
        "save the file as UTF-8",
    )


def to_plain(value: Any) -> Any:
    """The tree as plain dicts, lists and scalars; keys with no value (null) are left out.

    Dropping nulls lets an empty `key:` mean "not given", so the model's default applies
    and a required key reads as missing, which is how a person sees an empty value.
    """
    if isinstance(value, dict):
        return {to_plain(k): to_plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [to_plain(item) for item in value]
    # ruamel wraps some scalars (hex ints, long strings) in subclasses; unwrap them.
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return value
