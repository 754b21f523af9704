"""The documentation matches the code: queries, commands, links, configuration reference."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agentmon_cli import main as cli
from agentmon_config.loader import load_schema

REPO = Path(__file__).resolve().parents[3]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
TEXT = {doc: doc.read_text() for doc in DOCS}
GUIDE = (REPO / "docs/operations/metrics-guide.md").read_text()


def sections(markdown: str) -> dict[str, str]:
    """### heading -> its first ```promql block."""
    found = {}
    for match in re.finditer(r"^### (.+?)\n(.*?)(?=^### |^## |\Z)", markdown, re.S | re.M):
        block = re.search(r"```promql\n(.+?)\n```", match.group(2), re.S)
        if block:
            found[match.group(1).strip()] = block.group(1).strip()
    return found


def panel_queries(path: str) -> dict[str, list[str]]:
    board = json.loads((REPO / path).read_text())
    return {p["title"]: [t["expr"] for t in p["targets"]] for p in board["panels"]}


def test_metrics_guide_shows_the_generated_queries_verbatim():
    documented = sections(GUIDE)
    main = panel_queries("dashboards/agentmon-system-health.json")
    tenant = panel_queries("dashboards/acme/tenant-acme.json")
    assert set(main) <= set(documented)
    for title, exprs in main.items():
        assert documented[title] == exprs[0], title
    for title in ("Success Rate vs SLO", "Error Budget Remaining (30 d)", "Request Rate by Status"):
        assert documented[title] == tenant[title][0], title
    assert documented["Processing Latency p50 / p95 / p99"] == tenant["Processing Latency p50 / p95 / p99"][1]


def nox_sessions() -> set[str]:
    return set(re.findall(r"@nox\.session(?:\([^)]*\))?\ndef (\w+)\(", (REPO / "noxfile.py").read_text()))


def cli_commands() -> set[str]:
    parser = cli._parser()
    (commands,) = [a for a in parser._actions if a.dest == "command"]
    return set(commands.choices)


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_every_documented_command_exists(doc):
    text = TEXT[doc]
    assert set(re.findall(r"nox -s ([\w-]+)", text)) <= nox_sessions()
    assert set(re.findall(r"`agentmon ([a-z]+)", text)) <= cli_commands()


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_every_relative_link_resolves(doc):
    for target in re.findall(r"\]\(([^)#]+?)(?:#[^)]*)?\)", TEXT[doc]):
        if not target.startswith(("http://", "https://")):
            assert (doc.parent / target).exists(), f"{doc.name}: {target}"


def test_configuration_reference_lists_every_field_with_its_default():
    reference = (REPO / "docs/operations/grafana-setup.md").read_text()
    schema = load_schema("platform")
    for section, spec in schema["properties"].items():
        for field, field_spec in spec["properties"].items():
            row = re.search(rf"^\| `{section}\.{field}` \| ([^|]+) \|", reference, re.M)
            assert row, f"{section}.{field} missing from the configuration reference"
            default = field_spec.get("default", spec.get("$defs", {}).get(field))
            if isinstance(default, str | int | float) and default != "":
                assert str(default) in row.group(1), f"{section}.{field}: {row.group(1)} vs {default}"


def test_the_readme_tenant_command_works_as_written(tmp_path):
    (command,) = re.findall(r"^(cookiecutter --no-input templates/tenant-dashboard .+)$", TEXT[REPO / "README.md"],
                            re.M)
    for name in ("config", "base", "overlays", "components", "compose", "templates"):
        shutil.copytree(REPO / name, tmp_path / name, ignore=shutil.ignore_patterns("generated"))
    executable = Path(sys.executable).parent / "cookiecutter"
    subprocess.run([str(executable), *shlex.split(command)[1:]], cwd=tmp_path, check=True, capture_output=True)
    assert cli.main(["--root", str(tmp_path), "build"]) == 0
    board = json.loads((tmp_path / "dashboards/zeta/tenant-zeta.json").read_text())
    assert board["title"] == "Zeta - Enhancement Pipeline"
