"""Text from the inputs made safe to print on a terminal.

Store ids, file names, principals and notes come from files the watched people can write.
A terminal obeys the control characters in them: ESC sequences that set the window title,
erase or rewrite lines (a fake "PASS"), OSC 8 links that hide where they point; a newline
starts a line that looks like ours; bidi overrides reorder what is shown. Every value from
an input goes through `terminal_safe` before it is printed, so it prints as the escaped
code points instead of acting.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from rich.text import Text

from borderwatch.model.findings import LOOKALIKE_KEY, Finding
from borderwatch.model.scan import ScanResult

__all__ = [
    "error_lines",
    "finding_place",
    "history_lines",
    "is_lookalike",
    "safe_line",
    "terminal_safe",
]

# Control (C0, DEL, C1), format (bidi, zero-width), surrogates, private use, line and
# paragraph separators: none of them is text a person should see act.
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


def _escaped(ch: str) -> str:
    if ch == "\\":
        return ch
    if unicodedata.category(ch) not in _ESCAPED_CATEGORIES:
        return ch
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def terminal_safe(value: Any) -> str:
    """`value` as one line of inert text: every control or format character escaped."""
    text = value if isinstance(value, str) else str(value)
    # isprintable() is True only when no character needs escaping: most values skip the
    # per-character pass.
    if text.isprintable():
        return text
    return "".join(_escaped(ch) for ch in text)


def safe_line(*parts: Any, style: str = "") -> Text:
    """A rich Text of `parts` made safe; never read as markup, so "[link=..]" stays text."""
    return Text("".join(terminal_safe(part) for part in parts), style=style)


def finding_place(finding: Finding) -> str:
    """Where a finding's country stands, in words: the caller's country for an access
    rule, the country a person is covered with respect to, or where data lies."""
    if finding.rule == "access.covered-person":
        return f"by a person covered with respect to {finding.country}"
    if finding.country:
        return (
            f"from {finding.country}"
            if finding.rule.startswith("access.")
            else f"in {finding.country}"
        )
    return "country -"


def is_lookalike(finding: Finding) -> bool:
    """Whether the finding's principal only looks like another name (evidence/lookalike.py)."""
    return LOOKALIKE_KEY in finding.evidence


def error_lines(exc: BaseException, prefix: str = "") -> list[Text]:
    """An error as lines to print: an InputError's summary, then each problem indented.

    Line by line, each escaped: a value holding a newline must not start a line that looks
    like ours.
    """
    from borderwatch.errors import InputError

    if isinstance(exc, InputError):
        return [
            safe_line(prefix, exc.summary, style="red"),
            *(safe_line("  ", problem, style="red") for problem in exc.problems),
        ]
    return [safe_line(prefix, exc, style="red")]


HISTORY_LINES_SHOWN = 20


def history_lines(result: ScanResult) -> list[Text]:
    """What changed since the previous run of the history (scan --history), in lines:
    counts per status, each new, reopened and resolved finding, expiring exceptions."""
    changes = result.history
    if changes is None:
        return []
    if changes.previous_run is None:
        head = f"History: run {changes.run} ({changes.as_of}), the first of this history"
    else:
        head = (
            f"History: run {changes.run} ({changes.as_of}) against run "
            f"{changes.previous_run} ({changes.previous_as_of}): "
            + ", ".join(f"{n} {status}" for status, n in changes.counts().items())
        )
    lines = [safe_line(head, style="bold")]
    if changes.notice:
        lines.append(safe_line("NOTE: ", changes.notice, style="bold yellow"))
    changed = changes.changed() if changes.previous_run is not None else []
    for item in changed[:HISTORY_LINES_SHOWN]:
        lines.append(
            safe_line(
                f"  {item.status.value.upper():9} {item.id}  {item.rule}  ",
                item.resource or "-",
                "  principal ",
                item.principal or "-",
                f"  first seen {item.first_day} (run {item.first_run})",
            )
        )
    if len(changed) > HISTORY_LINES_SHOWN:
        lines.append(
            safe_line(f"  ... and {len(changed) - HISTORY_LINES_SHOWN} more in summary.json")
        )
    for finding_id in changes.unmuted:
        lines.append(
            safe_line(
                f"  EXCEPTION LAPSED: {finding_id} was muted in the previous run and is open now",
                style="bold yellow",
            )
        )
    for watch in changes.exceptions:
        if watch.state.value == "expiring":
            lines.append(
                safe_line(
                    "WARNING: exception ",
                    watch.id,
                    f" expires on {watch.expires} (in {watch.days_left} day(s)); it mutes "
                    f"{len(watch.muted_now)} finding(s)",
                    style="bold yellow",
                )
            )
        elif watch.state.value == "lapsed":
            lines.append(safe_line("NOTE: exception ", watch.id, f" lapsed on {watch.expires}"))
    return lines
