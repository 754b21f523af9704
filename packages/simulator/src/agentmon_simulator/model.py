"""Per-tenant traffic profiles, the thresholds they are measured against, and scripted incidents."""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from statistics import NormalDist

from agentmon_config import Tenant, Thresholds

Z95 = NormalDist().inv_cdf(0.95)  # the log-normal latency's p95 is median * exp(spread * Z95)
# Healthy values sit 10-40 % of the way to the strictest line that turns a panel from green: clearly inside,
# yet varied between tenants.
HEALTHY_SHARE = (0.1, 0.4)
# Busy enough that one failure inside the shortest default rate window (the demo's: 4 x 5 s scrape) stays
# below the 1 % error-rate line: 8 requests/s x 20 s = 160 requests, one failure = 0.63 %.
HEALTHY_REQUESTS_PER_SECOND = (8.0, 12.0)


@dataclass(frozen=True)
class TenantProfile:
    tenant: str
    requests_per_second: float
    failure_ratio: float  # 0..1
    latency_median_seconds: float
    latency_spread: float  # sigma of the log-normal latency distribution
    queue_depth: int
    active_workers: int

    @property
    def p95_seconds(self) -> float:
        return self.latency_median_seconds * math.exp(self.latency_spread * Z95)


@dataclass(frozen=True)
class Limits:
    """Where the dashboards change colour: the configuration's thresholds and tenants, handed in by the caller
    (the simulator reads no files). The main dashboard and each tenant's dashboard draw their own lines, so
    healthy traffic stays inside the strictest of them and incidents cross the loosest: all agree."""

    thresholds: Thresholds
    tenants: tuple[Tenant, ...] = ()

    def _tenant(self, field: str) -> list[float]:
        return [getattr(tenant, field) for tenant in self.tenants]

    def _slo_failure_percents(self) -> list[float]:
        return [100 - slo for slo in self._tenant("success_rate_slo")]

    @property
    def failure_green_percent(self) -> float:
        """Below this failure share every panel is green (error rate, success rate, each tenant's SLO)."""
        t = self.thresholds
        return min(t.error_rate_warning, 100 - t.success_rate_warning, *self._slo_failure_percents())

    @property
    def failure_red_percent(self) -> float:
        """From this failure share every panel is red."""
        t = self.thresholds
        return max(t.error_rate_critical, 100 - t.success_rate_critical, *self._slo_failure_percents())

    @property
    def queue_green_jobs(self) -> int:
        """The lowest queue line; the main panel shows the total of the selected tenants against it."""
        return min([self.thresholds.queue_depth_reference, *self._tenant("queue_alert_threshold")])

    @property
    def queue_red_jobs(self) -> int:
        return max([self.thresholds.queue_depth_reference, *self._tenant("queue_alert_threshold")])

    @property
    def latency_green_seconds(self) -> float:
        return min([self.thresholds.p95_latency_sla_seconds, *self._tenant("p95_latency_sla_seconds")])

    @property
    def latency_red_seconds(self) -> float:
        return max([self.thresholds.p95_latency_sla_seconds, *self._tenant("p95_latency_sla_seconds")])


def default_profiles(tenants: Sequence[str], limits: Limits, seed: int = 0) -> tuple[TenantProfile, ...]:
    """Healthy, varied traffic for each tenant, inside every threshold of `limits`, reproducible from the seed."""
    rng = random.Random(seed)

    def share() -> float:
        return rng.uniform(*HEALTHY_SHARE)

    spread = 0.5
    queue_each = limits.queue_green_jobs / max(1, len(tenants))  # the main panel sums every tenant's queue
    return tuple(TenantProfile(
        tenant=name,
        requests_per_second=round(rng.uniform(*HEALTHY_REQUESTS_PER_SECOND), 2),
        failure_ratio=round(share() * limits.failure_green_percent / 100, 6),
        latency_median_seconds=round(share() * limits.latency_green_seconds / math.exp(spread * Z95), 2),
        latency_spread=spread,
        queue_depth=round(share() * queue_each),
        active_workers=rng.randint(limits.thresholds.workers_minimum + 1, limits.thresholds.workers_minimum + 4),
    ) for name in tenants)


@dataclass(frozen=True)
class IncidentKind:
    describe: Callable[[Limits], str]  # what an operator sees, with the configuration's numbers
    apply: Callable[[TenantProfile, Limits], TenantProfile]


def _failure_spike(limits: Limits) -> float:
    return 2.5 * limits.failure_red_percent


def _backlog(limits: Limits) -> int:
    return math.ceil(1.5 * limits.queue_red_jobs)


def _slow_p95(limits: Limits) -> float:
    return 2 * limits.latency_red_seconds


# Each incident crosses the loosest line of its panel on every dashboard, with margin.
INCIDENT_KINDS = {
    "failure-spike": IncidentKind(
        lambda lim: (f"{_failure_spike(lim):g} % of the tenant's requests fail (error rate red from "
                     f"{lim.thresholds.error_rate_critical:g} %, success rate red below "
                     f"{lim.thresholds.success_rate_critical:g} %)"),
        lambda p, lim: replace(p, failure_ratio=max(p.failure_ratio, _failure_spike(lim) / 100))),
    "queue-backlog": IncidentKind(
        lambda lim: (f"{_backlog(lim)} jobs pile up in the tenant's queue (above the "
                     f"{lim.thresholds.queue_depth_reference}-job line)"),
        lambda p, lim: replace(p, queue_depth=max(p.queue_depth, _backlog(lim)))),
    "workers-down": IncidentKind(
        lambda lim: f"the tenant's Celery workers drop to 0 (red below {lim.thresholds.workers_minimum})",
        lambda p, lim: replace(p, active_workers=0)),
    "latency-spike": IncidentKind(
        lambda lim: (f"processing slows until p95 reaches {_slow_p95(lim):g} s (above the "
                     f"{lim.thresholds.p95_latency_sla_seconds:g} s SLA)"),
        lambda p, lim: replace(p, latency_median_seconds=max(
            p.latency_median_seconds, _slow_p95(lim) / math.exp(p.latency_spread * Z95)))),
}
_INCIDENT = re.compile(r"(?P<kind>[a-z-]+):(?P<tenant>[a-z][a-z0-9-]*)(?:@(?P<after>\d+)s)?(?:\+(?P<lasting>\d+)s)?")


@dataclass(frozen=True)
class Incident:
    kind: str
    tenant: str
    after_seconds: float
    limits: Limits
    lasting_seconds: float = math.inf  # until the simulator stops, unless the incident says +Ns

    def apply(self, profile: TenantProfile) -> TenantProfile:
        return INCIDENT_KINDS[self.kind].apply(profile, self.limits)

    def active(self, elapsed: float) -> bool:
        return self.after_seconds <= elapsed < self.after_seconds + self.lasting_seconds


def parse_incident(text: str, limits: Limits) -> Incident:
    """KIND:TENANT[@Ns][+Ms], e.g. failure-spike:acme@60s (starts 60 s after the simulator and goes on) or
    failure-spike:acme@60s+600s (over after 10 minutes)."""
    match = _INCIDENT.fullmatch(text)
    if not match or match["kind"] not in INCIDENT_KINDS:
        kinds = ", ".join(INCIDENT_KINDS)
        raise ValueError(f"incident {text!r}: expected KIND:TENANT[@SECONDSs][+SECONDSs] with KIND one of {kinds}")
    lasting = float(match["lasting"]) if match["lasting"] else math.inf
    return Incident(match["kind"], match["tenant"], float(match["after"] or 0), limits, lasting)
