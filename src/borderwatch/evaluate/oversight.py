"""The tables the integrity rules compare (rules/integrity/*.sql, rules/shared/oversight.sql).

`oversight_reviews`: one row per subject of a review statement, with its signature status;
`deployed_artifacts`: one row per sighting of an artifact that runs or is ready to run,
with `in_scope` (a model-store file, or an image in a namespace the policy protects);
`oversight_scope`: one row, the day approvals are judged on, whether the policy asks for
oversight at all and which kinds of evidence of running artifacts were read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from fnmatch import fnmatchcase

import pyarrow as pa

from borderwatch.model.oversight import DeployedArtifact, OversightRules, ReviewedSubject
from borderwatch.runtime.tablestore import TableStore

REVIEWS_SCHEMA = pa.schema(
    [
        ("name", pa.string()),
        ("digest", pa.string()),
        ("decision", pa.string()),
        ("scope", pa.string()),
        ("reviewer", pa.string()),
        ("reviewed_on", pa.date32()),
        ("expires", pa.date32()),
        ("signature", pa.string()),
        ("keyids", pa.list_(pa.string())),
        ("signed_by", pa.string()),
        ("source", pa.string()),
        # Whether the review's scope is one the policy's approval_scopes name (always,
        # when the policy names none): only such approvals count.
        ("scope_counts", pa.bool_()),
    ]
)
ARTIFACTS_SCHEMA = pa.schema(
    [
        ("kind", pa.string()),
        ("name", pa.string()),
        ("digest", pa.string()),
        ("reference", pa.string()),
        ("namespace", pa.string()),
        ("workload", pa.string()),
        ("origin", pa.string()),
        ("source", pa.string()),
        ("seen_at", pa.timestamp("us", tz="UTC")),
        ("size", pa.int64()),
        ("in_scope", pa.bool_()),
    ]
)


def in_scope(artifact: DeployedArtifact, rules: OversightRules) -> bool:
    """Model-store files always; images when their namespace matches a protected glob."""
    if artifact.kind == "model":
        return True
    namespace = artifact.namespace or ""
    return any(fnmatchcase(namespace, pattern) for pattern in rules.protected_namespaces)


def load_oversight_tables(
    engine: TableStore,
    rules: OversightRules,
    reviews: Sequence[ReviewedSubject],
    artifacts: Sequence[DeployedArtifact],
    evidence: Sequence[str],
    as_of: dt.date,
) -> None:
    """Create the three tables (empty when the scan had no oversight inputs)."""
    engine.create_table("oversight_reviews", reviews_table(reviews, rules.approval_scopes))
    engine.create_table("deployed_artifacts", artifacts_table(artifacts, rules))
    declared = bool(rules.trusted_reviewers or rules.protected_namespaces)
    engine.create_table(
        "oversight_scope",
        pa.table(
            {
                "as_of": pa.array([as_of], pa.date32()),
                "declared": pa.array([declared], pa.bool_()),
                "evidence_kinds": pa.array([sorted(set(evidence))], pa.list_(pa.string())),
            }
        ),
    )


def reviews_table(reviews: Sequence[ReviewedSubject], scopes: Sequence[str] = ()) -> pa.Table:
    """The `oversight_reviews` table; `scopes`: the policy's approval_scopes."""
    wanted = {_scope_key(scope) for scope in scopes}
    rows = [
        {
            "name": r.name,
            "digest": r.digest,
            "decision": r.decision,
            "scope": r.scope,
            "reviewer": r.reviewer,
            "reviewed_on": r.reviewed_on,
            "expires": r.expires,
            "signature": r.signature.value,
            "keyids": list(r.keyids),
            "signed_by": r.signed_by,
            "source": r.source,
            "scope_counts": not wanted or _scope_key(r.scope) in wanted,
        }
        for r in reviews
    ]
    return pa.Table.from_pylist(rows, schema=REVIEWS_SCHEMA)


def _scope_key(scope: str) -> str:
    return scope.strip().casefold()


def artifacts_table(artifacts: Sequence[DeployedArtifact], rules: OversightRules) -> pa.Table:
    """The `deployed_artifacts` table, each row marked in or out of scope."""
    rows = [
        {
            "kind": a.kind,
            "name": a.name,
            "digest": a.digest,
            "reference": a.reference,
            "namespace": a.namespace,
            "workload": a.workload,
            "origin": a.origin,
            "source": a.source,
            "seen_at": _utc(a.seen_at),
            "size": a.size,
            "in_scope": in_scope(a, rules),
        }
        for a in artifacts
    ]
    return pa.Table.from_pylist(rows, schema=ARTIFACTS_SCHEMA)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)
