"""Error types that carry where a problem was found and what to do about it."""

from __future__ import annotations

import errno
import tempfile
from dataclasses import dataclass


@dataclass(frozen=True)
class SourceLocation:
    """A place in an input file: path, and 1-based line and column when known."""

    path: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        text = self.path
        if self.line is not None:
            text += f":{self.line}"
            if self.column is not None:
                text += f":{self.column}"
        return text


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, said for a person: where, what, and a hint."""

    location: SourceLocation
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text


class BorderwatchError(Exception):
    """Base class of every error borderwatch raises on purpose."""


class InputError(BorderwatchError):
    """An input (policy, inventory, identities, events) cannot be used.

    Carries every problem found, not just the first, so a user fixes them in one pass.
    """

    def __init__(self, summary: str, problems: list[Problem] | None = None) -> None:
        self.summary = summary
        self.problems = list(problems or [])
        super().__init__(self.__str__())

    def __str__(self) -> str:
        if not self.problems:
            return self.summary
        lines = [self.summary, *(f"  {p}" for p in self.problems)]
        return "\n".join(lines)


class PolicyError(InputError):
    """The policy file is invalid; `problems` lists every mistake with its line and column."""


class UsageError(BorderwatchError):
    """The command was called wrongly (missing option, unknown name)."""


def system_refusal(exc: OSError) -> str:
    """What the system refused, for a person: the reason, the path, and what to do about a
    full disk (temporary files: DuckDB's spill and the workers' digests)."""
    text = exc.strerror or str(exc)
    if exc.filename:
        text += f": {exc.filename}"
    if exc.errno == errno.ENOSPC:
        text += (
            f" (temporary files go to {tempfile.gettempdir()}; set TMPDIR to a folder with "
            "room, or free some)"
        )
    return text
