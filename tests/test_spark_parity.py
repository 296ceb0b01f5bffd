"""The same rules on Spark: every golden case and the demo give, on the Spark engine, the
findings.json the DuckDB engine gives, byte for byte (ids, counts, first and last seen,
evidence). The cases are discovered (tests/cases/*/expected.json), so a case added later
is checked on both engines without a change here.

One local[2] SparkSession serves the whole test session (the engine runs on the active
session); these tests skip only when pyspark is not installed (the `spark` extra, which
`.ci/run` installs).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from borderwatch import api
from borderwatch.cli import main
from borderwatch.demo.run import run_demo
from test_cases import CASES, REAL, _case_names, _scan_args

pytest.importorskip("pyspark", reason="pyspark is not installed: pip install '.[spark]'")

# Small inputs: one shuffle partition, no code generation (compiling costs more than it
# saves on a few thousand rows), modest memory.
SESSION_SETTINGS = {
    "spark.sql.shuffle.partitions": "1",
    "spark.sql.codegen.wholeStage": "false",
    "spark.driver.memory": "768m",
}
TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    from borderwatch.evaluate.spark_engine import start_session

    session = start_session("local[2]", SESSION_SETTINGS)
    yield session
    session.stop()


def _args(name: str, out: Path) -> tuple[list[str], int]:
    folder = CASES / name
    case = YAML(typ="safe").load((folder / "case.yaml").read_text())
    extra = [str(a).replace("{REAL}", str(REAL)) for a in case.get("args") or []]
    return _scan_args(folder, out) + extra, int(case["exit_code"])


def _findings(out: Path, folder: Path) -> str:
    return (
        (out / "findings.json")
        .read_text()
        .replace(str(out), "<OUT>")
        .replace(str(folder), "<CASE>")
    )


@pytest.mark.parametrize("name", _case_names())
def test_case_gives_the_same_findings_on_spark(name: str, tmp_path: Path, spark: Any) -> None:
    outputs = {}
    for engine in ("duckdb", "spark"):
        out = tmp_path / engine
        args, exit_code = _args(name, out)
        started = time.monotonic()
        result = CliRunner().invoke(main, [*args, "--engine", engine])
        TIMINGS[f"{name} on {engine}"] = time.monotonic() - started
        assert result.exit_code == exit_code, (engine, result.output[-2000:])
        outputs[engine] = _findings(out, CASES / name)
    # A case without findings (clean) still checks that Spark finds nothing either.
    assert json.loads(outputs["spark"]) == json.loads(outputs["duckdb"])
    assert outputs["spark"] == outputs["duckdb"]


def test_demo_gives_the_same_findings_on_spark(tmp_path: Path, spark: Any) -> None:
    # The demo exactly as `borderwatch demo` scans it (DSP bulk reads, oversight and the
    # feed included), once on each engine. It did not finish within ten minutes before
    # list(DISTINCT x) became collect_set (evaluate/spark_sql.py; bench/README.md).
    now = dt.datetime(2026, 12, 6, 4, 0, tzinfo=dt.UTC)
    outputs = {}
    for engine in ("duckdb", "spark"):
        out = tmp_path / engine
        outcome = run_demo(out, events=20000, now=now, options=api.ScanOptions(engine=engine))
        assert not outcome.missing and not outcome.unexpected, engine  # as planted
        outputs[engine] = (out / "findings.json").read_text().replace(str(out), "<OUT>")
    assert len(json.loads(outputs["duckdb"])) == 12  # the planted problems
    assert outputs["spark"] == outputs["duckdb"]


def test_incremental_on_spark_is_refused_with_exit_2(tmp_path: Path) -> None:
    args, _ = _args("clean", tmp_path / "out")
    result = CliRunner().invoke(main, [*args, "--engine", "spark", "--incremental"])
    assert result.exit_code == 2
    assert "--incremental" in result.output and "duckdb" in result.output
