from __future__ import annotations

from pathlib import Path

from agentmon_config import load_platform
from agentmon_deploy import (
    dashboards_kustomization,
    deployment,
    network_policy,
    provisioning_kustomization,
    render_base_fragments,
)

REPO = Path(__file__).resolve().parents[3]
CONFIG = load_platform(REPO / "config" / "platform.yaml")


def test_dashboards_kustomization_lists_every_file_sorted():
    assert dashboards_kustomization(["b.json", "a.json"])["configMapGenerator"] == [
        {"name": "grafana-dashboards", "files": ["a.json", "b.json"]}]


def test_provisioning_configmaps_key_files_by_base_name():
    generators = provisioning_kustomization("datasources/agentmon.yaml", "dashboards/agentmon.yaml")
    assert generators["configMapGenerator"] == [
        {"name": "grafana-datasources", "files": ["agentmon.yaml=datasources/agentmon.yaml"]},
        {"name": "grafana-dashboard-providers", "files": ["agentmon.yaml=dashboards/agentmon.yaml"]},
    ]


def test_base_fragments_are_the_four_grafana_objects():
    assert {name: doc["kind"] for name, doc in render_base_fragments(CONFIG).items()} == {
        "deployment.yaml": "Deployment", "networkpolicy.yaml": "NetworkPolicy",
        "service.yaml": "Service", "serviceaccount.yaml": "ServiceAccount"}


def test_deployment_takes_image_and_dashboards_path_from_config():
    pod = deployment(CONFIG)["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == CONFIG.kubernetes.grafana_image == "grafana/grafana:13.2.0"
    assert {"name": "dashboards", "mountPath": "/var/lib/grafana/dashboards", "readOnly": True} in (
        container["volumeMounts"])
    assert not any("value" in e for e in container["env"] if e["name"].startswith("GF_SECURITY_ADMIN"))


def test_network_policy_egress_port_comes_from_config():
    egress = network_policy(CONFIG)["spec"]["egress"]
    assert egress[1] == {"ports": [{"protocol": "TCP", "port": 9090}]}
