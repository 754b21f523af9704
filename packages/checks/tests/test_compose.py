from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from agentmon_bundle.outputs import render
from agentmon_checks.compose import check_compose
from agentmon_config import load_platform
from agentmon_testkit import edit_file

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
    edit_file(path, old, new)


def problems(repo: Path) -> list[str]:
    return [str(f) for f in check_compose(repo, CONFIG, FILES)]


def test_committed_compose_file_passes(repo):
    assert problems(repo) == []


def test_port_published_on_all_interfaces_is_named(repo):
    edit(repo, '"127.0.0.1:9090:9090"', '"9090:9090"')
    assert problems(repo) == ["compose/docker-compose.yml: services.prometheus.ports: '9090:9090' must bind to "
                              '127.0.0.1 only (e.g. "127.0.0.1:3000:3000")']


def test_grafana_image_must_match_the_prod_pin(repo):
    edit(repo, "image: grafana/grafana:13.2.0   # must equal", "image: grafana/grafana:12.0.0   # must equal")
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
    edit(repo, "        condition: service_healthy\n    restart: unless-stopped\n",
         "        condition: service_healthy\n    restart: unless-stopped\n    restartt: always\n")
    assert problems(repo) == ["compose/docker-compose.yml: services.grafana: Unevaluated properties are not "
                              "allowed ('restartt' was unexpected)"]


def test_grafana_secret_key_is_generated_into_a_mounted_volume(repo):
    compose = YAML(typ="safe").load((repo / "compose/docker-compose.yml").read_text())
    grafana, generator = compose["services"]["grafana"], compose["services"]["grafana-secret-key"]
    assert grafana["environment"]["GF_SECURITY_SECRET_KEY__FILE"] == "/etc/grafana/secrets/secret-key"
    assert "grafana-secrets:/etc/grafana/secrets:ro" in grafana["volumes"]
    assert grafana["depends_on"]["grafana-secret-key"] == {"condition": "service_completed_successfully"}
    assert (generator["image"], generator["volumes"]) == (grafana["image"], ["grafana-secrets:/secrets"])


def test_the_key_generator_writes_a_random_key_once(tmp_path):
    """The generator's command, run by a real POSIX shell on a scratch folder instead of the volume."""
    compose = YAML(typ="safe").load((REPO / "compose/docker-compose.yml").read_text())
    (command,) = compose["services"]["grafana-secret-key"]["command"]
    script = command.replace("/secrets/", f"{tmp_path}/").replace("chown 472", f"chown {os.getuid()}")
    subprocess.run(["sh", "-c", script], check=True, timeout=30)
    key = (tmp_path / "secret-key").read_text()
    subprocess.run(["sh", "-c", script], check=True, timeout=30)
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert (tmp_path / "secret-key").read_text() == key  # kept: stored secrets stay readable
    assert stat.S_IMODE((tmp_path / "secret-key").stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret-key"]


KEY_FILE_LINE = ("      GF_SECURITY_SECRET_KEY__FILE: /etc/grafana/secrets/secret-key"
                 "   # read by the image's entrypoint\n")


def test_missing_secret_key_is_named(repo):
    edit(repo, KEY_FILE_LINE, "")
    assert problems(repo) == [
        "compose/docker-compose.yml: services.grafana.environment: GF_SECURITY_SECRET_KEY is not set, so Grafana "
        "uses its public default key: set GF_SECURITY_SECRET_KEY__FILE to a generated key file, or "
        "GF_SECURITY_SECRET_KEY: ${GF_SECURITY_SECRET_KEY:?...} to require it"]


def test_committed_secret_key_is_named(repo):
    env_file = repo / "compose/grafana.env"
    env_file.write_text(env_file.read_text() + "GF_SECURITY_SECRET_KEY=not-so-secret\n")
    assert problems(repo) == [
        "compose/docker-compose.yml: services.grafana.environment: GF_SECURITY_SECRET_KEY and "
        "GF_SECURITY_SECRET_KEY__FILE are both set; Grafana's entrypoint refuses to start"]
    edit(repo, KEY_FILE_LINE, "")
    assert problems(repo) == [
        "compose/docker-compose.yml: services.grafana.environment: GF_SECURITY_SECRET_KEY: 'not-so-secret' is "
        "written in a committed file, so it is public: generate it (GF_SECURITY_SECRET_KEY__FILE) or require it "
        "from the environment (${GF_SECURITY_SECRET_KEY:?...})"]


def test_secret_key_required_from_the_environment_is_accepted(repo):
    edit(repo, KEY_FILE_LINE, "      GF_SECURITY_SECRET_KEY: ${GF_SECURITY_SECRET_KEY:?set it}\n")
    assert problems(repo) == []


def test_secret_key_file_outside_every_mount_is_named(repo):
    edit(repo, "      - grafana-secrets:/etc/grafana/secrets:ro\n", "")
    assert problems(repo) == [
        "compose/docker-compose.yml: services.grafana.environment: GF_SECURITY_SECRET_KEY__FILE: "
        "'/etc/grafana/secrets/secret-key' is not in a volume mounted into the container"]
