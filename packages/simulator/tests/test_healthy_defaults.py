"""The default simulation (the repository's tenants, default noise and seed) stays inside every threshold of the
configuration, on the main dashboard and each tenant's; each incident crosses its threshold.

Expected values are computed here from config/platform.yaml and tenants/*/tenant.yaml directly, not through
the simulator's Limits, and measured the way the panels measure: rates over a rate window, the queue and
workers as summed gauges, p95 with histogram_quantile's interpolation.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from agentmon_config import load_platform
from agentmon_simulator import INCIDENT_KINDS, Limits, Simulation, default_profiles, parse_incident

REPO = Path(__file__).resolve().parents[3]
CONFIG = load_platform(REPO / "config/platform.yaml", REPO / "tenants")
T = CONFIG.thresholds
TENANTS = {tenant.tenant_id: tenant for tenant in CONFIG.tenants}
LIMITS = Limits(T, CONFIG.tenants)
SEED, NOISE = 42, 0.1  # the defaults of `agentmon simulate` and `agentmon demo`
# $__rate_interval of the demo (4 x 5 s scrape) and of the compose stack and Kubernetes (4 x 15 s).
WINDOWS = (20, 60)


class Counters:
    """The served counters and gauges, one snapshot per second of simulated time."""

    def __init__(self, simulation: Simulation, seconds: int) -> None:
        self.snapshots = [self.read(simulation)]
        for _ in range(seconds):
            simulation.tick(1.0)
            self.snapshots.append(self.read(simulation))

    @staticmethod
    def read(simulation: Simulation) -> dict[tuple[str, str, str], float]:
        """(sample name, tenant, status or le) -> value."""
        text = generate_latest(simulation.registry).decode()
        return {(s.name, s.labels["tenant_id"], s.labels.get("status", s.labels.get("le", ""))): s.value
                for family in text_string_to_metric_families(text) for s in family.samples}

    def increase(self, name: str, tenants: list[str], extra: str, start: int, end: int) -> float:
        return sum(self.snapshots[end].get((name, t, extra), 0) - self.snapshots[start].get((name, t, extra), 0)
                   for t in tenants)

    def failure_percent(self, tenants: list[str], start: int, end: int) -> float:
        failures = self.increase("enhancement_requests_total", tenants, "failure", start, end)
        total = failures + self.increase("enhancement_requests_total", tenants, "success", start, end)
        return 100 * failures / total

    def p95(self, tenants: list[str], start: int, end: int) -> float:
        """histogram_quantile(0.95, sum by (le) (increase(bucket[window]))): linear inside the bucket."""
        buckets: dict[float, float] = defaultdict(float)
        for (name, tenant, le), _ in self.snapshots[end].items():
            if name == "enhancement_duration_seconds_bucket" and tenant in tenants:
                buckets[float(le)] += self.increase(name, [tenant], le, start, end)
        bounds = sorted(buckets)
        rank = 0.95 * buckets[math.inf]
        lower = 0.0
        for bound in bounds:
            if buckets[bound] >= rank:
                if math.isinf(bound):
                    return lower
                below = buckets[lower] if lower else 0.0
                return lower + (bound - lower) * (rank - below) / (buckets[bound] - below)
            lower = bound
        raise AssertionError("no +Inf bucket")

    def gauge(self, name: str, tenants: list[str], at: int) -> float:
        return sum(self.snapshots[at][(name, t, "")] for t in tenants)


@pytest.fixture(scope="module")
def healthy() -> Counters:
    profiles = default_profiles(tuple(TENANTS), LIMITS, SEED)
    return Counters(Simulation(profiles, noise=NOISE, seed=SEED), seconds=600)


def test_default_profiles_sit_inside_every_line_of_the_configuration():
    profiles = default_profiles(tuple(TENANTS), LIMITS, SEED)
    assert [p.tenant for p in profiles] == ["acme", "globex"]
    assert sum(p.queue_depth for p in profiles) < T.queue_depth_reference
    for p in profiles:
        tenant = TENANTS[p.tenant]
        assert 100 * p.failure_ratio < min(T.error_rate_warning, 100 - T.success_rate_warning,
                                           100 - tenant.success_rate_slo)
        assert p.queue_depth < tenant.queue_alert_threshold
        assert p.p95_seconds < min(T.p95_latency_sla_seconds, tenant.p95_latency_sla_seconds)
        assert p.active_workers > T.workers_minimum


@pytest.mark.parametrize("window", WINDOWS)
def test_default_traffic_keeps_the_main_dashboard_green_in_every_window(healthy, window):
    everyone = list(TENANTS)
    for end in range(window, 601, window):
        start = end - window
        assert 100 - healthy.failure_percent(everyone, start, end) >= T.success_rate_warning
        for tenant in everyone:
            assert healthy.failure_percent([tenant], start, end) < T.error_rate_warning, (tenant, end)
        assert healthy.p95(everyone, start, end) < T.p95_latency_sla_seconds
        assert healthy.gauge("queue_depth", everyone, end) < T.queue_depth_reference
        assert healthy.gauge("worker_active_count", everyone, end) >= T.workers_minimum


def test_default_traffic_keeps_each_tenant_dashboard_green(healthy):
    window = 60  # tenant dashboards are for the compose stack and Kubernetes: 15 s scrape
    for tenant_id, tenant in TENANTS.items():
        for end in range(window, 601, window):
            assert 100 - healthy.failure_percent([tenant_id], end - window, end) >= tenant.success_rate_slo
            assert healthy.p95([tenant_id], end - window, end) < tenant.p95_latency_sla_seconds
            assert healthy.gauge("queue_depth", [tenant_id], end) < tenant.queue_alert_threshold
            assert healthy.gauge("worker_active_count", [tenant_id], end) >= T.workers_minimum


@pytest.mark.parametrize("kind", INCIDENT_KINDS)
@pytest.mark.parametrize("tenant_id", ["acme", "globex"])
def test_each_incident_crosses_its_threshold_on_every_dashboard(kind, tenant_id):
    tenant = TENANTS[tenant_id]
    profiles = default_profiles(tuple(TENANTS), LIMITS, SEED)
    simulation = Simulation(profiles, (parse_incident(f"{kind}:{tenant_id}@0s", LIMITS),), noise=NOISE, seed=SEED)
    served = Counters(simulation, seconds=60)
    if kind == "failure-spike":
        failure = served.failure_percent([tenant_id], 0, 60)
        assert failure >= T.error_rate_critical
        assert 100 - failure < min(T.success_rate_critical, tenant.success_rate_slo)
    elif kind == "queue-backlog":
        assert served.gauge("queue_depth", [tenant_id], 60) >= max(T.queue_depth_reference,
                                                                   tenant.queue_alert_threshold)
    elif kind == "workers-down":
        assert served.gauge("worker_active_count", [tenant_id], 60) < T.workers_minimum
    else:
        assert served.p95([tenant_id], 0, 60) > max(T.p95_latency_sla_seconds, tenant.p95_latency_sla_seconds)
