"""The target generators: kube-prometheus-stack sidecar ConfigMaps, grafana-operator resources, the ServiceMonitor."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from agentmon_config import load_platform
from agentmon_deploy.targets import (
    grafana_dashboard,
    operator_resources,
    service_monitor,
    sidecar_files,
)

REPO = Path(__file__).resolve().parents[3]
CONFIG = load_platform(REPO / "config" / "platform.yaml", REPO / "tenants")
BOARDS = {"agentmon-system-health.json": {"uid": "agentmon-system-health"},
          "acme/tenant-acme.json": {"uid": "tenant-acme"}, "globex/tenant-globex.json": {"uid": "tenant-globex"}}
JSON = {path: (json.dumps(board) + "\n").encode() for path, board in BOARDS.items()}
PROVISIONED = {"access": "proxy", "editable": False, "isDefault": True, "jsonData": {"timeInterval": "15s"},
               "name": "Prometheus", "type": "prometheus", "uid": "agentmon-prometheus", "url": "http://prometheus:9090"}


def test_one_configmap_per_dashboard_labelled_for_the_sidecar_tenants_annotated_with_their_folder():
    labels = {"grafana_dashboard": "1", "app.kubernetes.io/part-of": "agentmon"}
    files = sidecar_files(CONFIG, JSON)
    assert sorted(files) == ["dashboards/acme.yaml", "dashboards/globex.yaml", "kustomization.yaml"]
    assert files["kustomization.yaml"]["configMapGenerator"] == [
        {"name": "dashboard-agentmon-system-health",
         "files": ["agentmon-system-health.json=dashboards/agentmon-system-health.json"],
         "options": {"disableNameSuffixHash": True, "labels": labels}}]
    # each tenant's ConfigMaps in a file of their own, listed by the kustomization
    assert files["kustomization.yaml"]["resources"] == ["dashboards/acme.yaml", "dashboards/globex.yaml"]
    assert files["dashboards/globex.yaml"] == [
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": "dashboard-tenant-globex", "labels": labels, "annotations": {"grafana_folder": "globex"}},
         "data": {"tenant-globex.json": '{"uid": "tenant-globex"}\n'}}]


def test_the_sidecar_label_and_folder_annotation_come_from_the_configuration():
    kps = dataclasses.replace(CONFIG.targets.kube_prometheus_stack, dashboard_label="team-dashboards",
                              dashboard_label_value="", folder_annotation="k8s-sidecar-target-directory")
    config = dataclasses.replace(CONFIG, targets=dataclasses.replace(CONFIG.targets, kube_prometheus_stack=kps))
    (acme,) = sidecar_files(config, JSON)["dashboards/acme.yaml"]
    assert acme["metadata"]["labels"] == {"team-dashboards": "", "app.kubernetes.io/part-of": "agentmon"}
    assert acme["metadata"]["annotations"] == {"k8s-sidecar-target-directory": "acme"}


def test_a_tenant_dashboard_goes_into_its_grafana_folder_with_its_json_inline():
    board = grafana_dashboard(CONFIG, "acme/tenant-acme.json", {"uid": "tenant-acme", "title": "Acme"})
    assert board == {
        "apiVersion": "grafana.integreatly.org/v1beta1", "kind": "GrafanaDashboard",
        "metadata": {"name": "dashboard-tenant-acme", "labels": {"app.kubernetes.io/part-of": "agentmon"}},
        "spec": {"instanceSelector": {"matchLabels": {"dashboards": "grafana"}}, "allowCrossNamespaceImport": False,
                 "json": '{"title":"Acme","uid":"tenant-acme"}', "uid": "tenant-acme", "folderRef": "agentmon-acme"}}


def test_operator_resources_one_folder_per_tenant_one_dashboard_each_and_the_datasource():
    files = operator_resources(CONFIG, BOARDS, PROVISIONED)
    assert sorted(files) == ["dashboard-agentmon-system-health.yaml", "datasource.yaml", "kustomization.yaml",
                             "tenant-acme.yaml", "tenant-globex.yaml"]
    assert files["kustomization.yaml"]["resources"] == sorted(set(files) - {"kustomization.yaml"})
    folder, dashboard = files["tenant-globex.yaml"]  # a tenant's objects in one file
    assert folder["spec"] == {
        "instanceSelector": {"matchLabels": {"dashboards": "grafana"}}, "allowCrossNamespaceImport": False,
        "title": "globex", "uid": "agentmon-globex"}
    assert (dashboard["metadata"]["name"], dashboard["spec"]["folderRef"]) == ("dashboard-tenant-globex",
                                                                              "agentmon-globex")
    assert "folderRef" not in files["dashboard-agentmon-system-health.yaml"]["spec"]  # the General folder
    datasource = files["datasource.yaml"]["spec"]["datasource"]
    # the provisioned datasource, not made the default of a Grafana that may have its own
    assert datasource == {**PROVISIONED, "isDefault": False}


def test_no_datasource_when_the_operator_grafana_has_it_already():
    operator = dataclasses.replace(CONFIG.targets.grafana_operator, create_datasource=False, datasource_uid="prom")
    config = dataclasses.replace(CONFIG, targets=dataclasses.replace(CONFIG.targets, grafana_operator=operator))
    assert "datasource.yaml" not in operator_resources(config, BOARDS, PROVISIONED)


def test_service_monitor_scrapes_at_the_configured_interval_not_the_stacks_30s():
    ten = dataclasses.replace(CONFIG, datasource=dataclasses.replace(CONFIG.datasource, scrape_interval="10s"))
    assert service_monitor(CONFIG) == {
        "apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
        "metadata": {"name": "agentmon-platform",
                     "labels": {"release": "kube-prometheus-stack", "app.kubernetes.io/part-of": "agentmon"}},
        "spec": {"namespaceSelector": {"matchNames": ["ai-agents"]},
                 "selector": {"matchLabels": {"app.kubernetes.io/name": "ai-agents-platform"}},
                 "endpoints": [{"port": "metrics", "path": "/metrics", "interval": "15s"}]}}
    assert service_monitor(ten)["spec"]["endpoints"][0]["interval"] == "10s"


def test_inline_json_is_compact_and_sorted():
    spec = grafana_dashboard(CONFIG, "x.json", {"uid": "x", "b": [1, 2], "a": {"d": 1, "c": 2}})["spec"]
    assert spec["json"] == '{"a":{"c":2,"d":1},"b":[1,2],"uid":"x"}'
    assert json.loads(spec["json"])["uid"] == spec["uid"] == "x"
