"""The generated rules/ folder: one plain Prometheus rule file and the Kubernetes wrappers around the same groups.

- agentmon.rules.yml (recording rules) and agentmon.alerts.rules.yml (alert rules, agentmon_rules.alerts):
  loaded by the compose stack's Prometheus (mounted read-only) and the terminal demo;
- kustomization.yaml: a ConfigMap of that file, mounted by the dev overlay's demo Prometheus
  (components/demo-stack);
- operator/: two PrometheusRules (monitoring.coreos.com/v1) with the same groups, for clusters running the
  Prometheus Operator; components/prometheus-rules adds it to an overlay.
"""

from __future__ import annotations

from typing import Any

from agentmon_config import PlatformConfig
from agentmon_rules.alerts import ALERTS_FILE, AlertGroup, alert_groups
from agentmon_rules.recording import RuleGroup, recording_groups

RULE_FILE = "agentmon.rules.yml"
KUSTOMIZATION = "kustomization.yaml"
OPERATOR_DIR = "operator"
PROMETHEUS_RULE_FILE = "prometheusrule.yaml"
PROMETHEUS_RULE_PATH = f"{OPERATOR_DIR}/{PROMETHEUS_RULE_FILE}"
RULES_CONFIGMAP = "prometheus-rules"
PROMETHEUS_RULE_NAME = "agentmon-recording-rules"
ALERTS_PROMETHEUS_RULE_FILE = "alerts.yaml"
ALERTS_PROMETHEUS_RULE_PATH = f"{OPERATOR_DIR}/{ALERTS_PROMETHEUS_RULE_FILE}"
ALERTS_PROMETHEUS_RULE_NAME = "agentmon-alerts"
PROMETHEUS_RULE_API = "monitoring.coreos.com/v1"


def rule_file(groups: tuple[RuleGroup, ...] | tuple[AlertGroup, ...]) -> dict[str, Any]:
    return {"groups": [group.to_dict() for group in groups]}


def prometheus_rule(config: PlatformConfig, groups: tuple[RuleGroup, ...] | tuple[AlertGroup, ...],
                    name: str = PROMETHEUS_RULE_NAME) -> dict[str, Any]:
    """The Operator's wrapper; its labels are what the Prometheus resource's ruleSelector must match."""
    labels = {"app.kubernetes.io/part-of": "agentmon", **dict(config.rules.prometheus_rule_labels)}
    return {"apiVersion": PROMETHEUS_RULE_API, "kind": "PrometheusRule",
            "metadata": {"name": name, "labels": labels},
            "spec": rule_file(groups)}


def render_rules(config: PlatformConfig) -> dict[str, dict[str, Any]]:
    """Path relative to the rules folder -> document."""
    groups, alerts = recording_groups(config), alert_groups(config)
    return {
        RULE_FILE: rule_file(groups),
        ALERTS_FILE: rule_file(alerts),
        KUSTOMIZATION: {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                        "configMapGenerator": [{"name": RULES_CONFIGMAP, "files": [RULE_FILE, ALERTS_FILE]}]},
        f"{OPERATOR_DIR}/{KUSTOMIZATION}": {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                                            "resources": [PROMETHEUS_RULE_FILE, ALERTS_PROMETHEUS_RULE_FILE]},
        PROMETHEUS_RULE_PATH: prometheus_rule(config, groups),
        ALERTS_PROMETHEUS_RULE_PATH: prometheus_rule(config, alerts, ALERTS_PROMETHEUS_RULE_NAME),
    }
