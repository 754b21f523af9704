"""Grafana provisioning generators: pure functions from typed configuration to provisioning documents."""

from __future__ import annotations

from typing import Any

from agentmon_config import PlatformConfig

# Paths relative to the provisioning folder; Grafana reads <provisioning>/datasources and /dashboards.
DATASOURCES_FILE = "datasources/agentmon.yaml"
DASHBOARD_PROVIDERS_FILE = "dashboards/agentmon.yaml"


def datasources(config: PlatformConfig) -> dict[str, Any]:
    ds = config.datasource
    return {
        "apiVersion": 1,
        "datasources": [{
            "name": ds.name,
            "type": "prometheus",
            "uid": ds.uid,
            "url": ds.url,
            # Server-side access; browser ("direct") access is deprecated and fails for Prometheus.
            "access": "proxy",
            "isDefault": True,
            # Provisioned means owned by git: UI edits would be lost on the next restart anyway.
            "editable": False,
            "jsonData": {"timeInterval": ds.scrape_interval, "httpMethod": "POST"},
        }],
    }


def dashboard_providers(config: PlatformConfig) -> dict[str, Any]:
    p = config.provisioning
    return {
        "apiVersion": 1,
        "providers": [{
            "name": p.provider_name,
            "orgId": 1,
            "type": "file",
            # A dashboard whose file the build removed (an offboarded tenant) disappears from Grafana too.
            "disableDeletion": False,
            # UI edits are not saved over provisioned dashboards: git stays the source of truth.
            "allowUiUpdates": False,
            "updateIntervalSeconds": p.update_interval_seconds,
            # Sub-folders of the dashboards path become Grafana folders (one per tenant).
            "options": {"path": p.dashboards_path, "foldersFromFilesStructure": True},
        }],
    }


def render_provisioning(config: PlatformConfig) -> dict[str, dict[str, Any]]:
    """File name (relative to the provisioning folder) -> provisioning document."""
    return {DATASOURCES_FILE: datasources(config), DASHBOARD_PROVIDERS_FILE: dashboard_providers(config)}
