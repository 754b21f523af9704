"""Checks on the docker compose stack (compose/docker-compose.yml), which cannot run on every machine:
schema, mounted paths, image pins and loopback-only ports. Findings name the file and the service field."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

import jsonschema
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from agentmon_checks.findings import Finding
from agentmon_config import PlatformConfig

COMPOSE_FILE = "compose/docker-compose.yml"
LOOPBACK = "127.0.0.1"
SECRET_KEY = "GF_SECURITY_SECRET_KEY"
# `${VAR:?message}` or `${VAR?message}`: compose refuses to start while VAR is unset.
_REQUIRED_VARIABLE = re.compile(r"\$\{\w+:?\?[^}]*\}")


def compose_schema() -> dict[str, Any]:
    """The Compose Specification schema that check-jsonschema vendors (its `vendor.compose-spec`)."""
    text = resources.files("check_jsonschema").joinpath("builtin_schemas/vendor/compose-spec.json").read_text()
    return json.loads(text)


def check_compose(repo: Path, config: PlatformConfig, generated: Mapping[str, bytes]) -> Iterator[Finding]:
    path = repo / COMPOSE_FILE
    try:
        compose = YAML(typ="safe", pure=True).load(path.read_text())
    except (OSError, YAMLError) as exc:
        yield Finding(COMPOSE_FILE, "", f"cannot read: {exc}")
        return
    validator = jsonschema.Draft202012Validator(compose_schema())
    for error in sorted(validator.iter_errors(compose), key=lambda e: list(map(str, e.absolute_path))):
        yield Finding(COMPOSE_FILE, ".".join(map(str, error.absolute_path)) or "<file>", error.message)
    services = compose.get("services", {}) if isinstance(compose, dict) else {}
    for name, service in services.items():
        where = f"services.{name}"
        yield from (Finding(COMPOSE_FILE, w, m) for w, m in _service_problems(where, service, repo, generated))
    yield from _grafana_problems(services.get("grafana"), config)
    if isinstance(services.get("grafana"), dict):
        yield from (Finding(COMPOSE_FILE, w, m) for w, m in _secret_key_problems(services["grafana"], repo))


def _exists(repo: Path, rel: PurePosixPath, generated: Mapping[str, bytes]) -> bool:
    """On disk, or about to be written by the build (a generated file or one of its folders)."""
    key = rel.as_posix()
    return (repo / key).exists() or any(f == key or f.startswith(key + "/") for f in generated)


def _relative(source: str) -> PurePosixPath:
    """A bind-mount source relative to compose/, as a repo-relative path."""
    parts: list[str] = ["compose"]
    for part in PurePosixPath(source).parts:
        if part == "..":
            parts.pop()
        elif part != ".":
            parts.append(part)
    return PurePosixPath(*parts) if parts else PurePosixPath(".")


def _service_problems(where: str, service: dict[str, Any], repo: Path, generated: Mapping[str, bytes]
                      ) -> Iterator[tuple[str, str]]:
    image = service.get("image", "")
    if "build" not in service and (":" not in image or image.endswith(":latest")):
        yield f"{where}.image", f"{image!r} must be pinned to a version (never latest or untagged)"
    for port in service.get("ports", []):
        if not str(port).startswith(f"{LOOPBACK}:"):
            yield f"{where}.ports", f"{port!r} must bind to {LOOPBACK} only (e.g. \"{LOOPBACK}:3000:3000\")"
    for volume in service.get("volumes", []):
        source = str(volume).split(":")[0]
        if source.startswith((".", "/")) and not _exists(repo, _relative(source), generated):
            yield f"{where}.volumes", f"mounted path {source!r} does not exist (relative to compose/)"
    for env_file in service.get("env_file", []):
        if not _exists(repo, _relative(str(env_file)), generated):
            yield f"{where}.env_file", f"{env_file!r} does not exist"
    build = service.get("build")
    if isinstance(build, dict):
        dockerfile = _relative(f"{build.get('context', '.')}/{build.get('dockerfile', 'Dockerfile')}")
        if not _exists(repo, dockerfile, generated):
            yield f"{where}.build.dockerfile", f"{dockerfile} does not exist"


def _grafana_problems(grafana: dict[str, Any] | None, config: PlatformConfig) -> Iterator[Finding]:
    if grafana is None:
        yield Finding(COMPOSE_FILE, "services.grafana", "missing")
        return
    pin = config.kubernetes.grafana_image
    if grafana.get("image") != pin:
        yield Finding(COMPOSE_FILE, "services.grafana.image",
                      f"{grafana.get('image')!r} differs from the prod pin {pin!r} (kubernetes.grafana_image)")
    targets = {str(v).split(":")[1] for v in grafana.get("volumes", []) if str(v).count(":") >= 1}
    for needed in (config.provisioning.dashboards_path, "/etc/grafana/provisioning/datasources",
                   "/etc/grafana/provisioning/dashboards"):
        if needed not in targets:
            yield Finding(COMPOSE_FILE, "services.grafana.volumes", f"nothing is mounted at {needed}")
    if "healthcheck" not in grafana or "/api/health" not in json.dumps(grafana["healthcheck"]):
        yield Finding(COMPOSE_FILE, "services.grafana.healthcheck", "must probe /api/health")


def _secret_key_problems(grafana: dict[str, Any], repo: Path) -> Iterator[tuple[str, str]]:
    """Grafana gets a secret_key no one else knows: from a file in a mounted volume (the image's entrypoint reads
    GF_SECURITY_SECRET_KEY__FILE), or from the user's environment, required. Unset, Grafana signs cookies and
    encrypts stored secrets with its public default key; a key written in a committed file is just as public."""
    where = "services.grafana.environment"
    env = _environment(grafana, repo)
    value, path = env.get(SECRET_KEY), env.get(f"{SECRET_KEY}__FILE")
    if value is not None and path is not None:
        yield where, f"{SECRET_KEY} and {SECRET_KEY}__FILE are both set; Grafana's entrypoint refuses to start"
    elif path is not None:
        folders = {str(v).split(":")[1].rstrip("/") for v in grafana.get("volumes", []) if str(v).count(":") >= 1}
        if str(PurePosixPath(path).parent) not in folders:
            yield where, f"{SECRET_KEY}__FILE: {path!r} is not in a volume mounted into the container"
    elif value is None:
        yield where, (f"{SECRET_KEY} is not set, so Grafana uses its public default key: set {SECRET_KEY}__FILE "
                      f"to a generated key file, or {SECRET_KEY}: ${{{SECRET_KEY}:?...}} to require it")
    elif not _REQUIRED_VARIABLE.fullmatch(value):
        yield where, (f"{SECRET_KEY}: {value!r} is written in a committed file, so it is public: generate it "
                      f"({SECRET_KEY}__FILE) or require it from the environment (${{{SECRET_KEY}:?...}})")


def _environment(service: dict[str, Any], repo: Path) -> dict[str, str]:
    """The service's environment as compose builds it: env_file entries, then `environment` over them. A name
    without a value (passed through from the shell, so perhaps unset) counts as unset."""
    env: dict[str, str] = {}
    for env_file in service.get("env_file", []):
        path = repo / _relative(str(env_file))
        lines = path.read_text().splitlines() if path.is_file() else []
        env |= dict(line.split("=", 1) for line in lines if "=" in line and not line.lstrip().startswith("#"))
    declared = service.get("environment", {})
    if isinstance(declared, list):
        declared = dict(item.split("=", 1) for item in declared if "=" in item)
    return env | {name: str(value) for name, value in declared.items() if value is not None}
