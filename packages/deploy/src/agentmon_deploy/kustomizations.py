"""Kustomizations for the generated folders, and the list of generated base fragments.

The dashboards/ and provisioning/ folders each get a kustomization whose configMapGenerator reads the very
files compose mounts, so Kubernetes and compose can never disagree, and a changed file changes the
ConfigMap's name hash, which rolls the Grafana pod.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentmon_config import PlatformConfig
from agentmon_deploy.grafana import dashboard_configmaps, deployment, network_policy, service, service_account
from agentmon_deploy.names import DATASOURCES_CONFIGMAP, PROVIDERS_CONFIGMAP


def _kustomization(generators: list[dict[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
            "configMapGenerator": generators}


def dashboards_kustomization(dashboard_files: Mapping[str, bytes]) -> dict[str, Any]:
    """One ConfigMap for the top-level dashboards and the tenant shards (see dashboard_configmaps)."""
    return _kustomization([
        {"name": name, "files": [key if key == path else f"{key}={path}" for key, path in files]}
        for name, files in dashboard_configmaps(dashboard_files).items()
    ])


def provisioning_kustomization(datasource_file: str, providers_file: str) -> dict[str, Any]:
    """One ConfigMap per provisioning folder; the key is the file's base name, as Grafana expects."""
    return _kustomization([
        {"name": DATASOURCES_CONFIGMAP, "files": [f"{datasource_file.rsplit('/', 1)[-1]}={datasource_file}"]},
        {"name": PROVIDERS_CONFIGMAP, "files": [f"{providers_file.rsplit('/', 1)[-1]}={providers_file}"]},
    ])


def render_base_fragments(config: PlatformConfig, dashboard_files: Mapping[str, bytes]) -> dict[str, dict[str, Any]]:
    """File name (relative to base/generated/) -> manifest."""
    return {
        "deployment.yaml": deployment(config, dashboard_configmaps(dashboard_files)),
        "networkpolicy.yaml": network_policy(config),
        "service.yaml": service(),
        "serviceaccount.yaml": service_account(),
    }
