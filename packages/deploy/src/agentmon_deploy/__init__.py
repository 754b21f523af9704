"""Kubernetes generators: pure functions from typed configuration to manifests and kustomizations."""

from agentmon_deploy.grafana import (
    ADMIN_SECRET_KEYS,
    APP_LABELS,
    CONTAINER_PORT,
    COPY_CONTAINER,
    COPY_SCRIPT,
    COPY_SOURCE,
    HARDENING_ENV,
    dashboard_configmaps,
    deployment,
    network_policy,
    service,
    service_account,
)
from agentmon_deploy.kustomizations import (
    dashboards_kustomization,
    provisioning_kustomization,
    render_base_fragments,
)
from agentmon_deploy.names import DASHBOARDS_CONFIGMAP, DATASOURCES_CONFIGMAP, PROVIDERS_CONFIGMAP

__all__ = [
    "ADMIN_SECRET_KEYS",
    "APP_LABELS",
    "CONTAINER_PORT",
    "COPY_CONTAINER",
    "COPY_SCRIPT",
    "COPY_SOURCE",
    "DASHBOARDS_CONFIGMAP",
    "DATASOURCES_CONFIGMAP",
    "HARDENING_ENV",
    "PROVIDERS_CONFIGMAP",
    "dashboard_configmaps",
    "dashboards_kustomization",
    "deployment",
    "network_policy",
    "provisioning_kustomization",
    "render_base_fragments",
    "service",
    "service_account",
]
