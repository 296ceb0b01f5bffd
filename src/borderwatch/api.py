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

from borderwatch import __version__
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
from borderwatch.evidence import ledger as _ledger
from borderwatch.evidence.history import record_run
from borderwatch.evidence.history_board import board_report
from borderwatch.evidence.history_store import open_history
from borderwatch.evidence.ledger_verify import LedgerReport
from borderwatch.evidence.ledger_verify import verify_ledger as _verify_ledger
from borderwatch.evidence.signing import (
    SigningKey,
    load_public_key,
    load_signing_key,
    new_key,
    write_key_pair,
)
from borderwatch.ingest.cloudtrail_digest import DigestCheck, check_digests, digest_files
from borderwatch.ingest.events import ProgressCallback
from borderwatch.ingest.state import STATE_FILE
from borderwatch.inventory.diff import diff_inventories
from borderwatch.inventory.dsse import load_private_key, public_pem
from borderwatch.inventory.locations import LocationRegistry
from borderwatch.inventory.reviewsign import (
    file_digest,
    given_subject,
    private_pem,
    review_statement,
    sign_statement,
)
from borderwatch.inventory.reviewsign import new_key as new_review_key
from borderwatch.inventory.stores import InventoryRead
from borderwatch.inventory.stores import read_inventory as _read_inventory
from borderwatch.model.board import BoardReport
from borderwatch.model.findings import Finding, Severity
from borderwatch.model.inventory import Change, Store
from borderwatch.model.oversight import key_id as oversight_key_id
from borderwatch.model.policy import Policy
from borderwatch.model.scan import ScanResult
from borderwatch.pipeline import ScanContext, ScanRequest, run_scan
from borderwatch.policy import load_policy as _load_policy
from borderwatch.registry import Registry, load_plugins
from borderwatch.report.base import check_ready, output_names, parse_outputs, select_reporters
from borderwatch.report.board import render_board
from borderwatch.report.board_pdf import write_pdf
from borderwatch.report.outfolder import OutputFolder
from borderwatch.report.sarif import Where, to_sarif
from borderwatch.rules.base import Rule
from borderwatch.runtime.options import ScanOptions
from borderwatch.runtime.steps import StepStop
from borderwatch.sources.base import Source

if TYPE_CHECKING:  # the AWS collector needs boto3, an optional dependency
    from borderwatch.collect.aws.runner import Collection

__all__ = [
    "EXPORT_KINDS",
    "CompiledSource",
    "DigestCheck",
    "GeoSource",
    "IptoccSource",
    "LedgerReport",
    "PlanCheck",
    "ProgressCallback",
    "Rule",
    "ScanOptions",
    "SourceSpec",
    "add_mapping",
    "aws_services",
    "board",
    "check_history",
    "check_output_folder",
    "check_plan",
    "collect_aws",
    "import_exports",
    "inventory_changes",
    "ip_data_spec",
    "keygen",
    "load_classes_map",
    "load_ip_sources",
    "load_policy",
    "lookup_ips",
    "new_context",
    "outputs_from_text",
    "outputs_known",
    "plan_artifact_uri",
    "plugins",
    "read_inventory",
    "rendered_outputs",
    "review_envelope",
    "reviewer_key",
    "rule",
    "rules",
    "scan",
    "unknown_locations",
    "verify_cloudtrail",
    "verify_ledger",
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


def _feed_source(feed: Sequence[str | Path], mapping: str | Path | None) -> Source | None:
    """The reader of the served-recommendation logs, from their mapping file."""
    from borderwatch.sources.feed import load_feed_mapping

    if mapping is None:
        if feed:
            raise UsageError(
                "--feed needs --feed-mapping: the mapping file saying which column holds "
                "the time, item, attributes and intervention (docs/oversight.md)"
            )
        return None
    return load_feed_mapping(Path(mapping))


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
    iam: Sequence[str | Path] = (),
    dsp_volumes: Sequence[str | Path] = (),
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
    attestations: Sequence[str | Path] = (),
    deployments: Sequence[str | Path] = (),
    model_stores: Sequence[str | Path] = (),
    feed: Sequence[str | Path] = (),
    feed_mapping: str | Path | None = None,
    outputs: Sequence[str] | None = None,
    ledger: str | Path | None = None,
    sign_key: str | Path | None = None,
    cloudtrail_digests: str | Path | None = None,
    public_keys: str | Path | None = None,
    newest_signatures: Sequence[str] = (),
    history: str | Path | None = None,
) -> ScanResult:
    """Scan the inputs against the policy; write every registered output when `out` is set.

    With `history` (a folder), the run is compared with the earlier runs recorded there
    (ScanResult.history: new, open, resolved, reopened findings; exceptions expiring) and
    recorded once its outputs are written (docs/board.md, History).

    With `incremental`, `out/state.duckdb` keeps what this and earlier scans read, and
    only inputs no earlier scan read are read now; `full` starts that state afresh.
    With `exact_repeats`, an event read more than once (same event id) counts once
    (every access's id is kept: slower; not with `incremental`). `coverage=False` skips
    the coverage rules, for checks that read no logs by design (a Terraform plan).
    `window` (first day, last day; inclusive, either may be None) is the span coverage is
    judged over; by default the first to the last day with events. `iam`: AWS IAM
    authorization details and bucket policies, for who can read DSP stores (docs/dsp.md).
    `dsp_volumes`: subject-count files (store_id, category, subjects) beside the
    inventory's dsp_subjects column (docs/dsp.md).
    Files in the event inputs matching an `exclude` glob are skipped (and listed as
    such); `out` is never read as input. `options` tune how the scan runs, never what it
    finds (engine, workers, batch sizes, memory limit, readers' limits; docs/options.md);
    None: the defaults, with the readers' limits of the environment.
    Algorithm oversight (docs/oversight.md): `attestations` are signed review statements,
    `deployments` Kubernetes audit logs or manifests, `model_stores` folders or
    s3://bucket/prefix locations.
    `feed` (files, folders, globs) are served-recommendation logs read through the feed
    mapping file `feed_mapping` for the policy's feed audit (docs/oversight.md).
    `outputs` names the output formats to write (`json`, `sarif`, `html`, `csv`, `ocsf`,
    `oscal`, `junit`, or a plug-in's; None: the default set; docs/outputs.md); an unknown
    name, or a format whose extra is not installed, is refused before anything is read.
    With `ledger` (a folder), the run is recorded in its evidence ledger, signed with the
    Ed25519 key in the PEM file `sign_key` if given (docs/evidence.md); with `history` and
    `out` but no `ledger`, the ledger is kept in the history folder.
    `cloudtrail_digests` (a folder of CloudTrail digest and log files) with `public_keys`
    (what `aws cloudtrail list-public-keys` prints) checks log-file integrity offline
    into integrity.* findings; `newest_signatures` are the newest digests' signatures.
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
    if ledger is None and history is not None and out is not None:
        # The history's figures and the ledger that proves them live in one folder: the
        # board report shows the head of DIR/ledger.jsonl (docs/board.md, docs/evidence.md).
        ledger = history
    signing = _ledger_key(ledger, sign_key, out)
    if (cloudtrail_digests is None) != (public_keys is None):
        raise UsageError("--cloudtrail-digests and --public-keys go together: give both")
    if history is not None:
        check_history(Path(history))  # a damaged or foreign history: refused before reading
    ctx = context or new_context()
    engine = ctx.registry.engines.get(options.engine)  # an unknown one is refused up front
    if incremental and not getattr(engine, "keeps_state", True):
        raise UsageError(
            f"--incremental keeps its state in a DuckDB file; the {options.engine} engine "
            "keeps none: scan in full, or use --engine duckdb (docs/spark.md)"
        )
    check_ready(select_reporters(ctx.registry.reporters, outputs))  # so is an output
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
        iam=[Path(p) for p in iam],
        dsp_volumes=[Path(p) for p in dsp_volumes],
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
        attestations=[Path(p) for p in attestations],
        deployments=[Path(p) for p in deployments],
        model_stores=[str(p) for p in model_stores],
        feed=list(feed),
        feed_source=_feed_source(feed, feed_mapping),
        cloudtrail_digests=Path(cloudtrail_digests) if cloudtrail_digests is not None else None,
        public_keys=Path(public_keys) if public_keys is not None else None,
        newest_signatures=tuple(newest_signatures),
        history=Path(history) if history is not None else None,
    )
    if out is None:
        result = run_scan(request, ctx)
        if history is not None:
            record_run(Path(history), result)
        return result
    # One scan at a time per output folder, marked incomplete until its outputs are in
    # (report/outfolder.py).
    with OutputFolder(Path(out), ctx.stops) as folder:
        folder.mark_unfinished()
        state_path = _state_path(out, incremental, full)
        result = run_scan(replace(request, state_path=state_path), ctx)
        ctx.stops.reached("evaluated")
        # Files of formats not written this time are removed, so none of an earlier scan
        # passes for this one's; with a ledger they stay: it names the run that wrote
        # each, and verify checks them against that run's record.
        written = folder.replace_outputs(
            rendered_outputs(result, ctx.registry, outputs),
            remove=unwritten_outputs(ctx.registry, outputs) if ledger is None else (),
        )
        if ledger is not None:
            _record_run(Path(ledger), result, written, policy.source, ip_data, signing, request)
    if history is not None:
        record_run(Path(history), result)  # only once its outputs (and ledger record) are in
    return result


def start_spark(master: str) -> None:
    """Start the Spark session the `spark` engine runs on (`master`: local[N], spark://,
    yarn, k8s://...); without it the engine uses the process's active session, or
    starts local[2]. A UsageError if pyspark is not installed."""
    start_session(master)


def _ledger_key(
    ledger: str | Path | None, sign_key: str | Path | None, out: str | Path | None
) -> SigningKey | None:
    """The signing key, checked with the ledger before anything is read."""
    if ledger is None:
        if sign_key is not None:
            raise UsageError(
                "--sign-key signs the evidence ledger: give --ledger DIR (or --history DIR)"
            )
        return None
    if out is None:
        raise UsageError("the ledger records the outputs of a scan: give --out")
    key = load_signing_key(Path(sign_key)) if sign_key is not None else None
    _ledger.prepare(Path(ledger), key)
    return key


def _record_run(
    folder: Path,
    result: ScanResult,
    written: Sequence[Path],
    policy_source: str,
    ip_data: Sequence[SourceSpec],
    key: SigningKey | None,
    request: ScanRequest,
) -> None:
    """Append the run's record to the ledger: the files as they ended in the output folder."""
    policy_file = None if policy_source.startswith("builtin:") else policy_source
    extra = [
        ref for spec in ip_data for ref in _ledger.refs_under(spec.path, f"ip-data:{spec.kind}")
    ]
    if request.cloudtrail_digests is not None and request.public_keys is not None:
        extra += [
            _ledger.FileRef(str(path), "cloudtrail-digest")
            for path in digest_files(request.cloudtrail_digests)
        ]
        extra.append(_ledger.FileRef(str(request.public_keys), "cloudtrail-public-keys"))
    facts = _ledger.run_facts(result, __version__, written, policy_file, extra)
    _ledger.append_run(folder, facts, key)


def verify_cloudtrail(
    folder: Path, public_keys: Path, newest_signatures: Sequence[str] = ()
) -> DigestCheck:
    """Check CloudTrail digests and the log files they name, offline
    (ingest/cloudtrail_digest.py)."""
    return check_digests(folder, public_keys, newest_signatures)


def keygen(out: Path, *, force: bool = False) -> tuple[Path, Path]:
    """Write a new Ed25519 key: the private key to `out` (PEM, mode 0600), the public key
    to `out.pub`; refuses to overwrite either unless `force`."""
    return write_key_pair(new_key(), out, force=force)


def verify_ledger(folder: Path, key: Path | None = None, head: str | None = None) -> LedgerReport:
    """Verify the evidence ledger in `folder` offline (evidence/ledger_verify.py), with the
    public key file `key` when given; `head` the hash the last record must have."""
    return _verify_ledger(folder, load_public_key(key) if key is not None else None, head)


def check_history(folder: Path) -> None:
    """Refuse (InputError, UsageError) a history folder that cannot be read or extended:
    a file, a damaged history file, one of another format, one missing beside its ledger."""
    connection = open_history(folder, write=False)
    if connection is not None:
        connection.close()


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


def rendered_outputs(
    result: ScanResult, registry: Registry, outputs: Sequence[str] | None = None
) -> list[tuple[str, bytes]]:
    """The output of every reporter `outputs` chooses (None: the default set):
    (file name, content)."""
    chosen = select_reporters(registry.reporters, outputs)
    return [(reporter.filename, reporter.render(result)) for reporter in chosen]


def unwritten_outputs(registry: Registry, outputs: Sequence[str] | None) -> list[str]:
    """The file names of the format reporters `outputs` does not choose: an earlier
    scan's files of those formats are removed, never left beside this scan's outputs.

    Only reporters that declare an `output` (a format `--outputs` chooses) count: a
    plug-in's file that is not such a format (a record kept across scans) is never
    removed for not being chosen.
    """
    chosen = {reporter.filename for reporter in select_reporters(registry.reporters, outputs)}
    formats = [r for r in registry.reporters if getattr(r, "output", None)]
    return [r.filename for r in formats if r.filename not in chosen]


def outputs_known(registry: Registry | None = None) -> list[str]:
    """The names `scan --outputs` accepts, in registration order."""
    return output_names((registry or plugins()).reporters)


def outputs_from_text(text: str) -> tuple[str, ...]:
    """`--outputs json,sarif` as names (split at commas, blanks dropped)."""
    return parse_outputs(text)


def write_outputs(
    result: ScanResult, out: Path, registry: Registry, outputs: Sequence[str] | None = None
) -> list[Path]:
    """Write one file per chosen reporter into `out` (`outputs` as for `scan`), swapped
    in together.

    An interrupted run leaves the previous set of outputs or the new one; a kill while
    swapping leaves no summary.json and the folder marked incomplete (report/outfolder.py).
    """
    with OutputFolder(out) as folder:
        folder.mark_unfinished()
        return folder.replace_outputs(
            rendered_outputs(result, registry, outputs),
            remove=unwritten_outputs(registry, outputs),
        )


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


def reviewer_key(algorithm: str, password: bytes | None = None) -> tuple[bytes, str, str]:
    """A new reviewer key: (private key PEM, public key PEM, key id) for `borderwatch
    attest keygen`; algorithm 'ed25519' or 'ecdsa-p256'."""
    if algorithm not in ("ed25519", "ecdsa-p256"):
        raise UsageError(f"key algorithm {algorithm!r}: use ed25519 or ecdsa-p256")
    key = new_review_key("ed25519" if algorithm == "ed25519" else "ecdsa-p256")
    public = public_pem(key)
    return private_pem(key, password), public, oversight_key_id(public)


def review_envelope(
    *,
    key_pem: bytes,
    password: bytes | None,
    decision: str,
    reviewer: str,
    scope: str,
    date: dt.date,
    expires: dt.date,
    files: Sequence[Path] = (),
    root: Path | None = None,
    subjects: Sequence[str] = (),
) -> dict[str, object]:
    """A signed review (a DSSE envelope holding an in-toto Statement, docs/oversight.md).

    Each file's subject is its path below `root` (its file name without one) with the
    SHA-256 of its bytes; `subjects` are given as NAME@sha256:HEX. UsageError names any
    input that is wrong.
    """
    if decision not in ("approved", "rejected"):
        raise UsageError(f"decision {decision!r}: use approved or rejected")
    try:
        key = load_private_key(key_pem, password)
    except ValueError as exc:
        raise UsageError(f"the signing key cannot be used: {exc}") from None
    named: list[tuple[str, str]] = []
    for path in files:
        if not path.is_file():
            raise UsageError(f"{path}: not a file")
        if root is not None and not path.resolve().is_relative_to(root.resolve()):
            raise UsageError(f"{path} is not inside --root {root}")
        name = path.resolve().relative_to(root.resolve()).as_posix() if root else path.name
        named.append((name, file_digest(path)))
    for text in subjects:
        try:
            named.append(given_subject(text))
        except ValueError as exc:
            raise UsageError(f"--subject {exc}") from None
    try:
        statement = review_statement(
            named,
            decision="approved" if decision == "approved" else "rejected",
            reviewer=reviewer,
            scope=scope,
            date=date,
            expires=expires,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return sign_statement(statement, key)


@dataclass(frozen=True)
class BoardOutput:
    """A board report and the files it was written to (pdf: None with pdf=False)."""

    report: BoardReport
    html: Path
    pdf: Path | None


def board(
    history: str | Path,
    out: str | Path,
    *,
    period_from: dt.date | None = None,
    period_to: dt.date | None = None,
    pdf: bool = True,
) -> BoardOutput:
    """Write the board report of the history's runs in the period to `out` (HTML) and,
    with `pdf`, the same page as PDF beside it (`out` with the suffix .pdf)."""
    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"--out {out}: give the HTML file's name, ending in .html")
    if out.exists() and out.is_dir():
        raise UsageError(f"--out {out} is a folder: give a file name ending in .html")
    report = board_report(Path(history), period_from, period_to)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    partial.write_bytes(render_board(report))
    partial.replace(out)
    pdf_path = write_pdf(out, out.with_suffix(".pdf")) if pdf else None
    return BoardOutput(report, out, pdf_path)
