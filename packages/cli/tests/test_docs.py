"""The documentation matches the code: queries, commands, links, configuration reference."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agentmon_bundle.outputs import GENERATED_ROOTS
from agentmon_cli import main as cli
from agentmon_config.loader import load_schema

from .plain_cookiecutter import make_plain_cookiecutter

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


def readme_command(program: str, first_argument: str) -> list[str]:
    """The README's one command line starting with `program first_argument`, without a trailing comment."""
    (line,) = re.findall(rf"^({program} {re.escape(first_argument)} .+?)(?:  +#.*)?$", TEXT[REPO / "README.md"],
                         re.M)
    return shlex.split(line)


def scratch_repository(root: Path) -> Path:
    # packages/config/src: the template's hook reads agentmon's rules there when cookiecutter cannot import them.
    for name in ("config", "base", "overlays", "components", "compose", "templates", "packages/config/src"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("generated", "__pycache__"))
    for name in ("noxfile.py", "pyproject.toml"):
        shutil.copy(REPO / name, root / name)
    return root


def built_title(root: Path) -> str:
    assert cli.main(["--root", str(root), "build"]) == 0
    return json.loads((root / "dashboards/zeta/tenant-zeta.json").read_text())["title"]


def test_the_readme_tenant_command_works_as_written(tmp_path):
    command = readme_command("nox", "-s tenant")
    assert command == ["nox", "-s", "tenant", "--", "tenant_id=zeta", "display_name=Zeta"]
    repo = scratch_repository(tmp_path)
    # The real noxfile and session, in this environment (which has agentmon installed) instead of a new one.
    env = {**os.environ, "AGENTMON_NOX_ENV": sys.prefix}
    subprocess.run([sys.executable, "-m", "nox", *command[1:]], cwd=repo, env=env,
                   check=True, capture_output=True, timeout=120)
    assert built_title(repo) == "Zeta - Enhancement Pipeline"


def test_the_readme_plain_cookiecutter_command_works_as_written(tmp_path):
    command = readme_command("cookiecutter", "--no-input")
    python = make_plain_cookiecutter(tmp_path / "plain-cookiecutter")
    repo = scratch_repository(tmp_path / "repo")
    subprocess.run([str(python), "-m", "cookiecutter", *command[1:]], cwd=repo, check=True, capture_output=True,
                   timeout=60)
    assert built_title(repo) == "Zeta - Enhancement Pipeline"


def test_onboarding_as_tenants_md_shows_it_commits_what_a_clean_checkout_validates(tmp_path):
    """docs/operations/tenants.md's `git add ... && git commit` after a new tenant's build: it names every generated
    root, and a fresh clone of the commit passes validate (a root left out fails it with a drift error)."""
    (line,) = re.findall(r"^(git add .+?) && git commit", TEXT[REPO / "docs/operations/tenants.md"], re.M)
    named = shlex.split(line)[2:]
    assert "tenants/zeta" in named
    assert all(any(root == n or root.startswith(f"{n}/") for n in named) for root in GENERATED_ROOTS), named
    repo = scratch_repository(tmp_path / "repo")
    shutil.copytree(REPO / "tenants", repo / "tenants")
    assert cli.main(["--root", str(repo), "build"]) == 0

    def git(*args: str, cwd: Path = repo) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false",
                        *args], cwd=cwd, check=True, capture_output=True, timeout=60)
    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "before zeta")
    assert cli.main(["--root", str(repo), "tenant", "tenant_id=zeta", "display_name=Zeta"]) == 0
    assert cli.main(["--root", str(repo), "build"]) == 0
    git(*shlex.split(line)[1:])
    git("commit", "-q", "-m", "Onboard tenant zeta")
    git("clone", "-q", str(repo), str(tmp_path / "checkout"), cwd=tmp_path)
    assert cli.main(["--root", str(tmp_path / "checkout"), "validate"]) == 0
