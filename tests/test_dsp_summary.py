"""The DSP counts reach summary.json (ScanResult.dsp_counts): the counterparties under a
threshold were counted, not missed (the golden case dsp-subjects has no finding for them)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from borderwatch.cli import main

CASE = Path(__file__).parent / "cases" / "dsp-subjects"


def test_summary_holds_every_counterpartys_count(tmp_path: Path) -> None:
    args = ["scan", "--policy", str(CASE / "policy.yaml"), "--quiet", "--out", str(tmp_path)]
    for flag, name in (
        ("--inventory", "inventory.csv"),
        ("--identities", "identities.csv"),
        ("--entities", "entities.csv"),
        ("--events", "events"),
    ):
        args += [flag, str(CASE / name)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    counts = {
        (c["counterparty"], c["category"]): c
        for c in json.loads((tmp_path / "summary.json").read_text())["dsp_counts"]
    }
    seen = {key: (c["verdict"], c["peak_count"]) for key, c in counts.items()}
    assert seen[("entity:lab-c", "human_genomic")] == ("below", 99)
    assert seen[("entity:lab-d", "human_genomic")] == ("below", 100)
    assert seen[("entity:lab-e", "human_genomic")] == ("reached", 101)
    # The window edge: 60 on day 1 and 41 on day 366 are never in one window.
    assert seen[("entity:hk-lab", "human_genomic")] == ("below", 60)
    edge = counts[("entity:us-sub", "human_genomic")]
    assert (edge["window_from"], edge["window_to"], edge["distinct_count"]) == (
        "2025-01-01",
        "2025-12-31",
        101,
    )
    assert seen[("entity:lab-u", "human_genomic")] == ("unknown", 0)
