"""Per-tenant traffic profiles and scripted incidents."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, replace

DEFAULT_TENANTS = ("acme", "globex", "initech", "umbrella", "hooli")


@dataclass(frozen=True)
class TenantProfile:
    tenant: str
    requests_per_second: float
    failure_ratio: float  # 0..1
    latency_median_seconds: float
    latency_spread: float  # sigma of the log-normal latency distribution
    queue_depth: int
    active_workers: int


def default_profiles(tenants: tuple[str, ...] = DEFAULT_TENANTS, seed: int = 0) -> tuple[TenantProfile, ...]:
    """Healthy, varied traffic for each tenant, reproducible from the seed."""
    rng = random.Random(seed)
    return tuple(TenantProfile(
        tenant=name,
        requests_per_second=round(rng.uniform(0.5, 6.0), 2),
        failure_ratio=round(rng.uniform(0.002, 0.03), 4),
        latency_median_seconds=round(rng.uniform(4.0, 25.0), 1),
        latency_spread=0.5,
        queue_depth=rng.randint(5, 40),
        active_workers=rng.randint(2, 6),
    ) for name in tenants)


@dataclass(frozen=True)
class Incident:
    kind: str
    tenant: str
    after_seconds: float = 0.0

    def apply(self, profile: TenantProfile) -> TenantProfile:
        return INCIDENT_KINDS[self.kind][1](profile)


# kind -> (what an operator sees, how the profile changes); each crosses a dashboard threshold.
INCIDENT_KINDS = {
    "failure-spike": ("25 % of the tenant's requests fail (error rate red, success rate red)",
                      lambda p: replace(p, failure_ratio=0.25)),
    "queue-backlog": ("150 jobs pile up in the tenant's queue (above the 100-job line)",
                      lambda p: replace(p, queue_depth=150)),
    "workers-down": ("the tenant's Celery workers drop to 0 (workers red)",
                     lambda p: replace(p, active_workers=0)),
    "latency-spike": ("processing takes 15x longer (p95 above the 120 s SLA)",
                      lambda p: replace(p, latency_median_seconds=p.latency_median_seconds * 15)),
}
_INCIDENT = re.compile(r"^(?P<kind>[a-z-]+):(?P<tenant>[a-z][a-z0-9-]*)(?:@(?P<after>\d+)s)?$")


def parse_incident(text: str) -> Incident:
    """KIND:TENANT[@Ns], e.g. failure-spike:acme@60s (starts 60 s after the simulator)."""
    match = _INCIDENT.match(text)
    if not match or match["kind"] not in INCIDENT_KINDS:
        kinds = ", ".join(INCIDENT_KINDS)
        raise ValueError(f"incident {text!r}: expected KIND:TENANT[@SECONDSs] with KIND one of {kinds}")
    return Incident(match["kind"], match["tenant"], float(match["after"] or 0))
