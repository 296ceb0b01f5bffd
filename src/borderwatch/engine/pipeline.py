"""One scan, left to right: read, enrich, load, evaluate, explain.

Nothing flows backwards: rules read the loaded tables, reporters read the ScanResult.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa

from borderwatch import __version__
from borderwatch.engine import tables
from borderwatch.engine.coverage import coverage_of
from borderwatch.engine.digest import ProtectedKeys
from borderwatch.engine.duckdb_engine import DuckDBEngine
from borderwatch.engine.events import TABLE as ACCESS_TABLE
from borderwatch.engine.events import (
    ProgressCallback,
    load_events,
    skipped_note,
    skipped_summaries,
)
from borderwatch.engine.history import inventory_history
from borderwatch.engine.leftovers import remove_stale_temp_dirs
from borderwatch.engine.repeats import count_once, find_repeats
from borderwatch.engine.state import ScanState, open_state
from borderwatch.engine.steps import StepStop
from borderwatch.errors import SourceLocation
from borderwatch.evidence.exceptions import apply_exceptions
from borderwatch.evidence.lookalike import mark_lookalike_principals
from borderwatch.geo import GeoSource, SourceSpec, load_sources
from borderwatch.inventory.classes import apply_store_classes
from borderwatch.inventory.locations import LocationRegistry
from borderwatch.inventory.placement import ResolvedStore, resolve_stores
from borderwatch.inventory.snapshots import snapshot_date
from borderwatch.inventory.stores import (
    UnreadableStore,
    inventory_class_names,
    read_inventory,
)
from borderwatch.jurisdiction.covered import covered_status
from borderwatch.jurisdiction.identities import read_identities
from borderwatch.jurisdiction.people import read_entities, read_travel
from borderwatch.jurisdiction.signals import (
    caller_signals,
    egress_source,
    ip_country_precedence,
    signal_versions,
)
from borderwatch.model.events import QuarantinedRecord
from borderwatch.model.findings import Finding, Severity, Status, finding_id
from borderwatch.model.inventory import Store
from borderwatch.model.policy import Policy
from borderwatch.model.scan import (
    COVERAGE_FAMILY,
    CountryAccess,
    InputSummary,
    ResidencyRow,
    ScanResult,
)
from borderwatch.policy.classes import check_class_names
from borderwatch.registry import Registry
from borderwatch.rules.base import Rule
from borderwatch.rules.views import ACCESS_GROUPS, VIEWS
from borderwatch.sources.inputs import (
    Expansion,
    InputFile,
    content_copies,
    copy_note,
    expand_all,
)
from borderwatch.tables.records import TableRead

T = TypeVar("T")


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
    events: Sequence[str | Path] = ()
    fail_on: Severity = Severity.HIGH
    # The day exceptions are judged on; fixed in tests so expiry is reproducible.
    as_of: dt.date | None = None
    event_format: str | None = None
    # IP data beyond the embedded default, in precedence order (borderwatch.geo).
    ip_data: Sequence[SourceSpec] = ()
    database: str = ":memory:"
    # Incremental scans: the DuckDB file that keeps what earlier scans read (None: off).
    state_path: Path | None = None
    # Count an event read more than once (same event id) once: every access's id is kept
    # (full scans only; engine/repeats.py).
    exact_repeats: bool = False
    # Judge what the logs cover (rules/coverage.py); off for checks that read no logs by
    # design, such as a Terraform plan check.
    coverage: bool = True
    # The days coverage is judged over (inclusive); None: the first or last day with events.
    window_from: dt.date | None = None
    window_to: dt.date | None = None
    # Glob patterns of files in the event inputs to skip, and the output folder (never
    # read as input even inside an events folder).
    exclude: Sequence[str] = ()
    out: Path | None = None


@dataclass
class ScanContext:
    """Everything a scan needs besides its inputs: plug-ins, reference data, progress."""

    registry: Registry
    locations: LocationRegistry
    progress: ProgressCallback | None = None
    data_versions: dict[str, str] = field(default_factory=dict)
    # Where compiled IP data is cached (None: BORDERWATCH_CACHE_DIR or ~/.cache).
    cache_dir: Path | None = None
    # Test-only: a step at which the process stops itself (engine/steps.py).
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
    engine = _engine_for(request)
    try:
        inputs: list[InputSummary] = []
        quarantined: list[QuarantinedRecord] = []
        unreadable: list[UnreadableStore] = []
        stores = _classified(
            _read_stores(request.inventory, inputs, quarantined, unreadable, request.policy),
            request,
        )
        identities = _read_reference(request.identities, read_identities, inputs, quarantined)
        entities = _read_reference(request.entities, read_entities, inputs, quarantined)
        trips = _read_reference(request.travel, read_travel, inputs, quarantined)
        coverage = covered_status(entities, identities, _covered_countries(request.policy))
        resolved = resolve_stores(stores, ctx.locations)
        history = inventory_history(
            resolved,
            _read_snapshots(request, inputs, quarantined),
            request.policy,
            ctx.locations,
            as_of,
        )
        _load_reference_tables(engine, request.policy, resolved, ctx.locations)
        engine.create_table("inventory_changes", tables.changes_table(history.changes))
        engine.create_table("legacy_holdings", tables.legacy_table(history.holdings, as_of))
        engine.create_table("identities", tables.identity_table(identities, coverage.identities))
        engine.create_table("travel", tables.travel_table(trips))
        engine.create_table(
            "unreadable_stores",
            tables.unreadable_table(unreadable, request.policy.store_classes),
        )
        load = _load_inputs(engine, request, ctx, files, _protected_keys(engine))
        inputs.extend(load.inputs)
        inputs.extend(skipped_summaries(expansion.skipped))
        load.notes.extend(skipped_note(inputs))
        quarantined.extend(load.quarantined)
        geo_sources = load_sources(request.ip_data, cache_dir=ctx.cache_dir)
        _load_callers(engine, geo_sources, ctx.locations, request.policy)
        for statement in VIEWS:
            engine.execute(statement)
            if statement is ACCESS_GROUPS and request.state_path is None:
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
        engine.create_table("coverage_policy", _coverage_policy(request))
        rules = [
            rule
            for rule in ctx.registry.rules
            if request.coverage or not rule.id.startswith(COVERAGE_FAMILY)
        ]
        findings = [finding for rule in rules for finding in _evaluate(engine, rule, versions)]
        findings = apply_exceptions(findings, request.policy.exceptions, as_of)
        findings = mark_lookalike_principals(findings)
        findings.sort(key=_finding_order)
        return ScanResult(
            policy_name=request.policy.name,
            policy_version=request.policy.version,
            policy_sha256=request.policy.sha256,
            started_at=started,
            finished_at=_now(),
            fail_on=request.fail_on,
            findings=tuple(findings),
            inputs=tuple(inputs),
            residency=tuple(_residency_rows(engine, resolved)),
            access_by_country=tuple(_access_by_country(engine)),
            quarantined=tuple(quarantined),
            data_versions=versions,
            events_total=sum(i.accepted for i in inputs if i.kind == "events"),
            warnings=tuple(load.warnings),
            notes=tuple(load.notes),
            protected_accesses=_scalar(
                engine, "SELECT coalesce(sum(events), 0) FROM protected_access"
            ),
            changes=tuple(history.changes),
            legacy=tuple(history.progress),
            coverage=coverage_of(engine),
        )
    finally:
        engine.close()


@dataclass
class _Loaded:
    inputs: list[InputSummary]
    quarantined: list[QuarantinedRecord]
    warnings: list[str]
    notes: list[str] = field(default_factory=list)


def _engine_for(request: ScanRequest) -> DuckDBEngine:
    """The state file for incremental scans, else the requested database (memory).

    Large inputs get a memory limit when they are loaded (events.load_events).
    """
    if request.state_path is not None:
        return open_state(request.state_path)
    return DuckDBEngine(request.database)


def _protected_keys(engine: DuckDBEngine) -> ProtectedKeys:
    """Every name of a store holding protected data (needs the reference tables)."""
    rows = engine.query(
        """
        SELECT DISTINCT k.key, k.store_id
        FROM store_keys k
        JOIN store_classes sc USING (store_id)
        JOIN protected_classes pc USING (data_class)
        """
    ).to_pylist()
    return ProtectedKeys.from_pairs((r["key"], r["store_id"]) for r in rows)


def _load_inputs(
    engine: DuckDBEngine,
    request: ScanRequest,
    ctx: ScanContext,
    files: Sequence[InputFile],
    keys: ProtectedKeys,
) -> _Loaded:
    """Read the event inputs; with state, only those no earlier scan has read.

    An input with the same bytes as another (a copied folder, a file moved into an
    archive between incremental scans) is read once; the copy says so in its note.
    """
    if request.state_path is None:
        found = content_copies(files)
        copies = [
            InputSummary(
                files[index].display,
                "events",
                "copy",
                0,
                0,
                0,
                copy_note(files[copy.first].display, copy.sha256, decompressed=copy.decompressed),
            )
            for index, copy in found.items()
        ]
        load = load_events(
            engine,
            ctx.registry.sources,
            (),
            keys=keys,
            files=[item for index, item in enumerate(files) if index not in found],
            forced_format=request.event_format,
            progress=ctx.progress,
            exact=request.exact_repeats,
        )
        summaries = _in_input_order(files, [*load.inputs, *copies])
        if request.exact_repeats:
            count_once(engine, ACCESS_TABLE)
            once = find_repeats(engine).counted_once()
            return _Loaded(
                summaries,
                load.quarantined,
                [],
                [*_copies_note(len(copies)), *([once] if once else [])],
            )
        return _Loaded(
            summaries,
            load.quarantined,
            _repeats_warning(engine, summaries),
            _copies_note(len(copies)),
        )
    # Digests, the inputs read and the sample of event ids are committed together: a
    # scan killed before the commit leaves the state as the scan before it left it.
    with ScanState.transaction(engine) as state:
        ctx.stops.reached("state-opened")
        notes = state.check_keys(keys)
        plan = state.plan(files)
        load = load_events(
            engine,
            ctx.registry.sources,
            (),
            keys=keys,
            files=plan.to_read,
            append=True,
            forced_format=request.event_format,
            progress=ctx.progress,
            reached=ctx.stops.reached,
        )
        ctx.stops.reached("inputs-read")
        copied = [item for item, _ in plan.copies]
        copy_summaries = [summary for _, summary in plan.copies]
        state.remember(
            [*plan.to_read, *copied],
            [*load.inputs, *copy_summaries],
            load.quarantined,
            plan.fingerprints,
            plan.carried,
        )
        summaries = _in_input_order(files, [*plan.earlier, *load.inputs, *copy_summaries])
        repeats = _repeats_warning(engine, summaries)
        ctx.stops.reached("state-written")
    ctx.stops.reached("state-committed")
    return _Loaded(
        summaries,
        [*plan.earlier_quarantine, *load.quarantined],
        [*plan.changed, *repeats],
        [*notes, *_copies_note(len(copied))],
    )


def _repeats_warning(engine: DuckDBEngine, summaries: Sequence[InputSummary]) -> list[str]:
    """A warning when the sampled event ids show events read more than once."""
    events = sum(summary.accepted for summary in summaries)
    formats = {summary.path: summary.format for summary in summaries}
    warning = find_repeats(engine, formats).warning(events)
    return [warning] if warning else []


def _in_input_order(
    files: Sequence[InputFile], summaries: list[InputSummary]
) -> list[InputSummary]:
    """Summaries in the order the inputs were named (each input has one)."""
    position = {item.display: index for index, item in enumerate(files)}
    return sorted(summaries, key=lambda summary: position.get(summary.path, len(position)))


def _copies_note(count: int) -> list[str]:
    if not count:
        return []
    inputs, verb, whose = (
        ("input has", "was", "its") if count == 1 else ("inputs have", "were", "their")
    )
    return [
        f"{count:,} {inputs} the same content as another input and {verb} not read again: "
        f"{whose} records are counted once (see the inputs' notes)"
    ]


def _classified(stores: list[Store], request: ScanRequest) -> list[Store]:
    return apply_store_classes(stores, request.policy.store_classes)


def _read_snapshots(
    request: ScanRequest, inputs: list[InputSummary], quarantined: list[QuarantinedRecord]
) -> list[tuple[dt.date, list[Store]]]:
    """Each earlier inventory file is one snapshot, dated by snapshot_date()."""
    snapshots = []
    for path in request.previous_inventory:
        summaries: list[InputSummary] = []
        stores = _classified(
            _read_stores([path], summaries, quarantined, [], request.policy), request
        )
        inputs.extend(replace(s, kind="previous-inventory") for s in summaries)
        snapshots.append((snapshot_date(Path(path)), stores))
    return snapshots


def _read_stores(
    paths: Sequence[Path],
    inputs: list[InputSummary],
    quarantined: list[QuarantinedRecord],
    unreadable: list[UnreadableStore],
    policy: Policy,
) -> list[Store]:
    """The stores of every inventory file; quarantined rows also go to `unreadable`.

    Raises InputError when a row (kept or not) names a data class the policy does not
    know: it would be judged unprotected.
    """
    stores: list[Store] = []
    seen: set[str] = set()
    named: list[tuple[str, SourceLocation]] = []
    for path in paths:
        read = read_inventory(Path(path))
        named.extend(inventory_class_names(read))
        kept = []
        for store in read.stores:
            if store.store_id in seen:
                reason = f"duplicate store_id {store.store_id!r} (declared in an earlier file)"
                line = int(store.origin.rsplit(":", 1)[-1])
                read.quarantined.append(
                    QuarantinedRecord(read.path, f"line {line}", reason, source_format="inventory")
                )
                read.unreadable.append(
                    UnreadableStore(read.path, line, reason, store.store_id, store.data_classes)
                )
                continue
            seen.add(store.store_id)
            kept.append(store)
        stores.extend(kept)
        quarantined.extend(read.quarantined)
        unreadable.extend(read.unreadable)
        inputs.append(
            InputSummary(
                read.path,
                "inventory",
                "inventory",
                read.records_read,
                len(kept),
                len(read.quarantined),
            )
        )
    check_class_names(policy, named)  # every file's unknown names at once
    return stores


def _read_reference(
    paths: Sequence[Path],
    read: Callable[[Path], TableRead[T]],
    inputs: list[InputSummary],
    quarantined: list[QuarantinedRecord],
) -> list[T]:
    """Read every file of one reference kind (identities, entities, travel), accounted."""
    items: list[T] = []
    for path in paths:
        result = read(Path(path))
        items.extend(result.items)
        quarantined.extend(result.quarantined)
        inputs.append(
            InputSummary(
                result.path,
                result.kind,
                result.kind,
                result.records_read,
                len(result.items),
                len(result.quarantined),
            )
        )
    return items


def _covered_countries(policy: Policy) -> set[str]:
    return {c for dc in policy.protected_classes() for c in dc.access.covered_person_countries}


def _load_reference_tables(
    engine: DuckDBEngine,
    policy: Policy,
    resolved: list[ResolvedStore],
    locations: LocationRegistry,
) -> None:
    policy_tables = tables.policy_tables(policy)
    # Approvals may name a provider by any alias ("oracle"); compare normalised ids.
    approved = policy_tables["storage_approved"]
    providers = [
        None if p is None else locations.resolve(p, None).provider
        for p in approved.column("provider").to_pylist()
    ]
    policy_tables["storage_approved"] = approved.set_column(
        1, "provider", pa.array(providers, pa.string())
    )
    for name, table in {
        **policy_tables,
        **tables.store_tables(resolved),
        "region_country": tables.region_table(locations),
    }.items():
        engine.create_table(name, table)


def _load_callers(
    engine: DuckDBEngine,
    sources: list[GeoSource],
    locations: LocationRegistry,
    policy: Policy,
) -> None:
    # Only callers of protected accesses are ever judged.
    distinct = engine.query("SELECT DISTINCT caller FROM access_parts").column("caller")
    rules = policy.jurisdiction
    callers = caller_signals(
        distinct,
        sources,
        locations,
        decide_by=rules.ip_country,
        egress=egress_source(rules.corporate_egress),
    )
    keys = [value or "" for value in callers.column("caller").to_pylist()]
    engine.create_table("callers", callers.append_column("caller_key", pa.array(keys)))


def _evaluate(engine: DuckDBEngine, rule: Rule, versions: dict[str, str]) -> list[Finding]:
    rows = engine.query(rule.sql).to_pylist()
    return [_finding(rule, row, versions) for row in rows]


def _coverage_policy(request: ScanRequest) -> pa.Table:
    """One row: the policy's `coverage:` settings and the requested window, as the
    coverage rules read them."""
    rules = request.policy.coverage
    return pa.table(
        {
            "log_gap": [rules.log_gap.value],
            "store_unobserved": [rules.store_unobserved.value],
            "nothing_judged": [rules.nothing_judged.value],
            "log_gap_min_daily_events": pa.array([rules.log_gap_min_daily_events], pa.int64()),
            "window_from": pa.array([request.window_from], pa.date32()),
            "window_to": pa.array([request.window_to], pa.date32()),
        }
    )


def _finding(rule: Rule, row: dict[str, Any], versions: dict[str, str]) -> Finding:
    evidence = {k: v for k, v in (row.get("evidence") or {}).items() if v not in (None, "", [])}
    return Finding(
        # `subject` lets a rule tell apart findings about the same resource (e.g. two
        # different changes to one store); rules without it keep their historic ids.
        id=finding_id(
            rule.id,
            row.get("resource"),
            row.get("principal"),
            row.get("country"),
            *([row["subject"]] if row.get("subject") else []),
        ),
        rule=rule.id,
        # A rule may take its severity from the policy (the coverage rules do).
        severity=Severity(row["severity"]) if row.get("severity") else rule.severity,
        status=Status.OPEN,
        title=rule.title,
        message=rule.describe(row),
        resource=row.get("resource"),
        principal=row.get("principal"),
        person=row.get("person"),
        country=row.get("country"),
        data_classes=tuple(row.get("data_classes") or ()),
        count=int(row.get("count") or 0),
        first_seen=_iso(row.get("first_seen")),
        last_seen=_iso(row.get("last_seen")),
        evidence=evidence,
        provenance={"references": list(rule.references), "data": versions},
    )


def _residency_rows(engine: DuckDBEngine, resolved: list[ResolvedStore]) -> list[ResidencyRow]:
    verdicts: dict[str, str] = {}
    for row in engine.query(
        "SELECT store_id, list(DISTINCT verdict) AS verdicts FROM residency_by_class "
        "GROUP BY store_id"
    ).to_pylist():
        found = set(row["verdicts"])
        # The worst verdict over the store's protected classes speaks for the store.
        verdicts[row["store_id"]] = next(
            (v for v in ("unknown", "outside") if v in found), "approved"
        )
    protected = {
        r["store_id"]
        for r in engine.query("SELECT DISTINCT store_id FROM protected_store_classes").to_pylist()
    }
    rows = []
    for item in resolved:
        store_id = item.store.store_id
        rows.append(
            ResidencyRow(
                store_id=store_id,
                provider=item.location.provider,
                region=item.store.region,
                service=item.store.service,
                location_kind=item.location.kind,
                countries=item.location.countries,
                data_classes=item.copies.data_classes,
                protected=store_id in protected,
                records=item.store.records,
                copy_of=item.store.copy_of,
                copy_path=item.copies.copy_path,
                verdict=verdicts.get(store_id, "not-protected"),
            )
        )
    return rows


def _access_by_country(engine: DuckDBEngine) -> list[CountryAccess]:
    rows = engine.query(
        """
        WITH located AS (
            SELECT events, principal, data_classes, v.effective_country AS country
            FROM protected_access JOIN access_verdict v USING (group_id)
        ),
        -- Prohibition is decided once per (country, classes), not once per event.
        kinds AS (SELECT DISTINCT country, data_classes FROM located),
        judged AS (
            SELECT k.country, bool_or(EXISTS (
                SELECT 1 FROM access_prohibited ap
                WHERE ap.country = k.country AND list_contains(k.data_classes, ap.data_class)
            )) AS prohibited
            FROM kinds k GROUP BY k.country
        )
        SELECT l.country, sum(l.events) AS events,
            count(DISTINCT l.principal) AS principals, any_value(j.prohibited) AS prohibited
        FROM located l LEFT JOIN judged j ON j.country IS NOT DISTINCT FROM l.country
        GROUP BY l.country ORDER BY events DESC, l.country
        """
    ).to_pylist()
    return [
        CountryAccess(r["country"], int(r["events"]), int(r["principals"]), bool(r["prohibited"]))
        for r in rows
    ]


def _finding_order(finding: Finding) -> tuple[int, int, str, str]:
    return (
        0 if finding.status is Status.OPEN else 1,
        -finding.severity.rank,
        finding.rule,
        finding.id,
    )


def _scalar(engine: DuckDBEngine, sql: str) -> int:
    return int(engine.query(sql).column(0)[0].as_py())


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = value.astimezone(dt.UTC)
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
