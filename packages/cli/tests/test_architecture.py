"""The one-direction import rule of docs/architecture.md: a package imports only packages on earlier lines."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
PACKAGES = REPO / "packages"
# package -> its line in the table of docs/architecture.md; same line: may not import each other.
LEVELS = {
    "config": 1,
    "dashboards": 2, "rules": 2, "provisioning": 2, "deploy": 2, "simulator": 2,
    "live": 3,
    "checks": 4,
    "bundle": 5,
    "publish": 6,
    "cli": 7,
}


def imported_packages(module: Path) -> set[str]:
    """agentmon_* packages that a module imports (absolute imports; the code uses no relative ones)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text(), str(module))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return {name.split(".")[0].removeprefix("agentmon_") for name in names if name.startswith("agentmon_")}


def violations(packages: Path, levels: dict[str, int]) -> list[str]:
    problems = []
    for module in sorted(packages.glob("*/src/agentmon_*/**/*.py")):
        owner = module.relative_to(packages).parts[0]
        for used in sorted(imported_packages(module) - {owner}):
            if used not in levels or levels[used] >= levels[owner]:
                problems.append(f"{module.relative_to(packages.parent)}: {owner} must not import {used}")
    return problems


def test_every_package_has_a_place_in_the_order():
    assert sorted(p.name for p in PACKAGES.iterdir() if (p / "src").is_dir()) == sorted(LEVELS)


def test_the_order_is_the_one_the_architecture_document_shows():
    table = re.findall(r"^\| (\d) \| (.+?) \|", (REPO / "docs/architecture.md").read_text(), re.M)
    documented = {name: int(line) for line, names in table for name in re.findall(r"`(\w+)`", names)}
    assert documented == LEVELS


def test_no_package_imports_one_below_it():
    assert violations(PACKAGES, LEVELS) == []


@pytest.mark.parametrize(("owner", "statement", "problem"), [
    ("checks", "from agentmon_bundle.pipeline import check_bundle", "checks must not import bundle"),
    ("dashboards", "import agentmon_deploy", "dashboards must not import deploy"),
    ("config", "from agentmon_cli import main", "config must not import cli"),
])
def test_an_upward_import_is_named(tmp_path, owner, statement, problem):
    module = tmp_path / owner / "src" / f"agentmon_{owner}" / "bad.py"
    module.parent.mkdir(parents=True)
    module.write_text(f"{statement}\n")
    assert violations(tmp_path, LEVELS) == [f"{tmp_path.name}/{owner}/src/agentmon_{owner}/bad.py: {problem}"]
