"""The generated rules/ folder: one plain Prometheus rule file and the Kubernetes wrappers around the same groups.

- agentmon.rules.yml (recording rules), agentmon.limits-NN.rules.yml (the limits of the tenants of shard NN,
  agentmon_rules.limits.tenant_shard) and agentmon.alerts.rules.yml (alert rules, agentmon_rules.alerts): loaded by
  the compose stack's Prometheus (mounted read-only, *.rules.yml) and the terminal demo;
- kustomization.yaml: ConfigMaps of those files (prometheus-rules, and prometheus-rules-limits-NN per shard: one
  ConfigMap of them all would pass Kubernetes' limits at a few hundred tenants with limits of their own);
  demo-prometheus/kustomization.yaml: a Component that mounts them all in the dev overlay's demo Prometheus
  (components/demo-stack), one projected volume;
- operator/: PrometheusRules (monitoring.coreos.com/v1) with the same groups, one per file, for clusters running
  the Prometheus Operator; components/prometheus-rules adds it to an overlay.
"""

from __future__ import annotations

from typing import Any

from agentmon_config import PlatformConfig
from agentmon_rules.alerts import ALERTS_FILE, AlertGroup, alert_groups
from agentmon_rules.recording import LIMITS_GROUP, RuleGroup, recording_groups

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
# The Component the dev overlay's demo Prometheus takes its rules volume from (components/demo-stack).
DEMO_PROMETHEUS_DIR = "demo-prometheus"
DEMO_PROMETHEUS = "prometheus"  # the Deployment and its volume, as components/demo-stack/prometheus.yaml names them
DEMO_RULES_VOLUME = "rules"
DEMO_RULES_PATCH = "rules-volume.yaml"


def rule_file(groups: tuple[RuleGroup, ...] | tuple[AlertGroup, ...]) -> dict[str, Any]:
    return {"groups": [group.to_dict() for group in groups]}


def prometheus_rule(config: PlatformConfig, groups: tuple[RuleGroup, ...] | tuple[AlertGroup, ...],
                    name: str = PROMETHEUS_RULE_NAME) -> dict[str, Any]:
    """The Operator's wrapper; its labels are what the Prometheus resource's ruleSelector must match."""
    labels = {"app.kubernetes.io/part-of": "agentmon", **dict(config.rules.prometheus_rule_labels)}
    return {"apiVersion": PROMETHEUS_RULE_API, "kind": "PrometheusRule",
            "metadata": {"name": name, "labels": labels},
            "spec": rule_file(groups)}


def limit_shards(groups: tuple[RuleGroup, ...]) -> dict[str, RuleGroup]:
    """Each tenant shard's limits group by its suffix ("07" for agentmon-limits-07)."""
    prefix = f"{LIMITS_GROUP}-"
    return {g.name.removeprefix(prefix): g for g in groups if g.name.startswith(prefix)}


def limits_file(shard: str) -> str:
    return f"agentmon.limits-{shard}.rules.yml"


def recording_files(rules: dict[str, Any]) -> list[str]:
    """The recording-rule files of a render_rules result: RULE_FILE, then the limits shards in shard order."""
    return [RULE_FILE, *sorted(name for name in rules if name.startswith("agentmon.limits-"))]


def operator_path_of(name: str) -> str:
    """The PrometheusRule holding the groups of recording-rule file `name`."""
    if name == RULE_FILE:
        return PROMETHEUS_RULE_PATH
    return f"{OPERATOR_DIR}/{name.removeprefix('agentmon.').removesuffix('.rules.yml')}.yaml"


def recording_document(rules: dict[str, Any]) -> dict[str, Any]:
    """Every recording-rule file's groups as one rule file: what the Prometheus loading them all records."""
    return {"groups": [group for name in recording_files(rules) for group in rules[name]["groups"]]}


def render_rules(config: PlatformConfig) -> dict[str, dict[str, Any]]:
    """Path relative to the rules folder -> document."""
    groups, alerts = recording_groups(config), alert_groups(config)
    shards = limit_shards(groups)
    main = tuple(g for g in groups if g not in shards.values())
    configmaps = {RULES_CONFIGMAP: [RULE_FILE, ALERTS_FILE],
                  **{f"{RULES_CONFIGMAP}-limits-{shard}": [limits_file(shard)] for shard in shards}}
    operator = {PROMETHEUS_RULE_FILE: prometheus_rule(config, main),
                ALERTS_PROMETHEUS_RULE_FILE: prometheus_rule(config, alerts, ALERTS_PROMETHEUS_RULE_NAME),
                **{operator_path_of(limits_file(shard)).removeprefix(f"{OPERATOR_DIR}/"):
                   prometheus_rule(config, (group,), group.name) for shard, group in shards.items()}}
    return {
        RULE_FILE: rule_file(main),
        ALERTS_FILE: rule_file(alerts),
        **{limits_file(shard): rule_file((group,)) for shard, group in shards.items()},
        KUSTOMIZATION: {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                        "configMapGenerator": [{"name": name, "files": files} for name, files in configmaps.items()]},
        f"{DEMO_PROMETHEUS_DIR}/{KUSTOMIZATION}": {"apiVersion": "kustomize.config.k8s.io/v1alpha1",
                                                   "kind": "Component", "patches": [{"path": DEMO_RULES_PATCH}]},
        f"{DEMO_PROMETHEUS_DIR}/{DEMO_RULES_PATCH}": demo_rules_volume(list(configmaps)),
        f"{OPERATOR_DIR}/{KUSTOMIZATION}": {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                                            "resources": list(operator)},
        **{f"{OPERATOR_DIR}/{name}": doc for name, doc in operator.items()},
    }


def demo_rules_volume(configmaps: list[str]) -> dict[str, Any]:
    """The dev overlay's demo Prometheus mounts every rules ConfigMap in one folder (a projected volume), the
    folder compose mounts rules/ at: the list changes with the shards in use, so it is generated, as a patch of the
    hand-written Deployment (components/demo-stack/prometheus.yaml) that replaces its rules volume."""
    volume = {"name": DEMO_RULES_VOLUME, "projected": {"sources": [{"configMap": {"name": n}} for n in configmaps]}}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": DEMO_PROMETHEUS},
            "spec": {"template": {"spec": {"volumes": [volume]}}}}
