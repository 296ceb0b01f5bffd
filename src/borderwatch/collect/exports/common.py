"""Helpers shared by the export readers: decoding, data classes from tags, YAML output.

Data-class convention (see docs/exports.md):

- AWS and Azure tags, OCI freeform tags: key `borderwatch:data-classes`, value the class
  names separated by `;` (`us_user_data;payments`).
- GCP labels (keys and values allow only lower-case letters, digits, `_` and `-`): key
  `borderwatch-data-classes` holds one class; more classes go in further labels whose key
  starts with `borderwatch-data-class-` (`borderwatch-data-class-2: payments`).

Every reader accepts all of these spellings on every provider, so a tag copied from one
provider to another still works. A `--classes-map` file adds classes by store pattern.
"""

from __future__ import annotations

import codecs
import csv
import fnmatch
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from borderwatch.errors import InputError, Problem, SourceLocation
from borderwatch.model.inventory import Store
from borderwatch.yamlbounds import check_yaml_bounds

TAG_KEY = "borderwatch:data-classes"
LABEL_KEY = "borderwatch-data-classes"
LABEL_PREFIX = "borderwatch-data-class-"
_CLASS_KEYS = (TAG_KEY, LABEL_KEY)

STORE_KEYS = (
    "store_id",
    "provider",
    "region",
    "service",
    "data_classes",
    "records",
    "copy_of",
    "copy_kind",
    "aliases",
)


@dataclass
class ExportResult:
    """Stores read from one export, and what could not be used (file, place, reason)."""

    stores: list[Store] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def extend(self, other: ExportResult) -> None:
        self.stores.extend(other.stores)
        self.problems.extend(other.problems)


# ------------------------------------------------------------------ decoding


def decode_text(data: bytes) -> str:
    """Bytes of a JSON export as text: UTF-8 (with or without BOM) or UTF-16/32 with a BOM.

    Windows PowerShell writes `terraform show -json > plan.json` as UTF-16 LE with a BOM;
    a UTF-16 file without BOM is recognised by its NUL bytes. CRLF needs nothing.
    """
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(encoding)
    if len(data) >= 2 and data[0] != 0 and data[1] == 0:
        return data.decode("utf-16-le")
    if len(data) >= 2 and data[0] == 0 and data[1] != 0:
        return data.decode("utf-16-be")
    return data.decode("utf-8-sig")


def load_json_file(path: Path) -> Any:
    """Parse one JSON file; InputError naming the path, line and column when it cannot."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"cannot read {path}",
            [Problem(SourceLocation(str(path)), f"cannot read: {exc.strerror or exc}")],
        ) from exc
    try:
        text = decode_text(data)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 or UTF-16 text",
            [Problem(SourceLocation(str(path)), f"undecodable byte at offset {exc.start}")],
        ) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}: not valid JSON",
            [Problem(SourceLocation(str(path), exc.lineno, exc.colno), exc.msg)],
        ) from exc
    except RecursionError as exc:
        raise nested_too_deep(path) from exc


def nested_too_deep(path: Path) -> InputError:
    """The refusal of a JSON document nested deeper than the parser can follow."""
    return InputError(
        f"{path}: JSON nested too deeply to read; refused",
        [
            Problem(
                SourceLocation(str(path)),
                "arrays or objects nested thousands of levels deep",
                "no export nests this deep: the file is damaged or was made to exhaust the reader",
            )
        ],
    )


# ------------------------------------------------------------------ data classes


def _split(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).split(";") if part.strip()]


def classes_from_tags(tags: Any) -> tuple[str, ...]:
    """Data classes declared in a tag/label mapping or an AWS-style [{Key, Value}] list."""
    pairs: list[tuple[str, Any]] = []
    if isinstance(tags, Mapping):
        pairs = [(str(k), v) for k, v in tags.items()]
    elif isinstance(tags, list):
        for item in tags:
            if isinstance(item, Mapping):
                key = item.get("Key", item.get("key"))
                if key is not None:
                    pairs.append((str(key), item.get("Value", item.get("value"))))
    found: dict[str, None] = {}
    for key, value in sorted(pairs, key=lambda kv: (kv[0] not in _CLASS_KEYS, kv[0])):
        lowered = key.strip().lower()
        if lowered in _CLASS_KEYS or lowered.startswith(LABEL_PREFIX):
            for name in _split(value):
                found.setdefault(name, None)
    return tuple(found)


# ------------------------------------------------------------------ classes map


@dataclass(frozen=True)
class ClassRule:
    """One entry of a classes map: a glob on store id, alias or name, and its classes."""

    match: str
    data_classes: tuple[str, ...]
    origin: str = ""


@dataclass(frozen=True)
class ClassesMap:
    """Data classes applied by store pattern, for resources that carry no tags."""

    rules: tuple[ClassRule, ...] = ()

    @classmethod
    def load(cls, path: Path) -> ClassesMap:
        """Read a classes-map YAML file: a list (or `classes:` list) of {match, data_classes}."""
        try:
            text = decode_text(path.read_bytes())
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(
                f"cannot read classes map {path}",
                [Problem(SourceLocation(str(path)), f"cannot read: {exc}")],
            ) from exc
        check_yaml_bounds(text, str(path), "classes map")
        try:
            doc = YAML(typ="safe").load(text)
        except YAMLError as exc:
            raise InputError(
                f"{path}: not valid YAML", [Problem(SourceLocation(str(path)), str(exc))]
            ) from exc
        if isinstance(doc, Mapping):
            doc = doc.get("classes")
        if not isinstance(doc, list):
            raise InputError(
                f"{path}: a classes map is a list of {{match, data_classes}}",
                [
                    Problem(
                        SourceLocation(str(path)),
                        "expected a YAML list (or a list under `classes:`)",
                        "- match: 'user-media*'\n  data_classes: [us_user_data]",
                    )
                ],
            )
        rules: list[ClassRule] = []
        problems: list[Problem] = []
        for index, item in enumerate(doc):
            where = SourceLocation(f"{path}#/{index}")
            if not isinstance(item, Mapping) or not isinstance(item.get("match"), str):
                problems.append(Problem(where, "each entry needs a text `match` glob"))
                continue
            classes = _split(item.get("data_classes"))
            if not classes:
                problems.append(Problem(where, "each entry needs a non-empty `data_classes`"))
                continue
            rules.append(ClassRule(item["match"], tuple(classes), str(where)))
        if problems:
            raise InputError(f"{len(problems)} problem(s) in classes map {path}", problems)
        return cls(tuple(rules))

    def classes_for(self, names: Iterable[str]) -> tuple[str, ...]:
        """Classes of every rule whose glob matches one of `names` (case-sensitive)."""
        candidates = [n for n in names if n]
        found: dict[str, None] = {}
        for rule in self.rules:
            if any(fnmatch.fnmatchcase(name, rule.match) for name in candidates):
                for name in rule.data_classes:
                    found.setdefault(name, None)
        return tuple(found)

    def apply(self, stores: Sequence[Store]) -> list[Store]:
        """The stores with the classes of every matching rule added to their own."""
        if not self.rules:
            return list(stores)
        result = []
        for store in stores:
            extra = self.classes_for([store.store_id, *store.aliases])
            merged = tuple(dict.fromkeys([*store.data_classes, *extra]))
            result.append(replace(store, data_classes=merged) if extra else store)
        return result


# ------------------------------------------------------------------ reference data


def azure_pairs() -> dict[str, str]:
    """Azure region -> its paired region (where GRS/RA-GRS/GZRS copies land).

    From Microsoft's "Azure cross-region replication pairings" table; some pairs are one-way
    (brazilsouth -> southcentralus, westus3 -> eastus, westindia -> southindia).
    """
    return dict(_azure_pairs())


def _azure_pairs() -> tuple[tuple[str, str], ...]:
    text = (
        resources.files("borderwatch.collect.exports")
        .joinpath("data/azure-pairs.csv")
        .read_text("utf-8")
    )
    reader = csv.DictReader(io.StringIO(text))
    return tuple((row["region"].strip(), row["paired_region"].strip()) for row in reader)


# ------------------------------------------------------------------ output


def store_to_mapping(store: Store) -> dict[str, Any]:
    """The inventory YAML form of one store (keys of docs/inputs.md; empty ones left out)."""
    out: dict[str, Any] = {}
    for key in STORE_KEYS:
        value = getattr(store, key)
        if value is None or value == "" or value == ():
            continue
        out[key] = list(value) if isinstance(value, tuple) else value
    return out


def dedupe(stores: Sequence[Store], problems: list[Problem]) -> list[Store]:
    """Keep the first store of each id; a later one with the same id becomes a problem."""
    seen: dict[str, Store] = {}
    for store in stores:
        if store.store_id in seen:
            problems.append(
                Problem(
                    SourceLocation(store.origin or "?"),
                    f"duplicate store_id {store.store_id!r} "
                    f"(first at {seen[store.store_id].origin})",
                )
            )
            continue
        seen[store.store_id] = store
    return list(seen.values())


def relink(stores: Sequence[Store]) -> list[Store]:
    """Point copy_of at a store id when it names one of the stores' aliases (across files)."""
    ids = {s.store_id for s in stores}
    by_alias: dict[str, str] = {}
    for store in stores:
        for alias in store.aliases:
            by_alias.setdefault(alias, store.store_id)
    return [
        replace(s, copy_of=by_alias[s.copy_of])
        if s.copy_of and s.copy_of not in ids and s.copy_of in by_alias
        else s
        for s in stores
    ]


def write_inventory(stores: Sequence[Store], path: Path) -> None:
    """Write `stores:` YAML readable by `borderwatch scan --inventory`."""
    yaml = YAML()
    yaml.default_flow_style = False
    doc = {"stores": [store_to_mapping(s) for s in stores]}
    buffer = io.StringIO()
    buffer.write("# Written by borderwatch from provider exports; origin of each store in docs.\n")
    yaml.dump(doc, buffer)
    path.write_text(buffer.getvalue(), encoding="utf-8")
