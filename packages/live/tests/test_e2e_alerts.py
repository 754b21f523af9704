"""Alert delivery end to end: the simulator with a failure spike on one tenant, a real Prometheus loading the
generated recording and alert rules and scraping it, a real Alertmanager with the generated routing, and a webhook
receiver per tenant on 127.0.0.1. The spiking tenant's receiver gets its alert with the panel link; the other
tenant's receiver gets nothing.

Short settings are passed here, never by changing the production defaults: 1 s scrapes and evaluations, `for:`
of 1 s, Alertmanager's group_wait and group_interval of 1 s.
"""

from __future__ import annotations

import dataclasses
import subprocess
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from agentmon_bundle.serialize import yaml_bytes
from agentmon_config import AlertRule, load_platform
from agentmon_live.prometheus import PrometheusServer, free_loopback_port
from agentmon_live.rules import local_rule_file
from agentmon_rules import alert_groups, alertmanager_config, rule_file
from agentmon_rules.routing import Timing
from agentmon_simulator import Limits, Simulation, TenantProfile, parse_incident
from agentmon_simulator.server import serve

from .alertmanager_loopback import Received
from .conftest import prerequisite

REPO = Path(__file__).resolve().parents[3]
FAST = "1s"
INCIDENT_AFTER = 4.0
DEADLINE = 60.0  # seconds from the incident for the alert to reach its receiver


def fast_config(webhook: str):
    """The repository's configuration with every tenant's owner (and operations) at a webhook on loopback,
    and the short settings of this test."""
    config = load_platform(REPO / "config/platform.yaml", REPO / "tenants")
    quick = AlertRule(for_=FAST, severity="")
    alerts = dataclasses.replace(config.alerts, operations_contact=f"{webhook}/operations", **{
        f.name: dataclasses.replace(quick, severity=getattr(config.alerts, f.name).severity)
        for f in dataclasses.fields(config.alerts) if isinstance(getattr(config.alerts, f.name), AlertRule)})
    tenants = tuple(dataclasses.replace(t, owner_contact=f"{webhook}/{t.tenant_id}") for t in config.tenants)
    return dataclasses.replace(config, alerts=alerts, tenants=tenants,
                               datasource=dataclasses.replace(config.datasource, scrape_interval=FAST),
                               rules=dataclasses.replace(config.rules, evaluation_interval=FAST))


@pytest.mark.e2e
def test_a_tenant_alert_reaches_that_tenants_receiver_only(tmp_path):
    prerequisite("prometheus")
    alertmanager_binary = prerequisite("prometheus-alertmanager")
    received = Received()
    webhooks = ThreadingHTTPServer(("127.0.0.1", 0), received.handler())
    threading.Thread(target=webhooks.serve_forever, daemon=True).start()
    config = fast_config(f"http://127.0.0.1:{webhooks.server_address[1]}")

    limits = Limits(config.thresholds, config.tenants)
    profiles = (TenantProfile("acme", 20, 0.0, 5, 0.3, queue_depth=10, active_workers=3),
                TenantProfile("globex", 20, 0.0, 5, 0.3, queue_depth=10, active_workers=3))
    simulation = Simulation(profiles, (parse_incident(f"failure-spike:acme@{INCIDENT_AFTER:.0f}s", limits),), noise=0)
    stop, ports, ready = threading.Event(), [], threading.Event()
    simulator = threading.Thread(target=serve, daemon=True, kwargs=dict(
        simulation=simulation, host="127.0.0.1", port=0, stop=stop, on_ready=lambda p: (ports.append(p), ready.set())))
    simulator.start()
    assert ready.wait(10)
    started = time.monotonic()

    am_port = free_loopback_port()
    (tmp_path / "alertmanager.yml").write_bytes(yaml_bytes(alertmanager_config(
        config, Timing(group_wait=FAST, group_interval=FAST, repeat_interval="1h"))))
    alertmanager = subprocess.Popen(
        [alertmanager_binary, f"--config.file={tmp_path / 'alertmanager.yml'}",
         f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address=",
         f"--storage.path={tmp_path / 'alertmanager-data'}"],
        stdout=(tmp_path / "alertmanager.log").open("wb"), stderr=subprocess.STDOUT)
    (tmp_path / "recording.rules.yml").write_bytes(yaml_bytes(local_rule_file(config, FAST)))
    (tmp_path / "alerts.rules.yml").write_bytes(yaml_bytes(rule_file(alert_groups(config))))
    (tmp_path / "prometheus.yml").write_bytes(yaml_bytes({
        "global": {"scrape_interval": FAST, "evaluation_interval": FAST},
        "rule_files": [str(tmp_path / "recording.rules.yml"), str(tmp_path / "alerts.rules.yml")],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]},
        "scrape_configs": [{"job_name": "agentmon-platform",
                            "static_configs": [{"targets": [f"127.0.0.1:{ports[0]}"]}]}]}))
    try:
        with PrometheusServer(config_file=tmp_path / "prometheus.yml", storage=tmp_path / "data"):
            deadline = started + INCIDENT_AFTER + DEADLINE
            while time.monotonic() < deadline and not received.alerts("/acme"):
                time.sleep(0.5)
            delivered = time.monotonic() - started - INCIDENT_AFTER
            time.sleep(3)  # anything misrouted to globex would arrive within group_wait + a few evaluations
    finally:
        alertmanager.terminate()
        alertmanager.wait(10)
        stop.set()
        simulator.join(10)
        webhooks.shutdown()

    acme = received.alerts("/acme")
    assert acme, f"nothing reached acme's receiver within {DEADLINE:.0f} s; see {tmp_path}"
    assert delivered < DEADLINE
    assert {a["labels"]["tenant_id"] for a in acme} == {"acme"}
    # 25 % failures against acme's 99.5 % SLO: far above the page's 7.2 % (14.4 x 0.5 %)
    page = [a for a in acme if a["labels"]["alertname"] == "AgentmonErrorBudgetBurnFast"]
    assert page, [a["labels"]["alertname"] for a in acme]
    assert page[0]["labels"]["severity"] == "critical"
    assert page[0]["annotations"]["panel_url"] == "http://localhost:3000/d/tenant-acme?viewPanel=2"
    assert page[0]["annotations"]["runbook_url"] == "docs/operations/runbooks.md#error-budget-burn"
    assert received.alerts("/globex") == []
    assert all("tenant_id" not in a["labels"] for a in received.alerts("/operations"))
