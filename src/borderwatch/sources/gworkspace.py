"""Google Workspace activity (Admin SDK Reports API `activities.list`).

Shapes read:
- the API's own activity resource: `id{time, uniqueQualifier, applicationName,
  customerId}`, `actor{email, profileId, callerType}`, `ipAddress`, `networkInfo`, and
  `events[]{type, name, parameters[]{name, value|boolValue|intValue|multiValue}}`;
- the flattened form log pipelines write (Panther, some SIEMs): one event per record with
  `name`, `type` and `parameters` as an object next to `id` and `actor`.

As JSON lines, a JSON array, a single object, or an API response page
(`{"kind": "admin#reports#activities", "items": [...]}`). One activity is one row: its
first event's name is the action, and the documents named by any of its events are the
resources. `networkInfo.regionCode` (Google's claim of the caller's country) becomes
claimed_country.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from borderwatch.sources.fields import require_object
from borderwatch.sources.jsondoc import Normaliser
from borderwatch.sources.jsonsource import JsonRecordSource
from borderwatch.sources.record import (
    RecordError,
    content_id,
    kind_of,
    obj,
    parse_time,
    per_record,
    text,
    unique,
)

NAME = "gworkspace"

_RESOURCE_PARAMETERS = ("doc_id", "doc_title", "resource_id", "calendar_id", "meeting_code")
_READ_EVENTS = frozenset({"view", "download", "preview", "print", "sync_item_content"})
_WRITE_EVENTS = frozenset(
    {"edit", "upload", "create", "delete", "trash", "untrash", "rename", "move", "copy"}
)
_FAILED_EVENTS = frozenset({"login_failure"})


class GWorkspaceSource(JsonRecordSource):
    """Reads Google Workspace activity records into canonical events (see module docstring)."""

    name = NAME
    description = "Google Workspace Admin SDK activity (Reports API), API pages or JSON lines"
    container_keys = ("items",)

    def recognises(self, head: bytes) -> bool:
        if b"admin#reports#activit" in head:
            return True
        return b'"applicationName"' in head and b'"uniqueQualifier"' in head

    def normaliser(self, path: Path) -> Normaliser:
        return normalise


@per_record
def normalise(item: Any) -> dict[str, Any]:
    """The canonical columns of one activity."""
    item = require_object(item)
    ident = item.get("id")
    if not isinstance(ident, dict):
        raise RecordError("not a Workspace activity: id is missing or not an object")
    time_value = ident.get("time")
    if time_value is None:
        raise RecordError("id.time missing: an event without a time cannot be judged")
    event_time = parse_time(time_value, "id.time")
    events = _events(item)
    actor = obj(item, "actor")
    names = unique([text(actor, "email"), text(actor, "profileId"), text(actor, "key")])
    parameters = [_parameters(event) for event in events]
    action = text(events[0], "name") if events else None
    qualifier = text(ident, "uniqueQualifier")
    network = obj(item, "networkInfo")
    region = text(network, "regionCode")
    return {
        "event_id": f"{text(ident, 'time')}/{qualifier}" if qualifier else content_id(item),
        "event_time": event_time,
        "provider": "google-workspace",
        "account": text(ident, "customerId"),
        "region": None,
        "service": text(ident, "applicationName"),
        "action": action,
        "principal": names[0] if names else None,
        "principal_aliases": names[1:],
        "principal_type": text(actor, "callerType"),
        "caller": text(item, "ipAddress"),
        "claimed_country": region.upper() if region else None,
        "claimed_location": text(network, "subdivisionCode"),
        "user_agent": None,
        "resources": _resources(parameters),
        "read_only": _read_only(events),
        "error_code": next((n for n in _event_names(events) if n in _FAILED_EVENTS), None),
    }


def _events(item: dict[str, Any]) -> list[dict[str, Any]]:
    listed = item.get("events")
    if listed is None:
        # Flattened form: the record is its own single event.
        return [item] if "name" in item or "parameters" in item else []
    if not isinstance(listed, list):
        raise RecordError(f"events is {kind_of(listed)}, expected a list")
    return [event for event in listed if isinstance(event, dict)]


def _event_names(events: list[dict[str, Any]]) -> list[str]:
    return unique([text(event, "name") for event in events])


def _parameters(event: dict[str, Any]) -> dict[str, Any]:
    """A name -> value object from either the API's list or the flattened object."""
    raw = event.get("parameters")
    if isinstance(raw, dict):
        return raw
    result: dict[str, Any] = {}
    if isinstance(raw, list):
        for entry in raw:
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                for key in ("value", "multiValue", "boolValue", "intValue", "multiIntValue"):
                    if key in entry:
                        result[entry["name"]] = entry[key]
                        break
    return result


def _resources(parameters: list[dict[str, Any]]) -> list[str]:
    found: list[str | None] = []
    for params in parameters:
        for name in _RESOURCE_PARAMETERS:
            value = params.get(name)
            if isinstance(value, str):
                found.append(value)
            elif isinstance(value, int) and not isinstance(value, bool):
                found.append(str(value))
    return unique(found)


def _read_only(events: list[dict[str, Any]]) -> bool | None:
    names = _event_names(events)
    if any(name in _WRITE_EVENTS or name.startswith("change_") for name in names):
        return False
    if names and all(name in _READ_EVENTS for name in names):
        return True
    return None
