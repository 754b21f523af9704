"""The simulator scraped by a real Prometheus using the compose stack's own prometheus.yml (target rewritten
to 127.0.0.1, scrape interval shortened): every panel of the main dashboard shows the simulator's numbers,
and a scripted incident moves them across the thresholds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from agentmon_config import load_platform
from agentmon_live.demo import local_prometheus_config, panel_values
from agentmon_live.prometheus import PrometheusServer
from agentmon_live.rules import local_rule_file
from agentmon_simulator import Limits, Simulation, TenantProfile, parse_incident
from agentmon_simulator.server import serve

from .conftest import prerequisite

REPO = Path(__file__).resolve().parents[3]
DASHBOARD = json.loads((REPO / "dashboards/agentmon-system-health.json").read_text())
SCRAPE = "1s"
INCIDENT_AFTER = 25.0  # Prometheus needs ~6 s to start and scrape; leave room for "before"
# Failure ratios chosen so each tick holds whole failures: the error rates are exact, not approximate.
PROFILES = (
    TenantProfile("alpha", 10, 0.1, 5, 0.3, queue_depth=10, active_workers=3),
    TenantProfile("bravo", 25, 0.04, 10, 0.3, queue_depth=20, active_workers=2),
    TenantProfile("charlie", 4, 0.0, 20, 0.3, queue_depth=30, active_workers=4),
)
CONFIG = load_platform(REPO / "config/platform.yaml", REPO / "tenants")
INCIDENTS = tuple(parse_incident(f"{kind}:charlie@{INCIDENT_AFTER:.0f}s", Limits(CONFIG.thresholds, CONFIG.tenants))
                  for kind in ("failure-spike", "queue-backlog", "workers-down", "latency-spike"))


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    prerequisite("prometheus")
    work = tmp_path_factory.mktemp("live")
    simulation = Simulation(PROFILES, INCIDENTS, noise=0)
    stop, ports = threading.Event(), []
    ready = threading.Event()
    thread = threading.Thread(target=serve, daemon=True, kwargs=dict(
        simulation=simulation, host="127.0.0.1", port=0, stop=stop,
        on_ready=lambda p: (ports.append(p), ready.set())))
    thread.start()
    assert ready.wait(10)
    started = time.monotonic()
    config, rules = work / "prometheus.yml", work / "agentmon.rules.yml"
    rules.write_text(json.dumps(local_rule_file(load_platform(REPO / "config/platform.yaml"), SCRAPE)))
    compose_config = (REPO / "compose/prometheus.yml").read_text()
    config.write_text(json.dumps(local_prometheus_config(compose_config, f"127.0.0.1:{ports[0]}", SCRAPE, rules)))
    with PrometheusServer(config_file=config, storage=work / "data") as server:
        yield server, started
    stop.set()
    thread.join(10)


def values_at(server, tenants, wait_until, started):
    time.sleep(max(0.0, started + wait_until - time.monotonic()))
    return {p.title: p for p in panel_values(server, DASHBOARD, tenants, SCRAPE, time.time())}


def single(panel):
    ((_, value, colour),) = panel.rows
    return value, colour


def test_compose_prometheus_config_is_rewritten_only_in_target_interval_and_rule_file():
    compose = (REPO / "compose/prometheus.yml").read_text()
    assert "- /etc/prometheus-rules/*.rules.yml" in compose  # where compose and the dev overlay mount rules/
    config = local_prometheus_config(compose, "127.0.0.1:9", "1s", Path("/x/agentmon.rules.yml"))
    assert config["global"] == {"scrape_interval": "1s", "evaluation_interval": "1s"}
    assert config["rule_files"] == ["/x/agentmon.rules.yml"]
    assert config["scrape_configs"][0]["static_configs"] == [{"targets": ["127.0.0.1:9"]}]
    assert config["scrape_configs"][0]["job_name"] == "agentmon-platform"


@pytest.mark.e2e
def test_panels_show_the_simulated_numbers_then_the_incident(live):
    server, started = live
    before = values_at(server, ["$__all"], 15, started)
    assert single(before["Enhancement Success Rate"]) == (pytest.approx(100 * 37 / 39), "yellow")
    assert single(before["Active Celery Workers"]) == (9, "green")
    assert single(before["Pending Enhancement Jobs in Queue"]) == (60, "green")
    p95, colour = single(before["p95 Enhancement Processing Latency"])
    assert 10 < p95 < 60 and colour == "green"
    assert [(t, pytest.approx(v), c) for t, v, c in before["Error Rate by Tenant"].rows] == [
        ("alpha", 10.0, "red"), ("bravo", 4.0, "yellow"), ("charlie", 0.0, "green")]
    assert single(before["Tenants without an active worker"]) == (0, "green")

    charlie = values_at(server, ["charlie"], 16, started)
    assert single(charlie["Active Celery Workers"]) == (4, "green")
    assert single(charlie["Error Rate by Tenant"]) == (pytest.approx(0.0), "green")

    # Panels read recorded values (each over 4 scrapes) over $__rate_interval (6 s): 10 s after the incident
    # started, every value they read is from the incident.
    after = values_at(server, ["charlie"], INCIDENT_AFTER + 11, started)
    assert single(after["Active Celery Workers"]) == (0, "red")
    assert single(after["Pending Enhancement Jobs in Queue"]) == (150, "red")
    assert single(after["Error Rate by Tenant"]) == (pytest.approx(25.0), "red")
    assert single(after["Enhancement Success Rate"]) == (pytest.approx(75.0), "red")
    assert single(after["p95 Enhancement Processing Latency"])[0] > 120

    # Issue 11.7: the platform total stays green under All; the tenant's outage must not hide in it.
    platform = values_at(server, ["$__all"], INCIDENT_AFTER + 12, started)
    assert single(platform["Active Celery Workers"]) == (5, "green")
    assert single(platform["Tenants without an active worker"]) == (1, "red")


@pytest.mark.e2e
def test_demo_command_prints_the_panels():
    prerequisite("prometheus")
    result = subprocess.run(
        [sys.executable, "-m", "agentmon_cli", "--root", str(REPO), "demo", "--once", "--noise", "0",
         "--scrape-interval", "1s", "--tenants", "acme,globex", "--tenant", "globex"],
        capture_output=True, text=True, timeout=180, env={**os.environ, "COLUMNS": "120"})
    assert result.returncode == 0, result.stderr
    for title in ("Enhancement Success Rate", "Active Celery Workers", "Pending Enhancement Jobs in Queue",
                  "p95 Enhancement Processing Latency", "Error Rate by Tenant"):
        assert title in result.stdout
    assert "AI Agents - System Health (globex;" in result.stdout
    assert "globex: " in result.stdout and "acme: " not in result.stdout


def test_demo_without_prometheus_says_what_to_install(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "agentmon_cli", "--root", str(REPO), "demo", "--once"],
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 3
    assert "`prometheus` not found on PATH: install the Debian package `prometheus`" in " ".join(result.stderr.split())
