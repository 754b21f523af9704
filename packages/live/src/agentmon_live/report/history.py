"""Exact request counts per tenant and minute, from the raw samples of the contract's counters.

Why raw samples and not increase() or the recorded REQUEST_RATE: increase() and rate() extrapolate to the ends of
their range (the first increase of a series, a range whose samples do not reach its ends), and REQUEST_RATE is a
rate over 75 s recorded each minute, whose value x 60 is the minute's increase only when every scrape sits exactly
on a 15 s grid (Prometheus 2.x closed ranges then hold a sixth sample and count 75 s). A month's report must add
up: here every increase between two consecutive samples of a series counts once, in the minute (and month) of
the later sample, (M, M + 60 s]; a fall of the counter is a reset, after which the new value is the increase, as
Prometheus reads resets; the first sample of a series counts nothing (as in increase()).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from agentmon_config import Tenant
from agentmon_config.contract import TENANT_LABEL, le_spellings
from agentmon_live.prometheus import PrometheusClient

REQUESTS = "enhancement_requests_total"
BUCKETS = "enhancement_duration_seconds_bucket"
INFINITY = "+Inf"
FAILURE = "failure"
CHUNK_SECONDS = 6 * 3600  # samples are read 6 hours at a time: 1,440 samples per series at a 15 s scrape
TENANTS_PER_QUERY = 25  # and for at most this many tenants per query, so one answer stays a few MB
MINUTE_MS = 60_000


@dataclass
class Counts:
    """One tenant's increases, per minute (unix seconds of the minute's start -> count). Floats: counts of whole
    requests are exact in a float up to 2^53, and float sums are several times faster than fractions over the
    millions of samples of a month; the ratios are taken as fractions (figures)."""

    requests: dict[int, float] = field(default_factory=dict)
    failures: dict[int, float] = field(default_factory=dict)
    within_sla: dict[int, float] = field(default_factory=dict)  # the bucket whose bound is the tenant's SLA
    observed: dict[int, float] = field(default_factory=dict)  # the +Inf bucket: every latency observed

    def add(self, kind: str, minute: int, increase: float) -> None:
        table = getattr(self, kind)
        table[minute] = table.get(minute, 0.0) + increase


Progress = Callable[[int, int], None]  # (queries done, queries in all)


def fetch_counts(client: PrometheusClient, tenants: Sequence[Tenant], start: int, end: int,
                 on_query: Progress = lambda done, total: None) -> dict[str, Counts]:
    """tenant_id -> its per-minute counts for the increases whose later sample lies in (start, end]; the
    samples of the chunk before `start` serve only as the previous sample of each series."""
    samples: dict[tuple[tuple[str, str], ...], dict[int, float]] = {}
    batches = [tenants[i:i + TENANTS_PER_QUERY] for i in range(0, len(tenants), TENANTS_PER_QUERY)]
    chunk_ends = range(start, end + 1, CHUNK_SECONDS)  # the first ends at `start`: the sample before the month
    total, done = len(batches) * len(chunk_ends), 0
    for batch in batches:
        selector = _selector(batch)
        for chunk_end in chunk_ends:
            for series in client.query(f"{selector}[{CHUNK_SECONDS}s]", at=chunk_end):
                key = tuple(sorted(series["metric"].items()))
                # Ranges of Prometheus 2.x include both ends: a sample read twice is the same sample.
                samples.setdefault(key, {}).update((round(float(t) * 1000), float(v)) for t, v in series["values"])
            done += 1
            on_query(done, total)
    return _counts(samples, {t.tenant_id: t for t in tenants}, start * 1000, end * 1000)


def _selector(tenants: Sequence[Tenant]) -> str:
    """The requests counters and, of the histogram, the buckets at the tenants' SLAs and +Inf (`le=~""` keeps the
    counters, which have no le). Tenant ids hold no regex characters (the tenant schema)."""
    bounds = sorted({s for t in tenants for s in le_spellings(t.p95_latency_sla_seconds)})
    les = "|".join(["", *(b.replace(".", "\\\\.") for b in bounds), "\\\\+Inf"])
    ids = "|".join(t.tenant_id for t in tenants)
    return f'{{__name__=~"{REQUESTS}|{BUCKETS}",{TENANT_LABEL}=~"{ids}",le=~"{les}"}}'


def _counts(samples: dict[tuple[tuple[str, str], ...], dict[int, float]], tenants: dict[str, Tenant],
            start_ms: int, end_ms: int) -> dict[str, Counts]:
    counts = {tenant_id: Counts() for tenant_id in tenants}
    for key, values in samples.items():
        labels = dict(key)
        tenant = tenants[labels[TENANT_LABEL]]
        for kind in _kinds(labels, tenant):
            for at_ms, increase in increases(sorted(values.items())):
                if start_ms < at_ms <= end_ms:
                    counts[tenant.tenant_id].add(kind, minute_of(at_ms), increase)
    return counts


def _kinds(labels: dict[str, str], tenant: Tenant) -> Iterable[str]:
    """Which counts a series adds to: a requests counter to requests (and failures), a bucket to within_sla
    when its bound is the tenant's SLA, to observed when it is +Inf."""
    if labels.get("__name__") == REQUESTS:
        return ("requests", "failures") if labels.get("status") == FAILURE else ("requests",)
    le = labels.get("le", "")
    if le == INFINITY:
        return ("observed",)
    return ("within_sla",) if le in le_spellings(tenant.p95_latency_sla_seconds) else ()


def increases(samples: Sequence[tuple[int, float]]) -> Iterable[tuple[int, float]]:
    """(time of the later sample, increase) for each pair of consecutive samples; a fall is a reset to 0."""
    for (_, before), (at, after) in pairwise(samples):
        yield at, after - before if after >= before else after


def minute_of(at_ms: int) -> int:
    """The start (unix seconds) of the minute (M, M + 60 s] holding `at_ms`: a sample at 10:06:00 counts the
    requests of 10:05:45-10:06:00, so it belongs to the minute starting at 10:05."""
    return (at_ms - 1) // MINUTE_MS * 60

