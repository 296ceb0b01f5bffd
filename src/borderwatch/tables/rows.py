"""Read a CSV file or a YAML list of mappings as rows that know where they came from.

Inventories and identity directories are small, hand-kept tables; what matters is that a
bad row is pointed at precisely (file and line) and never takes the good rows down.
"""

from __future__ import annotations

import csv
import difflib
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from borderwatch.errors import InputError, Problem, SourceLocation
from borderwatch.model.events import excerpt_of
from borderwatch.yamlbounds import check_yaml_bounds

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Row:
    """One row: its values by column name, or the reason it could not be read at all."""

    path: str
    line: int
    values: dict[str, Any]
    error: str = ""
    excerpt: str = ""

    @property
    def position(self) -> str:
        return f"line {self.line}"


def read_rows(path: Path, list_key: str, required: Sequence[str] = ()) -> Iterator[Row]:
    """Rows of a CSV file, or of the list under `list_key` in a YAML file.

    Raises InputError only when the file as a whole cannot be read (missing, not text,
    not CSV/YAML); a bad row is yielded with `error` set so the caller can quarantine it.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 text (byte {exc.start})",
            [Problem(SourceLocation(str(path)), "not UTF-8", "save the file as UTF-8")],
        ) from exc
    if path.suffix.lower() in YAML_SUFFIXES:
        # A YAML row leaves out what is empty (the exporters write it so); a missing key
        # in a row is an empty cell, which the row's own conversion judges.
        yield from _yaml_rows(path, text, list_key)
    else:
        yield from _csv_rows(path, text, list_key, required)


def _csv_rows(path: Path, text: str, list_key: str, required: Sequence[str]) -> Iterator[Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise InputError(f"{path}:1: unreadable CSV header: {exc}") from exc
    columns = [name.strip().lower() for name in header]
    missing = [name for name in required if name not in columns]
    if missing:
        # A wrong file (or a header typo) must not read as an empty, clean input.
        raise _missing_columns(path, list_key, missing, required, columns, "the header")
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Row(str(path), reader.line_num, {}, error=f"unreadable CSV row: {exc}")
            continue
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue  # blank lines are not records
        if len(cells) != len(columns):
            yield Row(
                str(path),
                line,
                {},
                error=f"expected {len(columns)} columns, found {len(cells)}",
                excerpt=excerpt_of(",".join(cells)),
            )
            continue
        values = {name: cell.strip() for name, cell in zip(columns, cells, strict=True)}
        yield Row(str(path), line, values, excerpt=excerpt_of(",".join(cells)))


def _missing_columns(
    path: Path,
    list_key: str,
    missing: Sequence[str],
    required: Sequence[str],
    present: Sequence[str],
    where: str,
) -> InputError:
    """The error for a table without some of its required columns, with a likely typo."""
    hint = f"{where} needs at least: {', '.join(required)} (see docs/inputs.md)"
    typos = [
        f"'{found[0]}' for '{name}'"
        for name in missing
        if (found := difflib.get_close_matches(name, [p for p in present if p], n=1, cutoff=0.8))
    ]
    if typos:
        hint += "; is " + ", ".join(typos) + " a typo?"
    return InputError(
        f"{path}: not a file of {list_key}: no column {', '.join(missing)}",
        [
            Problem(
                SourceLocation(str(path), 1, 1),
                f"missing required column(s) for {list_key}: {', '.join(missing)}",
                hint,
            )
        ],
    )


def _yaml_rows(path: Path, text: str, list_key: str) -> Iterator[Row]:
    check_yaml_bounds(text, str(path), f"a YAML list of {list_key}")
    yaml = YAML(typ="rt")
    try:
        document = yaml.load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        column = mark.column + 1 if mark is not None else None
        raise InputError(
            f"{path}: invalid YAML",
            [Problem(SourceLocation(str(path), line, column), str(getattr(exc, "problem", exc)))],
        ) from exc
    if document is None:
        return
    items = document.get(list_key) if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise InputError(
            f"{path}: expected a list under '{list_key}:'",
            [
                Problem(
                    SourceLocation(str(path), 1, 1),
                    f"no list of rows found under '{list_key}'",
                    f"start the file with '{list_key}:' followed by '- ' items",
                )
            ],
        )
    for index, item in enumerate(items):
        line = _item_line(items, index)
        if not isinstance(item, dict):
            yield Row(
                str(path), line, {}, error="row is not a mapping", excerpt=excerpt_of(repr(item))
            )
            continue
        values = {str(key).strip().lower(): value for key, value in item.items()}
        yield Row(str(path), line, values, excerpt=excerpt_of(repr(dict(values))))


def _item_line(items: Any, index: int) -> int:
    try:
        return int(items.lc.item(index)[0]) + 1
    except (AttributeError, KeyError, TypeError, IndexError):
        return 0
