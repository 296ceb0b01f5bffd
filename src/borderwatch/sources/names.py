"""How a file is named to people: safe to print and to write as JSON."""

from __future__ import annotations

import os
from pathlib import Path


def display_name(path: Path | str) -> str:
    """A path as text that is safe to print and to write as JSON: bytes of a file name
    that are not UTF-8 are shown as \\xNN escapes instead of breaking the output."""
    raw = os.fsencode(path)
    return raw.decode("utf-8", errors="backslashreplace")
