"""The main dashboard's panels against a real Prometheus holding known traffic (see conftest.TRAFFIC) and the
generated recording rules backfilled over it: every panel reads recorded series, and must show the numbers the
raw series imply.

Expected numbers are derived by hand from the traffic tables (acme is the sum of its two instances: 10 req/s, 0.2
failing, 5 req/s in (1, 5] and 5 in (5, 10], 30 jobs, 4 workers). "Now" (every instant panel, whose window at
"now" is at most 615 s, and the range panels' points after the change):
- success rate = sum(success req/s) / sum(req/s): All = (9.8 + 3.2 + 1) / 15 = 93.333...% (the wrong
  average of per-tenant percentages would give (98 + 80 + 100) / 3 = 92.667%).
- p95 from summed bucket rates, linear inside the bucket holding rank 0.95 * total:
  All: cumulative req/s le=10: 10, le=30: 11, le=60: 12, le=120: 15; rank 14.25 -> 60 + 60 * (2.25 / 3) = 105 s.
  acme: rank 9.5 in (5, 10] holding 5..10 -> 5 + 5 * 4.5 / 5 = 9.5 s. globex: rank 3.8 in (60, 120] holding
  1..4 -> 60 + 60 * 2.8 / 3 = 116 s. initech: rank 0.95 in (30, 60] -> 30 + 30 * 0.95 = 58.5 s.
  acme+globex: le=30: 11, le=120: 14; rank 13.3 -> 60 + 60 * 2.3 / 3 = 106 s. acme+initech: le=30: 10, le=60: 11;
  rank 10.45 -> 30 + 30 * 0.45 = 43.5 s; success (9.8 + 1) / 11 = 98.18 %.
- tenants without an active worker: initech has 0 workers, so 1 under All and for initech, 0 otherwise: the
  platform total (6) alone would hide initech's outage.

Before the change (globex: 8 req/s, 0.4 failing, all in (10, 30], 20 jobs, 1 worker), range panels' points:
- workers All 4 + 1 + 0 = 5, globex 1, acme+globex 5; queue All 30 + 20 + 5 = 55, globex 20, acme+globex 50.
- p95 All: cumulative le=5: 5, le=10: 10, le=30: 18, le=60: 19; rank 18.05 in (30, 60] -> 30 + 30 * 0.05 = 31.5 s.
  globex: rank 7.6 of 8 in (10, 30] -> 10 + 20 * 7.6 / 8 = 29 s. acme+globex: le=10: 10, le=30: 18; rank 17.1 ->
  10 + 20 * 7.1 / 8 = 27.75 s. Selections without globex are unchanged.
A point is "before" when its step ends a minute before the change, "now" when its window ($__rate_interval) starts
75 s after it (the rules' rate window); points in between mix both and are not checked.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentmon_live.panelrun import panel_by_title, run_panel

from .conftest import CHANGE_BEFORE_END

REPO = Path(__file__).resolve().parents[3]
DASHBOARD = json.loads((REPO / "dashboards" / "agentmon-system-health.json").read_text())
SCRAPE = "15s"

# selection -> (success %, workers, queue, p95 s, {tenant: error %}, tenants without a worker)
EXPECTED = {
    ("$__all",): (93.333333333333333, 6, 115, 105.0, {"acme": 2.0, "globex": 20.0, "initech": 0.0}, 1),
    ("acme",): (98.0, 4, 30, 9.5, {"acme": 2.0}, 0),
    ("globex",): (80.0, 2, 80, 116.0, {"globex": 20.0}, 0),
    ("initech",): (100.0, 0, 5, 58.5, {"initech": 0.0}, 1),
    ("acme", "globex"): (92.857142857142857, 6, 110, 106.0, {"acme": 2.0, "globex": 20.0}, 0),
    ("acme", "initech"): (98.181818181818182, 4, 35, 43.5, {"acme": 2.0, "initech": 0.0}, 1),
}
# selection -> (workers, queue, p95 s, tenants without a worker) before the change
BEFORE = {
    ("$__all",): (5, 55, 31.5, 1),
    ("acme",): (4, 30, 9.5, 0),
    ("globex",): (1, 20, 29.0, 0),
    ("initech",): (0, 5, 58.5, 1),
    ("acme", "globex"): (5, 50, 27.75, 0),
    ("acme", "initech"): (4, 35, 43.5, 1),
}
# range -> Grafana's $__interval (range / 1000 points, rounded, floored at the 15 s scrape interval) and
# $__rate_interval = max($__interval + 15 s, 60 s)
RANGES = {"1h": (3600, 15), "6h": (21600, 20), "24h": (86400, 60), "7d": (604800, 600)}
RATE_INTERVAL = {"1h": 60, "6h": 60, "24h": 75, "7d": 615}


def run(history, title: str, selection: tuple[str, ...], range_seconds: int):
    return run_panel(history.server, DASHBOARD, panel_by_title(DASHBOARD, title),
                     selection={"tenant_id": list(selection)}, range_seconds=range_seconds,
                     end=history.end, scrape_interval=SCRAPE)


def before_and_now(history, series, span: str) -> tuple[list[float], list[float]]:
    """The values of the points before the change and of the points after it (see the docstring)."""
    change = history.end - CHANGE_BEFORE_END
    points = dict(zip(series.times, series.values, strict=True))
    before = [v for t, v in points.items() if t <= change - 60]
    now = [v for t, v in points.items() if t - RATE_INTERVAL[span] >= change + 75]
    assert before and now, (span, sorted(points))
    return before, now


def only_series(results):
    assert len(results) == 1, f"expected one series, got {[r.labels for r in results]}"
    return results[0]


@pytest.mark.e2e
@pytest.mark.parametrize("span", list(RANGES))
@pytest.mark.parametrize("selection", list(EXPECTED), ids="+".join)
class TestMainDashboardNumbers:
    def test_success_rate_gauge_is_one_request_weighted_value(self, history, selection, span):
        series = only_series(run(history, "Enhancement Success Rate", selection, RANGES[span][0]))
        assert series.values == [pytest.approx(EXPECTED[selection][0], rel=1e-9)]

    def test_active_workers_stat_is_the_total_at_every_step(self, history, selection, span):
        range_seconds, step = RANGES[span]
        series = only_series(run(history, "Active Celery Workers", selection, range_seconds))
        assert len(series.values) == range_seconds // step + 1
        before, now = before_and_now(history, series, span)
        assert (set(before), set(now)) == ({BEFORE[selection][0]}, {EXPECTED[selection][1]})

    def test_queue_depth_is_the_total_at_every_step(self, history, selection, span):
        range_seconds, step = RANGES[span]
        series = only_series(run(history, "Pending Enhancement Jobs in Queue", selection, range_seconds))
        assert len(series.values) == range_seconds // step + 1
        before, now = before_and_now(history, series, span)
        assert (set(before), set(now)) == ({BEFORE[selection][1]}, {EXPECTED[selection][2]})

    def test_p95_latency_is_the_quantile_of_summed_buckets(self, history, selection, span):
        range_seconds, step = RANGES[span]
        series = only_series(run(history, "p95 Enhancement Processing Latency", selection, range_seconds))
        assert len(series.values) == range_seconds // step + 1
        before, now = before_and_now(history, series, span)
        assert before == [pytest.approx(BEFORE[selection][2], rel=1e-9)] * len(before)
        assert now == [pytest.approx(EXPECTED[selection][3], rel=1e-9)] * len(now)

    def test_error_rate_table_has_one_row_per_tenant_with_its_own_rate(self, history, selection, span):
        rows = run(history, "Error Rate by Tenant", selection, RANGES[span][0])
        by_tenant = {r.labels["tenant_id"]: r.last for r in rows}
        assert all(set(r.labels) == {"tenant_id"} for r in rows)
        assert by_tenant == pytest.approx(EXPECTED[selection][4], rel=1e-9)

    def test_tenants_without_a_worker_are_counted_at_every_step(self, history, selection, span):
        range_seconds, step = RANGES[span]
        series = only_series(run(history, "Tenants without an active worker", selection, range_seconds))
        assert len(series.values) == range_seconds // step + 1
        before, now = before_and_now(history, series, span)
        assert (set(before), set(now)) == ({BEFORE[selection][3]}, {EXPECTED[selection][5]})


def test_an_outage_of_one_tenant_is_red_under_all_while_the_total_is_green(history):
    board_panels = {p["title"]: p for p in DASHBOARD["panels"]}
    total = only_series(run(history, "Active Celery Workers", ("$__all",), 3600)).last
    without = only_series(run(history, "Tenants without an active worker", ("$__all",), 3600)).last
    assert (total, colour(board_panels["Active Celery Workers"], total)) == (6, "green")
    assert (without, colour(board_panels["Tenants without an active worker"], without)) == (1, "red")


def colour(panel, value):
    steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
    return [s["color"] for s in steps if s["value"] is None or value >= s["value"]][-1]
