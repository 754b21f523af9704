"""Tenant dashboards against the real Prometheus holding known traffic (conftest.TRAFFIC).

Hand-derived expectations (failure ratios 2 %, 20 %, 0 %):
- error budget remaining = 1 - failure ratio / (1 - SLO): acme (SLO 97) 1 - 2/3 = 33.3 %; globex (SLO 90)
  1 - 20/10 = -100 %; initech (SLO 99, never failed) 100 %. A counter ratio over 30 d: 7 d of history suffice.
- quantiles from the tenant's buckets, linear within the bucket: acme p50 rank 5 of 10 in (1, 5] -> 5.0,
  p95 9.5, p99 5 + 5 * 4.9 / 5 = 9.9; globex (1 req/s in (10, 30], 3 in (60, 120]) p50 rank 2 -> 60 + 60 / 3 = 80,
  p95 116, p99 rank 3.96 -> 60 + 60 * 2.96 / 3 = 119.2; initech (all in (30, 60]) 45, 58.5, 59.7.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from agentmon_config import Tenant, load_platform
from agentmon_dashboards import render_dashboards
from agentmon_live.panelrun import panel_by_title, run_panel

REPO = Path(__file__).resolve().parents[3]
CONFIG = load_platform(REPO / "config/platform.yaml")
SLO = {"acme": 97.0, "globex": 90.0, "initech": 99.0}
TENANTS = tuple(Tenant(Path(f"{t}/tenant.yaml"), t, t.title(), slo, 120, 100, "ops@example.com")
                for t, slo in SLO.items())
BOARDS = render_dashboards(replace(CONFIG, tenants=TENANTS))

# tenant -> success %, budget left %, workers, queue, {status: req/s}, (p50, p95, p99)
EXPECTED = {
    "acme": (98.0, 100 / 3, 4, 30, {"success": 9.8, "failure": 0.2}, (5.0, 9.5, 9.9)),
    "globex": (80.0, -100.0, 2, 80, {"success": 3.2, "failure": 0.8}, (80.0, 116.0, 119.2)),
    "initech": (100.0, 100.0, 0, 5, {"success": 1.0}, (45.0, 58.5, 59.7)),
}
SPANS = {"1h": 3600, "7d": 604800}


def run(history, tenant: str, title: str, span: str):
    board = BOARDS[f"{tenant}/tenant-{tenant}.json"]
    return run_panel(history.server, board, panel_by_title(board, title), selection={},
                     range_seconds=SPANS[span], end=history.end, scrape_interval="15s")


def constant(series) -> float:
    assert max(series.values) == pytest.approx(min(series.values), rel=1e-9), series.labels
    return series.values[-1]


@pytest.mark.e2e
@pytest.mark.parametrize("span", list(SPANS))
@pytest.mark.parametrize("tenant", list(EXPECTED))
def test_tenant_dashboard_shows_the_tenants_numbers(history, tenant, span):
    success, budget, workers, queue, by_status, quantiles = EXPECTED[tenant]
    (gauge,) = run(history, tenant, "Success Rate vs SLO", span)
    assert gauge.values == [pytest.approx(success, rel=1e-9)]
    (budget_left,) = run(history, tenant, "Error Budget Remaining (30 d)", span)
    assert budget_left.values == [pytest.approx(budget, rel=1e-9)]
    assert [constant(s) for s in run(history, tenant, "Active Celery Workers", span)] == [workers]
    assert [constant(s) for s in run(history, tenant, "Pending Jobs in Queue", span)] == [queue]
    rates = {s.labels["status"]: constant(s) for s in run(history, tenant, "Request Rate by Status", span)}
    assert rates == pytest.approx(by_status, rel=1e-9)
    latency = [constant(s) for s in run(history, tenant, "Processing Latency p50 / p95 / p99", span)]
    assert latency == pytest.approx(list(quantiles), rel=1e-9)
