from __future__ import annotations

from pathlib import Path

from agentmon_config import load_platform
from agentmon_deploy import (
    dashboard_configmaps,
    dashboards_kustomization,
    deployment,
    network_policy,
    provisioning_kustomization,
    render_base_fragments,
)

REPO = Path(__file__).resolve().parents[3]
CONFIG = load_platform(REPO / "config" / "platform.yaml")


FILES = ["main.json", "zeta/tenant-zeta.json", "acme/tenant-acme.json"]


def test_dashboards_kustomization_has_one_configmap_per_tenant_folder():
    assert dashboards_kustomization(FILES)["configMapGenerator"] == [
        {"name": "grafana-dashboards", "files": ["main.json"]},
        {"name": "grafana-dashboards-acme", "files": ["tenant-acme.json=acme/tenant-acme.json"]},
        {"name": "grafana-dashboards-zeta", "files": ["tenant-zeta.json=zeta/tenant-zeta.json"]},
    ]


def test_projected_volume_lays_tenant_dashboards_out_in_folders():
    pod = deployment(CONFIG, dashboard_configmaps(FILES))["spec"]["template"]["spec"]
    (volume,) = [v for v in pod["volumes"] if v["name"] == "dashboards"]
    assert volume["projected"]["sources"][1] == {"configMap": {
        "name": "grafana-dashboards-acme", "items": [{"key": "tenant-acme.json", "path": "acme/tenant-acme.json"}]}}


def test_provisioning_configmaps_key_files_by_base_name():
    generators = provisioning_kustomization("datasources/agentmon.yaml", "dashboards/agentmon.yaml")
    assert generators["configMapGenerator"] == [
        {"name": "grafana-datasources", "files": ["agentmon.yaml=datasources/agentmon.yaml"]},
        {"name": "grafana-dashboard-providers", "files": ["agentmon.yaml=dashboards/agentmon.yaml"]},
    ]


def test_base_fragments_are_the_four_grafana_objects():
    assert {name: doc["kind"] for name, doc in render_base_fragments(CONFIG, FILES).items()} == {
        "deployment.yaml": "Deployment", "networkpolicy.yaml": "NetworkPolicy",
        "service.yaml": "Service", "serviceaccount.yaml": "ServiceAccount"}


def test_deployment_takes_image_and_dashboards_path_from_config():
    pod = deployment(CONFIG, dashboard_configmaps(FILES))["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == CONFIG.kubernetes.grafana_image == "grafana/grafana:13.2.0"
    assert {"name": "dashboards", "mountPath": "/var/lib/grafana/dashboards", "readOnly": True} in (
        container["volumeMounts"])
    assert not any("value" in e for e in container["env"] if e["name"].startswith("GF_SECURITY_ADMIN"))


def test_network_policy_egress_port_comes_from_config():
    egress = network_policy(CONFIG)["spec"]["egress"]
    assert egress[1] == {"ports": [{"protocol": "TCP", "port": 9090}]}
