"""Earlier inventories (snapshots) and the day each describes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from borderwatch.yamlbounds import yaml_bounds_problem

YAML_SUFFIXES = (".yaml", ".yml")


def snapshot_date(path: Path) -> dt.date:
    """The day an inventory describes: `collected.at` in a collected YAML, else its mtime.

    `borderwatch inventory collect` writes `collected.at`; a hand-written inventory has
    only its file time, which is what a person would assume too.
    """
    if path.suffix.lower() in YAML_SUFFIXES:
        try:
            text = path.read_text(encoding="utf-8")
            # A file past the limits is refused by the inventory reader with its line;
            # here it simply has no `collected.at`.
            document = None if yaml_bounds_problem(text, str(path)) else YAML(typ="safe").load(text)
        except (OSError, UnicodeDecodeError, YAMLError):
            document = None
        collected = document.get("collected") if isinstance(document, dict) else None
        at = collected.get("at") if isinstance(collected, dict) else None
        if isinstance(at, dt.datetime):
            return at.date()
        if isinstance(at, dt.date):
            return at
        if isinstance(at, str):
            try:
                return dt.datetime.fromisoformat(at).date()
            except ValueError:
                pass
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).date()
