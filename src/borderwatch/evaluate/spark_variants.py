"""Spark variants of SQL files: `<name>.spark.sql` beside `<name>.sql`.

Where a DuckDB construct has no faithful Spark translation, the file carries a variant,
written in DuckDB's dialect too (so it is transpiled like the rest, and can be run on
DuckDB) that asks the same question in a form Spark can run. The Spark engine runs the
variant wherever the pipeline sends the text of the file it stands beside; the parity
suite (tests/test_spark_parity.py) proves the findings of both engines identical.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from importlib.resources import files
from importlib.resources.abc import Traversable

from borderwatch.evaluate.rulefiles import SPARK_VARIANT, builtin_rule_folder


def builtin_sql_folders() -> list[Traversable]:
    """The folders of the built-in SQL: the views, the rules' shared SQL, each family."""
    rules = builtin_rule_folder()
    return [
        files("borderwatch.evaluate").joinpath("sql"),
        *(child for child in rules.iterdir() if child.is_dir()),
    ]


def spark_variants(folders: Iterable[Traversable]) -> dict[str, str]:
    """The text of each file that has a Spark variant -> the variant's text."""
    return {
        base.read_text("utf-8"): variant.read_text("utf-8") for base, variant in _pairs(folders)
    }


def _pairs(folders: Iterable[Traversable]) -> Iterator[tuple[Traversable, Traversable]]:
    for folder in folders:
        for item in folder.iterdir():
            if item.is_file() and item.name.endswith(SPARK_VARIANT):
                base = folder.joinpath(item.name.removesuffix(SPARK_VARIANT) + ".sql")
                if base.is_file():
                    yield base, item
