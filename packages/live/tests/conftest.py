"""Shared fixtures: a real Prometheus on 127.0.0.1 holding 7 days of known, constant per-tenant traffic.

Constant rates make every correct query return the same exact number whatever the window, so the
expected values in the tests are plain arithmetic on the table below (derivations are in the tests).
"""

from __future__ import annotations

import math
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from agentmon_live.prometheus import PrerequisiteMissing, PrometheusServer, find_binary

SCRAPE_SECONDS = 15
HISTORY_SECONDS = 7 * 86400 + 2 * 3600  # 7 d plus headroom for the widest rate window
BUCKETS = (1.0, 5.0, 10.0, 30.0, 60.0, 120.0, math.inf)


@dataclass(frozen=True)
class TenantTraffic:
    tenant: str
    requests_per_second: float
    failure_ratio: float
    latency_share: dict[float, float]  # bucket upper bound -> share of requests in that bucket
    queue_depth: int
    active_workers: int


TRAFFIC = (
    TenantTraffic("acme", 10.0, 0.02, {5.0: 0.5, 10.0: 0.5}, queue_depth=30, active_workers=4),
    TenantTraffic("globex", 4.0, 0.20, {30.0: 0.25, 120.0: 0.75}, queue_depth=80, active_workers=2),
    # Never failed: it has no status="failure" series at all, as on a real platform.
    TenantTraffic("initech", 1.0, 0.0, {60.0: 1.0}, queue_depth=5, active_workers=0),
)


def _le(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else f"{bound:g}"


def _series(t: TenantTraffic) -> Iterator[tuple[str, str, float, float]]:
    """(family, sample line prefix, value at start, increase per second) for every series of a tenant."""
    tenant = f'tenant_id="{t.tenant}"'
    # Counters start high so rate() extrapolation never meets the counter's zero point.
    base = 1e6
    for status, share in (("success", 1 - t.failure_ratio), ("failure", t.failure_ratio)):
        if share:
            slope = t.requests_per_second * share
            yield "counter", f'enhancement_requests_total{{{tenant},status="{status}"}}', base * slope, slope
    cumulative = 0.0
    for bound in BUCKETS:
        cumulative += t.latency_share.get(bound, 0.0)
        slope = t.requests_per_second * cumulative
        yield "histogram", f'enhancement_duration_seconds_bucket{{{tenant},le="{_le(bound)}"}}', base * slope, slope
    yield "histogram", f"enhancement_duration_seconds_count{{{tenant}}}", base * t.requests_per_second, \
        t.requests_per_second
    mean = sum(share * min(bound, 200.0) for bound, share in t.latency_share.items())
    yield "histogram", f"enhancement_duration_seconds_sum{{{tenant}}}", base * mean, t.requests_per_second * mean
    yield "gauge", f"enhancement_success_rate{{{tenant}}}", 100 * (1 - t.failure_ratio), 0.0
    yield "gauge", f"queue_depth{{{tenant}}}", float(t.queue_depth), 0.0
    yield "gauge", f"worker_active_count{{{tenant}}}", float(t.active_workers), 0.0


FAMILIES = {
    "enhancement_requests_total": ("enhancement_requests", "counter"),
    "enhancement_duration_seconds": ("enhancement_duration_seconds", "histogram"),
    "enhancement_success_rate": ("enhancement_success_rate", "gauge"),
    "queue_depth": ("queue_depth", "gauge"),
    "worker_active_count": ("worker_active_count", "gauge"),
}


def write_openmetrics(path: Path, end: int) -> None:
    """Every series, one sample per scrape interval, grouped by metric family as OpenMetrics requires."""
    start = end - HISTORY_SECONDS
    times = range(start, end + 1, SCRAPE_SECONDS)
    by_family: dict[str, list[tuple[str, float, float]]] = {}
    for traffic in TRAFFIC:
        for _, prefix, first, slope in _series(traffic):
            family = next(f for f in FAMILIES if prefix.startswith(f))
            by_family.setdefault(family, []).append((prefix, first, slope))
    with path.open("w") as out:
        for family, series in by_family.items():
            name, kind = FAMILIES[family]
            out.write(f"# TYPE {name} {kind}\n")
            for prefix, first, slope in series:
                out.writelines(f"{prefix} {first + slope * (t - start):.3f} {t}\n" for t in times)
        out.write("# EOF\n")


def prerequisite(name: str) -> str:
    """A binary the end-to-end tests need: a skip on a developer machine, a failure in CI."""
    try:
        return find_binary(name)
    except PrerequisiteMissing as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI: {exc}")
        pytest.skip(str(exc))


@dataclass(frozen=True)
class History:
    server: PrometheusServer
    end: int  # time of the newest sample: "now" for every query


@pytest.fixture(scope="session")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    promtool = prerequisite("promtool")
    prerequisite("prometheus")
    work = tmp_path_factory.mktemp("history")
    end = int(time.time()) // SCRAPE_SECONDS * SCRAPE_SECONDS
    source = work / "history.om"
    write_openmetrics(source, end)
    subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet", str(source),
                    str(work / "data")], check=True)
    source.unlink()
    config = work / "prometheus.yml"
    config.write_text(f"global:\n  scrape_interval: {SCRAPE_SECONDS}s\nscrape_configs: []\n")
    with PrometheusServer(config_file=config, storage=work / "data") as server:
        yield History(server=server, end=end)
