from __future__ import annotations

import os
import subprocess
from dataclasses import replace
from pathlib import Path

from agentmon_config import load_platform
from agentmon_deploy import (
    COPY_SCRIPT,
    dashboard_configmaps,
    dashboards_kustomization,
    deployment,
    network_policy,
    provisioning_kustomization,
    render_base_fragments,
)

REPO = Path(__file__).resolve().parents[3]
CONFIG = load_platform(REPO / "config" / "platform.yaml")


# CRC-32 of the ids, written out (python -c 'import zlib; print(f"{zlib.crc32(b"acme"):08x}")'); a shard is named by
# their leading bits (0 = 0000, 9 = 1001, d = 1101, d7 = 1101 0111, dc = 1101 1100): acme 05c4ba3e,
# globex 96b39afa, wayne 93ccdb85; north dc2a30c2, tyrell d7d504ce, soylent de769885, cyberdyne de38b38b.
FILES = {"main.json": b"{}", "wayne/tenant-wayne.json": b"{}", "globex/tenant-globex.json": b"{}",
         "acme/tenant-acme.json": b"{}"}


def test_tenant_dashboards_share_shards_named_by_the_first_four_bits_of_the_ids_crc32():
    assert dashboards_kustomization(FILES)["configMapGenerator"] == [
        {"name": "grafana-dashboards", "files": ["main.json"]},
        {"name": "grafana-dashboards-tenants-0000", "files": ["acme_tenant-acme.json=acme/tenant-acme.json"]},
        {"name": "grafana-dashboards-tenants-1001", "files": ["globex_tenant-globex.json=globex/tenant-globex.json",
                                                              "wayne_tenant-wayne.json=wayne/tenant-wayne.json"]},
    ]


def _d_tenants(north: bytes) -> dict[str, bytes]:
    """Four tenants whose CRC-32 starts with d (1101), then 1 (north, soylent, cyberdyne) or 0 (tyrell); tyrell,
    soylent and cyberdyne store 49,998 + 2 (quotes) bytes."""
    return {"north/tenant-north.json": north, **{f"{t}/tenant-{t}.json": b"x" * 49_998
                                                 for t in ("tyrell", "soylent", "cyberdyne")}}


def test_a_shard_of_exactly_200000_stored_bytes_stays_one_configmap():
    shards = dashboard_configmaps(_d_tenants(b"x" * 49_998))
    assert list(shards) == ["grafana-dashboards", "grafana-dashboards-tenants-1101"]
    assert len(shards["grafana-dashboards-tenants-1101"]) == 4


def test_a_shard_over_200000_stored_bytes_splits_in_two_by_the_next_bit_counting_json_escapes():
    # 10 quotes + 49,988 x = 49,998 bytes in the file, stored as 49,998 + 10 escapes + 2 quotes = 50,010
    shards = dashboard_configmaps(_d_tenants(b'"' * 10 + b"x" * 49_988))
    assert {name: [key for key, _ in files] for name, files in shards.items()} == {
        "grafana-dashboards": [],
        "grafana-dashboards-tenants-11010": ["tyrell_tenant-tyrell.json"],
        # 50,000 + 50,010 + 50,000 = 150,010 stored bytes: under the budget, no further split
        "grafana-dashboards-tenants-11011": ["cyberdyne_tenant-cyberdyne.json", "north_tenant-north.json",
                                             "soylent_tenant-soylent.json"],
    }


def test_adding_a_tenant_changes_only_the_shard_it_joins():
    before = dashboards_kustomization(FILES)["configMapGenerator"]
    after = dashboards_kustomization({**FILES, "north/tenant-north.json": b"{}"})["configMapGenerator"]
    assert [g for g in after if g not in before] == [
        {"name": "grafana-dashboards-tenants-1101", "files": ["north_tenant-north.json=north/tenant-north.json"]}]
    assert [g for g in before if g not in after] == []


def test_an_init_container_copies_every_dashboards_configmap_into_the_folder_grafana_reads():
    pod = deployment(CONFIG, dashboard_configmaps(FILES))["spec"]["template"]["spec"]
    (init,) = pod["initContainers"]
    assert (init["name"], init["image"], init["command"][:2]) == (
        "copy-dashboards", "grafana/grafana:13.2.0", ["/bin/sh", "-c"])
    assert init["env"] == [{"name": "DASHBOARD_SOURCES", "value": "/agentmon-dashboards"},
                           {"name": "DASHBOARDS_PATH", "value": "/var/lib/grafana/dashboards"}]
    assert init["volumeMounts"] == [
        {"name": "dashboards", "mountPath": "/agentmon-dashboards/platform", "readOnly": True},
        {"name": "dashboards-tenants-0000", "mountPath": "/agentmon-dashboards/tenants-0000", "readOnly": True},
        {"name": "dashboards-tenants-1001", "mountPath": "/agentmon-dashboards/tenants-1001", "readOnly": True},
        {"name": "dashboard-files", "mountPath": "/var/lib/grafana/dashboards"},
    ]
    assert {"name": "dashboard-files", "emptyDir": {}} in pod["volumes"]
    assert {"name": "dashboards-tenants-1001",
            "configMap": {"name": "grafana-dashboards-tenants-1001"}} in pod["volumes"]
    (grafana,) = pod["containers"]
    assert [m for m in grafana["volumeMounts"] if "dashboard" in m["name"] and "provider" not in m["name"]] == [
        {"name": "dashboard-files", "mountPath": "/var/lib/grafana/dashboards", "readOnly": True}]


def _kubelet_volume(folder: Path, files: dict[str, str]) -> None:
    """A ConfigMap volume as kubelet writes it: the keys in a timestamped folder, `..data` pointing at it, and each
    key a symlink through `..data`."""
    stamped = folder / "..2026_12_06_10_00_00.000000001"
    stamped.mkdir(parents=True)
    for key, text in files.items():
        (stamped / key).write_text(text)
        (folder / key).symlink_to(f"..data/{key}")
    (folder / "..data").symlink_to(stamped.name)


def test_the_copy_script_turns_kubelet_volumes_into_regular_files_with_one_real_folder_per_tenant(tmp_path):
    sources, target = tmp_path / "sources", tmp_path / "dashboards"
    _kubelet_volume(sources / "platform", {"main.json": "main", "slos.json": "slos"})
    # the first "_" ends the tenant id (an id has none): a file name may hold one
    _kubelet_volume(sources / "tenants-0000", {"acme_tenant-acme.json": "acme", "acme_sla_view.json": "sla"})
    _kubelet_volume(sources / "tenants-1001", {"globex_tenant-globex.json": "globex",
                                            "north-1_tenant-north-1.json": "north-1"})
    target.mkdir()
    env = {"PATH": os.environ["PATH"], "DASHBOARD_SOURCES": str(sources), "DASHBOARDS_PATH": str(target)}
    subprocess.run(["/bin/sh", "-c", COPY_SCRIPT], env=env, check=True)
    found = {str(p.relative_to(target)): ("link" if p.is_symlink() else "dir" if p.is_dir() else p.read_text())
             for p in sorted(target.rglob("*"))}
    assert found == {"main.json": "main", "slos.json": "slos", "acme": "dir", "acme/tenant-acme.json": "acme",
                     "acme/sla_view.json": "sla",
                     "globex": "dir", "globex/tenant-globex.json": "globex",
                     "north-1": "dir", "north-1/tenant-north-1.json": "north-1"}


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
    config = replace(CONFIG, provisioning=replace(CONFIG.provisioning, dashboards_path="/srv/boards"))
    pod = deployment(config, dashboard_configmaps(FILES))["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == CONFIG.kubernetes.grafana_image == "grafana/grafana:13.2.0"
    assert {"name": "dashboard-files", "mountPath": "/srv/boards", "readOnly": True} in container["volumeMounts"]
    assert {"name": "DASHBOARDS_PATH", "value": "/srv/boards"} in pod["initContainers"][0]["env"]
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


