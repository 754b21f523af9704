"""The AlertmanagerConfig generator: the labels an Alertmanager's alertmanagerConfigSelector matches come from the
configuration, like the PrometheusRule's."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from agentmon_config import ConfigError, load_platform
from agentmon_rules import render_alertmanager
from agentmon_rules.routing import alertmanager_operator_config
from agentmon_testkit import replace_once

REPO = Path(__file__).resolve().parents[3]
CONFIG = load_platform(REPO / "config" / "platform.yaml", REPO / "tenants")
LABELS_LINE = "alertmanager_config_labels: {}"


def test_the_alertmanager_config_carries_the_configured_selector_labels():
    changed = dataclasses.replace(CONFIG, alerts=dataclasses.replace(
        CONFIG.alerts, alertmanager_config_labels=(("alertmanagerConfig", "main"), ("release", "kps"))))
    doc = alertmanager_operator_config(changed)
    assert (doc["apiVersion"], doc["kind"], doc["metadata"]["name"]) == (
        "monitoring.coreos.com/v1alpha1", "AlertmanagerConfig", "agentmon-routing")
    assert doc["metadata"]["labels"] == {"app.kubernetes.io/part-of": "agentmon", "alertmanagerConfig": "main",
                                         "release": "kps"}
    assert doc["spec"] == alertmanager_operator_config(CONFIG)["spec"]


def test_by_default_only_the_part_of_label_as_kube_prometheus_stack_selects_every_config():
    assert CONFIG.alerts.alertmanager_config_labels == ()
    assert render_alertmanager(CONFIG)["operator/alertmanagerconfig.yaml"]["metadata"]["labels"] == {
        "app.kubernetes.io/part-of": "agentmon"}


def test_labels_from_platform_yaml_reach_the_model_sorted(tmp_path):
    config = tmp_path / "platform.yaml"
    config.write_text(replace_once((REPO / "config/platform.yaml").read_text(), LABELS_LINE,
                                   "alertmanager_config_labels: {team: sre, alertmanagerConfig: main}"))
    assert load_platform(config).alerts.alertmanager_config_labels == (("alertmanagerConfig", "main"),
                                                                       ("team", "sre"))


@pytest.mark.parametrize("labels, field", [
    ("{alertmanagerConfig: not a label value}", "alerts.alertmanager_config_labels.alertmanagerConfig"),
    ("{'bad key': x}", "alerts.alertmanager_config_labels"),
])
def test_alertmanager_config_labels_must_be_valid_kubernetes_labels(tmp_path, labels, field):
    config = tmp_path / "platform.yaml"
    config.write_text(replace_once((REPO / "config/platform.yaml").read_text(), LABELS_LINE,
                                   f"alertmanager_config_labels: {labels}"))
    with pytest.raises(ConfigError) as info:
        load_platform(config)
    assert info.value.field == field
