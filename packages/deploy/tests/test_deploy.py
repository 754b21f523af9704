from __future__ import annotations

from dataclasses import replace
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


def test_each_tenant_folder_is_a_real_directory_mount():
    pod = deployment(CONFIG, dashboard_configmaps(FILES))["spec"]["template"]["spec"]
    assert {"name": "dashboards-acme", "configMap": {"name": "grafana-dashboards-acme"}} in pod["volumes"]
    mounts = [m for m in pod["containers"][0]["volumeMounts"] if m["name"].startswith("dashboards")]
    assert mounts == [
        {"name": "dashboards", "mountPath": "/var/lib/grafana/dashboards/main.json", "subPath": "main.json",
         "readOnly": True},
        {"name": "dashboards-acme", "mountPath": "/var/lib/grafana/dashboards/acme", "readOnly": True},
        {"name": "dashboards-zeta", "mountPath": "/var/lib/grafana/dashboards/zeta", "readOnly": True},
    ]


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
    assert {"name": "dashboards-acme", "mountPath": "/var/lib/grafana/dashboards/acme", "readOnly": True} in (
        container["volumeMounts"])
    # credentials only as files of the admin Secret named in the config, never as values
    assert {e["name"] for e in container["env"] if e["name"].startswith("GF_SECURITY_ADMIN")} == {
        "GF_SECURITY_ADMIN_USER__FILE", "GF_SECURITY_ADMIN_PASSWORD__FILE"}
    (secret,) = [v["secret"] for v in pod["volumes"] if "secret" in v]
    assert secret["secretName"] == CONFIG.kubernetes.admin_secret == "grafana-admin"


def test_network_policy_egress_port_and_prometheus_namespace_come_from_config():
    config = replace(CONFIG, kubernetes=replace(CONFIG.kubernetes, prometheus_namespace="observability",
                                                prometheus_port=9091))
    egress = network_policy(config)["spec"]["egress"]
    namespace = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "observability"}}}
    assert egress[1] == {"to": [namespace], "ports": [{"protocol": "TCP", "port": 9091}]}


