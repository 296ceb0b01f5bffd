"""GitHub organisation and enterprise audit log.

Shapes read: JSON lines (audit-log streaming, SIEM exports), a JSON array (the REST API
`GET /orgs/{org}/audit-log` and the web UI's JSON export) and a single object. Times
come from `@timestamp` or `created_at` (epoch milliseconds or ISO text; `at_sign_timestamp`
is a log pipeline's rename of `@timestamp`). GitHub's own claim of where the actor was,
`actor_location.country_code`, becomes claimed_country; it is kept apart from the IP.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from borderwatch.sources.fields import require_object
from borderwatch.sources.jsondoc import Normaliser
from borderwatch.sources.jsonsource import JsonRecordSource
from borderwatch.sources.record import (
    RecordError,
    content_id,
    flag,
    obj,
    parse_time,
    per_record,
    text,
    unique,
)

NAME = "github-audit"

_TIME_FIELDS = ("@timestamp", "at_sign_timestamp", "created_at", "timestamp")
# Actions that only read a repository's content.
_READ_ACTIONS = frozenset({"git.clone", "git.fetch", "repo.download_zip"})
_WRITE_ACTIONS = frozenset({"git.push"})
# GitHub's operation_type: access, authentication, create, modify, remove, restore, transfer.
_READ_OPERATIONS = frozenset({"access"})
_WRITE_OPERATIONS = frozenset({"create", "modify", "remove", "restore", "transfer"})


class GitHubAuditSource(JsonRecordSource):
    """Reads GitHub audit log exports into canonical events (see module docstring)."""

    name = NAME
    description = "GitHub audit log: streaming/JSON lines, REST API and UI JSON exports"

    def recognises(self, head: bytes) -> bool:
        if b'"eventSource"' in head or b'"kind"' in head[:2048]:
            return False
        first = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:4096]
        has_action = b'"action"' in first
        has_actor = b'"actor"' in first or b'"actor_ip"' in first
        github_marks = (
            b'"_document_id"',
            b'"actor_location"',
            b'"org"',
            b'"repo"',
            b'"business"',
            b'"created_at"',
            b'"@timestamp"',
        )
        return has_action and has_actor and sum(m in first for m in github_marks) >= 2

    def normaliser(self, path: Path) -> Normaliser:
        return normalise


@per_record
def normalise(item: Any) -> dict[str, Any]:
    """The canonical columns of one audit log entry."""
    item = require_object(item)
    action = text(item, "action")
    if action is None:
        raise RecordError("not a GitHub audit entry: no action")
    location = obj(item, "actor_location")
    country = text(location, "country_code")
    operation = text(item, "operation_type")
    return {
        "event_id": text(item, "_document_id") or content_id(item),
        "event_time": _event_time(item),
        "provider": "github",
        "account": text(item, "business") if not item.get("org") else _org(item),
        "region": None,
        "service": "github",
        "action": action,
        "principal": text(item, "actor"),
        "principal_aliases": unique([text(item, "actor_id")]),
        "principal_type": _principal_type(item),
        "caller": text(item, "actor_ip"),
        "claimed_country": country.upper() if country else None,
        "claimed_location": _claimed_location(location),
        "user_agent": text(item, "user_agent"),
        "resources": _resources(item),
        "read_only": _read_only(action, operation),
        "error_code": None,
    }


def _event_time(item: dict[str, Any]) -> datetime:
    for field in _TIME_FIELDS:
        value = item.get(field)
        if value is not None:
            return parse_time(value, field, epoch=True)
    raise RecordError("@timestamp or created_at missing: an event without a time cannot be judged")


def _org(item: dict[str, Any]) -> str | None:
    org = item.get("org")
    if isinstance(org, list):  # enterprise entries may list several organisations
        return ",".join(o for o in org if isinstance(o, str)) or None
    return text(item, "org")


def _principal_type(item: dict[str, Any]) -> str | None:
    if flag(item.get("actor_is_bot")):
        return "Bot"
    return text(item, "programmatic_access_type") or ("User" if item.get("actor") else None)


def _claimed_location(location: dict[str, Any]) -> str | None:
    parts = unique([text(location, k) for k in ("city", "region", "country_name")])
    return ", ".join(parts) or None


def _resources(item: dict[str, Any]) -> list[str]:
    names: list[str | None] = []
    for key in ("repo", "repository"):
        value = item.get(key)
        if isinstance(value, str):
            names.append(value)
        elif isinstance(value, dict):
            names.append(text(value, "full_name") or text(value, "name"))
    return unique(names)


def _read_only(action: str, operation: str | None) -> bool | None:
    if action in _READ_ACTIONS:
        return True
    if action in _WRITE_ACTIONS:
        return False
    if operation in _READ_OPERATIONS:
        return True
    if operation in _WRITE_OPERATIONS:
        return False
    return None
