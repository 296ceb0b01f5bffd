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
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from borderwatch.enrich.geo import KINDS, SourceSpec
from borderwatch.errors import UsageError
from borderwatch.ingest.events import ProgressCallback
from borderwatch.ingest.state import STATE_FILE
from borderwatch.inventory.locations import LocationRegistry
from borderwatch.model.findings import Severity
from borderwatch.model.policy import Policy
from borderwatch.model.scan import ScanResult
from borderwatch.pipeline import ScanContext, ScanRequest, run_scan
from borderwatch.policy import load_policy as _load_policy
from borderwatch.registry import Registry, load_plugins
from borderwatch.report.outfolder import OutputFolder
from borderwatch.runtime.options import ScanOptions
from borderwatch.runtime.steps import StepStop

__all__ = [
    "ScanOptions",
    "add_mapping",
    "check_output_folder",
    "ip_data_spec",
    "load_policy",
    "new_context",
    "rendered_outputs",
    "scan",
    "write_outputs",
]


def new_context(progress: ProgressCallback | None = None) -> ScanContext:
    """A scan context with every installed plug-in and the built-in reference data."""
    return ScanContext(
        registry=load_plugins(),
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
    registry = registry or load_plugins()
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
    ctx.registry.engines.get(options.engine)  # an unknown engine is refused up front
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
