"""The simulation: advances per-tenant traffic one tick at a time into prometheus_client metrics.

With noise 0 the traffic is exact (counts carry their fractions between ticks, latencies follow the
distribution's quantiles in a low-discrepancy order), so tests can assert the numbers panels show.
With noise > 0 request counts, latencies and queue depth vary randomly around the profile, reproducibly per
seed. Failures always carry their fractions (the profile's share of the requests, spread evenly): random
bursts of failures would turn a healthy tenant's error rate yellow for no reason.
The success-rate gauge is what the platform's app computes: successes over all requests, from the counters.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from statistics import NormalDist

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from agentmon_config.contract import LATENCY_BUCKETS_SECONDS
from agentmon_simulator.model import Incident, TenantProfile

# The contract has no *_created series; the platform's exporter does not serve them either.
disable_created_metrics()

# The contract's bucket bounds, then +Inf: the simulator exposes exactly what the platform declares.
LATENCY_BUCKETS = (*LATENCY_BUCKETS_SECONDS, math.inf)
_GOLDEN = (math.sqrt(5) - 1) / 2
_NORMAL = NormalDist()


@dataclass
class _TenantState:
    request_carry: float = 0.0
    failure_carry: float = 0.0
    quantile_index: int = 0
    requests: int = 0  # totals, as the counters hold them
    failures: int = 0


class _Consistent(Collector):
    """Collects the simulation's metrics under its lock, so a scrape never sees a half-applied tick
    (say, this tick's successes without its failures)."""

    def __init__(self, inner: CollectorRegistry, lock: threading.Lock) -> None:
        self.inner, self.lock = inner, lock

    def collect(self) -> Iterator[Metric]:
        with self.lock:
            metrics = list(self.inner.collect())
        yield from metrics


@dataclass
class Simulation:
    profiles: tuple[TenantProfile, ...]
    incidents: tuple[Incident, ...] = ()
    noise: float = 0.0
    seed: int = 0
    elapsed: float = 0.0
    metrics: CollectorRegistry = field(default_factory=CollectorRegistry)  # what gets updated
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)  # what gets served

    def __post_init__(self) -> None:
        if not 0 <= self.noise <= 1:  # also refuses NaN
            raise ValueError(f"noise {self.noise}: expected a number from 0 (exact traffic) to 1")
        tenants = [p.tenant for p in self.profiles]
        if len(set(tenants)) != len(tenants):
            raise ValueError(f"tenants listed twice: {', '.join(sorted({t for t in tenants if tenants.count(t) > 1}))}")
        unknown = {i.tenant for i in self.incidents} - {p.tenant for p in self.profiles}
        if unknown:
            raise ValueError(f"incident for unknown tenant(s): {', '.join(sorted(unknown))}")
        self._rng = random.Random(self.seed)
        self._state = {p.tenant: _TenantState() for p in self.profiles}
        self._lock = threading.Lock()
        self.registry.register(_Consistent(self.metrics, self._lock))
        r = self.metrics
        self.requests = Counter("enhancement_requests", "Webhook requests processed.",
                                ["tenant_id", "status"], registry=r)
        self.duration = Histogram("enhancement_duration_seconds", "End-to-end enhancement processing latency.",
                                  ["tenant_id"], buckets=LATENCY_BUCKETS, registry=r)
        self.success_rate = Gauge("enhancement_success_rate", "App-computed success percentage (0-100).",
                                  ["tenant_id"], registry=r)
        self.queue = Gauge("queue_depth", "Pending jobs in Redis.", ["tenant_id"], registry=r)
        self.workers = Gauge("worker_active_count", "Active Celery workers.", ["tenant_id"], registry=r)
        self.tick(0.0)

    def current(self, profile: TenantProfile) -> TenantProfile:
        """The profile with every incident that has started and not ended applied."""
        for incident in self.incidents:
            if incident.tenant == profile.tenant and incident.active(self.elapsed):
                profile = incident.apply(profile)
        return profile

    def tick(self, seconds: float) -> None:
        with self._lock:
            self.elapsed += seconds
            for base in self.profiles:
                self._advance(self.current(base), seconds)

    def _advance(self, p: TenantProfile, seconds: float) -> None:
        state, tenant = self._state[p.tenant], p.tenant
        requests = self._count(p.requests_per_second * seconds + state.request_carry)
        state.request_carry = max(0.0, p.requests_per_second * seconds + state.request_carry - requests)
        failures = self._failures(requests, p.failure_ratio, state)
        self.requests.labels(tenant, "success").inc(requests - failures)
        self.requests.labels(tenant, "failure").inc(failures)
        state.requests, state.failures = state.requests + requests, state.failures + failures
        for latency in self._latencies(p, requests, state):
            self.duration.labels(tenant).observe(latency)
        if state.requests:  # no requests yet: no success rate (not 0 %, not 100 %)
            self.success_rate.labels(tenant).set(100 * (state.requests - state.failures) / state.requests)
        self.queue.labels(tenant).set(self._around(p.queue_depth))
        self.workers.labels(tenant).set(p.active_workers)

    def _count(self, expected: float) -> int:
        if self.noise == 0:
            return math.floor(expected + 1e-9)
        return max(0, round(self._rng.gauss(expected, math.sqrt(max(expected, 0.0)) * (1 + self.noise))))

    @staticmethod
    def _failures(requests: int, ratio: float, state: _TenantState) -> int:
        expected = requests * ratio + state.failure_carry
        failures = math.floor(expected + 1e-9)
        state.failure_carry = expected - failures
        return failures

    def _latencies(self, p: TenantProfile, requests: int, state: _TenantState) -> Iterable[float]:
        for _ in range(requests):
            if self.noise == 0:
                state.quantile_index += 1
                u = (state.quantile_index * _GOLDEN) % 1.0
            else:
                u = self._rng.random()
            z = _NORMAL.inv_cdf(min(max(u, 1e-6), 1 - 1e-6))
            yield p.latency_median_seconds * math.exp(p.latency_spread * z)

    def _around(self, target: int) -> int:
        if self.noise == 0:
            return target
        return max(0, round(target * (1 + self.noise * self._rng.gauss(0, 1))))
