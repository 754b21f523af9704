"""templates/tenant-dashboard baked through cookiecutter's API, in a scratch copy of the repository."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cookiecutter.exceptions import FailedHookException, OutputDirExistsException
from cookiecutter.main import cookiecutter

from agentmon_bundle.outputs import render
from agentmon_checks.kustomize import render_overlays
from agentmon_cli import main as cli
from agentmon_config import load_platform

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    for name in ("config", "base", "overlays", "components", "compose", "templates"):
        shutil.copytree(REPO / name, tmp_path / name, ignore=shutil.ignore_patterns("generated"))
    (tmp_path / "tenants").mkdir()
    return tmp_path


def bake(repo: Path, overwrite: bool = False, **answers: str) -> Path:
    return Path(cookiecutter(str(repo / "templates/tenant-dashboard"), no_input=True, output_dir=str(repo / "tenants"),
                             extra_context=answers, overwrite_if_exists=overwrite))


def written(repo: Path) -> list[str]:
    return sorted(p.relative_to(repo / "tenants").as_posix() for p in (repo / "tenants").rglob("*"))


def test_baked_tenant_is_found_by_the_build_and_lands_in_its_own_folder(repo):
    path = bake(repo, tenant_id="zeta", display_name="Zeta")
    assert path == repo / "tenants/zeta"
    lines = (path / "tenant.yaml").read_text().splitlines()
    assert lines[3:5] == ["tenant_id: zeta", 'display_name: "Zeta"']
    assert lines[5].startswith("success_rate_slo: 99.0 ")
    assert cli.main(["--root", str(repo), "build"]) == 0
    assert cli.main(["--root", str(repo), "validate"]) == 0
    board = json.loads((repo / "dashboards/zeta/tenant-zeta.json").read_text())
    assert board["title"] == "Zeta - Enhancement Pipeline"
    config = load_platform(repo / "config/platform.yaml", repo / "tenants")
    for overlay in render_overlays(repo, render(config).files):
        if "+" in overlay.name:
            continue
        (grafana,) = [o for o in overlay.objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "grafana"]
        mounts = [m["mountPath"] for m in grafana["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]]
        assert "/var/lib/grafana/dashboards/zeta" in mounts, overlay.name


def test_defaults_fill_the_other_answers(repo):
    bake(repo, tenant_id="big-co")
    text = (repo / "tenants/big-co/tenant.yaml").read_text()
    assert 'display_name: "Big Co"' in text
    assert "queue_alert_threshold: 100" in text


@pytest.mark.parametrize(("answers", "message"), [
    ({"tenant_id": "Zeta!"},
     "tenant_id: 'Zeta!' does not match the expected format ^[a-z][a-z0-9-]{0,29}[a-z0-9]$"),
    ({"tenant_id": "z"}, "tenant_id: 'z' does not match the expected format"),
    ({"tenant_id": "grafana"}, "tenant_id: 'grafana' is a reserved name"),
    ({}, "tenant not created: tenant_id is required, e.g. `cookiecutter templates/tenant-dashboard -o tenants"),
    ({"tenant_id": "zeta", "success_rate_slo": "lots"}, "success_rate_slo: 'lots' is not of type 'number'"),
    ({"tenant_id": "zeta", "queue_alert_threshold": "0"}, "queue_alert_threshold: 0 is less than the minimum of 1"),
])
def test_invalid_answers_fail_in_the_hook_and_write_nothing(repo, capfd, answers, message):
    with pytest.raises(FailedHookException):
        bake(repo, **answers)
    assert message in capfd.readouterr().err
    assert written(repo) == []


def test_existing_tenant_is_refused_and_left_untouched(repo, capfd):
    bake(repo, tenant_id="zeta", display_name="Zeta")
    before = (repo / "tenants/zeta/tenant.yaml").read_text()
    with pytest.raises(OutputDirExistsException):
        bake(repo, tenant_id="zeta", display_name="Other")
    with pytest.raises(FailedHookException):
        bake(repo, overwrite=True, tenant_id="zeta", display_name="Other")
    assert "tenant not created: tenant 'zeta' already exists" in capfd.readouterr().err
    assert (repo / "tenants/zeta/tenant.yaml").read_text() == before
    assert written(repo) == ["zeta", "zeta/tenant.yaml"]
