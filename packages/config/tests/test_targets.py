"""The `targets:` section: defaults from the schema, typed objects, bad values named by file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentmon_config import ConfigError, load_platform, with_datasource_uid

from .test_loader import MINIMAL


def load(tmp_path: Path, extra: str = ""):
    path = tmp_path / "platform.yaml"
    path.write_text(MINIMAL + extra)
    return load_platform(path)


def error(tmp_path: Path, extra: str) -> str:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, extra)
    return str(info.value).split(": ", 1)[1]


def test_omitted_targets_take_the_charts_and_operators_defaults(tmp_path):
    targets = load(tmp_path).targets
    kps, operator, monitor = targets.kube_prometheus_stack, targets.grafana_operator, targets.service_monitor
    assert (kps.datasource_uid, kps.dashboard_label, kps.dashboard_label_value, kps.folder_annotation) == (
        "prometheus", "grafana_dashboard", "1", "grafana_folder")
    assert (operator.instance_selector, operator.allow_cross_namespace_import, operator.create_datasource,
            operator.datasource_uid) == ((("dashboards", "grafana"),), False, True, "agentmon-prometheus")
    assert (monitor.namespace, monitor.service_labels, monitor.port, monitor.path, monitor.labels) == (
        "ai-agents", (("app.kubernetes.io/name", "ai-agents-platform"),), "metrics", "/metrics",
        (("release", "kube-prometheus-stack"),))


def test_labels_are_sorted_pairs(tmp_path):
    config = load(tmp_path, "targets:\n  grafana_operator:\n    instance_selector: {team: ops, app: grafana}\n")
    assert config.targets.grafana_operator.instance_selector == (("app", "grafana"), ("team", "ops"))


def test_a_target_datasource_uid_changes_only_the_datasource_uid(tmp_path):
    config = load(tmp_path)
    variant = with_datasource_uid(config, "prometheus")
    assert (variant.datasource.uid, config.datasource.uid) == ("prometheus", "prom")
    assert (variant.datasource.url, variant.tenants, variant.alerts) == (
        config.datasource.url, config.tenants, config.alerts)


@pytest.mark.parametrize(("extra", "message"), [
    ("targets:\n  kube_prometheus_stack:\n    datasource_uid: 'my prometheus'\n",
     "targets.kube_prometheus_stack.datasource_uid: 'my prometheus' does not match"),
    ("targets:\n  kube_prometheus_stack:\n    datasource_uid: " + "a" * 41 + "\n",
     "targets.kube_prometheus_stack.datasource_uid: '" + "a" * 41 + "' does not match"),
    ("targets:\n  grafana_operator:\n    instance_selector: {}\n",
     "targets.grafana_operator.instance_selector: {} should be non-empty"),
    ("targets:\n  service_monitor:\n    port: metrics-port-http\n",
     "targets.service_monitor.port: 'metrics-port-http' does not match"),
    ("targets:\n  service_monitor:\n    port: metrics--x\n",
     "targets.service_monitor.port: 'metrics--x' does not match"),
    ("targets:\n  service_monitor:\n    path: metrics\n",
     "targets.service_monitor.path: 'metrics' does not match"),
    ("targets:\n  grafana_operator:\n    create_datasource: yes please\n",
     "targets.grafana_operator.create_datasource: 'yes please' is not of type 'boolean'"),
    ("targets:\n  kube_prometheus_stack:\n    folder_anotation: grafana_folder\n",
     "targets.kube_prometheus_stack.folder_anotation: unknown field"),
])
def test_a_bad_target_value_is_named_with_its_field(tmp_path, extra, message):
    assert error(tmp_path, extra).startswith(message)


@pytest.mark.parametrize(("section", "field", "value", "ok"), [
    ("grafana_operator", "datasource_uid", "a" * 40, True), ("grafana_operator", "datasource_uid", "a" * 41, False),
    ("grafana_operator", "datasource_uid", "prom_1-x", True), ("grafana_operator", "datasource_uid", "", False),
    ("service_monitor", "port", "a" * 15, True), ("service_monitor", "port", "a" * 16, False),
    ("service_monitor", "port", "9090", False), ("service_monitor", "port", "http-metrics", True)])
def test_grafanas_40_character_uids_and_iana_port_names_at_their_boundaries(tmp_path, section, field, value, ok):
    extra = f"targets:\n  {section}:\n    {field}: '{value}'\n"
    if ok:
        assert getattr(getattr(load(tmp_path, extra).targets, section), field) == value
    else:
        assert error(tmp_path, extra).startswith(f"targets.{section}.{field}: '{value}' ")


def test_the_error_names_the_file_and_line(tmp_path):
    with pytest.raises(ConfigError) as info:
        load(tmp_path, "targets:\n  service_monitor:\n    namespace: AI-Agents\n")
    assert (info.value.path, info.value.line, info.value.field) == (
        str(tmp_path / "platform.yaml"), 9, "targets.service_monitor.namespace")
