"""Okta System Log events as canonical events.

Shapes read:
- the System Log API (`/api/v1/logs`) response: a JSON array of LogEvents, or one
  object; JSON lines of LogEvents (Event Hooks, Log Streaming, SIEM exports, Panther,
  whose exports may lower-case top-level keys such as `eventtype`);
- LogEvent fields: `uuid`, `published` (ISO 8601; epoch numbers from some exports),
  `eventType`, `actor{id, alternateId, displayName, type}`, `client{ipAddress,
  geographicalContext{city, state, country}, userAgent{rawUserAgent}}`, `outcome{result,
  reason}`, `target[]`, `request.ipChain[]`.

`client.geographicalContext.country` is Okta's own geolocation claim, written as a
country name ("United States"); it becomes `claimed_country` as ISO alpha-2 (unknown
names give None) and never decides residency on its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from borderwatch.sources.fields import (
    country_code,
    folded_object,
    has_markers,
    optional_object,
    place,
)
from borderwatch.sources.jsondoc import Normaliser
from borderwatch.sources.jsonsource import JsonRecordSource
from borderwatch.sources.record import (
    RecordError,
    content_id,
    obj,
    parse_time,
    per_record,
    principal_and_aliases,
    text,
    unique,
)

NAME = "okta"
_FAILED = frozenset({"FAILURE", "DENY"})
# Target types that name what was accessed (an app, a group, a policy), not a person.
_RESOURCE_TARGETS = ("AppInstance", "AppUser", "Group", "Policy", "PolicyRule", "Zone")


class OktaSource(JsonRecordSource):
    """Reads Okta System Log events into canonical events (see module docstring).

    A new JSON reader copies this shape: what its files look like (`recognises`, after
    the shared check that they start like JSON), where its records are (`container_keys`,
    none here: the API's arrays and JSON lines need none) and how one record becomes an
    event row (`normaliser`). Layouts, limits, quarantine and accounting are shared
    (`sources.jsonsource`).
    """

    name = NAME
    description = "Okta System Log: API arrays, JSON lines, log streaming exports"

    def recognises(self, head: bytes) -> bool:
        return has_markers(head, b'"eventType"', b'"actor"') and (
            has_markers(head, b'"published"') or has_markers(head, b'"legacyEventType"')
        )

    def normaliser(self, path: Path) -> Normaliser:
        return normalise


@per_record
def normalise(item: Any) -> dict[str, Any]:
    """The canonical columns of one LogEvent (see model.events.EVENT_SCHEMA)."""
    event = folded_object(item)
    action = text(event, "eventtype")
    if action is None:
        raise RecordError("not an Okta System Log event: no eventType")
    published = event.get("published")
    if published is None:
        published = event.get("p_event_time")  # Panther exports keep their own copy
    if published is None:
        raise RecordError("published missing: an event without a time cannot be judged")
    actor = optional_object(event, "actor")
    client = optional_object(event, "client")
    geo = obj(client, "geographicalContext")
    outcome = optional_object(event, "outcome")
    country = text(geo, "country")
    result = text(outcome, "result")
    principal, aliases = principal_and_aliases(
        [text(actor, "alternateId"), text(actor, "id"), text(actor, "displayName")]
    )
    return {
        "event_id": text(event, "uuid") or content_id(item),
        "event_time": parse_time(published, "published", epoch=True),
        "provider": "okta",
        "account": _org(event),
        "region": None,
        "service": "okta",
        "action": action,
        "principal": principal,
        "principal_aliases": aliases,
        "principal_type": text(actor, "type"),
        "caller": text(client, "ipAddress") or _first_hop(event),
        "claimed_country": country_code(country),
        "claimed_location": place(text(geo, "city"), text(geo, "state"), country),
        "user_agent": text(obj(client, "userAgent"), "rawUserAgent"),
        "resources": _resources(event),
        "read_only": None,
        "error_code": (text(outcome, "reason") or result)
        if result and result.upper() in _FAILED
        else None,
    }


def _first_hop(event: dict[str, Any]) -> str | None:
    chain = obj(event, "request").get("ipChain")
    if isinstance(chain, list):
        for hop in chain:
            if isinstance(hop, dict):
                ip = text(hop, "ip")
                if ip:
                    return ip
    return None


def _org(event: dict[str, Any]) -> str | None:
    # Okta writes the org's URL in debugContext.debugData for many events; else None.
    debug = obj(obj(event, "debugcontext"), "debugData")
    for key in ("orgId", "tenantId"):
        value = debug.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _resources(event: dict[str, Any]) -> list[str]:
    keys: list[str | None] = []
    targets = event.get("target")
    if isinstance(targets, list):
        for target in targets:
            if isinstance(target, dict) and text(target, "type") in _RESOURCE_TARGETS:
                keys.extend(
                    [text(target, "alternateId"), text(target, "displayName"), text(target, "id")]
                )
    return unique(keys)
