"""Tenant dashboards against the real Prometheus holding known traffic (conftest.TRAFFIC; acme is served by two
instances, globex's traffic changed 30 minutes before "now", from conftest.GLOBEX_BEFORE).

Hand-derived expectations "now" (failure ratios 2 %, 20 %, 0 %):
- quantiles from the tenant's buckets, linear within the bucket: acme (api-0's 5 req/s in (1, 5], api-1's 5 in
  (5, 10]) p50 rank 5 of 10 -> 5.0, p95 9.5, p99 5 + 5 * 4.9 / 5 = 9.9; globex (1 req/s in (10, 30], 3 in
  (60, 120]) p50 rank 2 -> 60 + 60 / 3 = 80, p95 116, p99 rank 3.96 -> 60 + 60 * 2.96 / 3 = 119.2; initech (all in
  (30, 60]) 45, 58.5, 59.7.
- acme's workers 3 + 1 = 4 and queue 10 + 20 = 30: one value, summed over its two instances.
Before the change globex had 8 req/s, 5 % failing (7.6 and 0.4 req/s), all in (10, 30]: p50 rank 4 of 8 ->
10 + 20 * 4 / 8 = 20, p95 rank 7.6 -> 29, p99 rank 7.92 -> 29.8; 20 jobs, 1 worker.
Error budget remaining = 1 - failure share over 30 d / (1 - SLO): acme (SLO 97) 1 - 2/3 = 33.3 %; initech (SLO 99,
never failed) 100 %; globex (SLO 90) counts every recorded minute since the rules' backfill began (7 d + 1 h before
"now"): 10,110 minutes before the change (8 req/s, 0.4 failing) and 30 after (4 req/s, 0.8 failing): failure
share (0.4 * 10110 + 0.8 * 30) / (8 * 10110 + 4 * 30) = 4068.4 / 81000 = 5.0227 %, budget 1 - 5.0227 / 10 =
49.77 % (one minute more or less moves it by 0.01; a 1-day window would give 48.4 %, the last hour -0.0 %).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from agentmon_config import Tenant, load_platform
from agentmon_dashboards import render_dashboards
from agentmon_live.panelrun import panel_by_title, run_panel

from .conftest import CHANGE_BEFORE_END

REPO = Path(__file__).resolve().parents[3]
CONFIG = load_platform(REPO / "config/platform.yaml")
SLO = {"acme": 97.0, "globex": 90.0, "initech": 99.0}
TENANTS = tuple(Tenant(Path(f"{t}/tenant.yaml"), t, t.title(), slo, 120, 100, "ops@example.com")
                for t, slo in SLO.items())
BOARDS = render_dashboards(replace(CONFIG, tenants=TENANTS))

# tenant -> success %, (budget left %, tolerance), workers, queue, {status: req/s}, (p50, p95, p99)
EXPECTED = {
    "acme": (98.0, (100 / 3, 1e-9), 4, 30, {"success": 9.8, "failure": 0.2}, (5.0, 9.5, 9.9)),
    "globex": (80.0, (100 * (1 - 4068.4 / 81000 / 0.1), 0.05), 2, 80, {"success": 3.2, "failure": 0.8},
               (80.0, 116.0, 119.2)),
    "initech": (100.0, (100.0, 1e-9), 0, 5, {"success": 1.0}, (45.0, 58.5, 59.7)),
}
# tenant -> workers, queue, {status: req/s}, (p50, p95, p99) before the change
BEFORE = {
    "acme": EXPECTED["acme"][2:],
    "globex": (1, 20, {"success": 7.6, "failure": 0.4}, (20.0, 29.0, 29.8)),
    "initech": EXPECTED["initech"][2:],
}
SPANS = {"1h": 3600, "7d": 604800}
RATE_INTERVAL = {"1h": 60, "7d": 615}


def run(history, tenant: str, title: str, span: str):
    board = BOARDS[f"{tenant}/tenant-{tenant}.json"]
    return run_panel(history.server, board, panel_by_title(board, title), selection={},
                     range_seconds=SPANS[span], end=history.end, scrape_interval="15s")


def before_and_now(history, series, span: str) -> tuple[float, float]:
    """The one value of the points a minute before the change, and of those whose window starts 75 s (the
    rules' rate window) after it; points in between mix both."""
    change = history.end - CHANGE_BEFORE_END
    points = dict(zip(series.times, series.values, strict=True))
    before = [v for t, v in points.items() if t <= change - 60]
    now = [v for t, v in points.items() if t - RATE_INTERVAL[span] >= change + 75]
    assert before and now, series.labels
    for values in (before, now):
        assert max(values) == pytest.approx(min(values), rel=1e-9), series.labels
    return before[-1], now[-1]


@pytest.mark.e2e
@pytest.mark.parametrize("span", list(SPANS))
@pytest.mark.parametrize("tenant", list(EXPECTED))
def test_tenant_dashboard_shows_the_tenants_numbers(history, tenant, span):
    success, (budget, tolerance), workers, queue, by_status, quantiles = EXPECTED[tenant]
    workers_before, queue_before, by_status_before, quantiles_before = BEFORE[tenant]
    (gauge,) = run(history, tenant, "Success Rate vs SLO", span)
    assert gauge.values == [pytest.approx(success, rel=1e-9)]
    (budget_left,) = run(history, tenant, "Error Budget Remaining (30 d)", span)
    assert budget_left.values == [pytest.approx(budget, abs=tolerance)]
    assert [before_and_now(history, s, span) for s in run(history, tenant, "Active Celery Workers", span)] == [
        (workers_before, workers)]
    assert [before_and_now(history, s, span) for s in run(history, tenant, "Pending Jobs in Queue", span)] == [
        (queue_before, queue)]
    rates = {s.labels["status"]: before_and_now(history, s, span)
             for s in run(history, tenant, "Request Rate by Status", span)}
    assert rates == {status: (pytest.approx(by_status_before[status], rel=1e-9), pytest.approx(rate, rel=1e-9))
                     for status, rate in by_status.items()}
    latency = [before_and_now(history, s, span) for s in run(history, tenant, "Processing Latency p50 / p95 / p99",
                                                              span)]
    assert latency == [(pytest.approx(b, rel=1e-9), pytest.approx(n, rel=1e-9))
                       for b, n in zip(quantiles_before, quantiles, strict=True)]
