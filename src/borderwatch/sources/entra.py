"""Microsoft Entra ID (Azure AD) sign-in and audit logs as canonical events.

Shapes read:
- diagnostic settings (Event Hub, storage account, Log Analytics export):
  `{"records": [...]}` or JSON lines of `{time, category, operationName, resourceId
  (/tenants/<id>/providers/Microsoft.aadiam), tenantId, callerIpAddress, resultType,
  location, identity, properties: {...}}` where `properties` is the Graph object;
  categories SignInLogs, NonInteractiveUserSignInLogs, ServicePrincipalSignInLogs,
  ManagedIdentitySignInLogs, AuditLogs (and audit categories such as Policy);
- the Graph API objects themselves, bare or as `{"value": [...]}`: sign-ins
  (`createdDateTime`, `userPrincipalName`, `ipAddress`, `location{city, state,
  countryOrRegion}`, `status.errorCode`, `appDisplayName`, `resourceDisplayName`) and
  directory audits (`activityDateTime`, `activityDisplayName`, `initiatedBy`,
  `targetResources`, `result`);
- the Office 365 Management Activity API's Azure AD records (`Workload:
  AzureActiveDirectory`, `CreationTime`, `Operation`, `UserId`, `ClientIP`,
  `ActorIpAddress`, `LogonError`, `ResultStatus`).

The vendor's own location claim (`location.countryOrRegion`, a code or a country name)
is kept as `claimed_country` (ISO alpha-2) and `claimed_location`: a signal, never the
verdict.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from borderwatch.sources.azure_activity import ENVELOPE_KEYS, is_entra
from borderwatch.sources.fields import (
    country_code,
    folded_object,
    optional_object,
    place,
    require_object,
)
from borderwatch.sources.jsondoc import Normaliser
from borderwatch.sources.jsonsource import JsonRecordSource
from borderwatch.sources.record import (
    RecordError,
    content_id,
    first_time,
    kind_of,
    obj,
    per_record,
    principal_and_aliases,
    text,
    unique,
)

NAME = "entra"
SIGN_IN_ACTION = "Sign-in activity"

_GRAPH_PAIRS = (
    (b'"createdDateTime"', b'"userPrincipalName"'),
    (b'"createdDateTime"', b'"servicePrincipalName"'),
    (b'"activityDateTime"', b'"initiatedBy"'),
)
_FAILED = frozenset({"failure", "failed", "error", "timeout"})


class EntraSource(JsonRecordSource):
    """Reads Entra ID sign-in and audit logs into canonical events (see module docstring)."""

    name = NAME
    description = "Entra ID (Azure AD) sign-in/audit logs: diagnostic exports, Graph, O365 API"
    container_keys = ENVELOPE_KEYS

    def recognises(self, head: bytes) -> bool:
        return is_entra(head) or any(all(m in head for m in pair) for pair in _GRAPH_PAIRS)

    def normaliser(self, path: Path) -> Normaliser:
        return normalise


@per_record
def normalise(item: Any) -> dict[str, Any]:
    """The canonical columns of one sign-in or audit record (see EVENT_SCHEMA)."""
    record = folded_object(item)
    if "creationtime" in record and "operation" in record:
        return _management_api(item, record)
    properties = record.get("properties")
    if isinstance(properties, dict):
        envelope, body = record, properties
    elif properties is None:
        envelope, body = {}, require_object(item)
    else:
        raise RecordError(f"properties is {kind_of(properties)}, expected an object")
    if not any(k in body for k in ("createdDateTime", "activityDateTime")) and not envelope:
        raise RecordError("not an Entra ID record: no createdDateTime or activityDateTime")
    sign_in = "createdDateTime" in body or "signin" in (text(envelope, "category") or "").lower()
    location = optional_object(body, "location", "properties.location")
    principal, aliases, kind = _principal(envelope, body)
    country_claim = text(location, "countryOrRegion")
    return {
        "event_id": text(body, "id") or content_id(item),
        "event_time": first_time(
            (body.get("createdDateTime"), "createdDateTime"),
            (body.get("activityDateTime"), "activityDateTime"),
            (envelope.get("time"), "time"),
            (envelope.get("p_event_time"), "p_event_time"),
        ),
        "provider": "azure",
        "account": text(envelope, "tenantid")
        or text(body, "tenantId")
        or _tenant_of(text(envelope, "resourceid")),
        "region": None,
        "service": text(body, "loggedByService")
        or text(body, "resourceDisplayName")
        or "Microsoft Entra ID",
        "action": text(body, "activityDisplayName")
        or text(body, "operationName")
        or text(envelope, "operationname")
        or (SIGN_IN_ACTION if sign_in else None),
        "principal": principal,
        "principal_aliases": aliases,
        "principal_type": kind,
        "caller": text(body, "ipAddress")
        or text(obj(obj(body, "initiatedBy"), "user"), "ipAddress")
        or text(envelope, "calleripaddress"),
        "claimed_country": country_code(country_claim) or _envelope_country(envelope, sign_in),
        "claimed_location": place(text(location, "city"), text(location, "state"), country_claim),
        "user_agent": text(body, "userAgent"),
        "resources": _resources(body),
        "read_only": None,
        "error_code": _error_code(envelope, body, sign_in),
    }


def _principal(
    envelope: dict[str, Any], body: dict[str, Any]
) -> tuple[str | None, list[str], str | None]:
    initiated = obj(body, "initiatedBy")
    user, app = obj(initiated, "user"), obj(initiated, "app")
    names: list[str | None] = [
        text(body, "userPrincipalName"),
        text(user, "userPrincipalName"),
        text(body, "servicePrincipalName"),
        text(app, "servicePrincipalName"),
        text(body, "userId"),
        text(user, "id"),
        text(body, "servicePrincipalId"),
        text(app, "servicePrincipalId"),
        text(body, "userDisplayName"),
        text(user, "displayName"),
        text(app, "displayName"),
        text(app, "appId"),
    ]
    if isinstance(envelope.get("identity"), str):
        names.append(text(envelope, "identity"))
    kind = text(body, "userType")
    if kind is None:
        if text(body, "servicePrincipalId") or app:
            kind = "ServicePrincipal"
        elif text(body, "userPrincipalName") or user:
            kind = "User"
    return *principal_and_aliases(names), kind


def _tenant_of(resource_id: str | None) -> str | None:
    parts = (resource_id or "").strip("/").split("/")
    if len(parts) >= 2 and parts[0].lower() == "tenants":
        return parts[1] or None
    return None


def _envelope_country(envelope: dict[str, Any], sign_in: bool) -> str | None:
    # Sign-in exports repeat the country code at the top level (`"location": "US"`).
    value = text(envelope, "location") if sign_in else None
    return country_code(value) if value and len(value) == 2 else None


def _resources(body: dict[str, Any]) -> list[str]:
    keys: list[str | None] = [
        text(body, "resourceDisplayName"),
        text(body, "resourceId"),
        text(body, "appDisplayName"),
        text(body, "appId"),
    ]
    targets = body.get("targetResources")
    if isinstance(targets, list):
        for target in targets:
            if isinstance(target, dict):
                keys.extend(
                    [
                        text(target, "id"),
                        text(target, "displayName"),
                        text(target, "userPrincipalName"),
                    ]
                )
    return unique(keys)


def _error_code(envelope: dict[str, Any], body: dict[str, Any], sign_in: bool) -> str | None:
    status = optional_object(body, "status", "properties.status")
    code = status.get("errorCode")
    if code is None and sign_in:
        code = envelope.get("resulttype")  # sign-in exports: resultType is the error code
    if code is not None and not isinstance(code, bool):
        code_text = str(code).strip()
        if code_text.lstrip("-").isdigit():
            return None if int(code_text) == 0 else code_text
        if code_text.lower() in _FAILED:
            return text(status, "failureReason") or code_text
        if sign_in and code_text.lower() not in ("success", "succeeded", ""):
            return code_text
    result = text(body, "result") or text(envelope, "resulttype")
    if result and result.lower() in _FAILED:
        return text(body, "resultReason") or result
    return None


def _management_api(item: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """An Office 365 Management Activity API record of the Azure AD workload."""
    extended: dict[str, Any] = {}
    properties = record.get("extendedproperties")
    if isinstance(properties, list):
        for entry in properties:
            if isinstance(entry, dict) and isinstance(entry.get("Name"), str):
                extended.setdefault(entry["Name"], entry.get("Value"))
    actors = record.get("actor")
    names: list[str | None] = [text(record, "userid")]
    if isinstance(actors, list):
        names.extend(text(a, "ID") for a in actors if isinstance(a, dict))
    names.append(text(record, "userkey"))
    known = [n for n in unique(names) if n != "Not Available"]
    targets = record.get("target")
    resources: list[str | None] = [text(record, "objectid")]
    if isinstance(targets, list):
        resources.extend(text(t, "ID") for t in targets if isinstance(t, dict))
    logon_error = text(record, "logonerror")
    status = text(record, "resultstatus")
    failed = status is not None and status.lower() in _FAILED
    return {
        "event_id": text(record, "id") or content_id(item),
        "event_time": first_time((record.get("creationtime"), "CreationTime")),
        "provider": "azure",
        "account": text(record, "organizationid"),
        "region": None,
        "service": text(record, "workload") or "AzureActiveDirectory",
        "action": text(record, "operation"),
        "principal": known[0] if known else None,
        "principal_aliases": known[1:],
        "principal_type": None,
        "caller": text(record, "clientip") or text(record, "actoripaddress"),
        "claimed_country": None,
        "claimed_location": None,
        "user_agent": text(extended, "UserAgent"),
        "resources": unique(resources),
        "read_only": None,
        "error_code": logon_error or (status if failed else None),
    }
