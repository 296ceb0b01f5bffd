"""Split JSON text that is not one clean document into its records, losing none.

A file may hold several documents back to back or one per line (`{"Records":[...]}`
files joined with `cat`, multi-member gzip of such files, JSON lines whose first line is
broken or longer than any head a layout check reads), trailing garbage after intact
data, or a container that breaks part-way. This reader walks the text value by value:
each top-level value is a container (its list under a known key), a list of records or
one record; a value that does not parse is quarantined with its line and the walk
resumes at the next place a value can start (a line opening with `{` or `[`, or the next
container opening), so records after damage are read too. It is the slow path: readers
call it only when decoding the whole text at once has failed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Generator, Iterator, Sequence
from json.decoder import JSONObject  # type: ignore[attr-defined]
from typing import Any

# add(record, position, ordinal) normalises one record into the batch (or quarantines it);
# quarantine(position, reason, excerpt); flush() -> True when a batch is full and was handed on.
AddRecord = Callable[[Any, str, int], None]
Quarantine = Callable[[str, str, str], None]

_SPACE = " \t\r\n\ufeff"
# Where a value can start after damage: a line opening (at its first column, so not
# inside a pretty-printed document) with an object or a list.
_LINE_START = re.compile(r"\n(?=[{\[])")
_EXCERPT = 200
# Characters of text a value is first decoded from (see ValueWalker._decode), and how
# close to the window's end a value's end or error means it may run past it.
_WINDOW = 1 << 16
_WINDOW_MARGIN = 16


class ValueWalker:
    """Walks the top-level JSON values of `text`; see the module docstring."""

    def __init__(
        self, text: str, keys: Sequence[str], add: AddRecord, quarantine: Quarantine
    ) -> None:
        self.text = text
        self.keys = list(keys)
        self.add = add
        self.quarantine = quarantine
        self.decoder = json.JSONDecoder()
        self.ordinal = 0
        self.documents = 0
        self._counted_to, self._counted_line = 0, 1
        self._container_at = -1  # see _next_container
        openings = "|".join(re.escape(k) for k in self.keys) or r"(?!)"
        self._container = re.compile(r'\{\s*"(' + openings + r')"\s*:\s*\[')

    def walk(self) -> Iterator[None]:
        """Yield after every record or quarantine entry, so the caller can flush batches."""
        pos = self._skip(0)
        while pos < len(self.text):
            self.documents += 1
            try:
                value, end = self._decode(pos)
            except _Unreadable as exc:
                pos = yield from self._broken(pos, exc.why)
            else:
                yield from self._value(value, pos)
                pos = end
            pos = self._skip(pos)

    def _decode(self, pos: int) -> tuple[Any, int]:
        """(value, end) of the JSON value at `pos`; _Unreadable if it does not parse.

        The value is decoded from a window of the text that doubles while the value
        runs past it: json's error for a value counts the lines of everything before
        it, which over the whole text would make a file of many broken lines quadratic.
        """
        # First the value's line (most files hold a value per line), else a window.
        newline = self.text.find("\n", pos, pos + _WINDOW)
        size = newline - pos + 1 + _WINDOW_MARGIN if newline >= 0 else _WINDOW
        while True:
            window = self.text[pos : pos + size]
            try:
                value, end = self.decoder.raw_decode(window)
            except RecursionError:
                raise _Unreadable("nested too deeply to read") from None
            except json.JSONDecodeError as exc:
                if pos + size < len(self.text) and (
                    exc.pos >= len(window) - _WINDOW_MARGIN
                    or exc.msg.startswith("Unterminated string")
                ):
                    size *= 2  # the value may go on past the window
                    continue
                at = pos + exc.pos
                raise _Unreadable(f"{exc.msg} (line {self._line(at)}, character {at})") from None
            if end >= len(window) - _WINDOW_MARGIN and pos + size < len(self.text):
                size *= 2  # a number or literal may go on past the window
                continue
            return value, pos + end

    def _value(self, value: Any, pos: int) -> Iterator[None]:
        line = self._line(pos)
        key = self._key_of(value)
        if key is not None:
            for index, record in enumerate(value[key], start=1):
                self._add(record, f"record {index} of {key} (document at line {line})")
                yield
        elif isinstance(value, list):
            for index, record in enumerate(value, start=1):
                self._add(record, f"item {index} (list at line {line})")
                yield
        else:
            self._add(value, f"line {line}")
            yield

    def _key_of(self, value: Any) -> str | None:
        if isinstance(value, dict):
            for key in self.keys:
                if isinstance(value.get(key), list):
                    return key
        return None

    def _add(self, record: Any, position: str) -> None:
        self.ordinal += 1
        self.add(record, position, self.ordinal)

    def _broken(self, pos: int, why: str) -> Generator[None, None, int]:
        """Salvage what a value that does not parse holds; return where to go on."""
        opening = self._container.match(self.text, pos)
        if opening is not None:
            return (yield from self._salvage(opening.end(), opening.group(1), pos))
        if self.text.startswith("[", pos):
            return (yield from self._salvage(pos + 1, "", pos))
        resume = self._resume(pos)
        self._skipped(pos, resume, "invalid JSON", why)
        yield
        return resume

    def _salvage(self, pos: int, key: str, start: int) -> Generator[None, None, int]:
        """Records of a list (under `key`, or a bare list) one by one, up to the damage."""
        index = 0
        line = self._line(start)
        where = f"of {key} (document at line {line})" if key else f"(list at line {line})"
        label = "record" if key else "item"
        resumed = False  # after damage, records are named by their line, not counted
        while True:
            pos = self._skip(pos)
            if self.text.startswith("]", pos):
                return (yield from self._close(pos + 1, key))
            index += 1
            if resumed:
                label = f"{'record' if key else 'item'} at line {self._line(pos)}"
                index_text = ""
            else:
                index_text = f" {index}"
            try:
                record, end = self._decode(pos)
            except _Unreadable as exc:
                resume = self._resume(pos)
                self._skipped(pos, resume, f"{label}{index_text} {where}: invalid JSON", exc.why)
                yield
                if not self._record_of_same_list(resume):
                    return resume
                pos, resumed = resume, True
                continue
            self._add(record, f"{label}{index_text} {where}")
            yield
            pos = self._skip(end)
            if self.text.startswith(",", pos):
                pos += 1
            elif not self.text.startswith("]", pos):
                resume = self._resume(pos)
                why = "expected ',' or ']' between records"
                self._skipped(pos, resume, f"after {label} {index} {where}: invalid JSON", why)
                yield
                if not self._record_of_same_list(resume):
                    return resume
                pos, resumed = resume, True

    def _record_of_same_list(self, pos: int) -> bool:
        """Whether an object at `pos`, where reading resumes inside a list, is taken as
        the list's next record: yes, unless it opens a new container document."""
        return self.text.startswith("{", pos) and self._container.match(self.text, pos) is None

    def _close(self, pos: int, key: str) -> Generator[None, None, int]:
        """After a salvaged list: the rest of its container object, if it has one."""
        if not key:
            return pos
        pos = self._skip(pos)
        if self.text.startswith("}", pos):
            return pos + 1
        if self.text.startswith(",", pos):
            try:
                # The container's other keys, parsed as the rest of an object.
                _, end = JSONObject((self.text, pos + 1), True, self.decoder.scan_once, None, None)  # type: ignore[attr-defined]
            except (json.JSONDecodeError, RecursionError) as exc:
                resume = self._resume(pos)
                self._skipped(pos, resume, f"after the {key} list: invalid JSON", _reason(exc))
                yield
                return resume
            return int(end)
        resume = self._resume(pos)
        self._skipped(pos, resume, f"after the {key} list: invalid JSON", "expected '}'")
        yield
        return resume

    def _resume(self, pos: int) -> int:
        """The next place after `pos` where a top-level value can start (else the end)."""
        found = [len(self.text), self._next_container(pos + 1)]
        line = _LINE_START.search(self.text, pos + 1)
        if line is not None:
            found.append(line.end())
        return min(found)

    def _next_container(self, pos: int) -> int:
        """Where the next container document opens at or after `pos` (else the end).

        Kept between calls: a file with many broken lines and no container would
        otherwise be searched to its end once per broken line.
        """
        if self._container_at < pos:
            found = self._container.search(self.text, pos)
            self._container_at = len(self.text) if found is None else found.start()
        return self._container_at

    def _skipped(self, start: int, stop: int, what: str, why: str) -> None:
        first, last = self._line(start), self._line(max(start, stop - 1))
        span = f"line {first}" if first == last else f"lines {first}-{last}"
        if stop >= len(self.text) and self.documents > 1:
            what = f"trailing data after the intact documents: {what}"
        self.ordinal += 1
        self.quarantine(
            f"{span} (character {start})", f"{what}: {why}", self.text[start : start + _EXCERPT]
        )

    def _skip(self, pos: int) -> int:
        text = self.text
        while pos < len(text) and text[pos] in _SPACE:
            pos += 1
        return pos

    def _line(self, pos: int) -> int:
        # Positions mostly grow: count from the last one asked about.
        if pos < self._counted_to:
            self._counted_line -= self.text.count("\n", pos, self._counted_to)
        else:
            self._counted_line += self.text.count("\n", self._counted_to, pos)
        self._counted_to = pos
        return self._counted_line


class _Unreadable(Exception):
    """A value that does not parse; `why` says what was wrong and where in the file."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def _reason(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply to read"
    assert isinstance(exc, json.JSONDecodeError)
    return f"{exc.msg} (line {exc.lineno} column {exc.colno})"
