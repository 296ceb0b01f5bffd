"""Property tests of the oversight readers: whatever the bytes, no crash, every record
accounted (read = accepted + quarantined), and every good envelope kept beside bad ones."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from borderwatch.inventory.attestations import read_attestations
from borderwatch.inventory.manifests import read_manifests
from borderwatch.model.oversight import OversightRules
from borderwatch.sources.k8s_deploys import read_k8s_deploys
from oversightkit import REVIEWER_A, review, sha

RULES = OversightRules()
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
GOOD = json.dumps(review([("registry.example/app", sha("app"))], REVIEWER_A))
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


def _file(data: bytes, suffix: str) -> Path:
    with tempfile.NamedTemporaryFile(
        prefix="integrity-prop-", suffix=suffix, delete=False
    ) as handle:
        handle.write(data)
    return Path(handle.name)


@SETTINGS
@given(st.binary(max_size=400))
def test_any_bytes_as_reviews_never_crash(data: bytes) -> None:
    path = _file(data, ".json")
    try:
        read = read_attestations(path, RULES)
        assert all(q.input_path == str(path) and q.reason for q in read.quarantined)
    finally:
        path.unlink()


STATEMENTISH = st.fixed_dictionaries(
    {"_type": JSONISH | st.just("https://in-toto.io/Statement/v1")},
    optional={"subject": JSONISH, "predicateType": JSONISH, "predicate": JSONISH},
)


@SETTINGS
@given(STATEMENTISH)
def test_any_statement_in_a_signed_envelope_is_read_or_quarantined(statement: dict) -> None:
    from borderwatch.inventory.reviewsign import sign_statement

    envelope = sign_statement(json.dumps(statement).encode(), REVIEWER_A)
    path = _file((json.dumps(envelope) + "\n" + GOOD + "\n").encode(), ".jsonl")
    try:
        read = read_attestations(path, RULES)
        assert len(read.items) >= 1 and len(read.quarantined) <= 1
    finally:
        path.unlink()


@SETTINGS
@given(st.lists(JSONISH, max_size=5), st.integers(min_value=0, max_value=5))
def test_a_good_envelope_survives_any_neighbours(values: list, at: int) -> None:
    lines = [json.dumps(v) for v in values]
    lines.insert(min(at, len(lines)), GOOD)
    path = _file(("\n".join(lines) + "\n").encode(), ".jsonl")
    try:
        read = read_attestations(path, RULES)
        assert [item.name for item in read.items].count("registry.example/app") >= 1
        assert len(read.quarantined) <= len(values)
    finally:
        path.unlink()


@SETTINGS
@given(st.binary(max_size=400) | st.text(max_size=300).map(str.encode))
def test_any_bytes_as_manifests_or_audit_logs_are_accounted(data: bytes) -> None:
    path = _file(data, ".yaml")
    try:
        for read in (read_manifests(path), read_k8s_deploys(path)):
            assert read.records_read == read.accepted + len(read.quarantined)
    finally:
        path.unlink()


WORKLOAD_EVENT = st.fixed_dictionaries(
    {
        "verb": st.sampled_from(["create", "patch", "update", "get"]) | JSONISH,
        "objectRef": st.fixed_dictionaries(
            {"resource": st.sampled_from(["pods", "jobs"]) | JSONISH},
            optional={"subresource": JSONISH, "namespace": JSONISH, "name": JSONISH},
        )
        | JSONISH,
    },
    optional={
        "requestObject": JSONISH,
        "responseObject": JSONISH,
        "responseStatus": JSONISH,
        "stage": JSONISH,
        "auditID": JSONISH,
        "stageTimestamp": JSONISH,
    },
)


@SETTINGS
@given(st.lists(WORKLOAD_EVENT | st.dictionaries(st.text(max_size=8), JSONISH), min_size=2))
def test_any_json_lines_as_audit_logs_are_accounted(values: list) -> None:
    """Each line one record (two lines or more: JSON lines, not one document)."""
    path = _file("".join(json.dumps(v) + "\n" for v in values).encode(), ".jsonl")
    try:
        read = read_k8s_deploys(path)
        assert read.records_read == len(values) == read.accepted + len(read.quarantined)
    finally:
        path.unlink()
