"""What a reporter is: findings (a ScanResult) to the bytes of one output file.

A reporter belongs to one *output*, the name `scan --outputs` chooses it by (`json`,
`sarif`, `html`, `csv`, `ocsf`, `oscal`, `junit`; a plug-in may add its own). Two optional
attributes say when it is written:

- `output` (str): the output name; a reporter without it is chosen by its own `name`.
- `by_default` (bool, default True): written when `--outputs` is not given. The formats
  added for other tools (OCSF, OSCAL, JUnit) are written only when asked for.
- `always` (bool, default False): written whatever `--outputs` says. summary.json and
  quarantine.jsonl are the scan's own record (what was read, what was quarantined; the
  output folder's completeness marker), so no choice of formats drops them.
- `check()` (optional method): raises a UsageError when the reporter cannot run here
  (OSCAL without its extra installed), so the scan refuses before reading anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from borderwatch.errors import UsageError
from borderwatch.model.scan import ScanResult


class Reporter(Protocol):
    """Renders one output format. Registered by name; the scan writes `filename`."""

    name: str
    filename: str

    def render(self, result: ScanResult) -> bytes: ...


def output_of(reporter: Reporter) -> str:
    """The `--outputs` name a reporter is chosen by."""
    return str(getattr(reporter, "output", None) or reporter.name)


def output_names(reporters: Iterable[Reporter]) -> list[str]:
    """Every output name the reporters answer to, in registration order, each once."""
    return list(dict.fromkeys(output_of(r) for r in reporters))


def parse_outputs(text: str) -> tuple[str, ...]:
    """`json,sarif , csv` as names: split at commas, blanks dropped, repeats once."""
    names = [part.strip().lower() for part in text.split(",")]
    return tuple(dict.fromkeys(name for name in names if name))


def select_reporters(
    reporters: Iterable[Reporter], outputs: Sequence[str] | None
) -> list[Reporter]:
    """The reporters to run for `outputs` (None: the default set).

    An unknown name (or an empty list) is a UsageError listing the known names, raised
    before any reporter runs.
    """
    every = list(reporters)
    if outputs is None:
        return [r for r in every if getattr(r, "by_default", True) or getattr(r, "always", False)]
    known = output_names(every)
    unknown = [name for name in outputs if name not in known]
    if unknown or not outputs:
        what = f"unknown output {', '.join(map(repr, unknown))}" if unknown else "no output"
        raise UsageError(f"{what} in --outputs; known: {', '.join(known)}")
    chosen = set(outputs)
    return [r for r in every if output_of(r) in chosen or getattr(r, "always", False)]


def check_ready(reporters: Iterable[Reporter]) -> None:
    """Call each reporter's optional `check()`: a UsageError says what is missing."""
    for reporter in reporters:
        check = getattr(reporter, "check", None)
        if callable(check):
            check()
