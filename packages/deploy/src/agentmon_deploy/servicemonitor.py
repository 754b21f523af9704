"""The ServiceMonitor (monitoring.coreos.com/v1) that makes a Prometheus Operator's Prometheus scrape the AI Agents
platform at datasource.scrape_interval: the interval every rate window, `for:` and recorded series of agentmon
assumes. kube-prometheus-stack would otherwise scrape at its own default (30 s), silently different.

Generated into base/generated/operator/ (not listed by the base: dev runs no Operator); components/service-monitor
adds it to an overlay.
"""

from __future__ import annotations

from typing import Any

from agentmon_config import PlatformConfig

SERVICE_MONITOR_NAME = "agentmon-platform"
SERVICE_MONITOR_FILE = "servicemonitor.yaml"


def service_monitor(config: PlatformConfig) -> dict[str, Any]:
    k = config.kubernetes
    return {
        "apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
        "metadata": {"name": SERVICE_MONITOR_NAME,
                     "labels": {"app.kubernetes.io/part-of": "agentmon", **dict(k.service_monitor_labels)}},
        "spec": {
            "namespaceSelector": {"matchNames": [k.platform_namespace]},
            "selector": {"matchLabels": dict(k.platform_service_labels)},
            "endpoints": [{"port": k.platform_metrics_port, "path": "/metrics",
                           "interval": config.datasource.scrape_interval}],
        },
    }


def render_operator_fragments(config: PlatformConfig) -> dict[str, dict[str, Any]]:
    """File name (relative to base/generated/operator/) -> manifest."""
    return {SERVICE_MONITOR_FILE: service_monitor(config),
            "kustomization.yaml": {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                                   "resources": [SERVICE_MONITOR_FILE]}}
