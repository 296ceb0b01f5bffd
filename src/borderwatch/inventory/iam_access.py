"""Who *can* read each Data Security Program store, from IAM policies (28 CFR 202.201
counts the ability to read as access, whether or not a read happened).

What is evaluated, by AWS's own policy semantics:

- actions that read a subject's data: S3 GetObject and GetObjectVersion; DynamoDB
  GetItem, BatchGetItem, Query, Scan, PartiQLSelect and ExportTableToPointInTime.
  Action patterns match case-insensitively with `*` and `?` (`s3:*`, `*`,
  `s3:Get*`); `NotAction` grants every action it does not list;
- resources: S3 object ARNs of the bucket (`arn:aws:s3:::bucket/*`, a prefix of it, `*`;
  a grant on part of a bucket is access to that part, so it counts), DynamoDB table and
  index ARNs (the account field is not compared: the inventory may not give it);
  `NotResource` grants every resource it does not list;
- identity policies of users (inline, attached, and those of their groups) and roles,
  S3 bucket policies (a statement naming the principal's ARN, its account, or `*`;
  `NotPrincipal` grants everyone not listed), and who may assume a role (its trust
  policy's AWS principals inherit its access);
- an explicit Deny removes access only when it is unconditional and covers every read
  action granted on the whole store; a conditional Deny or Allow leaves the access
  possible, marked conditional.

Not evaluated (named in docs/dsp.md): permission boundaries (named in the finding),
organisation SCPs and RCPs, session policies, S3 ACLs and access points, KMS key
policies, condition keys' values, policy variables (a resource with `${...}` makes the
verdict unknown). A principal whose policies could not all be read, and that no
readable statement grants, is *unknown*, never "no access".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

import pyarrow as pa

from borderwatch.inventory.iam import IamExport, Principal, Statement
from borderwatch.model.inventory import Store

__all__ = ["READ_ACTIONS", "Reach", "potential_access", "potential_table"]

READ_ACTIONS: dict[str, tuple[str, ...]] = {
    "s3": ("s3:GetObject", "s3:GetObjectVersion"),
    "dynamodb": (
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:Scan",
        "dynamodb:PartiQLSelect",
        "dynamodb:ExportTableToPointInTime",
    ),
}


@dataclass(frozen=True)
class Reach:
    """One principal's ability to read one store."""

    store_id: str
    principal: str
    via: str  # "policy" or "assumes <role arn>"
    actions: tuple[str, ...]
    statements: tuple[str, ...]
    conditional: bool
    verdict: str  # "allowed" or "unknown"
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Target:
    store_id: str
    service: str
    prefix: str  # every data resource of the store starts with this
    probe: str  # one data resource of the store, to match patterns against


def potential_access(export: IamExport, stores: Sequence[Store]) -> list[Reach]:
    """Every (principal, store) whose policies grant reading the store's data."""
    targets = [t for t in (_target(s) for s in stores) if t is not None]
    found: list[Reach] = []
    for target in targets:
        bucket_statements = (
            export.bucket_policies.get(target.prefix.split(":::", 1)[-1].rstrip("/"), [])
            if target.service == "s3"
            else []
        )
        for principal in export.principals.values():
            reach = _judge(target, principal, bucket_statements)
            if reach is None:
                continue
            found.append(reach)
            for trusted in principal.trusted_by:
                found.append(
                    Reach(
                        target.store_id,
                        trusted,
                        f"assumes {principal.arn}",
                        reach.actions,
                        reach.statements,
                        reach.conditional,
                        reach.verdict,
                        reach.notes,
                    )
                )
        found.extend(_outside_principals(target, bucket_statements, export))
    return sorted(set(found), key=lambda r: (r.store_id, r.principal, r.via, r.statements))


def potential_table(reaches: Iterable[Reach]) -> pa.Table:
    """dsp_potential: one row per principal and store it can read."""
    rows = list(reaches)
    text = pa.list_(pa.string())
    return pa.table(
        {
            "store_id": pa.array([r.store_id for r in rows], pa.string()),
            "principal": pa.array([r.principal for r in rows], pa.string()),
            "via": pa.array([r.via for r in rows], pa.string()),
            "actions": pa.array([list(r.actions) for r in rows], text),
            "statements": pa.array([list(r.statements) for r in rows], text),
            "conditional": pa.array([r.conditional for r in rows], pa.bool_()),
            "verdict": pa.array([r.verdict for r in rows], pa.string()),
            "notes": pa.array([list(r.notes) for r in rows], text),
        }
    )


def _target(store: Store) -> _Target | None:
    names = (store.store_id, *store.aliases)
    service = store.service.lower()
    arns = [n for n in names if n.startswith("arn:")]
    if service == "s3" or any(":s3:::" in a for a in arns):
        bucket = next(
            (a.split(":::", 1)[1].split("/", 1)[0] for a in arns if ":s3:::" in a),
            store.store_id,
        )
        prefix = f"arn:aws:s3:::{bucket}/"
        return _Target(store.store_id, "s3", prefix, prefix + "x")
    if service == "dynamodb" or any(":dynamodb:" in a for a in arns):
        table = next((a for a in arns if ":dynamodb:" in a and ":table/" in a), None)
        if table is None:
            table = f"arn:aws:dynamodb:{store.region}:000000000000:table/{store.store_id}"
        return _Target(store.store_id, "dynamodb", table, table)
    return None


def _judge(target: _Target, principal: Principal, bucket: list[Statement]) -> Reach | None:
    statements = [*principal.statements, *(s for s in bucket if _names(s, principal.arn))]
    notes = []
    if principal.boundary:
        notes.append(f"permissions boundary {principal.boundary} not evaluated")
    granted, sources, conditional, unknown = _grants(target, statements)
    if not granted:
        if principal.unreadable or unknown:
            return Reach(
                target.store_id,
                principal.arn,
                "policy",
                (),
                tuple(sorted(unknown)),
                False,
                "unknown",
                tuple([*notes, *principal.unreadable]),
            )
        return None
    return Reach(
        target.store_id,
        principal.arn,
        "policy",
        tuple(sorted(granted)),
        tuple(sorted(sources)),
        conditional,
        "allowed",
        tuple(notes),
    )


def _grants(
    target: _Target, statements: Sequence[Statement]
) -> tuple[set[str], set[str], bool, set[str]]:
    """(read actions granted and not denied, granting statements, conditional, statements
    that could not be evaluated)."""
    actions = READ_ACTIONS[target.service]
    granted: dict[str, list[Statement]] = {}
    unknown: set[str] = set()
    for statement in statements:
        if statement.effect != "Allow":
            continue
        if any("${" in r for r in (*statement.resources, *(statement.not_resources or ()))):
            unknown.add(statement.source)
            continue
        if not _resource_reaches(statement, target):
            continue
        for action in actions:
            if _action_matches(statement, action):
                granted.setdefault(action, []).append(statement)
    conditional = False
    for statement in statements:
        if statement.effect != "Deny" or not _deny_covers_store(statement, target):
            continue
        for action in list(granted):
            if _action_matches(statement, action):
                if statement.conditional:
                    conditional = True
                else:
                    del granted[action]
    if granted and all(s.conditional for found in granted.values() for s in found):
        conditional = True
    sources = {s.source for found in granted.values() for s in found}
    return set(granted), sources, conditional, unknown


def _names(statement: Statement, arn: str) -> bool:
    """Whether a resource policy statement applies to the principal `arn`."""
    account = arn.split(":")[4] if arn.count(":") >= 5 else ""
    names = {arn, account, f"arn:aws:iam::{account}:root", "*"}
    listed = any(p in names for p in statement.principals)
    return not listed if statement.not_principal else listed


def _outside_principals(target: _Target, bucket: list[Statement], export: IamExport) -> list[Reach]:
    """Principals a bucket policy grants that the IAM export does not hold: other
    accounts, anyone (`*`). Their own policies are not known, so the grant stands."""
    found = []
    for statement in bucket:
        if statement.effect != "Allow" or statement.not_principal:
            continue
        outside = [p for p in statement.principals if p not in export.principals]
        for name in outside:
            if name in export.accounts or _account_of(name) in export.accounts:
                continue  # the account's own principals were judged one by one
            denies = [s for s in bucket if s.effect == "Deny" and _names(s, name)]
            granted_after_deny, sources, conditional, _ = _grants(target, [statement, *denies])
            if granted_after_deny:
                found.append(
                    Reach(
                        target.store_id,
                        name,
                        "bucket policy",
                        tuple(sorted(granted_after_deny)),
                        tuple(sorted(sources)),
                        conditional,
                        "allowed",
                        ("a principal outside the IAM export: its own policies are not known",),
                    )
                )
    return found


def _account_of(name: str) -> str:
    parts = name.split(":")
    return parts[4] if len(parts) > 4 else name


def _action_matches(statement: Statement, action: str) -> bool:
    if statement.not_actions is not None:
        return not any(_glob(action, p) for p in statement.not_actions)
    return any(_glob(action, p) for p in statement.actions)


def _glob(value: str, pattern: str) -> bool:
    return fnmatchcase(value.lower(), pattern.lower())


def _resource_reaches(statement: Statement, target: _Target) -> bool:
    """Whether the statement's resources include some of the store's data."""
    if statement.not_resources is not None:
        return not any(_covers(p, target) for p in statement.not_resources)
    return any(_touches(p, target) for p in statement.resources)


def _touches(pattern: str, target: _Target) -> bool:
    pattern = _any_account(pattern, target)
    if fnmatchcase(target.probe, pattern):
        return True
    literal = _literal_head(pattern)
    # A grant on part of the store: its fixed head lies inside the store's resources.
    return literal.startswith(target.prefix) or literal.startswith(target.prefix + "/")


def _covers(pattern: str, target: _Target) -> bool:
    """Whether the pattern matches every data resource of the store."""
    pattern = _any_account(pattern, target)
    literal = _literal_head(pattern)
    if literal == pattern:  # no wildcard: one resource, not the whole store
        return pattern == target.probe and target.service == "dynamodb"
    return (
        target.prefix.startswith(literal)
        and pattern.endswith("*")
        and (fnmatchcase(target.probe, pattern))
    )


def _deny_covers_store(statement: Statement, target: _Target) -> bool:
    if statement.not_resources is not None:
        return False  # not evaluated: the access is kept (never assumed denied)
    return any(_covers(p, target) for p in statement.resources)


def _any_account(pattern: str, target: _Target) -> str:
    """For DynamoDB, the account field is not compared (the inventory may not hold it)."""
    if target.service != "dynamodb" or not pattern.startswith("arn:"):
        return pattern
    parts = pattern.split(":", 5)
    if len(parts) == 6:
        parts[4] = "*"
        target_parts = target.probe.split(":", 5)
        if target_parts[4] == "000000000000":
            return ":".join(parts)
    return pattern


def _literal_head(pattern: str) -> str:
    cut = min((i for i in (pattern.find("*"), pattern.find("?")) if i >= 0), default=-1)
    return pattern if cut < 0 else pattern[:cut]
