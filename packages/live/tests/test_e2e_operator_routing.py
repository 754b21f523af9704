"""The configuration the Prometheus Operator builds (kube-prometheus-stack 88.5.3's default alertmanager.config plus
agentmon's AlertmanagerConfigs, agentmon_checks.operator_merge) on a real Alertmanager on 127.0.0.1, alerts posted
to its API v2, webhook receivers on 127.0.0.1 counting what arrives (issue 19: findings 2, 3 and 9).

Production timing scaled down by SCALE (1/60: a minute of production is a second here): group_wait 500ms,
group_interval 15s, repeat_interval 4m, the heartbeat's group_interval 1s and repeat_interval 5s.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest

from agentmon_checks.operator_merge import config_bytes, kube_prometheus_stack_config, merged_config
from agentmon_config import load_platform
from agentmon_rules.routing import PRODUCTION, operator_document, subtrees

from .alertmanager_loopback import alertmanager, inhibited_by, post_alerts, webhooks

REPO = Path(__file__).resolve().parents[3]
CONFIG = load_platform(REPO / "config/platform.yaml", REPO / "tenants")
SCALE = 60
TIMING = PRODUCTION.scaled(SCALE)
NAMESPACE = "monitoring"
BUDGET_SECONDS = 15 * 60 / SCALE  # the storm budget's first 15 minutes


def configured(base_url: str, tenants: dict[str, str]):
    """The repository's configuration with these tenants (id -> contact path; "operations" for the operations
    contact) and every contact a webhook on loopback."""
    acme = CONFIG.tenants[0]
    alerts = dataclasses.replace(CONFIG.alerts, operations_contact=f"{base_url}/operations",
                                 heartbeat_contact=f"{base_url}/heartbeat")
    return dataclasses.replace(CONFIG, alerts=alerts, tenants=tuple(
        dataclasses.replace(acme, tenant_id=tenant, owner_contact=f"{base_url}/{path}")
        for tenant, path in tenants.items()))


def operator_built(config) -> bytes:
    objects = [operator_document(config, tree) for tree in subtrees(config, TIMING)]
    return config_bytes(merged_config(kube_prometheus_stack_config(), objects, NAMESPACE))


def agentmon(alertname: str, severity: str, **labels: str) -> dict[str, str]:
    return {"alertname": alertname, "severity": severity, "managed_by": "agentmon", "namespace": NAMESPACE, **labels}


def tenant_alert(alertname: str, severity: str, tenant: str) -> dict[str, str]:
    return agentmon(alertname, severity, tenant_id=tenant)


def seen(received, path: str) -> set[tuple[str, str]]:
    return {(a["labels"]["alertname"], a["labels"].get("tenant_id", "")) for a in received.alerts(path)}


@pytest.mark.e2e
def test_each_tenant_reaches_its_owner_only_and_no_tenant_inhibits_another(tmp_path):
    with webhooks() as (received, base):
        # acme and hooli share a contact; initech has its own; globex's is the operations contact.
        config = configured(base, {"acme": "acme", "hooli": "acme", "initech": "initech", "globex": "operations"})
        with alertmanager(tmp_path, operator_built(config)) as url:
            post_alerts(url, [
                tenant_alert("AgentmonErrorBudgetBurnFast", "critical", "acme"),
                tenant_alert("AgentmonTenantLatencyHigh", "warning", "acme"),
                tenant_alert("AgentmonTenantQueueDepthHigh", "warning", "hooli"),
                tenant_alert("AgentmonTenantNoActiveWorker", "critical", "globex"),
                tenant_alert("AgentmonErrorBudgetBurnSlow", "warning", "globex"),
                tenant_alert("AgentmonTenantLatencyHigh", "warning", "globex"),
                tenant_alert("AgentmonErrorBudgetBurnFast", "critical", "initech"),
                tenant_alert("AgentmonErrorBudgetBurnSlow", "warning", "initech"),
                agentmon("AgentmonSuccessRateLow", "critical"),
                agentmon("AgentmonSuccessRateLow", "warning"),
                agentmon("AgentmonHeartbeat", "none"),
                # kube-prometheus-stack's own: about our namespace, its Watchdog, and a pair its rules inhibit
                {"alertname": "KubePodCrashLooping", "severity": "warning", "namespace": NAMESPACE},
                {"alertname": "Watchdog", "severity": "none"},
                {"alertname": "KubeQuotaExceeded", "severity": "critical", "namespace": NAMESPACE},
                {"alertname": "KubeQuotaExceeded", "severity": "warning", "namespace": NAMESPACE},
            ])
            time.sleep(3)  # group_wait 0.5 s, then a few flushes
            inhibition = inhibited_by(url)

    # acme's critical page and globex's warnings (both ways: globex's critical, acme's warning), same namespace:
    assert inhibition[("AgentmonTenantLatencyHigh", "acme")] == []
    assert inhibition[("AgentmonErrorBudgetBurnSlow", "globex")] == []
    assert inhibition[("AgentmonTenantLatencyHigh", "globex")] == []
    assert inhibition[("AgentmonTenantQueueDepthHigh", "hooli")] == []
    # what must be inhibited is: a tenant's page mutes its own ticket, critical mutes warning of the same platform
    # alert, and the chart's rules still work for its own alerts
    assert len(inhibition[("AgentmonErrorBudgetBurnSlow", "initech")]) == 1
    assert len(inhibition[("AgentmonSuccessRateLow", "warning")]) == 1
    assert len(inhibition[("KubeQuotaExceeded", "warning")]) == 1

    assert seen(received, "/acme") == {("AgentmonErrorBudgetBurnFast", "acme"), ("AgentmonTenantLatencyHigh", "acme"),
                                       ("AgentmonTenantQueueDepthHigh", "hooli")}
    assert seen(received, "/initech") == {("AgentmonErrorBudgetBurnFast", "initech")}
    assert seen(received, "/operations") == {
        ("AgentmonTenantNoActiveWorker", "globex"), ("AgentmonErrorBudgetBurnSlow", "globex"),
        ("AgentmonTenantLatencyHigh", "globex"), ("AgentmonSuccessRateLow", "")}
    assert seen(received, "/heartbeat") == {("AgentmonHeartbeat", "")}
    assert set(received.payloads) == {"/acme", "/initech", "/operations", "/heartbeat"}  # nothing else, anywhere


TENANTS = 1000
OPERATIONS_EVERY = 10  # every 10th tenant's owner is the operations contact: 100 of them; 900 own contacts


def storm_tenants() -> dict[str, str]:
    return {f"t{i:04d}": "operations" if i % OPERATIONS_EVERY == 0 else f"owner/t{i:04d}" for i in range(TENANTS)}


def outage_alerts(tenants) -> list[dict[str, str]]:
    """A platform-wide outage: every tenant burns (page and ticket), is slow and queues; the platform alerts."""
    per_tenant = [tenant_alert(name, severity, tenant) for tenant in tenants for name, severity in (
        ("AgentmonErrorBudgetBurnFast", "critical"), ("AgentmonErrorBudgetBurnSlow", "warning"),
        ("AgentmonTenantLatencyHigh", "warning"), ("AgentmonTenantQueueDepthHigh", "warning"))]
    platform = [agentmon("AgentmonSuccessRateLow", "critical"), agentmon("AgentmonSuccessRateLow", "warning"),
                agentmon("AgentmonLatencyHigh", "warning"), agentmon("AgentmonQueueDepthHigh", "warning"),
                agentmon("AgentmonHeartbeat", "none")]
    return per_tenant + platform


@pytest.mark.e2e
def test_a_platform_wide_outage_at_1000_tenants_stays_within_the_storm_budget(tmp_path):
    """Budget: in the first 15 minutes, operations gets at most 10 notifications, each tenant owner at most 2.
    Expected, from the routing: operations 5 groups (the platform route groups by alertname: SuccessRateLow,
    LatencyHigh, QueueDepthHigh; the route of its 100 tenants groups by severity: critical, warning), each owner 2
    (critical, warning; the ticket is inhibited by the page); group_interval (15 s here) is the whole window, so no
    group notifies twice in it. On a loaded machine a delivery may land after the window (fewer, never more), so
    the groups are counted again once everything arrived. The heartbeat's own route repeats every 5 s; the
    operations route would repeat only after 4 minutes."""
    tenants = storm_tenants()
    with webhooks() as (received, base):
        config = configured(base, tenants)
        with alertmanager(tmp_path, operator_built(config)) as url:
            received.started = time.monotonic()
            post_alerts(url, outage_alerts(tenants))
            time.sleep(BUDGET_SECONDS - (time.monotonic() - received.started))
            counts = received.notifications(until=BUDGET_SECONDS)
            deadline = time.monotonic() + 3 * BUDGET_SECONDS
            while time.monotonic() < deadline and len(received.deliveries(until=1e9).get("/heartbeat", [])) < 2:
                time.sleep(0.5)  # (its repeats are identical deliveries: counted one by one here)
            heartbeats = len(received.deliveries(until=1e9).get("/heartbeat", []))
    groups = {path: {key for key, _, _ in got} for path, got in received.deliveries(until=1e9).items()}

    operations = [(key, n) for key, _, n in received.deliveries(BUDGET_SECONDS)["/operations"]]
    assert counts["/operations"] <= 10, operations
    assert max(n for path, n in counts.items() if path.startswith("/owner/")) <= 2
    assert len(groups["/operations"]) == 5, groups["/operations"]
    owners = {path: len(keys) for path, keys in groups.items() if path.startswith("/owner/")}
    assert len(owners) == 900 and set(owners.values()) == {2}
    assert heartbeats >= 2
    assert all(seen(received, f"/owner/{t}") == {("AgentmonErrorBudgetBurnFast", t), ("AgentmonTenantLatencyHigh", t),
                                                  ("AgentmonTenantQueueDepthHigh", t)}
               for t, path in tenants.items() if path != "operations")
    assert {name for name, _ in seen(received, "/operations")} == {
        "AgentmonSuccessRateLow", "AgentmonLatencyHigh", "AgentmonQueueDepthHigh", "AgentmonErrorBudgetBurnFast",
        "AgentmonTenantLatencyHigh", "AgentmonTenantQueueDepthHigh"}
