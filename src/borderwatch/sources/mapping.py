"""The mapping file: how a user tells the generic reader which column holds which field.

A mapping is YAML (see docs/mapping.md). `load_mapping` reads it and reports every
mistake at once as an `InputError` whose problems carry file:line:column and a hint;
nothing in the file is executed (cells marked `parse: python-literal` are read with
`ast.literal_eval` by the reader, which evaluates literals only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from borderwatch.errors import InputError, Problem, SourceLocation
from borderwatch.policy.yamldoc import Loc, YamlDocument
from borderwatch.sources.batches import READER_COLUMNS
from borderwatch.yamlbounds import yaml_bounds_problem

__all__ = [
    "EVENT_FIELDS",
    "FieldSpec",
    "MappedFields",
    "Mapping",
    "MappingError",
    "load_mapping",
    "parse_mapping",
]

INPUTS = ("csv", "jsonl", "parquet")
PARSERS = ("python-literal", "json")
EPOCHS = ("ms", "s")
LIST_FIELDS = frozenset({"resources", "principal_aliases"})
FIELDS: tuple[str, ...] = READER_COLUMNS
_TOP_KEYS = (
    "name",
    "description",
    "input",
    "columns",
    "header",
    "time_format",
    "epoch",
    "delimiter",
)
_SPEC_KEYS = ("column", "path", "parse", "value", "prefix")


class MappingError(InputError):
    """The mapping file is invalid; `problems` lists every mistake with line and column."""


@dataclass(frozen=True)
class MappedFields:
    """What a kind of mapping maps: its field names, which of them collect lists, and
    what one is called in messages. Every kind needs `event_time`."""

    names: tuple[str, ...]
    lists: frozenset[str] = frozenset()
    what: str = "canonical event field"


EVENT_FIELDS = MappedFields(FIELDS, LIST_FIELDS)


@dataclass(frozen=True)
class FieldSpec:
    """Where one canonical field's value comes from: a constant, or a column (+ path)."""

    column: str | None = None
    # Keys into the column's value once parsed (or into a nested JSON/Parquet value).
    path: tuple[str, ...] = ()
    parse: str | None = None  # "python-literal" | "json" | None
    value: Any = None
    constant: bool = False
    # Text put before each value the column gives (e.g. "customers/id=" before a
    # customer id mapped to `resources`, for a DSP subject key to match).
    prefix: str = ""


@dataclass(frozen=True)
class Mapping:
    """A validated mapping file."""

    name: str
    input: str
    # Canonical field -> its sources; the first non-empty wins (list fields take all).
    fields: dict[str, tuple[FieldSpec, ...]]
    description: str = ""
    header: tuple[str, ...] = ()
    time_format: str | None = None
    epoch: str | None = None
    delimiter: str = ","
    origin: str = field(default="", compare=False)


def load_mapping(path: str | Path, fields: MappedFields | None = None) -> Mapping:
    """Read and validate a mapping file; MappingError lists every problem.

    `fields`: what the mapping may map (default: the canonical event fields).
    """
    origin = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise MappingError(
            f"the mapping {origin} cannot be read: {exc.strerror or exc}", []
        ) from None
    return parse_mapping(data, origin, fields)


def parse_mapping(data: bytes, origin: str, fields: MappedFields | None = None) -> Mapping:
    """Validate mapping YAML given as bytes; `origin` names it in error locations."""
    doc, problems = _parse_yaml(data, origin)
    mapping = None
    if doc is not None:
        checker = _Checker(doc, fields or EVENT_FIELDS)
        mapping = checker.mapping()
        problems.extend(checker.problems)
    if problems or mapping is None:
        count = len(problems)
        raise MappingError(
            f"the mapping {origin} has {count} problem{'' if count == 1 else 's'}:", problems
        )
    return mapping


_HINT = "a mapping needs name, input (csv|jsonl|parquet) and columns; see docs/mapping.md"


def _parse_yaml(data: bytes, origin: str) -> tuple[YamlDocument | None, list[Problem]]:
    start = SourceLocation(origin, 1, 1)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return None, [
            Problem(SourceLocation(origin, line), "the mapping is not UTF-8", "save as UTF-8")
        ]
    bounds = yaml_bounds_problem(text, origin)
    if bounds is not None:
        return None, [bounds]
    try:
        root = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = SourceLocation(origin, mark.line + 1, mark.column + 1) if mark else start
        reason = exc.problem or exc.context or "unreadable YAML"
        return None, [
            Problem(
                where,
                f"YAML syntax error: {reason}",
                "check the indentation and quoting here",
            )
        ]
    except (YAMLError, ValueError) as exc:
        return None, [Problem(start, f"the mapping is not valid YAML: {exc}", _HINT)]
    if not isinstance(root, CommentedMap):
        what = "empty" if root is None else "not a mapping of keys"
        return None, [Problem(start, f"the mapping file is {what}", _HINT)]
    return YamlDocument(origin, root), []


class _Checker:
    """Builds a Mapping from the YAML tree, collecting every problem on the way."""

    def __init__(self, doc: YamlDocument, fields: MappedFields) -> None:
        self.doc = doc
        self.fields = fields
        self.problems: list[Problem] = []

    def problem(
        self, loc: Loc, message: str, hint: str | None = None, *, key: bool = False
    ) -> None:
        self.problems.append(Problem(self.doc.location(loc, key=key), message, hint))

    def text(self, loc: Loc, *, required: bool = False) -> str | None:
        value = self.doc.get(loc)
        if value is None:
            if required:
                self.problem(loc, f"'{loc[-1]}' is required", _HINT)
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.problem(loc, f"'{loc[-1]}' must be text")
            return None
        return str(value)

    def choice(self, loc: Loc, options: tuple[str, ...], *, required: bool = False) -> str | None:
        value = self.text(loc, required=required)
        if value is not None and value not in options:
            self.problem(loc, f"'{loc[-1]}' is {value!r}", f"use one of: {', '.join(options)}")
            return None
        return value

    def mapping(self) -> Mapping | None:
        root = self.doc.root
        for key in root:
            if key not in _TOP_KEYS:
                self.problem(
                    (key,),
                    f"unknown key '{key}'",
                    f"known keys: {', '.join(_TOP_KEYS)}",
                    key=True,
                )
        name = self.text(("name",), required=True)
        kind = self.choice(("input",), INPUTS, required=True)
        epoch = self.choice(("epoch",), EPOCHS)
        time_format = self.text(("time_format",))
        if time_format is not None and "%" not in time_format:
            self.problem(
                ("time_format",),
                "time_format has no % directive",
                "write a strftime pattern, e.g. '%d/%m/%Y %H:%M:%S'",
            )
        delimiter = self.text(("delimiter",)) or ","
        if len(delimiter) != 1:
            self.problem(("delimiter",), "delimiter must be one character")
        header = self._header()
        fields = self._columns()
        if name is None or kind is None or fields is None:
            return None
        return Mapping(
            name=name,
            input=kind,
            fields=fields,
            description=self.text(("description",)) or "",
            header=header,
            time_format=time_format,
            epoch=epoch,
            delimiter=delimiter,
            origin=self.doc.origin,
        )

    def _header(self) -> tuple[str, ...]:
        value = self.doc.get(("header",))
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(("header",), "header must be a list of column names")
            return ()
        return tuple(value)

    def _columns(self) -> dict[str, tuple[FieldSpec, ...]] | None:
        columns = self.doc.get(("columns",))
        if not isinstance(columns, dict):
            self.problem(
                ("columns",),
                "'columns' is required: a mapping of canonical field to source column",
                "e.g. columns: {event_time: Timestamp, caller: Source IP}",
            )
            return None
        fields: dict[str, tuple[FieldSpec, ...]] = {}
        for name, value in columns.items():
            if name not in self.fields.names:
                self.problem(
                    ("columns", name),
                    f"'{name}' is not a {self.fields.what}",
                    f"fields: {', '.join(self.fields.names)}",
                    key=True,
                )
                continue
            entries = value if isinstance(value, list) else [value]
            specs = []
            for index, entry in enumerate(entries):
                loc: Loc = (
                    ("columns", name, index) if isinstance(value, list) else ("columns", name)
                )
                spec = self._spec(loc, entry)
                if spec is not None:
                    specs.append(spec)
            if specs:
                fields[str(name)] = tuple(specs)
        if "event_time" not in fields and "event_time" not in columns:
            self.problem(
                ("columns",),
                "columns must map event_time",
                "an event without a time cannot be judged",
                key=True,
            )
        return fields

    def _spec(self, loc: Loc, entry: Any) -> FieldSpec | None:
        if isinstance(entry, str):
            if not entry:
                self.problem(loc, "a column name cannot be empty")
                return None
            return FieldSpec(column=entry)
        if not isinstance(entry, dict):
            self.problem(
                loc,
                "expected a column name, or {column, path, parse} or {value}",
                "quote column names that look like numbers",
            )
            return None
        for key in entry:
            if key not in _SPEC_KEYS:
                self.problem(
                    (*loc, key), f"unknown key '{key}'", f"use {', '.join(_SPEC_KEYS)}", key=True
                )
        if "value" in entry:
            if "column" in entry:
                self.problem(loc, "give either 'value' (a constant) or 'column', not both")
            value = entry["value"]
            if isinstance(value, dict | list) and loc[1] not in self.fields.lists:
                self.problem((*loc, "value"), "a constant must be text, a number or a boolean")
            return FieldSpec(value=_plain(value), constant=True)
        column = self.text((*loc, "column"), required=True)
        parse = self.choice((*loc, "parse"), PARSERS)
        path_value = entry.get("path")
        path: tuple[str, ...] = ()
        if path_value is not None:
            if not isinstance(path_value, str) or not path_value:
                self.problem((*loc, "path"), "path must be text such as 'userIdentity.arn'")
            else:
                path = tuple(path_value.split("."))
        prefix = entry.get("prefix", "")
        if not isinstance(prefix, str):
            self.problem((*loc, "prefix"), "prefix must be text such as 'customers/id='")
            prefix = ""
        if column is None:
            return None
        return FieldSpec(column=column, path=path, parse=parse, prefix=prefix)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return value
