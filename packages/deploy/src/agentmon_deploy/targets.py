"""Deploying into a monitoring stack the user already runs, instead of agentmon's own Grafana.

- kube-prometheus-stack: one ConfigMap per dashboard, labelled for the chart's dashboard sidecar (k8s-sidecar),
  tenant dashboards annotated with their folder; the sidecar writes each key as a file into <FOLDER>/<annotation>
  and Grafana's file provider (foldersFromFilesStructure) turns the directory into a folder.
- grafana-operator (grafana.integreatly.org/v1beta1): a GrafanaFolder per tenant, a GrafanaDashboard per
  dashboard (its JSON inline), and a GrafanaDatasource when asked; a tenant's objects in one file.
- The ServiceMonitor that makes the Prometheus Operator scrape the platform at datasource.scrape_interval
  (kube-prometheus-stack scrapes every 30 s unless told otherwise).

The dashboards come in already generated for the target's datasource uid (see agentmon_config.with_datasource_uid):
nothing here rewrites dashboard JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from agentmon_config import PlatformConfig

PART_OF = {"app.kubernetes.io/part-of": "agentmon"}
GRAFANA_OPERATOR_API = "grafana.integreatly.org/v1beta1"
SERVICE_MONITOR_NAME = "agentmon-platform"
KUSTOMIZATION = "kustomization.yaml"
DASHBOARDS_DIR = "dashboards"  # where a target's dashboard JSON files sit, beside its kustomization
TENANT_FILE_PREFIX = "tenant-"  # grafana-operator: tenant-<tenant id>.yaml holds the tenant's folder and dashboards


def dashboard_object_name(path: str) -> str:
    """Stable object name of a dashboard file: "dashboard-" + its file name without .json (the dashboard uid)."""
    return f"dashboard-{PurePosixPath(path).stem}"


def folder_of(path: str) -> str:
    """The dashboard's folder: its directory under dashboards/ (a tenant id), or "" for the General folder."""
    return str(PurePosixPath(path).parent).removeprefix(".")


def sidecar_files(config: PlatformConfig, dashboard_files: Mapping[str, bytes]) -> dict[str, Any]:
    """Path under the target -> what it holds, besides the General folder's JSON files (dashboards/<name>.json):
    kustomization.yaml, with a generator per General dashboard and listing dashboards/<tenant>.yaml, the tenant's
    ConfigMaps with their JSON (one file a tenant: a folder with a kustomization and a JSON copy per tenant was
    6,000 files and folders to write at 2,000 tenants, and a list of every generator in one kustomization grew by
    160 bytes a tenant). One ConfigMap per dashboard: each stays far below the size budget at any tenant count, and
    changing one dashboard rewrites only its own ConfigMap. No name hash: no pod mounts them (the sidecar watches
    labels), and a hashed name would leave the previous ConfigMap behind, which the sidecar would go on loading."""
    general = [path for path in sorted(dashboard_files) if not folder_of(path)]
    by_tenant: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(dashboard_files):
        if folder_of(path):
            by_tenant.setdefault(folder_of(path), []).append(
                sidecar_configmap(config, path, dashboard_files[path].decode()))
    top = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
           "configMapGenerator": [_general_generator(config, path) for path in general],
           "resources": [f"{DASHBOARDS_DIR}/{tenant}.yaml" for tenant in sorted(by_tenant)]}
    return {KUSTOMIZATION: top, **{f"{DASHBOARDS_DIR}/{tenant}.yaml": maps for tenant, maps in by_tenant.items()}}


def _sidecar_options(config: PlatformConfig, path: str) -> tuple[dict[str, str], dict[str, str]]:
    """The labels and annotations of a dashboard's ConfigMap."""
    kps = config.targets.kube_prometheus_stack
    labels = {kps.dashboard_label: kps.dashboard_label_value, **PART_OF}
    # relative to the sidecar's FOLDER: the file lands in <FOLDER>/<tenant>/, Grafana's folder <tenant>
    return labels, ({kps.folder_annotation: folder_of(path)} if folder_of(path) else {})


def _general_generator(config: PlatformConfig, path: str) -> dict[str, Any]:
    labels, _ = _sidecar_options(config, path)
    return {"name": dashboard_object_name(path), "options": {"disableNameSuffixHash": True, "labels": labels},
            "files": [f"{PurePosixPath(path).name}={DASHBOARDS_DIR}/{path}"]}


def sidecar_configmap(config: PlatformConfig, path: str, text: str) -> dict[str, Any]:
    """A tenant dashboard's ConfigMap, as a generator of its file would make it."""
    labels, annotations = _sidecar_options(config, path)
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": dashboard_object_name(path), "labels": labels, "annotations": annotations},
            "data": {PurePosixPath(path).name: text}}


def folder_name(tenant_id: str) -> str:
    """GrafanaFolder object name, also its Grafana folder uid (at most 9 + 31 = 40 characters, Grafana's limit)."""
    return f"agentmon-{tenant_id}"


def _operator_spec(config: PlatformConfig) -> dict[str, Any]:
    operator = config.targets.grafana_operator
    return {"instanceSelector": {"matchLabels": dict(operator.instance_selector)},
            "allowCrossNamespaceImport": operator.allow_cross_namespace_import}


def _operator_object(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": GRAFANA_OPERATOR_API, "kind": kind, "metadata": {"name": name, "labels": dict(PART_OF)},
            "spec": spec}


def grafana_folder(config: PlatformConfig, tenant_id: str) -> dict[str, Any]:
    return _operator_object("GrafanaFolder", folder_name(tenant_id),
                            {**_operator_spec(config), "title": tenant_id, "uid": folder_name(tenant_id)})


def grafana_dashboard(config: PlatformConfig, path: str, board: dict[str, Any]) -> dict[str, Any]:
    """The JSON inline, compact (the object's size counts against the apply budget); a tenant's dashboard in its
    GrafanaFolder (folderRef: the operator resolves it, and waits for it)."""
    spec = {**_operator_spec(config), "json": json.dumps(board, sort_keys=True, separators=(",", ":")),
            "uid": board["uid"]}
    if folder_of(path):
        spec["folderRef"] = folder_name(folder_of(path))
    return _operator_object("GrafanaDashboard", dashboard_object_name(path), spec)


def grafana_datasource(config: PlatformConfig, provisioned: dict[str, Any]) -> dict[str, Any]:
    """The provisioned datasource (the one the standalone Grafana gets) with this target's uid. Not the default
    datasource: the operator's Grafana may have its own. The overlay sets the URL (a replacement, as prod does)."""
    uid = config.targets.grafana_operator.datasource_uid
    datasource = {**provisioned, "uid": uid, "isDefault": False}
    return _operator_object("GrafanaDatasource", "agentmon-datasource",
                            {**_operator_spec(config), "datasource": datasource, "uid": uid})


def operator_resources(config: PlatformConfig, dashboards: Mapping[str, dict[str, Any]],
                       provisioned_datasource: dict[str, Any]) -> dict[str, Any]:
    """File name (relative to the target's folder) -> resource, or resources: a tenant's file holds its GrafanaFolder
    and its GrafanaDashboards (one file a tenant: at 2,000 tenants a file per object was 2,000 more files to write
    on every build); plus the kustomization listing them all."""
    files: dict[str, Any] = {f"{TENANT_FILE_PREFIX}{t.tenant_id}.yaml": [grafana_folder(config, t.tenant_id)]
                             for t in config.tenants}
    for path, board in dashboards.items():
        tenant_file = f"{TENANT_FILE_PREFIX}{folder_of(path)}.yaml"
        if folder_of(path) and tenant_file in files:
            files[tenant_file].append(grafana_dashboard(config, path, board))
        else:
            files[f"{dashboard_object_name(path)}.yaml"] = grafana_dashboard(config, path, board)
    if config.targets.grafana_operator.create_datasource:
        files["datasource.yaml"] = grafana_datasource(config, provisioned_datasource)
    kustomization = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                     "resources": sorted(files)}
    return {**files, "kustomization.yaml": kustomization}


def service_monitor(config: PlatformConfig) -> dict[str, Any]:
    """Scrapes the platform's Service at datasource.scrape_interval: the dashboards' $__rate_interval floor and the
    recording rules assume it, and kube-prometheus-stack would otherwise scrape every 30 s."""
    monitor = config.targets.service_monitor
    endpoint = {"port": monitor.port, "path": monitor.path, "interval": config.datasource.scrape_interval}
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
            "metadata": {"name": SERVICE_MONITOR_NAME, "labels": {**dict(monitor.labels), **PART_OF}},
            "spec": {"namespaceSelector": {"matchNames": [monitor.namespace]},
                     "selector": {"matchLabels": dict(monitor.service_labels)},
                     "endpoints": [endpoint]}}


def service_monitor_files(config: PlatformConfig) -> dict[str, dict[str, Any]]:
    return {"servicemonitor.yaml": service_monitor(config),
            "kustomization.yaml": {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                                   "resources": ["servicemonitor.yaml"]}}
