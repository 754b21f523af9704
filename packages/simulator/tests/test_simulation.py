from __future__ import annotations

import math
import re
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from agentmon_config import Thresholds
from agentmon_config.contract import CONTRACT
from agentmon_simulator import Limits, Simulation, TenantProfile, default_profiles, parse_incident

# The configuration's thresholds as of config/platform.yaml (test_healthy_defaults reads the file itself).
LIMITS = Limits(Thresholds(success_rate_critical=90, success_rate_warning=95, queue_depth_reference=100,
                           p95_latency_sla_seconds=120, error_rate_warning=1, error_rate_critical=5,
                           workers_minimum=1, error_budget_warning=25))
ACME = TenantProfile("acme", requests_per_second=10, failure_ratio=0.1, latency_median_seconds=5,
                     latency_spread=0.3, queue_depth=12, active_workers=3)


def samples(simulation: Simulation) -> dict[tuple[str, tuple], float]:
    text = generate_latest(simulation.registry).decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_serves_exactly_the_metrics_contract_with_tenant_labels():
    text = generate_latest(Simulation((ACME,)).registry).decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    # The parser strips _total from counter family names.
    assert set(families) == {"enhancement_requests", "enhancement_duration_seconds", "enhancement_success_rate",
                             "queue_depth", "worker_active_count"}
    assert {m.name.removesuffix("_total") for m in CONTRACT} == set(families)
    assert all(s.labels["tenant_id"] == "acme" for f in families.values() for s in f.samples)
    assert not any(s.name.endswith("_created") for f in families.values() for s in f.samples)


def test_exact_traffic_without_noise():
    simulation = Simulation((ACME,), noise=0)
    for _ in range(30):
        simulation.tick(1.0)
    values = samples(simulation)
    tenant = ("tenant_id", "acme")
    assert values[("enhancement_requests_total", (("status", "failure"), tenant))] == 30
    assert values[("enhancement_requests_total", (("status", "success"), tenant))] == 270
    assert values[("enhancement_duration_seconds_count", (tenant,))] == 300
    assert values[("queue_depth", (tenant,))] == 12
    assert values[("worker_active_count", (tenant,))] == 3
    assert values[("enhancement_success_rate", (tenant,))] == 90
    # Median 5 s: half the requests finish within the 5 s bucket.
    assert values[("enhancement_duration_seconds_bucket", (("le", "5.0"), tenant))] == pytest.approx(150, abs=3)


def test_incidents_start_after_their_delay_and_cross_thresholds():
    incidents = tuple(parse_incident(f"{kind}:acme@10s", LIMITS) for kind in
                      ("failure-spike", "queue-backlog", "workers-down", "latency-spike"))
    simulation = Simulation((ACME,), incidents, noise=0)
    simulation.tick(9.0)
    assert simulation.current(ACME) == ACME
    simulation.tick(1.0)
    now = simulation.current(ACME)
    # 2.5 x the 10 % failure share where success turns red (100 - 90); 1.5 x the 100-job line; no workers;
    # p95 at 2 x the 120 s SLA: median 240 / exp(0.3 * 1.6449) = 146.52 s.
    assert (now.failure_ratio, now.queue_depth, now.active_workers) == (0.25, 150, 0)
    assert now.latency_median_seconds == pytest.approx(146.52, abs=0.01)
    assert now.p95_seconds == pytest.approx(240)


def test_an_incident_with_a_duration_ends_after_it():
    """failure-spike:acme@10s+5s: from 10 s up to (not including) 15 s after the start."""
    simulation = Simulation((ACME,), (parse_incident("failure-spike:acme@10s+5s", LIMITS),), noise=0)
    states = []
    for _ in range(4):
        simulation.tick(4.0)  # at 4, 8, 12, 16 s
        states.append(simulation.current(ACME).failure_ratio)
    assert states == [ACME.failure_ratio, ACME.failure_ratio, 0.25, ACME.failure_ratio]


def test_same_seed_same_traffic_and_noise_varies_it():
    assert default_profiles(("a", "b"), LIMITS, seed=7) == default_profiles(("a", "b"), LIMITS, seed=7)
    assert default_profiles(("a", "b"), LIMITS, seed=7) != default_profiles(("a", "b"), LIMITS, seed=8)
    noisy = [Simulation((ACME,), noise=0.3, seed=s) for s in (1, 2)]
    for simulation in noisy:
        simulation.tick(5.0)
    assert samples(noisy[0]) != samples(noisy[1])


@pytest.mark.parametrize(("text", "message"), [
    ("meltdown:acme", "expected KIND:TENANT[@SECONDSs][+SECONDSs] with KIND one of failure-spike"),
    ("failure-spike:acme+10m", "expected KIND:TENANT"),
    ("failure-spike", "expected KIND:TENANT"),
])
def test_bad_incident_is_explained(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_incident(text, LIMITS)


def test_incident_for_unknown_tenant_is_rejected():
    with pytest.raises(ValueError, match="incident for unknown tenant"):
        Simulation((ACME,), (parse_incident("workers-down:zeta", LIMITS),))


def test_success_rate_gauge_is_computed_from_the_requests_served():
    # One request a second, every other one failing: after 3 s, 2 successes and 1 failure (the carried
    # failure lands on the second request), so the gauge reads 200 / 3 %, not the profile's 50 %.
    halves = TenantProfile("acme", requests_per_second=1, failure_ratio=0.5, latency_median_seconds=5,
                           latency_spread=0.3, queue_depth=1, active_workers=1)
    simulation = Simulation((halves,), noise=0)
    for _ in range(3):
        simulation.tick(1.0)
    values = samples(simulation)
    tenant = ("tenant_id", "acme")
    assert values[("enhancement_requests_total", (("status", "success"), tenant))] == 2
    assert values[("enhancement_requests_total", (("status", "failure"), tenant))] == 1
    assert values[("enhancement_success_rate", (tenant,))] == pytest.approx(200 / 3)


def test_success_rate_gauge_follows_noisy_counts_and_is_absent_before_any_request():
    simulation = Simulation((ACME, replace(ACME, tenant="idle", requests_per_second=0)), noise=0.3, seed=5)
    for _ in range(17):
        simulation.tick(1.0)
    values = samples(simulation)
    tenant = ("tenant_id", "acme")
    success = values[("enhancement_requests_total", (("status", "success"), tenant))]
    failure = values[("enhancement_requests_total", (("status", "failure"), tenant))]
    assert values[("enhancement_success_rate", (tenant,))] == pytest.approx(100 * success / (success + failure))
    assert ("enhancement_success_rate", (("tenant_id", "idle"),)) not in values


@pytest.mark.parametrize("noise", [-5, 1.5, math.nan])
def test_noise_outside_0_to_1_is_refused(noise):
    with pytest.raises(ValueError, match=r"expected a number from 0 \(exact traffic\) to 1"):
        Simulation((ACME,), noise=noise)


def test_a_tenant_listed_twice_is_refused():
    with pytest.raises(ValueError, match="tenants listed twice: acme"):
        Simulation((ACME, ACME))


def test_command_serves_over_http_and_stops_cleanly_on_sigterm():
    from agentmon_live.prometheus import free_loopback_port

    port = free_loopback_port()
    process = subprocess.Popen([sys.executable, "-m", "agentmon_cli", "simulate", "--port", str(port),
                                "--tenants", "acme,globex", "--seed", "3"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        body = ""
        for _ in range(100):
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
                break
            except OSError:
                time.sleep(0.1)
        assert 'queue_depth{tenant_id="globex"}' in body
        assert 'enhancement_requests_total{status="failure",tenant_id="acme"}' in body
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, _ = process.communicate(timeout=15)
    assert process.returncode == 0
    assert stdout.splitlines()[-1] == "simulator stopped"


@pytest.mark.parametrize("command", ["simulate", "demo"])
def test_help_lists_the_incidents(command):
    result = subprocess.run([sys.executable, "-m", "agentmon_cli", command, "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "failure-spike: 25 % of the tenant's requests fail" in " ".join(result.stdout.split())
