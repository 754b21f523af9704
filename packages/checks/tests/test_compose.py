from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agentmon_bundle.outputs import render
from agentmon_checks.compose import check_compose
from agentmon_config import load_platform

REPO = Path(__file__).resolve().parents[3]
CONFIG = load_platform(REPO / "config/platform.yaml")
FILES = render(CONFIG).files


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    for name in ("compose", "dashboards", "provisioning"):
        shutil.copytree(REPO / name, tmp_path / name)
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    return tmp_path


def edit(repo: Path, old: str, new: str) -> None:
    path = repo / "compose/docker-compose.yml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def problems(repo: Path) -> list[str]:
    return [str(f) for f in check_compose(repo, CONFIG, FILES)]


def test_committed_compose_file_passes(repo):
    assert problems(repo) == []


def test_port_published_on_all_interfaces_is_named(repo):
    edit(repo, '"127.0.0.1:9090:9090"', '"9090:9090"')
    assert problems(repo) == ["compose/docker-compose.yml: services.prometheus.ports: '9090:9090' must bind to "
                              '127.0.0.1 only (e.g. "127.0.0.1:3000:3000")']


def test_grafana_image_must_match_the_prod_pin(repo):
    edit(repo, "image: grafana/grafana:13.2.0", "image: grafana/grafana:12.0.0")
    assert problems(repo) == ["compose/docker-compose.yml: services.grafana.image: 'grafana/grafana:12.0.0' "
                              "differs from the prod pin 'grafana/grafana:13.2.0' (kubernetes.grafana_image)"]


def test_unpinned_image_is_named(repo):
    edit(repo, "image: prom/prometheus:v3.5.0", "image: prom/prometheus:latest")
    assert problems(repo) == ["compose/docker-compose.yml: services.prometheus.image: 'prom/prometheus:latest' "
                              "must be pinned to a version (never latest or untagged)"]


def test_missing_mounted_path_is_named(repo):
    (repo / "compose/prometheus.yml").unlink()
    assert problems(repo) == ["compose/docker-compose.yml: services.prometheus.volumes: mounted path "
                              "'./prometheus.yml' does not exist (relative to compose/)"]


def test_mounts_count_files_the_build_is_about_to_write(repo):
    shutil.rmtree(repo / "dashboards")
    assert problems(repo) == []
    assert any("'../dashboards' does not exist" in p for p in
               (str(f) for f in check_compose(repo, CONFIG, {})))


def test_compose_specification_schema_is_enforced(repo):
    edit(repo, "    restart: unless-stopped\n", "    restart: unless-stopped\n    restartt: always\n")
    assert problems(repo) == ["compose/docker-compose.yml: services.grafana: Unevaluated properties are not "
                              "allowed ('restartt' was unexpected)"]
