"""Issue 25: 2,000 tenants, each with its own SLO, latency SLA, queue threshold and contact. The rules and the routing
are the outputs that grow with distinct limits and contacts: every file they generate and every Kubernetes object
kustomize renders from them stays under the 250,000-byte budget, and a tenant's shard never moves."""

from __future__ import annotations

import dataclasses
import json
import zlib
from pathlib import Path

import pytest

from agentmon_bundle import outputs
from agentmon_bundle.outputs import with_parts
from agentmon_bundle.serialize import yaml_bytes
from agentmon_checks.kustomize import build
from agentmon_config import Contact, Tenant, load_platform
from agentmon_deploy import dashboard_configmaps, render_base_fragments
from agentmon_rules import render_alertmanager, render_rules

REPO = Path(__file__).resolve().parents[3]
BUDGET = 250_000  # bytes of an object as compact JSON (client-side kubectl apply: a 262,144-byte annotation)
TENANTS = 2000
BUCKETS = (0.5, 1, 2.5, 5, 10, 20, 30, 60, 90, 120, 180, 300)  # the contract's bucket bounds: the valid SLAs


def tenant(i: int) -> Tenant:
    """SLO 95 % + i x 0.002, SLA the i-th bucket bound (cycling), queue 10 + i, a contact of its own."""
    tenant_id = f"tenant-{i:04d}"
    return Tenant(source=REPO / "tenants" / tenant_id / "tenant.yaml", tenant_id=tenant_id,
                  display_name=f"Tenant {i}", success_rate_slo=round(95 + i * 0.002, 3),
                  p95_latency_sla_seconds=BUCKETS[i % len(BUCKETS)], queue_alert_threshold=10 + i,
                  owner_contact=Contact.of(f"{tenant_id}-oncall@example.com"))


BASE = load_platform(REPO / "config/platform.yaml")
CONFIG = dataclasses.replace(BASE, tenants=tuple(tenant(i) for i in range(TENANTS)))


@pytest.fixture(scope="module")
def generated() -> dict[str, bytes]:
    """rules/ and alertmanager/ as the build writes them for CONFIG."""
    files = {f"rules/{name}": yaml_bytes(doc) for name, doc in render_rules(CONFIG).items()}
    return files | with_parts(render_alertmanager(CONFIG))[1]


def write(root: Path, files: dict[str, bytes]) -> None:
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)


def test_every_rules_and_routing_file_fits_the_budget(generated):
    """Every tenant shard is in use at 2,000 tenants (the crc32 of the ids mod 32 cover all 32), each its own file."""
    shards = {zlib.crc32(f"tenant-{i:04d}".encode()) % 32 for i in range(TENANTS)}
    assert len(shards) == 32
    assert sorted(n for n in generated if n.startswith("rules/agentmon.limits-")) == [
        f"rules/agentmon.limits-{s:02d}.rules.yml" for s in range(32)]
    assert {name: len(content) for name, content in generated.items() if len(content) > BUDGET} == {
        "alertmanager/alertmanager.yml": len(generated["alertmanager/alertmanager.yml"])}  # compose's one file


def test_alertmanager_yml_is_its_parts_in_name_order(generated):
    parts = sorted(n for n in generated if n.startswith("alertmanager/parts/"))
    assert len(parts) > 1 and all(len(generated[p]) <= 200_000 for p in parts)
    assert b"".join(generated[p] for p in parts) == generated["alertmanager/alertmanager.yml"]


def test_every_object_kustomize_renders_from_them_fits_the_budget(generated, tmp_path):
    write(tmp_path, generated)
    sizes = {f"{folder}: {o['kind']}/{o['metadata']['name']}": len(json.dumps(o, separators=(",", ":")).encode())
             for folder in ("rules", "rules/operator", "alertmanager", "alertmanager/operator")
             for o in build(tmp_path / folder)}
    kinds = {name.split(": ")[1].split("/")[0] for name in sizes}
    assert kinds == {"ConfigMap", "PrometheusRule", "AlertmanagerConfig"}
    assert len([n for n in sizes if n.startswith("rules/operator: PrometheusRule/agentmon-limits-")]) == 32
    assert {name: size for name, size in sizes.items() if size > BUDGET} == {}


def test_the_grafana_deployment_and_every_dashboard_shard_fit_the_budget():
    """2,000 tenants, each with a dashboard as large as acme's committed one: the Deployment mounts shards, not one
    volume per tenant, and no shard holds more than 200,000 stored bytes (its metadata fits in the rest)."""
    acme = (REPO / "dashboards/acme/tenant-acme.json").read_bytes()
    files = {"agentmon-system-health.json": b"{}",
             **{f"tenant-{i:04d}/tenant-tenant-{i:04d}.json": acme for i in range(TENANTS)}}
    deployment = render_base_fragments(CONFIG, files)["deployment.yaml"]
    assert len(json.dumps(deployment, separators=(",", ":")).encode()) <= BUDGET
    shards = {name: keys for name, keys in dashboard_configmaps(files).items() if "-tenants-" in name}
    stored = len(json.dumps(acme.decode()).encode())
    assert max(len(keys) for keys in shards.values()) * stored <= 200_000
    assert sorted(key for keys in shards.values() for key, _ in keys) == [
        f"tenant-{i:04d}_tenant-tenant-{i:04d}.json" for i in range(TENANTS)]


def test_adding_a_tenant_moves_no_other_tenants_limits():
    """tenant-2000 joins shard crc32("tenant-2000") mod 32; every other shard's file is unchanged byte for byte,
    and that shard still holds every tenant it held."""
    before = render_rules(dataclasses.replace(CONFIG, tenants=CONFIG.tenants[:200]))
    after = render_rules(dataclasses.replace(CONFIG, tenants=(*CONFIG.tenants[:200], tenant(2000))))
    shard = f"agentmon.limits-{zlib.crc32(b'tenant-2000') % 32:02d}.rules.yml"
    changed = sorted(n for n in after if n.startswith("agentmon.limits-") and after[n] != before.get(n))
    assert changed == [shard]

    def infos(rules):
        return {r["labels"]["tenant_id"] for g in rules[shard]["groups"] for r in g["rules"]
                if r["record"] == "tenant_id:agentmon_tenant:info"}
    assert infos(after) == infos(before) | {"tenant-2000"}


def test_at_6000_tenants_the_shards_stay_large_and_the_deployment_fits():
    """Shards split in two, not in sixteen: 6,000 acme-sized dashboards (86 MB stored) need about 600 shards of 100
    to 200 KB, so the Deployment's volumes still fit (split by a hex digit, most of 256 shards would split into 16)."""
    acme = (REPO / "dashboards/acme/tenant-acme.json").read_bytes()
    files = {f"tenant-{i:05d}/tenant-tenant-{i:05d}.json": acme for i in range(6000)}
    shards = [keys for name, keys in dashboard_configmaps(files).items() if "-tenants-" in name]
    stored = len(json.dumps(acme.decode()).encode())
    assert min(len(keys) for keys in shards) * stored > 200_000 // 4  # a split halves a shard over 200,000
    deployment = render_base_fragments(CONFIG, {"agentmon-system-health.json": b"{}", **files})["deployment.yaml"]
    assert len(json.dumps(deployment, separators=(",", ":")).encode()) <= BUDGET


def test_the_targets_rendered_in_a_second_process_are_the_files_one_process_renders(monkeypatch):
    """At TARGETS_IN_CHILD_FROM tenants and more the targets' files come from a forked process."""
    assert len(CONFIG.tenants) >= outputs.TARGETS_IN_CHILD_FROM
    forked = outputs.render(CONFIG).files
    monkeypatch.setattr(outputs, "TARGETS_IN_CHILD_FROM", len(CONFIG.tenants) + 1)
    in_one_process = outputs.render(CONFIG).files
    assert list(forked) == list(in_one_process)  # the same files in the same order
    assert [rel for rel in forked if forked[rel] != in_one_process[rel]] == []
    # each tenant's file in each target, and 9 more: 2 JSON files, the kustomizations, the datasource, ServiceMonitor
    assert sum(rel.startswith("targets/") for rel in forked) == 2 * TENANTS + 9
