"""The recorded SLO metadata and the Tenant SLOs dashboard against a real Prometheus holding known traffic, with the
generated recording rules of a configuration of five tenants backfilled over it by promtool.

The tenants (SLO %, latency SLA s; traffic; failed share):
- north  (99.9, 60):  10 req/s, 0.1 % failing: exactly at its SLO. Every hour 36,000 requests, 36 failed: of 10,000
  requests 9,990 succeed, success ratio 0.999, budget remaining 1 - 0.001 / 0.001 = 0 (not breaching);
  90 % of requests within 60 s.
- west   (99, 120):   2 req/s, 1.01 % failing: just below. Success 0.9899, remaining 1 - 0.0101 / 0.01 = -0.01;
  98 % within 120 s.
- central (99, 120):  2 req/s, 0.99 % failing: just above. Success 0.9901, remaining 1 - 0.0099 / 0.01 = +0.01.
- south  (97, 120):   4 req/s, 3.1 % failing, then every request failing for the last 35 minutes (from 5 minutes
  past the last full hour). Success (over 30 days, which end before the incident: below) 0.969, remaining
  1 - 0.031 / 0.03 = -1/30 = -0.0333; 95 % within 120 s. Its fast-burn page fires (ALERTS, written into the history:
  alert rules are not backfilled): 1h burn about (35 x 1 + 25 x 0.031) / 60 / 0.03 = 19.875 >= 14.4, 5m burn
  1 / 0.03 = 33.3 >= 14.4.
- east   (99.5, 120): configured, never sends a request.
Burn rates (error ratio over the window / budget): north 0.001 / 0.001 = 1 over every window, west 1.01, central
0.99; south over 5m and 30m (inside the incident) 1 / 0.03 = 33.33, over 1h, 2h and 6h with 34 of the 35 incident
minutes (the burn rules read the SLI group's previous evaluation, a minute before "now"; give or take the minute
that straddles the change) (34 + 26 x 0.031) / 60 / 0.03 = 19.336, (34 + 86 x 0.031) / 120 / 0.03 = 10.185 and
(34 + 326 x 0.031) / 360 / 0.03 = 4.0837; over 1d and 3d (they end at the last full hour) 0.031 / 0.03 = 1.0333.
The 30-day ratios sum the rates the hourly group records once an hour: promtool evaluates it 48:33 past each hour
for this rule file (a hash of the file's and the group's names), so the last one before "now" comes 16.5 minutes
before the incident, and they count no incident minute (test_the_30_day_window_ends_before_the_incident).
Margins: the dashboard counts a breach from 1e-6 of the budget beyond it (rounding over a month of rates leaves
north, exactly at its SLO, at about -1e-12).
Headline: breaching 2 (west, south; north is at its SLO, central above), burning fast 1 (south; north's pending
slow-burn alert and east's absent alert are not burn pages), without traffic 1 (east).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import pytest
from agentmon_alertkit import make_config

from agentmon_bundle.serialize import yaml_bytes
from agentmon_dashboards import render_dashboards
from agentmon_live.grafana import ALL
from agentmon_live.panelrun import panel_by_title, run_panel, table_rows
from agentmon_live.report.figures import Month, tenant_month
from agentmon_live.report.history import fetch_counts
from agentmon_rules import RULE_FILE, recording_document, render_rules

from .conftest import History, Incident, TenantTraffic, build_history

TENANTS = {
    "north": {"display_name": 'Nörth "Star" & Co', "success_rate_slo": 99.9, "p95_latency_sla_seconds": 60},
    "west": {"display_name": "West", "success_rate_slo": 99, "p95_latency_sla_seconds": 120},
    "central": {"display_name": "Central", "success_rate_slo": 99, "p95_latency_sla_seconds": 120},
    "south": {"display_name": "South", "success_rate_slo": 97, "p95_latency_sla_seconds": 120},
    "east": {"display_name": "East", "success_rate_slo": 99.5, "p95_latency_sla_seconds": 120},
}
FAST = {30.0: 0.98, math.inf: 0.02}
TRAFFIC = (
    TenantTraffic("north", 10.0, 0.001, {30.0: 0.9, 120.0: 0.1}, queue_depth=5, active_workers=2),
    TenantTraffic("west", 2.0, 0.0101, FAST, queue_depth=5, active_workers=1),
    TenantTraffic("central", 2.0, 0.0099, FAST, queue_depth=5, active_workers=1),
    TenantTraffic("south", 4.0, 0.031, {30.0: 0.8, 120.0: 0.15, math.inf: 0.05}, queue_depth=5, active_workers=1),
)
SOUTH_INCIDENT = TenantTraffic("south", 4.0, 1.0, {30.0: 0.8, 120.0: 0.15, math.inf: 0.05}, queue_depth=5,
                               active_workers=1)
INCIDENT_MINUTES = 35
PAST_THE_HOUR = 40 * 60  # "now" is 40 minutes past an hour: the incident starts 5 minutes after it
HISTORY_SECONDS = 10 * 3600
MINUTE_OF_INCIDENT = (1 - 0.031) / 0.03  # one minute of an hour at 100 % instead of 3.1 % failing, in burn units
SEEN = 34  # incident minutes the burn rules see: one evaluation late
DAY = 86400

SLO_SERIES = {
    "success": "tenant_id:enhancement_requests_success:ratio_rate30d",
    "remaining": "tenant_id:agentmon_error_budget_remaining:ratio",
    "within_sla": "tenant_id:enhancement_duration_within_sla:ratio_rate30d",
}
EXPECTED_SERIES = {
    "success": {"north": 0.999, "west": 0.9899, "central": 0.9901, "south": 0.969},
    "remaining": {"north": 0.0, "west": -0.01, "central": 0.01, "south": -1 / 30},
    "within_sla": {"north": 0.9, "west": 0.98, "central": 0.98, "south": 0.95},
}
# tenant -> window -> (burn rate, tolerance)
SOUTH_BURN = {"5m": (1 / 0.03, 1e-6), "30m": (1 / 0.03, 1e-6),
              "1h": ((SEEN + 26 * 0.031) / 60 / 0.03, MINUTE_OF_INCIDENT / 60),
              "2h": ((SEEN + 86 * 0.031) / 120 / 0.03, MINUTE_OF_INCIDENT / 120),
              "6h": ((SEEN + 326 * 0.031) / 360 / 0.03, MINUTE_OF_INCIDENT / 360),
              "1d": (0.031 / 0.03, 1e-6), "3d": (0.031 / 0.03, 1e-6)}
BURN = {"north": {w: (1.0, 1e-6) for w in SOUTH_BURN}, "west": {w: (1.01, 1e-6) for w in SOUTH_BURN},
        "central": {w: (0.99, 1e-6) for w in SOUTH_BURN}, "south": SOUTH_BURN}


def _alerts(start: int, end: int) -> str:
    """South's fast-burn page firing, north's slow burn pending, east's absent alert firing: one sample a minute."""
    series = [
        'ALERTS{alertname="AgentmonErrorBudgetBurnFast",alertstate="firing",managed_by="agentmon",'
        'severity="critical",tenant_id="south"}',
        'ALERTS{alertname="AgentmonErrorBudgetBurnSlow",alertstate="pending",managed_by="agentmon",'
        'severity="warning",tenant_id="north"}',
        'ALERTS{alertname="AgentmonTenantAbsent",alertstate="firing",managed_by="agentmon",severity="critical",'
        'tenant_id="east"}',
    ]
    lines = [f"{s} 1 {t}\n" for s in series for t in range(start, end + 1, 60)]
    return "# TYPE ALERTS gauge\n" + "".join(lines)


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory):
    return make_config(tmp_path_factory.mktemp("slo-config"), TENANTS)


@pytest.fixture(scope="module")
def boards(config):
    return render_dashboards(config)


@pytest.fixture(scope="module")
def slo_history(config, tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    work = tmp_path_factory.mktemp("slo-history")
    rules = work / "rules" / RULE_FILE
    rules.parent.mkdir()
    rules.write_bytes(yaml_bytes(recording_document(render_rules(config))))
    end = int(time.time()) // 3600 * 3600 - 3600 + PAST_THE_HOUR
    incident_start = end - INCIDENT_MINUTES * 60
    yield from build_history(work, TRAFFIC, ((end - HISTORY_SECONDS, end),),
                             (Incident(incident_start, end + 1, SOUTH_INCIDENT),), rules=rules,
                             extra=_alerts(end - 1800, end))


@pytest.mark.e2e
def test_the_30_day_window_ends_before_the_incident(slo_history):
    """The premise of the 30-day expectations: the hourly rates' last evaluation precedes south's incident (if the
    hourly group or the rule file is renamed, its evaluation phase moves: choose PAST_THE_HOUR again)."""
    (series,) = slo_history.server.query('tenant_id:enhancement_requests:rate1h_hourly{tenant_id="south"}[2h]',
                                     at=slo_history.end)
    last = float(series["values"][-1][0])
    assert slo_history.end - 3600 < last < slo_history.end - INCIDENT_MINUTES * 60


def _by_tenant(slo_history: History, expr: str) -> dict[str, float]:
    return {r["metric"]["tenant_id"]: float(r["value"][1]) for r in slo_history.server.query(expr, at=slo_history.end)}


@pytest.mark.e2e
@pytest.mark.parametrize("series", list(SLO_SERIES))
def test_the_30_day_metadata_equals_the_hand_computed_ratios(slo_history, series):
    values = _by_tenant(slo_history, f'{SLO_SERIES[series]}{{tenant_id!="__all__"}}')
    assert values == {t: pytest.approx(v, abs=1e-9) for t, v in EXPECTED_SERIES[series].items()}


@pytest.mark.e2e
def test_burn_rates_per_window_are_the_error_ratio_over_the_tenants_budget(slo_history):
    rates: dict[str, dict[str, float]] = {}
    for r in slo_history.server.query("tenant_id_window:agentmon_error_budget_burn_rate:ratio", at=slo_history.end):
        rates.setdefault(r["metric"]["tenant_id"], {})[r["metric"]["window"]] = float(r["value"][1])
    assert rates == {tenant: {w: pytest.approx(v, abs=tol) for w, (v, tol) in windows.items()}
                     for tenant, windows in BURN.items()}


@pytest.mark.e2e
def test_the_info_series_names_every_configured_tenant_with_its_display_name_slo_and_sla(slo_history):
    info = {r["metric"]["tenant_id"]: {k: v for k, v in r["metric"].items() if k != "tenant_id"}
            for r in slo_history.server.query("tenant_id:agentmon_slo:info", at=slo_history.end)}
    assert info == {
        "north": {"__name__": "tenant_id:agentmon_slo:info", "display_name": 'Nörth "Star" & Co', "slo": "99.9",
                  "sla": "60"},
        **{t: {"__name__": "tenant_id:agentmon_slo:info", "display_name": t.title(), "slo": slo, "sla": "120"}
           for t, slo in (("west", "99"), ("central", "99"), ("south", "97"), ("east", "99.5"))}}
    assert _by_tenant(slo_history, "tenant_id:agentmon_error_budget:ratio") == {
        "north": pytest.approx(0.001, abs=1e-15), "west": 0.01, "central": 0.01, "south": 0.03, "east": 0.005}


def run(slo_history: History, boards, title: str, tenants: list[str]):
    board = boards["agentmon-tenant-slos.json"]
    panel = panel_by_title(board, title)
    return panel, run_panel(slo_history.server, board, panel, selection={"tenant_id": tenants}, range_seconds=30 * DAY,
                            end=slo_history.end, scrape_interval="15s")


@pytest.mark.e2e
@pytest.mark.parametrize(("tenants", "breaching", "burning", "without_traffic"), [
    ([ALL], 2, 1, 1),
    (["north", "central"], 0, 0, 0),  # at and just above the SLO
    (["west", "east"], 1, 0, 1),  # just below; no traffic
    (["south"], 1, 1, 0),
])
def test_headline_stats_count_the_selected_tenants(slo_history, boards, tenants, breaching, burning, without_traffic):
    counts = [[s.last for s in run(slo_history, boards, title, tenants)[1]] for title in (
        "Tenants breaching their SLO (30d)", "Tenants burning fast now", "Tenants without traffic")]
    assert counts == [[breaching], [burning], [without_traffic]]


@pytest.mark.e2e
def test_the_table_shows_every_tenant_worst_first_with_the_hand_computed_cells(slo_history, boards):
    panel, series = run(slo_history, boards, "SLOs by tenant", [ALL])
    fields, rows = table_rows(panel, series)
    assert fields == ["Tenant", "SLO", "Success (30d)", "Budget remaining", "Burn rate 1h", "Burn rate 6h",
                      "Burn alerts", "Within latency SLA (30d)"]
    near = {"abs": 1e-7}
    assert rows == [
        ["south", pytest.approx(97.0), pytest.approx(96.9, **near), pytest.approx(-100 / 30, **near),
         pytest.approx(SOUTH_BURN["1h"][0], abs=SOUTH_BURN["1h"][1]),
         pytest.approx(SOUTH_BURN["6h"][0], abs=SOUTH_BURN["6h"][1]), 2.0, pytest.approx(95.0, **near)],
        ["west", 99.0, pytest.approx(98.99, **near), pytest.approx(-1.0, **near), pytest.approx(1.01, **near),
         pytest.approx(1.01, **near), 0.0, pytest.approx(98.0, **near)],
        ["north", pytest.approx(99.9), pytest.approx(99.9, **near), pytest.approx(0.0, **near),
         pytest.approx(1.0, **near), pytest.approx(1.0, **near), 0.0, pytest.approx(90.0, **near)],
        ["central", 99.0, pytest.approx(99.01, **near), pytest.approx(1.0, **near), pytest.approx(0.99, **near),
         pytest.approx(0.99, **near), 0.0, pytest.approx(98.0, **near)],
        ["east", 99.5, None, None, None, None, 0.0, None],  # no traffic: no ratio, last
    ]


@pytest.mark.e2e
def test_the_tenant_filter_keeps_only_the_selected_rows(slo_history, boards):
    panel, series = run(slo_history, boards, "SLOs by tenant", ["north", "south"])
    assert [row[0] for row in table_rows(panel, series)[1]] == ["south", "north"]


def test_the_tenant_cell_links_to_that_tenants_dashboard(boards):
    panel = panel_by_title(boards["agentmon-tenant-slos.json"], "SLOs by tenant")
    (override,) = [o for o in panel["fieldConfig"]["overrides"] if o["matcher"]["options"] == "Tenant"]
    (link,) = override["properties"][0]["value"]
    url = link["url"].replace("${__value.raw}", "south")
    assert url == "/d/tenant-south?${__url_time_range}"
    assert boards["south/tenant-south.json"]["uid"] == "tenant-south"


def test_budget_cells_take_the_configured_colour_steps(boards, config):
    panel = panel_by_title(boards["agentmon-tenant-slos.json"], "SLOs by tenant")
    (override,) = [o for o in panel["fieldConfig"]["overrides"] if o["matcher"]["options"] == "Budget remaining"]
    steps = next(p["value"]["steps"] for p in override["properties"] if p["id"] == "thresholds")
    assert config.thresholds.error_budget_warning == 25
    # red below 0 (less a millionth of the budget, in percent), green from the configured 25 %
    assert steps == [{"value": None, "color": "red"}, {"value": -0.0001, "color": "yellow"},
                     {"value": 25, "color": "green"}]



def _last_hourly_evaluation(slo_history: History) -> int:
    (series,) = slo_history.server.query('tenant_id:enhancement_requests:rate1h_hourly{tenant_id="south"}[2h]',
                                         at=slo_history.end)
    return int(float(series["values"][-1][0]))


@pytest.mark.e2e
def test_the_overview_cells_equal_the_reports_numbers_over_the_same_window(slo_history, boards, config):
    """The Tenant SLOs table and `agentmon report`'s figures, two computations (recorded rates summed hourly;
    counter increases read sample by sample), agree over the same window: everything up to the last hourly
    evaluation, which the 30-day cells cover. Success and within-SLA shares in percent, budget remaining = 100 -
    budget used."""
    last = _last_hourly_evaluation(slo_history)
    counts = fetch_counts(slo_history.server, config.tenants, slo_history.end - HISTORY_SECONDS - 3600, last)
    month = Month(*time.gmtime(last)[:2])
    reported = {t.tenant_id: tenant_month(t, month, counts[t.tenant_id]) for t in config.tenants}
    panel, series = run(slo_history, boards, "SLOs by tenant", [ALL])
    fields, rows = table_rows(panel, series)
    column = {name: fields.index(name) for name in fields}
    cells = {row[0]: row for row in rows}
    for tenant in ("north", "west", "central", "south"):
        report, row = reported[tenant], cells[tenant]
        assert row[column["Success (30d)"]] == pytest.approx(100 * float(report.success_ratio), abs=1e-6), tenant
        assert row[column["Budget remaining"]] == pytest.approx(100 - 100 * float(report.budget_used), abs=1e-4), tenant
        assert row[column["Within latency SLA (30d)"]] == pytest.approx(100 * float(report.within_sla_share),
                                                                        abs=1e-6), tenant
    # The report, too, sees south's window before its incident: 3.1 % failing, budget 3 %.
    assert float(reported["south"].budget_used) == pytest.approx(0.031 / 0.03, abs=1e-6)
    assert reported["east"].requests == 0 and cells["east"][column["Success (30d)"]] is None
