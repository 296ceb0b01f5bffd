"""The public Python API: load a policy, scan, write the outputs.

from borderwatch.api import load_policy, scan
result = scan(policy="us-protected-data", inventory=["stores.csv"],
              identities=["people.csv"], events=["cloudtrail/"], out="out")
print(result.verdict, len(result.findings))
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from borderwatch.builtin import register as register_builtins
from borderwatch.collect.exports.azure_arm import read_arm
from borderwatch.collect.exports.common import (
    ClassesMap,
    ExportResult,
    dedupe,
    relink,
    write_inventory,
)
from borderwatch.collect.exports.gcp_cai import read_cai
from borderwatch.collect.exports.oci_search import read_oci
from borderwatch.collect.exports.terraform import PlanResult, read_plan
from borderwatch.enrich.geo import KINDS, SourceSpec, load_sources, lookup_all
from borderwatch.enrich.geo.sources import CompiledSource, GeoSource, IptoccSource
from borderwatch.enrich.signals import caller_signals
from borderwatch.errors import InputError, UsageError
from borderwatch.evaluate.spark_engine import start_session
from borderwatch.ingest.events import ProgressCallback
from borderwatch.ingest.state import STATE_FILE
from borderwatch.inventory.diff import diff_inventories
from borderwatch.inventory.locations import LocationRegistry
from borderwatch.inventory.stores import InventoryRead
from borderwatch.inventory.stores import read_inventory as _read_inventory
from borderwatch.model.findings import Finding, Severity
from borderwatch.model.inventory import Change, Store
from borderwatch.model.policy import Policy
from borderwatch.model.scan import ScanResult
from borderwatch.pipeline import ScanContext, ScanRequest, run_scan
from borderwatch.policy import load_policy as _load_policy
from borderwatch.registry import Registry, load_plugins
from borderwatch.report.outfolder import OutputFolder
from borderwatch.report.sarif import Where, to_sarif
from borderwatch.rules.base import Rule
from borderwatch.runtime.options import ScanOptions
from borderwatch.runtime.steps import StepStop

if TYPE_CHECKING:  # the AWS collector needs boto3, an optional dependency
    from borderwatch.collect.aws.runner import Collection

__all__ = [
    "EXPORT_KINDS",
    "CompiledSource",
    "GeoSource",
    "IptoccSource",
    "PlanCheck",
    "ProgressCallback",
    "Rule",
    "ScanOptions",
    "SourceSpec",
    "add_mapping",
    "aws_services",
    "check_output_folder",
    "check_plan",
    "collect_aws",
    "import_exports",
    "inventory_changes",
    "ip_data_spec",
    "load_classes_map",
    "load_ip_sources",
    "load_policy",
    "lookup_ips",
    "new_context",
    "plan_artifact_uri",
    "plugins",
    "read_inventory",
    "rendered_outputs",
    "rule",
    "rules",
    "scan",
    "unknown_locations",
    "write_outputs",
    "write_store_inventory",
]


def plugins() -> Registry:
    """A registry of every installed plug-in; the built-ins when no package metadata is
    installed (a source tree)."""
    return load_plugins(fallback=register_builtins)


def new_context(progress: ProgressCallback | None = None) -> ScanContext:
    """A scan context with every installed plug-in and the built-in reference data."""
    return ScanContext(
        registry=plugins(),
        locations=LocationRegistry.load_builtin(),
        progress=progress,
        stops=StepStop.from_environment(),  # test-only (runtime/steps.py); unset: none
    )


def add_mapping(context: ScanContext, mapping: str | Path) -> str:
    """Register a generic reader described by a mapping file; returns its format name."""
    from borderwatch.sources.generic import source_from_mapping_file

    source = source_from_mapping_file(Path(mapping))
    if source.name in context.registry.sources.names():
        raise UsageError(
            f"{mapping}: format name {source.name!r} is already taken; choose another 'name'"
        )
    context.registry.sources.add(source.name, source)
    return source.name


def ip_data_spec(text: str) -> SourceSpec:
    """`KIND:PATH` (as given to --ip-data) to a source spec, checking kind and path."""
    kind, sep, path = text.partition(":")
    if not sep or kind not in KINDS:
        raise UsageError(
            f"--ip-data {text!r}: write KIND:PATH with KIND one of {', '.join(sorted(KINDS))}"
        )
    if not Path(path).exists():
        raise UsageError(f"--ip-data {text!r}: {path} does not exist")
    return SourceSpec(kind, Path(path))


def load_policy(
    ref: str | Path, registry: Registry | None = None, locations: LocationRegistry | None = None
) -> Policy:
    """Load a policy file or built-in pack, checking exception rule ids against the rules
    and approved regions against the location registry (the built-in one by default)."""
    registry = registry or plugins()
    return _load_policy(
        ref,
        known_rules=set(registry.rules.names()),
        locations=locations or LocationRegistry.load_builtin(),
    )


def scan(
    *,
    policy: str | Path | Policy,
    inventory: Sequence[str | Path] = (),
    previous_inventory: Sequence[str | Path] = (),
    identities: Sequence[str | Path] = (),
    entities: Sequence[str | Path] = (),
    travel: Sequence[str | Path] = (),
    events: Sequence[str | Path] = (),
    out: str | Path | None = None,
    fail_on: Severity | str = Severity.HIGH,
    as_of: dt.date | None = None,
    event_format: str | None = None,
    ip_data: Sequence[SourceSpec] = (),
    incremental: bool = False,
    full: bool = False,
    exact_repeats: bool = False,
    exclude: Sequence[str] = (),
    context: ScanContext | None = None,
    coverage: bool = True,
    window: tuple[dt.date | None, dt.date | None] = (None, None),
    options: ScanOptions | None = None,
) -> ScanResult:
    """Scan the inputs against the policy; write every registered output when `out` is set.

    With `incremental`, `out/state.duckdb` keeps what this and earlier scans read, and
    only inputs no earlier scan read are read now; `full` starts that state afresh.
    With `exact_repeats`, an event read more than once (same event id) counts once
    (every access's id is kept: slower; not with `incremental`). `coverage=False` skips
    the coverage rules, for checks that read no logs by design (a Terraform plan).
    `window` (first day, last day; inclusive, either may be None) is the span coverage is
    judged over; by default the first to the last day with events.
    Files in the event inputs matching an `exclude` glob are skipped (and listed as
    such); `out` is never read as input. `options` tune how the scan runs, never what it
    finds (engine, workers, batch sizes, memory limit, readers' limits; docs/options.md);
    None: the defaults, with the readers' limits of the environment.
    """
    # Made first: a bad limit in the environment is refused before anything is read.
    options = options if options is not None else ScanOptions()
    if exact_repeats and incremental:
        raise UsageError(
            "--exact-repeats needs the id of every access, which the state of an "
            "incremental scan does not keep: use it on a full scan"
        )
    if window[0] and window[1] and window[0] > window[1]:
        raise UsageError(
            f"--from {window[0]} is after --to {window[1]}: give the earlier day first"
        )
    if out is not None:
        check_output_folder(Path(out))
    ctx = context or new_context()
    engine = ctx.registry.engines.get(options.engine)  # an unknown one is refused up front
    if incremental and not getattr(engine, "keeps_state", True):
        raise UsageError(
            f"--incremental keeps its state in a DuckDB file; the {options.engine} engine "
            "keeps none: scan in full, or use --engine duckdb (docs/spark.md)"
        )
    if not isinstance(policy, Policy):
        policy = load_policy(policy, ctx.registry, ctx.locations)
    if out is None:
        _state_path(out, incremental, full)  # refuses --incremental or --full without out
    request = ScanRequest(
        policy=policy,
        inventory=[Path(p) for p in inventory],
        previous_inventory=[Path(p) for p in previous_inventory],
        identities=[Path(p) for p in identities],
        entities=[Path(p) for p in entities],
        travel=[Path(p) for p in travel],
        events=list(events),
        fail_on=Severity(fail_on),
        as_of=as_of,
        event_format=event_format,
        ip_data=tuple(ip_data),
        exact_repeats=exact_repeats,
        coverage=coverage,
        window_from=window[0],
        window_to=window[1],
        exclude=tuple(exclude),
        out=Path(out) if out is not None else None,
        options=options,
    )
    if out is None:
        return run_scan(request, ctx)
    # One scan at a time per output folder, marked incomplete until its outputs are in
    # (report/outfolder.py).
    with OutputFolder(Path(out), ctx.stops) as folder:
        folder.mark_unfinished()
        state_path = _state_path(out, incremental, full)
        result = run_scan(replace(request, state_path=state_path), ctx)
        ctx.stops.reached("evaluated")
        folder.replace_outputs(rendered_outputs(result, ctx.registry))
    return result


def start_spark(master: str) -> None:
    """Start the Spark session the `spark` engine runs on (`master`: local[N], spark://,
    yarn, k8s://...); without it the engine uses the process's active session, or
    starts local[2]. A UsageError if pyspark is not installed."""
    start_session(master)


def check_output_folder(out: Path) -> None:
    """Refuse (UsageError) an output folder that cannot be written, before any input is read.

    A scan of hours must not end with "cannot write": the folder must be a folder (not a
    file), writable if it exists, and creatable (its nearest existing parent a writable
    folder) if not. Nothing is created here.
    """
    if out.exists():
        if not out.is_dir():
            raise UsageError(f"the output folder {out} is a file: give a folder with --out")
        try:
            with tempfile.TemporaryFile(dir=out):
                pass
        except OSError as exc:
            raise UsageError(
                f"the output folder {out} is not writable ({exc.strerror or exc}): "
                "give another folder with --out"
            ) from exc
        return
    parent = out.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise UsageError(
            f"the output folder {out} cannot be created: {parent} is a file, not a folder"
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(
            f"the output folder {out} cannot be created: {parent} is not writable; "
            "give another folder with --out"
        )


def _state_path(out: str | Path | None, incremental: bool, full: bool) -> Path | None:
    if not incremental:
        if full:
            raise UsageError("--full rebuilds the state of an incremental scan: add --incremental")
        return None
    if out is None:
        raise UsageError("an incremental scan keeps its state in the output folder: give --out")
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / STATE_FILE
    if full:
        path.unlink(missing_ok=True)
        Path(f"{path}.wal").unlink(missing_ok=True)
    return path


def rules(registry: Registry | None = None) -> list[Rule]:
    """The installed rules (built-in and plug-ins), in the order they were registered."""
    return list((registry or plugins()).rules)


def rule(rule_id: str, registry: Registry | None = None) -> Rule:
    """The rule `rule_id`, with its SQL and metadata as their files hold them; a
    UsageError naming the known ids if there is none."""
    return (registry or plugins()).rules.get(rule_id)


def rendered_outputs(result: ScanResult, registry: Registry) -> list[tuple[str, bytes]]:
    """Every registered reporter's output: (file name, content)."""
    return [(reporter.filename, reporter.render(result)) for reporter in registry.reporters]


def write_outputs(result: ScanResult, out: Path, registry: Registry) -> list[Path]:
    """Write one file per registered reporter into `out`, swapped in together.

    An interrupted run leaves the previous set of outputs or the new one; a kill while
    swapping leaves no summary.json and the folder marked incomplete (report/outfolder.py).
    """
    with OutputFolder(out) as folder:
        folder.mark_unfinished()
        return folder.replace_outputs(rendered_outputs(result, registry))


# What the commands need beyond a scan. The command line and borderwatch.commands reach
# inventories, exports, collectors and IP data only through these functions (an
# import-linter contract, docs/architecture.md), so each stage can change behind them.


def read_inventory(path: Path) -> InventoryRead:
    """The stores of one inventory file, and its rows that could not be read."""
    return _read_inventory(path)


def inventory_changes(previous: Sequence[Store], current: Sequence[Store]) -> list[Change]:
    """What changed from `previous` to `current` stores, places resolved through the
    built-in location registry (inventory/diff.py)."""
    return diff_inventories(previous, current, LocationRegistry.load_builtin())


def unknown_locations(stores: Sequence[Store]) -> dict[str, int]:
    """How many stores sit in each region (as written) whose location cannot be
    established: no region, or one the location registry does not know."""
    registry = LocationRegistry.load_builtin()
    unknown: dict[str, int] = {}
    for store in stores:
        if not store.region or registry.resolve(store.provider, store.region).kind == "unknown":
            where = store.region or "(none)"
            unknown[where] = unknown.get(where, 0) + 1
    return unknown


def load_classes_map(path: Path) -> ClassesMap:
    """A --classes-map file: data classes by glob over store ids and names."""
    return ClassesMap.load(path)


def write_store_inventory(stores: Sequence[Store], path: Path) -> None:
    """Write stores as an inventory YAML file a scan reads."""
    write_inventory(stores, path)


# Export kind (as given to `inventory import`) -> reader of one file.
_EXPORT_READERS: dict[str, Callable[[Path, str | None], ExportResult]] = {
    "gcp-cai": lambda path, region: read_cai(path),
    "azure-arm": lambda path, region: read_arm(path),
    "oci-search": lambda path, region: read_oci(path, region=region),
}
EXPORT_KINDS = tuple(_EXPORT_READERS)


def import_exports(
    kind: str,
    files: Sequence[Path],
    *,
    region: str | None = None,
    classes_map: ClassesMap | None = None,
) -> tuple[ExportResult, list[InputError]]:
    """Stores of all `files` (relinked across files, deduplicated) and the unreadable files."""
    try:
        reader = _EXPORT_READERS[kind]
    except KeyError:
        raise ValueError(f"unknown export kind {kind!r}") from None
    merged = ExportResult()
    errors: list[InputError] = []
    for path in files:
        try:
            part = reader(path, region)
        except InputError as exc:
            errors.append(exc)
            continue
        merged.extend(part)
    stores = dedupe(merged.stores, merged.problems)
    if classes_map is not None:
        stores = classes_map.apply(stores)
    merged.stores = relink(stores)
    return merged, errors


def aws_services() -> list[str]:
    """The services the AWS collector knows; ImportError when boto3 is not installed."""
    from borderwatch.collect.aws.clients import Boto3Clients  # noqa: F401
    from borderwatch.collect.aws.runner import SERVICES
    from borderwatch.collect.writer import write_inventory as write_collection  # noqa: F401

    return list(SERVICES)


def collect_aws(
    out: Path,
    *,
    regions: Sequence[str] = (),
    services: Sequence[str] = (),
    profile: str | None = None,
    endpoint_url: str | None = None,
    history: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[Collection, list[Path]]:
    """Collect the data stores of an AWS account and write them as an inventory to `out`
    (and a timestamped copy into `history`); returns the collection and the files written."""
    from borderwatch.collect.aws.clients import Boto3Clients
    from borderwatch.collect.aws.runner import collect_aws as collect
    from borderwatch.collect.writer import write_inventory as write_collection

    clients = Boto3Clients(profile=profile, endpoint_url=endpoint_url)
    collection = collect(clients, regions=regions, services=services, progress=progress)
    return collection, write_collection(collection, out, history)


def load_ip_sources(
    specs: Sequence[SourceSpec], cache_dir: Path | None = None, *, with_default: bool = True
) -> list[GeoSource]:
    """Compile (or read from the cache) each IP data source, plus the embedded one if asked."""
    return load_sources(specs, cache_dir, with_default=with_default)


def lookup_ips(
    values: Sequence[str], sources: Sequence[GeoSource]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every source's answer for each value, and the caller signals a scan would derive."""
    registry = LocationRegistry.load_builtin()
    answers = lookup_all(list(values), sources, registry).to_pylist()
    signals = caller_signals(pa.array(list(values), pa.string()), sources, registry).to_pylist()
    return answers, signals


@dataclass(frozen=True)
class PlanCheck:
    """A parsed Terraform plan, the scan of its stores, and the SARIF log of the findings."""

    plan: PlanResult
    result: ScanResult
    sarif: dict[str, object]

    @property
    def exit_code(self) -> int:
        return 1 if self.result.failing() else 0


def plan_artifact_uri(path: Path) -> str:
    """A SARIF URI for the plan: relative to the working directory when inside it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.resolve().as_uri()


def check_plan(
    plan_path: Path,
    *,
    policy: str | Path,
    classes_map: Path | None = None,
    fail_on: Severity | str = Severity.HIGH,
    only_changes: bool = False,
) -> PlanCheck:
    """Parse the plan, scan its stores against the policy, and build the SARIF log."""
    plan = read_plan(plan_path, only_changes=only_changes)
    stores = plan.stores
    if classes_map is not None:
        stores = ClassesMap.load(classes_map).apply(stores)
        plan.stores = stores
    with tempfile.TemporaryDirectory(prefix="borderwatch-plan-") as folder:
        inventory = Path(folder) / "planned-stores.yaml"
        write_inventory(stores, inventory)
        # A plan has no logs: what a scan of the deployed estate could not see is not
        # the plan's business (no coverage rules).
        result = scan(
            policy=policy, inventory=[inventory], out=None, fail_on=fail_on, coverage=False
        )
    uri = plan_artifact_uri(plan_path)

    def locate(finding: Finding) -> Where:
        address = (finding.resource or "").split("#", 1)[0] or None
        return Where(uri=uri, logical=address)

    sarif = to_sarif(
        result.findings,
        artifact_uri=uri,
        locate=locate,
        rules=result.rules,
        properties={
            "policy": result.policy_name,
            "policyVersion": result.policy_version,
            "terraformVersion": plan.terraform_version,
            "verdict": result.verdict,
        },
    )
    return PlanCheck(plan, result, sarif)
