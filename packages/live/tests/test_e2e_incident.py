"""What constant traffic cannot show (conftest.incident_history): a 5-minute incident in the middle of a 7-day range
moves every curve; a tenant without requests shows no data, never NaN; a Prometheus without the recording rules
shows no data, never a wrong number.

The 7-day view plots a point every 600 s over $__rate_interval = 615 s, which holds n recorded values (10 or 11,
depending on the rule group's evaluation phase, which promtool derives from the group's hash: each group has
its own n, counted per group). Each recorded value
covers one minute of scrapes (4 samples, 60 s of counter increase), so the point at the incident covers n minutes:
- queue: 20 samples at 400 jobs, 4n - 20 at 10 -> (8000 + 10 (4n - 20)) / 4n (205 for n = 10), else 10;
- workers: dormant's 1 plus hooli's 3 outside the incident -> 1 + 3 (4n - 20) / 4n (2.5 for n = 10), else 4;
- p95: 2 req/s, all under 5 s, except 600 requests in (60, 120] during the incident: N0 = 120 n - 600 fast
  requests, rank 0.95 * 120 n -> 60 + 60 (rank - N0) / 600 (114 s for n = 10), else 1 + 4 * 0.95 = 4.8 s;
- hooli's failures: 300 over n minutes -> 5 / n req/s (0.5 for n = 10), successes 2 - 5 / n, else 0 and 2.
"""

from __future__ import annotations

import json
import math
import urllib.parse
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from agentmon_config import Tenant, load_platform
from agentmon_config.recorded import BUCKET_RATE, QUEUE_DEPTH, REQUEST_RATE
from agentmon_dashboards import render_dashboards
from agentmon_live.panelrun import panel_by_title, run_panel

REPO = Path(__file__).resolve().parents[3]
MAIN = json.loads((REPO / "dashboards" / "agentmon-system-health.json").read_text())
TENANTS = tuple(Tenant(Path(f"{t}/tenant.yaml"), t, t.title(), 99.0, 120, 100, "ops@example.com")
                for t in ("hooli", "dormant"))
BOARDS = render_dashboards(replace(load_platform(REPO / "config/platform.yaml"), tenants=TENANTS))
WEEK, STEP, WINDOW = 7 * 86400, 600, "615s"
ALL = ("$__all",)


def run(server, end, board, title, selection, range_seconds):
    chosen = {"tenant_id": list(selection)} if selection else {}  # tenant dashboards have no variable
    return run_panel(server, board, panel_by_title(board, title), selection=chosen,
                     range_seconds=range_seconds, end=end, scrape_interval="15s")


def around(history, series):
    """(point before, the incident's point, point after) of a 7-day range series."""
    values = dict(zip(series.times, series.values, strict=True))
    return tuple(values[history.point + offset] for offset in (-STEP, 0, STEP))


def minutes_in_point(history, selector: str = f'{QUEUE_DEPTH.name}{{tenant_id="__all__"}}') -> int:
    """Recorded values of one rule group in the incident's point: each group has its own evaluation phase."""
    (result,) = history.server.query(f"count_over_time({selector}[{WINDOW}])", at=history.point)
    return int(result["value"][1])


@pytest.mark.e2e
def test_a_five_minute_incident_moves_every_curve_of_the_7_day_view(incident_history):
    h, n = incident_history, minutes_in_point(incident_history)
    assert n in (10, 11)

    def week(title):
        (series,) = run(h.server, h.end, MAIN, title, ALL, WEEK)
        return around(h, series)

    assert week("Pending Enhancement Jobs in Queue") == pytest.approx((10, (8000 + 10 * (4 * n - 20)) / (4 * n), 10))
    assert week("Active Celery Workers") == pytest.approx((4, 1 + 3 * (4 * n - 20) / (4 * n), 4))
    assert week("Tenants without an active worker") == (0, 1, 0)
    n = minutes_in_point(h, f'{BUCKET_RATE.name}{{tenant_id="__all__",le="+Inf"}}')
    fast, rank = 120 * n - 600, 0.95 * 120 * n
    assert week("p95 Enhancement Processing Latency") == pytest.approx((4.8, 60 + 60 * (rank - fast) / 600, 4.8))
    n = minutes_in_point(h, f'{REQUEST_RATE.name}{{tenant_id="__all__",status="success"}}')
    by_status = run(h.server, h.end, BOARDS["hooli/tenant-hooli.json"], "Request Rate by Status", (), WEEK)
    rates = {s.labels["status"]: around(h, s) for s in by_status}
    assert rates == {"failure": pytest.approx((0, 5 / n, 0)), "success": pytest.approx((2, 2 - 5 / n, 2))}


@pytest.mark.e2e
def test_the_raw_gauge_query_of_before_missed_that_incident(incident_history):
    """Why the panels average recorded values over the step: the instant value at each step never saw it."""
    h = incident_history
    (raw,) = h.server.query_range('sum(queue_depth{tenant_id=~".+"})', math.floor((h.end - WEEK) / STEP) * STEP,
                                  h.end, STEP)
    assert max(float(v) for _, v in raw["values"]) == 10


@pytest.mark.e2e
def test_a_tenant_without_requests_shows_no_data_not_nan(incident_history):
    h = incident_history
    for title in ("Enhancement Success Rate", "Error Rate by Tenant"):
        assert run(h.server, h.end, MAIN, title, ("dormant",), 3600) == [], title
    rows = run(h.server, h.end, MAIN, "Error Rate by Tenant", ALL, 3600)
    assert {r.labels["tenant_id"]: r.last for r in rows} == {"hooli": 0.0}
    dormant = BOARDS["dormant/tenant-dormant.json"]
    for title in ("Success Rate vs SLO", "Error Budget Remaining (30 d)"):
        assert run(h.server, h.end, dormant, title, (), 3600) == [], title
    # Before: 0 / 0 reached the gauge as NaN.
    old = 'sum(rate(enhancement_requests_total{tenant_id="dormant"}[1m]))'
    (nan,) = h.server.query(f"100 * {old} / {old}", at=h.end)
    assert math.isnan(float(nan["value"][1]))


@pytest.mark.e2e
@pytest.mark.parametrize("span", [3600, WEEK])
@pytest.mark.parametrize("selection", [ALL, ("hooli",)], ids="+".join)
def test_without_the_recording_rules_every_panel_shows_no_data(incident_history, raw_only, selection, span):
    """A Prometheus that never loaded the rules: no data on every panel, never a number computed from nothing."""
    hooli = BOARDS["hooli/tenant-hooli.json"]
    for board, chosen in ((MAIN, selection), (hooli, ())):
        for panel in board["panels"]:
            assert run(raw_only, incident_history.end, board, panel["title"], chosen, span) == [], panel["title"]


@pytest.mark.e2e
def test_the_tenant_variable_lists_real_tenants_only(history):
    """The variable's query reads the raw counter, which never carries the reserved aggregate value."""
    (variable,) = MAIN["templating"]["list"]
    assert variable["query"] == "label_values(enhancement_requests_total, tenant_id)"
    query = urllib.parse.urlencode({"match[]": "enhancement_requests_total"})
    with urllib.request.urlopen(f"{history.server.url}/api/v1/label/tenant_id/values?{query}") as response:
        assert json.load(response)["data"] == ["acme", "globex", "initech"]
    (aggregate,) = history.server.query('count(tenant_id:queue_depth:sum_avg{tenant_id="__all__"})', at=history.end)
    assert aggregate["value"][1] == "1"
