"""Outputs whose library is an optional extra: say which extra, before a scan starts."""

from __future__ import annotations

import importlib.util

from borderwatch.errors import UsageError


def require(module: str, extra: str, output: str) -> None:
    """A UsageError naming the extra to install if `module` cannot be imported."""
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package that is missing or blocked
        found = False
    if not found:
        raise UsageError(
            f"--outputs {output} needs the '{module.split('.')[0]}' package, which is not "
            f"installed: pip install 'borderwatch[{extra}]' (or leave {output} out of --outputs)"
        )
