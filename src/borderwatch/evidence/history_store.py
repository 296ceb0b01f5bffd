"""The history folder's DuckDB file: opening it safely, its tables, its format.

A history is evidence: a file written by another format, a damaged file or a file that
has gone missing beside its ledger is refused with what and where, never replaced by a
fresh history (which would make every finding "new" and hide what was resolved).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

from borderwatch import __version__
from borderwatch.errors import InputError, UsageError

HISTORY_FILE = "history.duckdb"
LEDGER_FILE = "ledger.jsonl"  # written by the signed ledger, beside the history
# The layout of the tables below; a reader refuses any other (docs/board.md, History).
FORMAT = 1

_SCHEMA = (
    "CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
    """CREATE TABLE runs (
        run INTEGER PRIMARY KEY,
        run_id VARCHAR NOT NULL,
        as_of DATE NOT NULL,
        started_at VARCHAR,
        finished_at VARCHAR,
        policy VARCHAR,
        policy_sha256 VARCHAR,
        verdict VARCHAR NOT NULL,
        figures VARCHAR NOT NULL  -- JSON: the run's summary figures (history_figures.py)
    )""",
    """CREATE TABLE run_findings (
        run INTEGER NOT NULL,
        id VARCHAR NOT NULL,
        rule VARCHAR NOT NULL,
        severity VARCHAR NOT NULL,
        state VARCHAR NOT NULL,  -- open or muted in that run
        title VARCHAR,
        resource VARCHAR,
        principal VARCHAR,
        country VARCHAR,
        first_seen VARCHAR,  -- the earliest event behind it, as the run saw it
        exception VARCHAR  -- the exception muting it, if any
    )""",
    """CREATE TABLE run_exceptions (
        run INTEGER NOT NULL,
        id VARCHAR NOT NULL,
        approver VARCHAR,
        ticket VARCHAR,
        expires DATE NOT NULL,
        state VARCHAR NOT NULL,
        muted VARCHAR NOT NULL  -- JSON list of the finding ids it muted in that run
    )""",
)


def history_file(folder: Path) -> Path:
    return folder / HISTORY_FILE


def check_folder(folder: Path) -> None:
    """Refuse a history folder that is a file."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--history {folder} is a file: give a folder")


def started_beside_ledger(folder: Path) -> str | None:
    """What to tell the reader when a history starts in a folder whose signed ledger
    already holds records: either the ledger was kept alone until now, or this
    folder's history file was deleted; the run says so instead of starting silently."""
    ledger = folder / LEDGER_FILE
    if history_file(folder).exists() or not ledger.exists():
        return None
    return (
        f"{history_file(folder)} did not exist, but {ledger} holds records from earlier "
        "runs: this run starts a new history; if the history file was moved or deleted, "
        "restore it and scan again"
    )


def open_history(folder: Path, *, write: bool) -> duckdb.DuckDBPyConnection | None:
    """The history's connection (None when reading a folder that has no history yet).

    Writing creates the folder and the file with the current format. An existing file
    must be a DuckDB database of this format, else an InputError names it and why.
    """
    check_folder(folder)
    path = history_file(folder)
    if not path.exists():
        if not write:
            return None
        folder.mkdir(parents=True, exist_ok=True)
        connection = duckdb.connect(str(path))
        with_transaction(connection, _create)
        return connection
    try:
        connection = duckdb.connect(str(path), read_only=not write)
    except duckdb.Error as exc:
        if "lock" in str(exc).lower():
            raise InputError(
                f"{path}: in use by another process (another scan or board on this history?): "
                f"wait for it to finish ({_first_line(exc)})"
            ) from exc
        raise InputError(_refusal(path, _first_line(exc))) from exc
    try:
        _check_format(connection, path)
    except BaseException:
        connection.close()
        raise
    return connection


def with_transaction(
    connection: duckdb.DuckDBPyConnection, work: Callable[[duckdb.DuckDBPyConnection], None]
) -> None:
    """Run `work(connection)` in one transaction: all of it is written, or none."""
    connection.execute("BEGIN TRANSACTION")
    try:
        work(connection)
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _create(connection: duckdb.DuckDBPyConnection) -> None:
    for statement in _SCHEMA:
        connection.execute(statement)
    connection.executemany(
        "INSERT INTO meta VALUES (?, ?)",
        [["format", str(FORMAT)], ["created_by", f"borderwatch {__version__}"]],
    )


def _check_format(connection: duckdb.DuckDBPyConnection, path: Path) -> None:
    try:
        rows = connection.execute("SELECT key, value FROM meta").fetchall()
    except duckdb.Error as exc:
        raise InputError(
            _refusal(path, f"it has no readable 'meta' table ({_first_line(exc)})")
        ) from exc
    meta = dict(rows)
    written = meta.get("format")
    if written != str(FORMAT):
        raise InputError(
            f"{path}: history format {written!r} (written by {meta.get('created_by', '?')}); "
            f"this borderwatch ({__version__}) reads format {FORMAT} only: use the version "
            "that wrote it, or give a new folder to start another history"
        )
    tables = {row[0] for row in connection.execute("SHOW TABLES").fetchall()}
    missing = {"runs", "run_findings", "run_exceptions"} - tables
    if missing:
        raise InputError(_refusal(path, f"tables missing: {', '.join(sorted(missing))}"))


def _refusal(path: Path, reason: str) -> str:
    return (
        f"{path}: not a readable borderwatch history ({reason}); it is left as it is: "
        "restore it from a copy, or give a new folder to start another history"
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
