"""Publishing with real git into local bare repositories."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from agentmon_cli import main as cli
from agentmon_config import load_platform
from agentmon_publish import publish

REPO = Path(__file__).resolve().parents[3]
SOURCE_DIRS = ("config", "base", "overlays", "components", "compose", "tenants", "dashboards", "provisioning",
               "rules")
IDENTITY = ("-c", "user.name=Test", "-c", "user.email=test@example.com")


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *IDENTITY, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def source(tmp_path: Path) -> Path:
    root = tmp_path / "source"
    for name in SOURCE_DIRS:
        shutil.copytree(REPO / name, root / name)
    git("init", "-q", "-b", "main", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-q", "-m", "source", cwd=root)
    return root


@pytest.fixture
def target(tmp_path: Path) -> Path:
    bare = tmp_path / "gitops.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    return bare


def run(source: Path, target: Path, *extra: str, path: str = "clusters/prod") -> int:
    return cli.main(["--root", str(source), "publish", "--repo", str(target), "--branch", "main",
                     "--path", path, *extra])


def commits(target: Path) -> list[str]:
    result = subprocess.run(["git", "--git-dir", str(target), "log", "--format=%s", "main"],
                            capture_output=True, text=True)
    return result.stdout.splitlines() if result.returncode == 0 else []


def files(target: Path) -> list[str]:
    return subprocess.run(["git", "--git-dir", str(target), "ls-tree", "-r", "--name-only", "main"],
                          capture_output=True, text=True, check=True).stdout.splitlines()


def test_first_publish_commits_one_file_per_resource_naming_the_source_commit(source, target, capsys):
    assert run(source, target) == 0
    head = git("rev-parse", "HEAD", cwd=source).strip()
    assert commits(target) == [f"agentmon: publish overlays/prod from {head[:12]}"]
    body = subprocess.run(["git", "--git-dir", str(target), "log", "-1", "--format=%b", "main"],
                          capture_output=True, text=True, check=True).stdout
    assert f"Source commit: {head}\n" in body
    assert files(target) == sorted(f"clusters/prod/{name}.yaml" for name in (
        "configmap-grafana-dashboard-providers", "configmap-grafana-dashboards",
        "configmap-grafana-dashboards-acme", "configmap-grafana-dashboards-globex",
        "configmap-grafana-datasources", "deployment-grafana", "networkpolicy-grafana", "service-grafana",
        "serviceaccount-grafana"))
    assert "published overlays/prod (9 files)" in " ".join(capsys.readouterr().out.split())


def test_second_publish_without_changes_is_a_no_op(source, target, capsys):
    assert run(source, target) == 0
    assert run(source, target) == 0
    assert len(commits(target)) == 1
    assert "nothing changed" in capsys.readouterr().out


def test_two_concurrent_publishers_both_land(source, target, capsys):
    config = load_platform(source / "config/platform.yaml", source / "tenants")

    def args(path: str, overlay: str) -> publish.Request:
        return publish.Request(target=str(target), branch="main", path=path, overlay=overlay)

    # The dev publisher pushes between the prod publisher's commit and its push: prod's first push is
    # rejected, so it must fetch, re-apply its render on top of dev's commit and push again.
    def other_publisher_wins() -> None:
        assert publish.publish(source, config, args("clusters/dev", "dev")) == 0

    assert publish.publish(source, config, args("clusters/prod", "prod"), before_push=other_publisher_wins) == 0
    history = commits(target)
    assert [c.split(" from ")[0] for c in history] == [
        "agentmon: publish overlays/prod", "agentmon: publish overlays/dev"]
    tree = files(target)
    assert "clusters/dev/secret-grafana-admin.yaml" in tree
    assert "clusters/prod/deployment-grafana.yaml" in tree
    assert "someone else pushed to main first" in capsys.readouterr().out


def test_a_bundle_failing_validate_is_not_published(source, target, capsys):
    board = source / "dashboards/agentmon-system-health.json"
    board.write_text(board.read_text().replace('"refresh": "30s"', '"refresh": "1s"'))
    git("commit", "-qam", "hand edit", cwd=source)
    assert run(source, target) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "refusing to publish: validate failed" in err
    assert "dashboards/agentmon-system-health.json: differs from what the configuration generates" in err
    assert commits(target) == []


def test_dirty_source_is_refused_unless_allowed(source, target, capsys):
    (source / "notes.txt").write_text("wip\n")
    assert run(source, target) == 1
    assert "source tree has uncommitted changes" in capsys.readouterr().err
    assert commits(target) == []
    assert run(source, target, "--allow-dirty") == 0
    head = git("rev-parse", "HEAD", cwd=source).strip()
    body = subprocess.run(["git", "--git-dir", str(target), "log", "-1", "--format=%b", "main"],
                          capture_output=True, text=True, check=True).stdout
    assert f"Source commit: {head}-dirty\n" in body


def test_dry_run_names_a_changed_panel_query_and_writes_nothing(source, target, capsys):
    assert run(source, target) == 0
    tenant = source / "tenants/acme/tenant.yaml"
    tenant.write_text(tenant.read_text().replace("success_rate_slo: 99.5", "success_rate_slo: 99.9"))
    assert cli.main(["--root", str(source), "build"]) == 0
    git("commit", "-qam", "acme: tighter SLO", cwd=source)
    capsys.readouterr()
    assert run(source, target, "--dry-run") == 0
    out = " ".join(capsys.readouterr().out.split())
    assert ("changed query: dashboard 'Acme Corp - Enhancement Pipeline' panel 'Error Budget Remaining (30 d)' "
            "query A:") in out
    assert "/ 0.005) -> 100 * (1 -" in out and out.count("/ 0.001)") == 1
    assert "changed dashboard panel 'Success Rate vs SLO'" not in out
    assert "changed resource ConfigMap/grafana-dashboards-acme" in out
    assert "changed resource Deployment/grafana" in out
    assert len(commits(target)) == 1


def test_path_must_stay_inside_the_target(source, target, capsys):
    assert run(source, target, path="../escape") == 1
    assert "--path '../escape' must be a folder inside the target repository" in capsys.readouterr().err
