"""How many distinct US persons (or devices) a store holds per Data Security Program
category: the inventory's `dsp_subjects` column (docs/dsp.md).

A cell is either one whole number, which applies to each category the store's data
classes carry (`250000`), or `category=number` pairs separated by ';'
(`covered_personal_identifiers=250000;precise_geolocation=1200`; `combined=260000` gives
the distinct persons of the whole store); in YAML also a mapping.
An empty cell means the volume is unknown, which the DSP rules say rather than assume.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args

from borderwatch.model.dsp import COMBINED, DspCategory
from borderwatch.tables.convert import CellError, count

__all__ = ["ALL_CATEGORIES", "COLUMN", "subject_volumes"]

COLUMN = "dsp_subjects"
# The key of a volume given as one number: it applies to each of the store's categories.
ALL_CATEGORIES = "*"
# `combined`: the distinct persons of the whole store, when its categories overlap.
_CATEGORIES = frozenset((*get_args(DspCategory), COMBINED))


def subject_volumes(values: dict[str, Any]) -> tuple[tuple[str, int], ...]:
    """The row's volumes as (category or "*", subjects), sorted; () when not given.

    Raises CellError naming the column and the part that is wrong.
    """
    raw = values.get(COLUMN)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return ()
    if isinstance(raw, Mapping):
        pairs = [(str(k).strip(), v) for k, v in raw.items()]
    elif (isinstance(raw, int) and not isinstance(raw, bool)) or "=" not in str(raw):
        pairs = [(ALL_CATEGORIES, raw)]
    else:
        pairs = []
        for part in str(raw).split(";"):
            if not part.strip():
                continue
            name, equals, number = part.partition("=")
            if not equals:
                raise CellError(
                    f"'{COLUMN}' part {part.strip()[:40]!r} is not category=number "
                    "(e.g. covered_personal_identifiers=250000)"
                )
            pairs.append((name.strip(), number))
    volumes: dict[str, int] = {}
    for name, number in pairs:
        if name != ALL_CATEGORIES and name not in _CATEGORIES:
            raise CellError(
                f"'{COLUMN}' names {name[:40]!r}, which is not a DSP category (known: "
                + ", ".join(sorted(_CATEGORIES))
                + ")"
            )
        if name in volumes:
            raise CellError(f"'{COLUMN}' gives {name!r} twice")
        value = count({COLUMN: number}, COLUMN)
        if value is not None:
            volumes[name] = value
    return tuple(sorted(volumes.items()))
