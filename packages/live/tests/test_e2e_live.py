"""The simulator scraped by a real Prometheus using the compose stack's own prometheus.yml (target rewritten
to 127.0.0.1, scrape interval shortened): every panel of the main dashboard shows the simulator's numbers,
and a scripted incident moves them across the thresholds."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from agentmon_config import load_platform
from agentmon_live.demo import local_prometheus_config
from agentmon_live.panelrun import run_panel, table_rows
from agentmon_live.panelstyle import field_style, threshold_colour
from agentmon_live.preview.panels import reduce
from agentmon_live.prometheus import PrometheusServer
from agentmon_live.rules import local_rule_file
from agentmon_simulator import Limits, Simulation, TenantProfile, default_profiles, parse_incident
from agentmon_simulator.server import serve

from .conftest import prerequisite

REPO = Path(__file__).resolve().parents[3]
DASHBOARD = json.loads((REPO / "dashboards/agentmon-system-health.json").read_text())
SCRAPE = "1s"
# Failure ratios chosen so each tick holds whole failures: the error rates are exact, not approximate.
# Latencies spread by 1 % only, around medians inside one bucket each (within 5 % of the median: (2.5, 5],
# (10, 20], (20, 30]): every bucket count is exact, so the p95 is too.
PROFILES = (
    TenantProfile("alpha", 10, 0.1, 4, 0.01, queue_depth=10, active_workers=3),
    TenantProfile("bravo", 25, 0.04, 15, 0.01, queue_depth=20, active_workers=2),
    TenantProfile("charlie", 4, 0.0, 25, 0.01, queue_depth=30, active_workers=4),
)
CONFIG = load_platform(REPO / "config/platform.yaml", REPO / "tenants")
LIMITS = Limits(CONFIG.thresholds, CONFIG.tenants)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A running simulator (no incident yet: the test starts it once it has seen the healthy state, so a slow
    start cannot make it miss that state) scraped every second by a Prometheus evaluating the rules."""
    prerequisite("prometheus")
    work = tmp_path_factory.mktemp("live")
    simulation = Simulation(PROFILES, noise=0)
    stop, ports = threading.Event(), []
    ready = threading.Event()
    thread = threading.Thread(target=serve, daemon=True, kwargs=dict(
        simulation=simulation, host="127.0.0.1", port=0, stop=stop,
        on_ready=lambda p: (ports.append(p), ready.set())))
    thread.start()
    assert ready.wait(10)
    config, rules = work / "prometheus.yml", work / "agentmon.rules.yml"
    rules.write_text(json.dumps(local_rule_file(load_platform(REPO / "config/platform.yaml"), SCRAPE)))
    compose_config = (REPO / "compose/prometheus.yml").read_text()
    config.write_text(json.dumps(local_prometheus_config(compose_config, f"127.0.0.1:{ports[0]}", SCRAPE, rules)))
    with PrometheusServer(config_file=config, storage=work / "data") as server:
        yield server, simulation
    stop.set()
    thread.join(10)


Row = tuple[str, float | None, str]  # (row label, value, threshold colour)


def shown(server, tenants) -> dict[str, list[Row]]:
    """What each panel shows now: a single value reduced as the panel says, or the table's rows in the order of
    the panel's sortBy (agentmon_live.panelrun's implementation of Grafana's table frame, organize and sort)."""
    end, panels = time.time(), {}
    for panel in DASHBOARD["panels"]:
        results = run_panel(server, DASHBOARD, panel, selection={"tenant_id": list(tenants)}, range_seconds=3600,
                            end=end, scrape_interval=SCRAPE)
        if panel["type"] == "table":
            fields, rows = table_rows(panel, results)
            steps = field_style(panel, fields[-1]).steps  # the value column (Tenant, Error Rate %)
            panels[panel["title"]] = [(row[0], row[-1], threshold_colour(row[-1], steps)) for row in rows]
        else:
            value = reduce(results[0], panel) if results else None
            panels[panel["title"]] = [("", value, threshold_colour(value, field_style(panel).steps))]
    return panels


def wait_for(server, tenants, expected: Callable[[dict[str, list[Row]]], bool], seconds: float = 120
             ) -> dict[str, list[Row]]:
    """Poll until the panels show the expected state or the deadline passes; the caller then asserts the state,
    so a timeout fails with the last values seen."""
    deadline = time.monotonic() + seconds
    while True:
        panels = shown(server, tenants)
        if expected(panels) or time.monotonic() > deadline:
            return panels
        time.sleep(0.5)


def single(panels, title):
    ((_, value, colour),) = panels[title]
    return value, colour


def has(panels, title, value) -> bool:
    return [v for _, v, _ in panels[title]] == [pytest.approx(value, rel=1e-9, abs=1e-9)]


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
    """Noise 0: each second alpha serves 10 requests (1 failure), bravo 25 (1 failure), charlie 4 (none).
    All: success 37 / 39, workers 3 + 2 + 4 = 9, queue 10 + 20 + 30 = 60; error table worst first (its sortBy):
    alpha 10 % (red from 5), bravo 4 % (yellow from 1), charlie 0 %. p95 of the summed buckets: 10 req/s in (2.5, 5],
    25 in (10, 20], 4 in (20, 30]: rank 0.95 * 39 = 37.05 above the 35 below 20 s -> 20 + 10 * 2.05 / 4 = 25.125 s.
    Charlie's incidents: all 4 workers down, 150 jobs, 1 failure in 4, latencies beyond the 120 s SLA."""
    server, simulation = live
    healthy = {"Active Celery Workers": 9, "Pending Enhancement Jobs in Queue": 60,
               "Enhancement Success Rate": 100 * 37 / 39, "Tenants without an active worker": 0,
               "p95 Enhancement Processing Latency": 25.125}
    before = wait_for(server, ["$__all"], lambda panels: all(has(panels, t, v) for t, v in healthy.items()) and [
        (t, v) for t, v, _ in panels["Error Rate by Tenant"]] == [("alpha", 10.0), ("bravo", 4.0), ("charlie", 0.0)])
    assert single(before, "Enhancement Success Rate") == (pytest.approx(100 * 37 / 39), "yellow")
    assert single(before, "Active Celery Workers") == (9, "green")
    assert single(before, "Pending Enhancement Jobs in Queue") == (60, "green")
    assert single(before, "Tenants without an active worker") == (0, "green")
    assert before["Error Rate by Tenant"] == [
        ("alpha", pytest.approx(10.0), "red"), ("bravo", pytest.approx(4.0), "yellow"),
        ("charlie", pytest.approx(0.0), "green")]
    p95, colour = single(before, "p95 Enhancement Processing Latency")
    assert (p95, colour) == (pytest.approx(25.125, rel=1e-9), "green")

    charlie = shown(server, ["charlie"])
    assert single(charlie, "Active Celery Workers") == (4, "green")
    assert charlie["Error Rate by Tenant"] == [("charlie", pytest.approx(0.0), "green")]

    # The incidents start now, after the healthy state was seen, however long Prometheus took to start.
    simulation.incidents = tuple(parse_incident(f"{kind}:charlie@{simulation.elapsed + 1:.0f}s", LIMITS)
                                 for kind in ("failure-spike", "queue-backlog", "workers-down", "latency-spike"))
    incident = {"Active Celery Workers": 0, "Pending Enhancement Jobs in Queue": 150,
                "Enhancement Success Rate": 75.0, "Error Rate by Tenant": 25.0}
    after = wait_for(server, ["charlie"], lambda panels: all(has(panels, t, v) for t, v in incident.items()) and
                     single(panels, "p95 Enhancement Processing Latency")[1] == "red")
    assert single(after, "Active Celery Workers") == (0, "red")
    assert single(after, "Pending Enhancement Jobs in Queue") == (150, "red")
    assert after["Error Rate by Tenant"] == [("charlie", pytest.approx(25.0), "red")]
    assert single(after, "Enhancement Success Rate") == (pytest.approx(75.0), "red")
    p95, colour = single(after, "p95 Enhancement Processing Latency")
    assert p95 > CONFIG.thresholds.p95_latency_sla_seconds and colour == "red"

    # Issue 11.7: the platform total stays green under All; the tenant's outage must not hide in it.
    platform = wait_for(server, ["$__all"], lambda panels: has(panels, "Active Celery Workers", 5))
    assert single(platform, "Active Celery Workers") == (5, "green")
    assert single(platform, "Tenants without an active worker") == (1, "red")


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
    # The numbers of globex's healthy profile (seed 42, noise 0): 2 workers, 6 jobs, and a success rate and an
    # error rate that add up to 100 % (1.8 failures in 1,000: none or one in the few seconds the demo waits).
    (globex,) = [p for p in default_profiles(("acme", "globex"), LIMITS, 42) if p.tenant == "globex"]
    assert (globex.active_workers, globex.queue_depth) == (2, 6)
    cells = dict(re.findall(r"│ ([A-Z][^│]+?) +│ +([^│]+?) │", result.stdout))
    assert cells["Active Celery Workers"] == "2"
    assert cells["Pending Enhancement Jobs in Queue"] == "6"
    assert cells["Tenants without an active worker"] == "0"
    success = float(cells["Enhancement Success Rate"].removesuffix(" %"))
    error = float(cells["Error Rate by Tenant"].removeprefix("globex: ").removesuffix(" %"))
    assert success + error == pytest.approx(100, abs=0.011) and error <= 2


def test_demo_without_prometheus_says_what_to_install(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "agentmon_cli", "--root", str(REPO), "demo", "--once"],
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 3
    assert "`prometheus` not found on PATH: install the Debian package `prometheus`" in " ".join(result.stderr.split())
