"""The layering of docs/architecture.md, enforced: import-linter's contracts in pyproject.toml.

The first test runs the contracts over borderwatch itself. The others prove that the
contracts can fail: they copy every contract onto a small fixture package that has the
same rooms, whose imports keep every contract, then add one forbidden import at a time
and check that the contract it breaks says so and names that import.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = "bwfixture"
LINT_IMPORTS = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"


def _contracts() -> list[dict[str, Any]]:
    with (ROOT / "pyproject.toml").open("rb") as file:
        return list(tomllib.load(file)["tool"]["importlinter"]["contracts"])


def _names() -> dict[str, str]:
    return {contract["id"]: contract["name"] for contract in _contracts()}


def _lint(cwd: Path, pythonpath: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` on the pyproject.toml in `cwd`; no cache written anywhere."""
    env = {**os.environ, "PYTHONPATH": str(pythonpath), "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _status(output: str, name: str) -> str | None:
    """KEPT or BROKEN, as the report gives it for the contract called `name`."""
    found = re.search(rf"^{re.escape(name)} (KEPT|BROKEN)", output, re.MULTILINE)
    return found.group(1) if found else None


def test_the_layering_contracts_hold_for_borderwatch() -> None:
    result = _lint(ROOT, ROOT / "src")
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    for name in _names().values():
        assert _status(report, name) == "KEPT", report


def test_every_room_is_in_the_rooms_contract() -> None:
    """A new room (a folder or module under src/borderwatch) must be placed in the order."""
    rooms = next(c for c in _contracts() if c["id"] == "rooms")
    placed = {part.strip() for layer in rooms["layers"] for part in re.split(r"[:|]", layer)}
    package = ROOT / "src" / "borderwatch"
    present = {
        path.stem
        for path in package.iterdir()
        if (path.suffix == ".py" and path.stem != "__init__")
        or (path.is_dir() and (path / "__init__.py").exists())
    }
    assert present - placed == set(), "rooms without a place in the order"
    assert placed - present == set(), "the order names rooms that do not exist"


# A fixture package with borderwatch's rooms. Each room imports only what the contracts
# allow it to.
_CLEAN_IMPORTS: dict[str, tuple[str, ...]] = {
    "cli": ("api", "commands.run", "demo.run", "report.terminal", "errors", "model.scan"),
    "commands.run": ("api", "report.terminal", "model.scan"),
    "demo.run": ("api", "model.scan"),
    "api": ("pipeline", "builtin", "registry", "report.terminal", "policy.load"),
    "builtin": ("registry", "sources.okta", "rules.catalog", "report.terminal"),
    "pipeline": ("evidence.findings", "evaluate.views", "enrich.geo", "ingest.events"),
    "report.terminal": ("model.scan", "errors", "runtime.steps"),
    "evidence.findings": ("evaluate.views", "model.scan"),
    "evaluate.views": ("enrich.geo", "runtime.steps"),
    "evaluate.duckdb_engine": ("runtime.steps",),
    "enrich.geo": ("ingest.events", "inventory.diff"),
    "ingest.events": ("rules.catalog", "sources.okta", "registry"),
    "rules.catalog": ("collect.exports", "model.findings"),
    "collect.exports": ("inventory.diff",),
    "inventory.diff": ("sources.okta", "model.inventory"),
    "sources.okta": ("tables.rows",),
    "tables.rows": ("policy.load",),
    "policy.load": ("yamlbounds",),
    "yamlbounds": ("runtime.steps",),
    "runtime.steps": ("errors",),
    "registry": ("errors",),
    "errors": ("model.scan",),
    "model.scan": ("model.findings",),
    "model.findings": (),
    "model.inventory": (),
}


def _module_path(root: Path, module: str) -> Path:
    return root / FIXTURE / (module.replace(".", "/") + ".py")


def _fixture(tmp_path: Path, extra: tuple[str, str] | None = None) -> Path:
    """The fixture package and a pyproject.toml with borderwatch's contracts renamed to it;
    `extra` = (importer, imported) adds one import."""
    imports = {module: list(targets) for module, targets in _CLEAN_IMPORTS.items()}
    if extra is not None:
        imports.setdefault(extra[0], []).append(extra[1])
    for module, targets in imports.items():
        path = _module_path(tmp_path, module)
        path.parent.mkdir(parents=True, exist_ok=True)
        for folder in (path.parent, *path.parent.parents):
            if folder == tmp_path:
                break
            (folder / "__init__.py").touch()
        path.write_text("".join(f"import {FIXTURE}.{target}\n" for target in targets))
    lines = ["[tool.importlinter]", f'root_package = "{FIXTURE}"']
    for contract in _contracts():
        lines.append("[[tool.importlinter.contracts]]")
        for key, value in contract.items():
            renamed = json.loads(json.dumps(value).replace("borderwatch", FIXTURE))
            lines.append(f"{key} = {json.dumps(renamed)}")
    (tmp_path / "pyproject.toml").write_text("\n".join(lines) + "\n")
    return tmp_path


def test_the_fixture_keeps_every_contract(tmp_path: Path) -> None:
    root = _fixture(tmp_path)
    result = _lint(root, root)
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    for name in _names().values():
        assert _status(report, name) == "KEPT", report


@pytest.mark.parametrize(
    ("importer", "imported", "broken", "kept"),
    [
        # model/scan.py once imported inventory.diff (Change) and inventory.legacy.
        ("model.scan", "inventory.diff", "model-pure", "front-through-api"),
        # A stage importing a later one.
        ("enrich.geo", "evaluate.views", "rooms", "model-pure"),
        ("ingest.events", "report.terminal", "rooms", "front-through-api"),
        # The registry falling back to builtin.register: a circle through the plug-ins.
        ("registry", "builtin", "rooms", "model-pure"),
        # report/sarif.py once imported the rule catalogue; report/html.py evidence.
        ("report.terminal", "rules.catalog", "reporters-read-scanresult", "rooms"),
        ("report.terminal", "evidence.findings", "reporters-read-scanresult", "rooms"),
        ("report.terminal", "policy.load", "reporters-read-scanresult", "rooms"),
        # The CLI once imported ingest.events; the commands enrich.geo and collect.
        ("cli", "ingest.events", "front-through-api", "rooms"),
        ("commands.run", "enrich.geo", "front-through-api", "rooms"),
        ("commands.run", "collect.exports", "front-through-api", "model-pure"),
        ("demo.run", "pipeline", "front-through-api", "rooms"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    tmp_path: Path, importer: str, imported: str, broken: str, kept: str
) -> None:
    root = _fixture(tmp_path, (importer, imported))
    result = _lint(root, root)
    report = result.stdout + result.stderr
    names = _names()
    assert result.returncode != 0, report
    assert _status(report, names[broken]) == "BROKEN", report
    assert _status(report, names[kept]) == "KEPT", report
    assert f"{FIXTURE}.{importer} -> {FIXTURE}.{imported}" in report, report
