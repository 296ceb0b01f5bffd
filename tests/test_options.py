"""Scan options flow from api.scan to the engine, ingest, the worker processes and the
readers; the engine is the registry's; bad options are refused up front."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner

from borderwatch import api
from borderwatch.cli import main
from borderwatch.errors import UsageError
from borderwatch.evaluate.duckdb_engine import DuckDBEngine
from borderwatch.pipeline import ScanContext
from borderwatch.runtime.options import ScanOptions
from policykit import us_data_policy

SRC = Path(__file__).resolve().parents[1] / "src" / "borderwatch"
INVENTORY = "store_id,provider,region,service,data_classes,records,copy_of\n"
INVENTORY += "user-media,aws,us-east-1,s3,us_user_data,10,\n"
CALLERS = [("mei", "36.96.1.1"), ("ana", "3.5.140.2"), ("li", "36.96.1.9")]


def _trail(day: int, pad: int = 0) -> str:
    records = [
        {
            "eventVersion": "1.08",
            "userIdentity": {"type": "IAMUser", "arn": f"arn:aws:iam::1:user/{user}"},
            "eventTime": f"2026-03-{day:02d}T10:{i:02d}:00Z",
            "eventID": f"{day}-{i}",
            "eventSource": "s3.amazonaws.com",
            "eventName": "GetObject",
            "sourceIPAddress": ip,
            "requestParameters": {"bucketName": "user-media", "key": "k" * pad},
        }
        for i, (user, ip) in enumerate(CALLERS)
    ]
    return "\n".join(json.dumps(record) for record in records) + "\n"


@pytest.fixture
def company(tmp_path: Path) -> Path:
    """A policy, an inventory with one protected bucket, and six days of logs."""
    (tmp_path / "policy.yaml").write_text(us_data_policy("options"))
    (tmp_path / "stores.csv").write_text(INVENTORY)
    logs = tmp_path / "logs"
    logs.mkdir()
    for day in range(1, 7):
        (logs / f"day{day}.jsonl").write_text(_trail(day))
    return tmp_path


def _scan(
    root: Path,
    out: str,
    options: ScanOptions | None = None,
    context: ScanContext | None = None,
    **extra: object,
) -> str:
    api.scan(
        policy=root / "policy.yaml",
        inventory=[root / "stores.csv"],
        events=[root / "logs"],
        out=root / out,
        options=options,
        context=context,
        **extra,  # type: ignore[arg-type]
    )
    return (root / out / "findings.json").read_text().replace(str(root / out), "<OUT>")


def test_options_reach_the_worker_processes(company: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One file per task and every merged digest handed over: each worker task spills
    its digest to a file of its own, which the main process reads back."""
    from borderwatch.ingest import workers

    read: list[str] = []
    original = workers.read_spill

    def watched(path: str) -> Iterator[pa.Table]:
        read.append(path)
        yield from original(path)

    monkeypatch.setattr(workers, "read_spill", watched)
    default = _scan(company, "default")
    assert read == []  # six small files: read serially, nothing spilled
    options = ScanOptions(workers=2, task_files=1, append_rows=1, worker_hand_over_rows=1)
    tuned = _scan(company, "tuned", options)
    digests = [path for path in read if path]
    # Six tasks of one file, each handing over its digest and its sampled ids.
    assert len(set(digests)) == len(digests) >= 6
    assert tuned == default  # tuning changes how, never what


@pytest.mark.parametrize("workers", [1, 2])
def test_the_record_limit_of_the_options_reaches_the_readers(company: Path, workers: int) -> None:
    """A file larger than the options' document limit is read line by line, and a line
    longer than their record limit is quarantined, read serially or by the worker
    processes, though the defaults (and the environment) would allow both."""
    (company / "logs" / "day7.jsonl").write_text(_trail(7, pad=(1 << 20) + 10))
    _scan(company, "default")
    assert _read(company / "default") == (21, [])
    options = ScanOptions(workers=workers, record_limit_bytes=1 << 20, document_limit_bytes=1 << 20)
    _scan(company, "limited", options)
    accepted, quarantined = _read(company / "limited")
    assert accepted == 18 and len(quarantined) == 3
    for line in quarantined:
        assert "day7.jsonl" in line
        assert "longer than the record limit of 1,048,576 bytes" in line


def _read(out: Path) -> tuple[int, list[str]]:
    """Events accepted by a scan, and its quarantine's lines."""
    summary = json.loads((out / "summary.json").read_text())
    return summary["events_total"], (out / "quarantine.jsonl").read_text().splitlines()


def _recording(opened: list[str], ran: list[str]) -> type[DuckDBEngine]:
    """An engine class: DuckDB, telling `opened` every database it opens and `ran` every
    rule's SQL it runs."""

    class Recording(DuckDBEngine):
        def __init__(self, database: str | Path = ":memory:") -> None:
            super().__init__(database)
            opened.append(str(database))

        def run(self, sql: str) -> pa.Table:
            ran.append(sql)
            return super().run(sql)

    return Recording


def test_the_pipeline_uses_the_engine_the_registry_gives(company: Path) -> None:
    default = _scan(company, "default")
    context = api.new_context()
    opened: list[str] = []
    ran: list[str] = []
    context.registry.engines.add("recording", _recording(opened, ran))
    recorded = _scan(company, "recorded", ScanOptions(engine="recording"), context)
    assert recorded == default
    assert opened == [":memory:"]
    assert ran == [rule.sql for rule in context.registry.rules]
    # An incremental scan opens the registry's engine on its state file.
    opened.clear()
    _scan(company, "daily", ScanOptions(engine="recording"), context, incremental=True)
    assert opened == [str(company / "daily" / "state.duckdb")]


def test_an_unknown_engine_is_refused_before_anything_is_read(company: Path) -> None:
    with pytest.raises(UsageError, match="unknown engine 'nosuch'; known: duckdb, spark"):
        _scan(company, "out", ScanOptions(engine="nosuch"))
    assert not (company / "out").exists()
    args = ["scan", "--policy", str(company / "policy.yaml"), "--events", str(company / "logs")]
    result = CliRunner().invoke(main, [*args, "--out", str(company / "cli"), "--tune", "engine=x"])
    assert result.exit_code == 2
    assert "unknown engine 'x'; known: duckdb, spark" in result.output
    assert not (company / "cli" / "summary.json").exists()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"workers": 0}, "option workers=0: give a whole number, 1 or more"),
        ({"task_files": -3}, "option task_files=-3"),
        ({"append_rows": True}, "option append_rows=True"),
        ({"digest_events": 2.5}, "option digest_events=2.5"),
        ({"memory_limit": "512"}, "such as '512MB'"),
        ({"memory_limit": "lots"}, "option memory_limit='lots'"),
        ({"memory_limit": "1MB"}, "give at least 16MB"),
        ({"memory_limit": "150%"}, "from 1% to 100%"),
        ({"record_limit_bytes": 65536}, "option record_limit_bytes=65536"),
        ({"engine": " "}, "give the name of an engine"),
    ],
)
def test_bad_options_are_usage_errors_that_name_the_option(
    values: dict[str, object], message: str
) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace("%", "%")):
        ScanOptions(**values)  # type: ignore[arg-type]


def test_good_memory_limits_pass_and_the_defaults_are_todays() -> None:
    for limit in ("512MB", "2GiB", "1.5 GB", "50%", "300mb"):
        assert ScanOptions(memory_limit=limit).memory_limit == limit
    options = ScanOptions()
    assert (options.workers, options.parallel_min_bytes, options.parallel_min_files) == (
        None,
        16 << 20,
        256,
    )
    assert (options.task_bytes, options.task_files, options.tasks_ahead_per_worker) == (
        4 << 20,
        64,
        3,
    )
    assert (options.digest_events, options.append_rows, options.worker_hand_over_rows) == (
        65_536,
        262_144,
        32_768,
    )
    assert (options.bounded_min_bytes, options.memory_limit, options.engine) == (
        64 << 20,
        "512MB",
        "duckdb",
    )
    assert (options.record_limit_bytes, options.document_limit_bytes) == (4 << 20, 256 << 20)


def test_the_environment_limits_are_the_defaults_and_checked_when_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BORDERWATCH_MAX_RECORD_BYTES", str(8 << 20))
    monkeypatch.setenv("BORDERWATCH_MAX_DOCUMENT_BYTES", str(1 << 30))
    options = ScanOptions()
    assert (options.record_limit_bytes, options.document_limit_bytes) == (8 << 20, 1 << 30)
    assert ScanOptions(record_limit_bytes=2 << 20).record_limit_bytes == 2 << 20
    monkeypatch.setenv("BORDERWATCH_MAX_DOCUMENT_BYTES", "big")
    with pytest.raises(UsageError, match="BORDERWATCH_MAX_DOCUMENT_BYTES='big'"):
        ScanOptions()


def test_tune_settings_become_options_or_say_what_is_wrong() -> None:
    options = ScanOptions.from_settings(["workers=3", "memory-limit=1GiB", "task_files = 8"])
    assert (options.workers, options.memory_limit, options.task_files) == (3, "1GiB", 8)
    assert ScanOptions.from_settings(["workers=auto"]).workers is None
    with pytest.raises(UsageError, match="NAME one of engine, workers, "):
        ScanOptions.from_settings(["threads=4"])
    with pytest.raises(UsageError, match="NAME=VALUE"):
        ScanOptions.from_settings(["workers"])
    with pytest.raises(UsageError, match="task_files takes a whole number"):
        ScanOptions.from_settings(["task_files=many"])


def test_a_bad_tune_exits_2_before_reading(company: Path) -> None:
    args = ["scan", "--policy", str(company / "policy.yaml"), "--events", str(company / "logs")]
    out = company / "out"
    result = CliRunner().invoke(main, [*args, "--out", str(out), "--tune", "append_rows=0"])
    assert result.exit_code == 2
    assert "option append_rows=0: give a whole number, 1 or more" in result.output
    assert not (out / "summary.json").exists()


def _imported(module: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_ingest_and_enrich_see_the_engine_only_as_a_table_store() -> None:
    """The stages before evaluation never import it (nor construct its engine)."""
    for room in ("ingest", "enrich"):
        for module in sorted((SRC / room).rglob("*.py")):
            evaluate = {m for m in _imported(module) if m.startswith("borderwatch.evaluate")}
            assert not evaluate, f"{module.relative_to(SRC)} imports {evaluate}"
