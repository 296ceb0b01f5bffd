"""One scan, left to right: ingest, enrich, evaluate, evidence.

Each step is a stage's room (ingest/, enrich/, evaluate/, evidence/); this module only
orders them. Nothing flows backwards: rules read the loaded tables, reporters read the
ScanResult.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from borderwatch import __version__
from borderwatch.enrich.base import EnrichContext
from borderwatch.enrich.geo import SourceSpec, load_sources
from borderwatch.enrich.signals import ip_country_precedence, signal_versions
from borderwatch.enrich.stage import run_enrichers
from borderwatch.evaluate import tables
from borderwatch.evaluate.dsp_tables import dsp_counts, potential_access_table
from borderwatch.evaluate.dsp_windows import build_windows
from borderwatch.evaluate.engine import Engine, EngineFactory
from borderwatch.evaluate.feed import feed_outcomes, run_feed_audit
from borderwatch.evaluate.oversight import load_oversight_tables
from borderwatch.evaluate.reference import (
    coverage_policy,
    load_reference_tables,
    protected_keys,
)
from borderwatch.evaluate.spark_engine import SparkEngine
from borderwatch.evaluate.summaries import access_by_country, residency_rows, scalar
from borderwatch.evaluate.views import view_statements
from borderwatch.evidence.exceptions import apply_exceptions
from borderwatch.evidence.findings import finding, finding_order
from borderwatch.evidence.history import compare_run
from borderwatch.evidence.lookalike import mark_lookalike_principals
from borderwatch.ingest.cloudtrail_digest import check_digests, integrity_table, reported
from borderwatch.ingest.coverage import coverage_of
from borderwatch.ingest.events import TABLE as ACCESS_TABLE
from borderwatch.ingest.events import ProgressCallback, skipped_note, skipped_summaries
from borderwatch.ingest.expansion import Expansion, expand_all
from borderwatch.ingest.feed import create_feed_tables, load_feed, skipped_feed
from borderwatch.ingest.load import load_inputs
from borderwatch.ingest.oversight import read_oversight
from borderwatch.ingest.reference import classified, read_reference, read_snapshots, read_stores
from borderwatch.ingest.state import open_state
from borderwatch.inventory.history import inventory_history
from borderwatch.inventory.iam import read_iam
from borderwatch.inventory.locations import LocationRegistry
from borderwatch.inventory.placement import resolve_stores
from borderwatch.inventory.stores import UnreadableStore
from borderwatch.inventory.volumes import with_volume_files
from borderwatch.model.events import QuarantinedRecord
from borderwatch.model.findings import Finding, Severity
from borderwatch.model.policy import Policy
from borderwatch.model.scan import COVERAGE_FAMILY, InputSummary, RuleInfo, ScanResult
from borderwatch.registry import Registry
from borderwatch.rules.base import Rule
from borderwatch.runtime.leftovers import remove_stale_temp_dirs
from borderwatch.runtime.options import ScanOptions
from borderwatch.runtime.steps import StepStop
from borderwatch.sources.base import Source
from borderwatch.tables.identities import read_identities
from borderwatch.tables.people import read_entities, read_travel


@dataclass(frozen=True)
class ScanRequest:
    """The inputs of one scan. Paths are files, directories or globs."""

    policy: Policy
    inventory: Sequence[Path] = ()
    # Earlier inventories (snapshots), for changes and migration progress.
    previous_inventory: Sequence[Path] = ()
    identities: Sequence[Path] = ()
    entities: Sequence[Path] = ()
    travel: Sequence[Path] = ()
    # AWS IAM authorization details and bucket policies: who can read DSP stores.
    iam: Sequence[Path] = ()
    # Subject-count files: distinct subjects per DSP store and category (inventory/volumes.py).
    dsp_volumes: Sequence[Path] = ()
    events: Sequence[str | Path] = ()
    fail_on: Severity = Severity.HIGH
    # The day exceptions are judged on; fixed in tests so expiry is reproducible.
    as_of: dt.date | None = None
    event_format: str | None = None
    # IP data beyond the embedded default, in precedence order (borderwatch.enrich.geo).
    ip_data: Sequence[SourceSpec] = ()
    database: str = ":memory:"
    # Incremental scans: the DuckDB file that keeps what earlier scans read (None: off).
    state_path: Path | None = None
    # Count an event read more than once (same event id) once: every access's id is kept
    # (full scans only; ingest/repeats.py).
    exact_repeats: bool = False
    # Judge what the logs cover (rules/coverage/*.sql); off for checks that read no logs by
    # design, such as a Terraform plan check.
    coverage: bool = True
    # The days coverage is judged over (inclusive); None: the first or last day with events.
    window_from: dt.date | None = None
    window_to: dt.date | None = None
    # Glob patterns of files in the event inputs to skip, and the output folder (never
    # read as input even inside an events folder).
    exclude: Sequence[str] = ()
    out: Path | None = None
    # How the scan runs (engine, workers, batch sizes, memory): runtime/options.py.
    options: ScanOptions = field(default_factory=ScanOptions)
    # Algorithm oversight (docs/oversight.md): signed reviews, what runs (Kubernetes audit
    # logs or manifests), model stores (folders or s3://bucket/prefix).
    attestations: Sequence[Path] = ()
    deployments: Sequence[Path] = ()
    model_stores: Sequence[str] = ()
    # Served-recommendation logs and their reader (sources/feed.py), for the feed audit.
    feed: Sequence[str | Path] = ()
    feed_source: Source | None = None
    # CloudTrail log-file integrity (ingest/cloudtrail_digest.py): the folder of digest
    # and log files, the list-public-keys JSON, and the newest digests' signatures.
    cloudtrail_digests: Path | None = None
    public_keys: Path | None = None
    newest_signatures: tuple[str, ...] = ()
    # The history folder this run is compared with (scan --history; evidence/history.py).
    history: Path | None = None


@dataclass
class ScanContext:
    """Everything a scan needs besides its inputs: plug-ins, reference data, progress."""

    registry: Registry
    locations: LocationRegistry
    progress: ProgressCallback | None = None
    data_versions: dict[str, str] = field(default_factory=dict)
    # Where compiled IP data is cached (None: BORDERWATCH_CACHE_DIR or ~/.cache).
    cache_dir: Path | None = None
    # Test-only: a step at which the process stops itself (runtime/steps.py).
    stops: StepStop = field(default_factory=StepStop)


def run_scan(request: ScanRequest, ctx: ScanContext) -> ScanResult:
    """Run every rule over the inputs and return the explained result."""
    started = _now()
    remove_stale_temp_dirs()  # of scans killed before they could remove them
    as_of = request.as_of or dt.datetime.now(dt.UTC).date()
    expansion = (
        expand_all(list(request.events), exclude=request.exclude, out=request.out)
        if request.events
        else Expansion()
    )
    files = expansion.files
    engine = _engine_for(request, ctx)
    try:
        inputs: list[InputSummary] = []
        quarantined: list[QuarantinedRecord] = []
        unreadable: list[UnreadableStore] = []
        stores = classified(
            read_stores(request.inventory, inputs, quarantined, unreadable, request.policy),
            request.policy,
        )
        if request.dsp_volumes:
            stores = with_volume_files(request.dsp_volumes, stores, inputs, quarantined)
        identities = read_reference(request.identities, read_identities, inputs, quarantined)
        entities = read_reference(request.entities, read_entities, inputs, quarantined)
        trips = read_reference(request.travel, read_travel, inputs, quarantined)
        resolved = resolve_stores(stores, ctx.locations)
        history = inventory_history(
            resolved,
            read_snapshots(request.previous_inventory, request.policy, inputs, quarantined),
            request.policy,
            ctx.locations,
            as_of,
        )
        load_reference_tables(engine, request.policy, resolved, ctx.locations)
        engine.create_table("inventory_changes", tables.changes_table(history.changes))
        engine.create_table("legacy_holdings", tables.legacy_table(history.holdings, as_of))
        engine.create_table("travel", tables.travel_table(trips))
        iam = read_iam(request.iam, inputs, quarantined)
        engine.create_table("dsp_potential", potential_access_table(request.policy, resolved, iam))
        engine.create_table(
            "unreadable_stores",
            tables.unreadable_table(unreadable, request.policy.store_classes),
        )
        oversight = read_oversight(
            request.attestations,
            request.deployments,
            request.model_stores,
            request.policy.oversight,
            inputs,
            quarantined,
        )
        load_oversight_tables(
            engine,
            request.policy.oversight,
            oversight.reviews,
            oversight.artifacts,
            oversight.evidence,
            as_of,
        )
        integrity = (
            check_digests(
                request.cloudtrail_digests, request.public_keys, request.newest_signatures
            )
            if request.cloudtrail_digests is not None and request.public_keys is not None
            else None
        )
        engine.create_table(
            "log_integrity", integrity_table(integrity.problems if integrity else ())
        )
        load = load_inputs(
            engine,
            files,
            protected_keys(engine),
            ctx.registry.sources,
            state_path=request.state_path,
            event_format=request.event_format,
            exact_repeats=request.exact_repeats,
            progress=ctx.progress,
            stops=ctx.stops,
            options=request.options,
            spark=_spark_session(engine),
        )
        inputs.extend(load.inputs)
        if integrity is not None:
            notes, warnings = reported(integrity)
            load.notes.extend(notes)
            load.warnings.extend(warnings)
        inputs.extend(skipped_summaries(expansion.skipped))
        load.notes.extend(skipped_note(inputs))
        quarantined.extend(load.quarantined)
        load.notes.extend(_load_feed(engine, request, inputs, quarantined))
        geo_sources = load_sources(request.ip_data, cache_dir=ctx.cache_dir)
        enrichment = EnrichContext(request.policy, ctx.locations, geo_sources, identities, entities)
        run_enrichers(engine, ctx.registry.enrichers, enrichment, _spark_session(engine))
        for name, statement in view_statements():
            if name == "dsp_verdicts":
                build_windows(engine)  # the DSP windows, from dsp_reach (docs/dsp.md)
            engine.execute(statement)
            if name == "access_groups" and request.state_path is None:
                # Merged into access_groups, the pieces take memory the next views need;
                # an incremental scan keeps them (they are its state).
                engine.execute(f"DROP TABLE {ACCESS_TABLE}")
        versions = {
            "borderwatch": __version__,
            "policy": f"{request.policy.name} {request.policy.version} "
            f"sha256:{request.policy.sha256[:12]}",
            "locations": ctx.locations.version,
            "ip_country": ip_country_precedence(geo_sources),
            **signal_versions(geo_sources),
            **ctx.data_versions,
        }
        engine.create_table(
            "coverage_policy",
            coverage_policy(request.policy, request.window_from, request.window_to),
        )
        rules = [
            rule
            for rule in ctx.registry.rules
            if request.coverage or not rule.id.startswith(COVERAGE_FAMILY)
        ]
        run_feed_audit(engine, request.policy.feed_audit)
        findings = _evaluate(engine, rules, versions)
        findings = apply_exceptions(findings, request.policy.exceptions, as_of)
        findings = mark_lookalike_principals(findings)
        findings.sort(key=finding_order)
        changes = (
            compare_run(request.history, findings, request.policy.exceptions, as_of)
            if request.history is not None
            else None
        )
        return ScanResult(
            policy_name=request.policy.name,
            policy_version=request.policy.version,
            policy_sha256=request.policy.sha256,
            started_at=started,
            finished_at=_now(),
            fail_on=request.fail_on,
            findings=tuple(findings),
            inputs=tuple(inputs),
            residency=tuple(residency_rows(engine, resolved)),
            access_by_country=tuple(access_by_country(engine)),
            quarantined=tuple(quarantined),
            data_versions=versions,
            events_total=sum(i.accepted for i in inputs if i.kind == "events"),
            warnings=tuple(load.warnings),
            notes=tuple(load.notes),
            protected_accesses=scalar(
                engine, "SELECT coalesce(sum(events), 0) FROM protected_access"
            ),
            changes=tuple(history.changes),
            legacy=tuple(history.progress),
            coverage=coverage_of(engine),
            rules=tuple(_rule_info(rule) for rule in rules),
            feed_tests=tuple(feed_outcomes(engine)),
            scan_root=os.getcwd(),
            history=changes,
            dsp_counts=tuple(dsp_counts(engine)),
        )
    finally:
        engine.close()


def _engine_for(request: ScanRequest, ctx: ScanContext) -> Engine:
    """The engine named by the options, from the registry, opened on the state file for
    incremental scans, else on the requested database (memory).

    Large inputs get a memory limit when they are loaded (events.load_events).
    """
    factory: EngineFactory = ctx.registry.engines.get(request.options.engine)
    if request.state_path is not None:
        return open_state(request.state_path, factory)
    return factory(request.database)


def _spark_session(engine: Engine) -> Any:
    """The SparkSession of a Spark engine, whose tasks then read the event inputs and
    look up the callers (docs/spark.md); None for any other engine."""
    return engine.session if isinstance(engine, SparkEngine) else None


def _load_feed(
    engine: Engine,
    request: ScanRequest,
    inputs: list[InputSummary],
    quarantined: list[QuarantinedRecord],
) -> list[str]:
    """The served-recommendation logs as counts (ingest/feed.py), empty without them;
    returns a note when feed logs were read that no policy test judges."""
    if request.feed_source is None or not request.feed:
        create_feed_tables(engine)
        return []
    expansion = expand_all(list(request.feed), exclude=request.exclude, out=request.out)
    load = load_feed(engine, expansion.files, request.feed_source)
    inputs.extend([*load.inputs, *skipped_feed(expansion.skipped)])
    quarantined.extend(load.quarantined)
    if request.policy.feed_audit is None:
        return [
            f"{load.views:,} served recommendation(s) were read, but the policy declares no "
            "feed_audit: nothing about the feed was judged (docs/oversight.md)"
        ]
    return []


def _evaluate(engine: Engine, rules: Sequence[Rule], versions: dict[str, str]) -> list[Finding]:
    """Run the rules' shared SQL (macros, views; each file once, in order), then each
    rule's query, exactly as its file holds it."""
    shared = dict.fromkeys(statement for rule in rules for statement in rule.shared_sql)
    for statement in shared:
        engine.execute(statement)
    found: list[Finding] = []
    for rule in rules:
        rows = engine.run(rule.sql).to_pylist()
        found.extend(finding(rule, row, versions) for row in rows)
    return found


def _rule_info(rule: Rule) -> RuleInfo:
    """A rule's public metadata, for reporters (which never see the rule itself)."""
    return RuleInfo(rule.id, rule.title, rule.severity, rule.rationale, tuple(rule.references))


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
