"""The project's own checks: lint, types, and rule documentation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from borderwatch.registry import load_plugins

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_ruff_is_clean() -> None:
    folders = [name for name in ("src", "tests", "bench") if (ROOT / name).is_dir()]
    result = _run("ruff", "check", *folders)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean() -> None:
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_rule_is_documented() -> None:
    docs = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    for rule in load_plugins().rules:
        assert f"## {rule.id} ({rule.severity.value})" in docs, rule.id
