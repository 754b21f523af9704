"""Everything the build generates, rendered in memory as {relative path: bytes}.

Generated roots are owned entirely by the build: a file there that the build no longer renders is stale
and gets removed (build) or reported (validate).
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import re
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from agentmon_bundle.serialize import YAML_HEADER, json_bytes, yaml_bytes
from agentmon_config import PlatformConfig, with_datasource_uid
from agentmon_dashboards import render_dashboards
from agentmon_deploy import dashboards_kustomization, provisioning_kustomization, render_base_fragments
from agentmon_deploy.targets import DASHBOARDS_DIR, folder_of, operator_resources, service_monitor_files, sidecar_files
from agentmon_provisioning import DASHBOARD_PROVIDERS_FILE, DATASOURCES_FILE, render_provisioning
from agentmon_rules import ALERTMANAGER_FILE, config_parts, part_path, parts_files, render_alertmanager, render_rules

DASHBOARDS_ROOT = "dashboards"
PROVISIONING_ROOT = "provisioning"
BASE_FRAGMENTS_ROOT = "base/generated"
RULES_ROOT = "rules"
ALERTMANAGER_ROOT = "alertmanager"
# What the kube-prometheus-stack and grafana-operator overlays and components/servicemonitor deploy.
TARGETS_ROOT = "targets"
SIDECAR_TARGET, OPERATOR_TARGET, SERVICE_MONITOR_TARGET = "kube-prometheus-stack", "grafana-operator", "servicemonitor"
GENERATED_ROOTS = (DASHBOARDS_ROOT, PROVISIONING_ROOT, BASE_FRAGMENTS_ROOT, RULES_ROOT, ALERTMANAGER_ROOT, TARGETS_ROOT)
KUSTOMIZATION = "kustomization.yaml"


@dataclass(frozen=True)
class Rendered:
    """The rendered bundle: documents for checks, bytes for writing and drift comparison."""

    dashboards: dict[str, dict[str, Any]]  # path under dashboards/ -> dashboard JSON
    provisioning: dict[str, dict[str, Any]]  # path under provisioning/ -> provisioning document
    rules: dict[str, dict[str, Any]]  # path under rules/ -> rule file, kustomization or PrometheusRule
    alertmanager: dict[str, dict[str, Any]]  # path under alertmanager/ -> routing, kustomization, AlertmanagerConfig
    files: dict[str, bytes]  # repo-relative POSIX path -> exact file content


# From this many tenants on, the targets' files are rendered in a second process while this one renders the rest:
# at 2,000 tenants they take 2 of render's 4.5 s, which build and validate wait for with one of two cores idle.
# Fewer tenants render faster in one process than a second one starts (and tests that watch a render in-process
# see all of it).
TARGETS_IN_CHILD_FROM = 200


def render(config: PlatformConfig) -> Rendered:
    with _TargetFiles(config) as target_files:
        return _render(config, target_files)


def _render(config: PlatformConfig, target_files: _TargetFiles) -> Rendered:
    dashboards = render_dashboards(config)
    provisioning = render_provisioning(config)
    rules = render_rules(config)
    alertmanager = render_alertmanager(config)
    dashboard_files = {name: json_bytes(doc) for name, doc in dashboards.items()}
    kubernetes = {
        _join(DASHBOARDS_ROOT, KUSTOMIZATION): dashboards_kustomization(dashboard_files),
        _join(PROVISIONING_ROOT, KUSTOMIZATION): provisioning_kustomization(DATASOURCES_FILE, DASHBOARD_PROVIDERS_FILE),
        **{_join(BASE_FRAGMENTS_ROOT, name): doc
           for name, doc in render_base_fragments(config, dashboard_files).items()},
    }
    files = {_join(DASHBOARDS_ROOT, name): content for name, content in dashboard_files.items()}
    files |= {_join(PROVISIONING_ROOT, name): yaml_bytes(doc) for name, doc in provisioning.items()}
    files |= {path: yaml_bytes(doc) for path, doc in kubernetes.items()}
    files |= {_join(RULES_ROOT, name): yaml_bytes(doc) for name, doc in rules.items()}
    alertmanager, routing_files = with_parts(alertmanager)
    files |= routing_files
    files |= target_files.result(dashboards, provisioning[DATASOURCES_FILE]["datasources"][0])
    return Rendered(dashboards=dashboards, provisioning=provisioning, rules=rules, alertmanager=alertmanager,
                    files=dict(sorted(files.items())))


def with_parts(alertmanager: dict[str, dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], dict[str, bytes]]:
    """The routing's documents and files, with alertmanager.yml's parts (cut from its text) and the kustomization
    and Component that deliver them to the dev overlay's Alertmanager (agentmon_rules.routing.config_parts)."""
    files = {_join(ALERTMANAGER_ROOT, name): yaml_bytes(doc) for name, doc in alertmanager.items()}
    parts = config_parts(files[_join(ALERTMANAGER_ROOT, ALERTMANAGER_FILE)].decode())
    files |= {_join(ALERTMANAGER_ROOT, part_path(i)): part.encode() for i, part in enumerate(parts)}
    delivery = parts_files(len(parts))
    files |= {_join(ALERTMANAGER_ROOT, name): yaml_bytes(doc) for name, doc in delivery.items()}
    return alertmanager | delivery, files


class _TargetFiles:
    """_target_files, in a forked process started on entry when the configuration has TARGETS_IN_CHILD_FROM tenants
    or more (it renders its own dashboards: they are its first step), else in this process when asked."""

    def __init__(self, config: PlatformConfig) -> None:
        self._config = config
        self._pool: ProcessPoolExecutor | None = None
        self._future: Future[dict[str, bytes]] | None = None

    def __enter__(self) -> _TargetFiles:
        if len(self._config.tenants) >= TARGETS_IN_CHILD_FROM and "fork" in multiprocessing.get_all_start_methods():
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
            self._future = self._pool.submit(_target_files_alone, self._config)
        return self

    def result(self, dashboards: dict[str, dict[str, Any]], provisioned: dict[str, Any]) -> dict[str, bytes]:
        if self._future is None:
            return _target_files(self._config, lambda: dashboards, provisioned)
        return self._future.result()

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)


def _target_files_alone(config: PlatformConfig) -> dict[str, bytes]:
    """_target_files in a process of its own: the standard dashboards are rendered there if a target needs them."""
    provisioned = render_provisioning(config)[DATASOURCES_FILE]["datasources"][0]
    return _target_files(config, functools.cache(lambda: render_dashboards(config)), provisioned)


def _target_files(config: PlatformConfig, dashboards: Callable[[], dict[str, dict[str, Any]]],
                  provisioned_datasource: dict[str, Any]) -> dict[str, bytes]:
    """Each target gets its dashboards generated for its own datasource uid."""
    sidecar_root, operator_root = _join(TARGETS_ROOT, SIDECAR_TARGET), _join(TARGETS_ROOT, OPERATOR_TARGET)
    sidecar_boards = _dashboards_for(config, dashboards, config.targets.kube_prometheus_stack.datasource_uid)
    sidecar_json = {name: json_bytes(doc) for name, doc in sidecar_boards.items()}
    files = {_join(sidecar_root, f"{DASHBOARDS_DIR}/{name}"): content
             for name, content in sidecar_json.items() if not folder_of(name)}
    files |= {_join(sidecar_root, name): _documents(content, _configmap_with_block_json)
              for name, content in sidecar_files(config, sidecar_json).items()}
    operator_boards = _dashboards_for(config, dashboards, config.targets.grafana_operator.datasource_uid)
    files |= {_join(operator_root, name): _documents(content, _yaml_with_inline_json)
              for name, content in operator_resources(config, operator_boards, provisioned_datasource).items()}
    files |= {_join(TARGETS_ROOT, f"{SERVICE_MONITOR_TARGET}/{name}"): yaml_bytes(doc)
              for name, doc in service_monitor_files(config).items()}
    return files


def _documents(content: dict[str, Any] | list[dict[str, Any]], write: Callable[[dict[str, Any]], bytes]) -> bytes:
    """One document, or several as the YAML documents of one file (a tenant's objects)."""
    if isinstance(content, dict):
        return write(content)
    bodies = [write(doc).decode().removeprefix(YAML_HEADER) for doc in content]
    return (YAML_HEADER + "---\n".join(bodies)).encode()


_BLOCK_JSON = "agentmon-block-json"


def _configmap_with_block_json(doc: dict[str, Any]) -> bytes:
    """yaml_bytes, but a ConfigMap's dashboard JSON as a literal block, line for line as in its .json file (readable
    in a diff; ruamel would write one double-quoted line of escapes). Text a literal block cannot hold as it is (a
    character outside YAML's printable set, or a Unicode line break such as U+2028) is left to ruamel."""
    if doc.get("kind") != "ConfigMap" or len(doc.get("data", {})) != 1:
        return yaml_bytes(doc)
    ((key, text),) = doc["data"].items()
    if not (text.endswith("}\n") and text.startswith("{") and "\n\n" not in text
            and all(line.isprintable() and line == line.rstrip(" ") for line in text[:-1].split("\n"))):
        return yaml_bytes(doc)
    out = yaml_bytes({**doc, "data": {key: _BLOCK_JSON}}).decode()
    line = f"  {_scalar_key(key)}: {_BLOCK_JSON}\n"
    if out.count(line) != 1:
        raise ValueError(f"{doc['metadata']['name']}: cannot place the dashboard JSON (a generator bug)")
    block = "".join(f"    {json_line}\n" for json_line in text[:-1].split("\n"))
    return out.replace(line, f"  {_scalar_key(key)}: |\n{block}").encode()


def _scalar_key(key: str) -> str:
    """The key as the YAML writer writes it (a file name: plain, or quoted when it must be)."""
    return yaml_bytes({key: 0}).decode().removeprefix(YAML_HEADER).removesuffix(": 0\n")


_INLINE_JSON = "agentmon-inline-json"
_BEYOND_BMP = re.compile("[\U00010000-\U0010FFFF]")


def _yaml_with_inline_json(doc: dict[str, Any]) -> bytes:
    """yaml_bytes, but a GrafanaDashboard's inline JSON is written by json.dumps: a JSON string literal is also a
    YAML double-quoted scalar with the same value, and ruamel's pure-Python emitter, which inspects every character,
    took 3.3 s for 500 tenants' dashboards (paid by build and validate alike)."""
    text = doc.get("spec", {}).get("json")
    # ASCII-only JSON escapes mean the same in YAML, except a surrogate pair (a character beyond U+FFFF, an emoji
    # in a tenant's name), which YAML refuses: such a dashboard is left to ruamel.
    if text is None or not (text.isascii() or _BEYOND_BMP.search(text) is None):
        return yaml_bytes(doc)
    out = yaml_bytes({**doc, "spec": {**doc["spec"], "json": _INLINE_JSON}}).decode()
    line = f"  json: {_INLINE_JSON}\n"
    if out.count(line) != 1:
        raise ValueError(f"{doc['metadata']['name']}: cannot place the inline JSON (a generator bug)")
    return out.replace(line, f"  json: {json.dumps(text, ensure_ascii=True)}\n").encode()


def _dashboards_for(config: PlatformConfig, dashboards: Callable[[], dict[str, dict[str, Any]]],
                    uid: str) -> dict[str, Any]:
    """The dashboards generated with `uid` as their datasource (the standard render when it is that uid already)."""
    if uid != config.datasource.uid:
        return render_dashboards(with_datasource_uid(config, uid))
    return dashboards()


def _join(root: str, name: str) -> str:
    return str(PurePosixPath(root) / name)
