"""Read AWS IAM exports into the principals and the policy statements that apply to them.

Inputs (docs/dsp.md, "Potential access"):

- the JSON of `aws iam get-account-authorization-details`: users with their inline and
  attached policies and groups, groups, roles with their trust policies, and the
  managed policies (the default version of each is the one in force);
- S3 bucket policies: the JSON of `aws s3api get-bucket-policy` (`{"Policy": "..."}`),
  or the policy document itself; the bucket is the one its statements' resources name.

A file that is not JSON of either shape is quarantined whole; a policy document that
cannot be read makes the principals it applies to *unknown* (never "no access"), and
the record says where it was.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from borderwatch.model.events import QuarantinedRecord, excerpt_of
from borderwatch.model.scan import InputSummary

__all__ = ["IamExport", "Principal", "Statement", "read_iam"]

_FORMAT = "aws-iam"
_MAX_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Statement:
    """One statement of a policy, its lists normalised (a single string becomes a list)."""

    source: str  # where it was written: "user alice inline read-all #Sid"
    effect: str  # Allow or Deny
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] | None = None
    conditional: bool = False
    # Resource policies only: the AWS principals named (ARNs, account ids, "*").
    principals: tuple[str, ...] = ()
    not_principal: bool = False


@dataclass
class Principal:
    """A user or role and every identity-based statement that applies to it."""

    arn: str
    kind: str  # user or role
    statements: list[Statement] = field(default_factory=list)
    # For roles: the AWS principals that may assume it (its trust policy).
    trusted_by: list[str] = field(default_factory=list)
    # Why part of its policies could not be read (its verdict is unknown then).
    unreadable: list[str] = field(default_factory=list)
    # A permissions boundary is not evaluated; it is named in the finding.
    boundary: str | None = None


@dataclass
class IamExport:
    """Everything read from the IAM inputs of one scan."""

    principals: dict[str, Principal] = field(default_factory=dict)
    accounts: set[str] = field(default_factory=set)
    # bucket name -> its bucket policy's statements
    bucket_policies: dict[str, list[Statement]] = field(default_factory=dict)
    unreadable_buckets: dict[str, str] = field(default_factory=dict)


def read_iam(
    paths: Iterable[Path], inputs: list[InputSummary], quarantined: list[QuarantinedRecord]
) -> IamExport:
    """Read every IAM input; each file is accounted for as one record."""
    export = IamExport()
    for path in paths:
        reason = _read_one(Path(path), export)
        if reason is None:
            inputs.append(InputSummary(str(path), "iam", _FORMAT, 1, 1, 0))
            continue
        excerpt = ""
        try:
            with Path(path).open("rb") as handle:
                excerpt = excerpt_of(handle.read(200))
        except OSError:
            pass
        quarantined.append(QuarantinedRecord(str(path), "whole file", reason, excerpt, _FORMAT))
        inputs.append(InputSummary(str(path), "iam", _FORMAT, 1, 0, 1))
    return export


def _read_one(path: Path, export: IamExport) -> str | None:
    """Read one file into `export`; the reason it cannot be used, or None."""
    try:
        if path.stat().st_size > _MAX_BYTES:
            return f"larger than {_MAX_BYTES // (1024 * 1024)} MB"
        data = json.loads(path.read_bytes())
    except OSError as exc:
        return f"cannot read: {exc.strerror}"
    except (ValueError, RecursionError) as exc:
        return f"not JSON: {str(exc)[:120]}"
    if not isinstance(data, dict):
        return "not an IAM export: the JSON is not an object"
    if any(key in data for key in ("UserDetailList", "RoleDetailList", "GroupDetailList")):
        _read_authorization_details(data, path.name, export)
        return None
    document = data.get("Policy", data)
    if isinstance(document, str):
        document = _document(document)
    if isinstance(document, dict) and "Statement" in document:
        statements = _statements(document, f"bucket policy {path.name}", resource_policy=True)
        if statements is None:
            return "the bucket policy's statements cannot be read"
        buckets = sorted({b for s in statements for b in _buckets(s.resources)})
        if not buckets:
            return "the bucket policy names no bucket in its resources"
        for bucket in buckets:
            export.bucket_policies.setdefault(bucket, []).extend(statements)
        return None
    return (
        "neither the output of 'aws iam get-account-authorization-details' nor a bucket "
        "policy (no UserDetailList, RoleDetailList or Statement)"
    )


def _read_authorization_details(data: dict[str, Any], name: str, export: IamExport) -> None:
    managed: dict[str, list[Statement] | None] = {}
    for policy in _list(data.get("Policies")):
        arn = policy.get("Arn")
        if not isinstance(arn, str):
            continue
        versions = [v for v in _list(policy.get("PolicyVersionList")) if v.get("IsDefaultVersion")]
        document = versions[0].get("Document") if versions else None
        label = f"managed policy {policy.get('PolicyName') or arn}"
        managed[arn] = _statements(_document(document), label) if document is not None else None
    groups: dict[str, tuple[list[Statement], list[str]]] = {}
    for group in _list(data.get("GroupDetailList")):
        group_name = str(group.get("GroupName") or "")
        found, unreadable = _attached(group, "GroupPolicyList", f"group {group_name}", managed)
        groups[group_name] = (found, unreadable)
    for user in _list(data.get("UserDetailList")):
        principal = _principal(user, "user", "UserPolicyList", managed, export)
        if principal is None:
            continue
        for group_name in _list_of_text(user.get("GroupList")):
            if group_name in groups:
                statements, unreadable = groups[group_name]
                principal.statements.extend(statements)
                principal.unreadable.extend(unreadable)
            else:
                principal.unreadable.append(f"group {group_name} is not in the export ({name})")
    for role in _list(data.get("RoleDetailList")):
        principal = _principal(role, "role", "RolePolicyList", managed, export)
        if principal is None:
            continue
        trust = _statements(_document(role.get("AssumeRolePolicyDocument")), "trust policy")
        for statement in trust or ():
            if statement.effect == "Allow" and not statement.not_principal:
                principal.trusted_by.extend(statement.principals)
        if trust is None:
            principal.unreadable.append("its trust policy cannot be read")


def _principal(
    item: dict[str, Any],
    kind: str,
    inline_key: str,
    managed: Mapping[str, list[Statement] | None],
    export: IamExport,
) -> Principal | None:
    arn = item.get("Arn")
    if not isinstance(arn, str):
        return None
    name = item.get("UserName") or item.get("RoleName") or arn
    statements, unreadable = _attached(item, inline_key, f"{kind} {name}", managed)
    principal = Principal(arn, kind, statements, unreadable=unreadable)
    boundary = item.get("PermissionsBoundary")
    if isinstance(boundary, dict):
        principal.boundary = str(boundary.get("PermissionsBoundaryArn") or "")
    export.principals[arn] = principal
    parts = arn.split(":")
    if len(parts) > 4 and parts[4]:
        export.accounts.add(parts[4])
    return principal


def _attached(
    item: dict[str, Any],
    inline_key: str,
    label: str,
    managed: Mapping[str, list[Statement] | None],
) -> tuple[list[Statement], list[str]]:
    """The statements of an item's inline and attached managed policies."""
    statements: list[Statement] = []
    unreadable: list[str] = []
    for inline in _list(item.get(inline_key)):
        name = inline.get("PolicyName")
        found = _statements(_document(inline.get("PolicyDocument")), f"{label} inline {name}")
        if found is None:
            unreadable.append(f"inline policy {name} of {label} cannot be read")
        else:
            statements.extend(found)
    for attached in _list(item.get("AttachedManagedPolicies")):
        arn = attached.get("PolicyArn")
        found = managed.get(arn) if isinstance(arn, str) else None
        if found is None:
            unreadable.append(f"managed policy {arn} of {label} is not in the export")
        else:
            statements.extend(found)
    return statements, unreadable


def _document(value: Any) -> Any:
    """A policy document: the CLI gives a mapping, the API URL-encoded JSON text."""
    if isinstance(value, str):
        try:
            return json.loads(urllib.parse.unquote(value))
        except ValueError:
            return None
    return value


def _statements(
    document: Any, label: str, *, resource_policy: bool = False
) -> list[Statement] | None:
    """The document's statements, or None when it cannot be read."""
    if not isinstance(document, dict):
        return None
    raw = document.get("Statement")
    items = [raw] if isinstance(raw, dict) else raw
    if not isinstance(items, list) or not all(isinstance(s, dict) for s in items):
        return None
    found = []
    for index, item in enumerate(items):
        effect = item.get("Effect")
        if effect not in ("Allow", "Deny"):
            return None
        principals, not_principal = _principals(item)
        sid = item.get("Sid")
        found.append(
            Statement(
                source=f"{label} #{sid if isinstance(sid, str) and sid else index + 1}",
                effect=effect,
                actions=_texts(item.get("Action")),
                not_actions=_texts(item["NotAction"]) if "NotAction" in item else None,
                resources=_texts(item.get("Resource")),
                not_resources=_texts(item["NotResource"]) if "NotResource" in item else None,
                conditional=bool(item.get("Condition")),
                principals=principals,
                not_principal=not_principal,
            )
        )
    return found


def _principals(item: dict[str, Any]) -> tuple[tuple[str, ...], bool]:
    """The AWS principals a statement names (Principal or NotPrincipal)."""
    for key, negated in (("Principal", False), ("NotPrincipal", True)):
        value = item.get(key)
        if value == "*":
            return ("*",), negated
        if isinstance(value, dict):
            return _texts(value.get("AWS")), negated
    return (), False


def _texts(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str))
    return ()


def _list(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _list_of_text(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _buckets(resources: Iterable[str]) -> set[str]:
    """The buckets S3 resource ARNs name (arn:aws:s3:::bucket and bucket/...)."""
    found = set()
    for resource in resources:
        if resource.startswith("arn:") and ":s3:::" in resource:
            bucket = resource.split(":::", 1)[1].split("/", 1)[0]
            if bucket and not any(ch in bucket for ch in "*?$"):
                found.add(bucket)
    return found
