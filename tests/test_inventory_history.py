"""Inventory changes between snapshots, legacy progress, and the diff command."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from click.testing import CliRunner

from borderwatch.cli import main
from borderwatch.inventory.classes import apply_store_classes
from borderwatch.inventory.diff import diff_inventories
from borderwatch.inventory.locations import LocationRegistry
from borderwatch.inventory.snapshots import snapshot_date
from borderwatch.model.inventory import Store
from borderwatch.model.policy import StoreClasses

CASE = Path(__file__).parent / "cases" / "inventory-history"
REGISTRY = LocationRegistry.load_builtin()


def test_a_zone_is_not_a_move_but_a_new_region_is() -> None:
    old = [Store("a", "aws", "us-east-1"), Store("b", "aws", "us-east-1")]
    new = [Store("a", "aws", "us-east-1a"), Store("b", "aws", "eu-west-1")]
    changes = diff_inventories(old, new, REGISTRY)
    assert [(c.store_id, c.kind, c.after) for c in changes] == [
        ("b", "moved", "aws eu-west-1 (IE)")
    ]


def test_a_new_copy_is_reported_on_its_source_and_as_a_new_store() -> None:
    old = [Store("a", "aws", "us-east-1")]
    new = [*old, Store("a-dr", "aws", "ap-southeast-1", copy_of="a")]
    kinds = [(c.store_id, c.kind, c.detail) for c in diff_inventories(old, new, REGISTRY)]
    assert kinds == [("a", "gained-copy", "a-dr"), ("a-dr", "appeared", "")]


def test_policy_store_classes_only_add() -> None:
    stores = [Store("users-x", "aws", "us-east-1", data_classes=("other",)), Store("y", "aws", "")]
    rules = [StoreClasses(match="users-*", data_classes=("us_user_data",))]
    classified = apply_store_classes(stores, rules)
    assert classified[0].data_classes == ("other", "us_user_data")
    assert classified[1] is stores[1]


def test_snapshot_date_comes_from_collected_at() -> None:
    assert snapshot_date(CASE / "previous.yaml") == dt.date(2026, 5, 1)


def test_diff_command_prints_changes_as_json() -> None:
    result = CliRunner().invoke(
        main,
        ["inventory", "diff", str(CASE / "previous.yaml"), str(CASE / "inventory.yaml"), "--json"],
    )
    assert result.exit_code == 0, result.output
    kinds = {(c["store_id"], c["kind"]) for c in json.loads(result.output)}
    assert ("users-profiles", "moved") in kinds and ("metrics", "disappeared") in kinds


def test_scan_reports_legacy_progress_over_time(tmp_path: Path) -> None:
    out = tmp_path / "o"
    args = [
        "scan",
        "--policy",
        str(CASE / "policy.yaml"),
        "--inventory",
        str(CASE / "inventory.yaml"),
    ]
    args += ["--previous-inventory", str(CASE / "previous.yaml"), "--as-of", "2026-08-01"]
    result = CliRunner().invoke(main, [*args, "--out", str(out), "--quiet"])
    assert result.exit_code == 1, result.output
    summary = json.loads((out / "summary.json").read_text())
    progress = {p["name"]: p for p in summary["legacy_progress"]}
    assert [(p["day"], p["records"]) for p in progress["singapore-dc1"]["points"]] == [
        ("2026-05-01", 9000),
        ("2026-08-01", 1200),
    ]
    html = (out / "report.html").read_text()
    assert "Migration out of legacy locations" in html and "overdue" in html
