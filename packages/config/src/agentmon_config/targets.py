"""Typed `targets:` section: deploying into a monitoring stack the user already runs.

kube-prometheus-stack's Grafana (dashboard sidecar), grafana-operator, and the ServiceMonitor that makes the
Prometheus Operator scrape the platform. Defaults live in the JSON Schema; the loader fills them in.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentmon_config.model import PlatformConfig

Labels = tuple[tuple[str, str], ...]  # sorted (name, value) pairs: hashable, deterministic


@dataclass(frozen=True)
class KubePrometheusStack:
    datasource_uid: str
    dashboard_label: str
    dashboard_label_value: str
    folder_annotation: str


@dataclass(frozen=True)
class GrafanaOperator:
    instance_selector: Labels
    allow_cross_namespace_import: bool
    create_datasource: bool
    datasource_uid: str


@dataclass(frozen=True)
class ServiceMonitor:
    namespace: str
    service_labels: Labels
    port: str
    path: str
    labels: Labels


@dataclass(frozen=True)
class Targets:
    kube_prometheus_stack: KubePrometheusStack
    grafana_operator: GrafanaOperator
    service_monitor: ServiceMonitor

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> Targets:
        operator, monitor = section["grafana_operator"], section["service_monitor"]
        return cls(
            kube_prometheus_stack=KubePrometheusStack(**section["kube_prometheus_stack"]),
            grafana_operator=GrafanaOperator(**{**operator,
                                                "instance_selector": _pairs(operator["instance_selector"])}),
            service_monitor=ServiceMonitor(**{**monitor, "service_labels": _pairs(monitor["service_labels"]),
                                              "labels": _pairs(monitor["labels"])}),
        )


def _pairs(labels: dict[str, str]) -> Labels:
    return tuple(sorted(labels.items()))


def with_datasource_uid(config: PlatformConfig, uid: str) -> PlatformConfig:
    """The configuration a target's dashboards are generated from: every panel points at that target's
    datasource uid (Grafana resolves uids only, so the JSON must carry the right one; nothing patches it later)."""
    return dataclasses.replace(config, datasource=dataclasses.replace(config.datasource, uid=uid))
