from __future__ import annotations

import re
from pathlib import Path

import pytest

from agentmon_config import load_platform
from agentmon_dashboards import render_dashboards

REPO = Path(__file__).resolve().parents[3]
CONFIG = load_platform(REPO / "config" / "platform.yaml")
BOARD = render_dashboards(CONFIG)["agentmon-system-health.json"]
PANELS = {p["title"]: p for p in BOARD["panels"]}


def thresholds(field_config):
    return [(s["value"], s["color"]) for s in field_config["thresholds"]["steps"]]


def test_dashboard_identity_and_time_settings():
    assert BOARD["title"] == "AI Agents - System Health & Performance"
    assert BOARD["description"] == ("Real-time monitoring of enhancement pipeline health, performance, "
                                     "and operational metrics")
    assert BOARD["uid"] == "agentmon-system-health"
    assert BOARD["tags"] == ["operations", "monitoring", "production", "generated"]
    assert (BOARD["refresh"], BOARD["time"], BOARD["timezone"]) == ("30s", {"from": "now-1h", "to": "now"}, "utc")
    assert {"10s", "30s", "1m", "5m"} <= set(BOARD["timepicker"]["refresh_intervals"])
    assert [r["from"] for r in BOARD["timepicker"]["quick_ranges"]] == ["now-1h", "now-6h", "now-24h", "now-7d"]
    assert BOARD["timepicker"]["quick_ranges"][3]["display"] == "Last 7 days"
    assert "__inputs" not in BOARD


def test_tenant_variable_is_multi_select_with_all():
    (variable,) = BOARD["templating"]["list"]
    assert variable["name"] == "tenant_id"
    assert variable["query"] == "label_values(enhancement_requests_total, tenant_id)"
    # All selects the recorded platform aggregate, not a regex over every tenant's series.
    assert (variable["multi"], variable["includeAll"], variable["allValue"]) == (True, True, "__all__")
    assert variable["datasource"] == {"type": "prometheus", "uid": "agentmon-prometheus"}


def test_six_panels_of_the_right_types_with_stable_ids():
    assert {t: p["type"] for t, p in PANELS.items()} == {
        "Enhancement Success Rate": "gauge",
        "Active Celery Workers": "stat",
        "Pending Enhancement Jobs in Queue": "timeseries",
        "p95 Enhancement Processing Latency": "timeseries",
        "Error Rate by Tenant": "table",
        "Tenants without an active worker": "stat",
    }
    assert [p["id"] for p in BOARD["panels"]] == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("title", list(PANELS))
def test_every_query_reads_recorded_series_over_the_rate_interval_with_the_provisioned_uid(title):
    (target,) = PANELS[title]["targets"]
    selectors = re.findall(r"([\w:]+)\{([^}]*)\}", target["expr"])
    assert selectors, target["expr"]
    assert all(":" in name for name, _ in selectors), "only recorded series (level:metric:operations)"
    # Every selector follows the variable: by tenant_id, or (the table's "every tenant under All") by member_of.
    assert all(m.startswith(('tenant_id=~"$tenant_id"', 'member_of=~"$tenant_id"')) for _, m in selectors), selectors
    assert target["datasource"] == {"type": "prometheus", "uid": "agentmon-prometheus"}
    assert set(re.findall(r"\[([^\]]+)\]", target["expr"])) == {"$__rate_interval"}


def test_success_rate_gauge_is_one_request_weighted_percentage():
    panel = PANELS["Enhancement Success Rate"]
    defaults = panel["fieldConfig"]["defaults"]
    assert (defaults["unit"], defaults["min"], defaults["max"]) == ("percent", 0, 100)
    assert thresholds(defaults) == [(None, "red"), (90, "yellow"), (95, "green")]
    expr = panel["targets"][0]["expr"]
    assert panel["targets"][0]["instant"] is True
    assert " by " not in expr, "one value for the selection: no grouping"
    assert "enhancement_success_rate" not in expr, "never average per-tenant percentages"


def test_queue_panel_fills_area_with_integer_axis_and_line_at_100():
    panel = PANELS["Pending Enhancement Jobs in Queue"]
    defaults = panel["fieldConfig"]["defaults"]
    assert defaults["decimals"] == 0
    assert defaults["custom"]["fillOpacity"] == 25
    assert defaults["custom"]["thresholdsStyle"] == {"mode": "dashed"}
    assert thresholds(defaults)[1] == (100, "red")
    assert defaults["custom"]["axisSoftMax"] == 120  # the line is on screen even when the queue is short
    assert panel["targets"][0]["expr"] == (
        'sum(avg_over_time(tenant_id:queue_depth:sum_avg{tenant_id=~"$tenant_id"}[$__rate_interval]))')


def test_latency_panel_is_p95_of_summed_buckets_in_seconds_with_sla_line():
    panel = PANELS["p95 Enhancement Processing Latency"]
    defaults = panel["fieldConfig"]["defaults"]
    assert (defaults["unit"], defaults["decimals"]) == ("s", 1)
    assert thresholds(defaults)[1] == (120, "red")
    assert defaults["custom"]["axisSoftMax"] == 144
    assert defaults["custom"]["thresholdsStyle"] == {"mode": "dashed"}
    assert panel["targets"][0]["expr"] == (
        "histogram_quantile(0.95, sum by (le) (sum_over_time("
        'tenant_id_le:enhancement_duration_seconds_bucket:sum_rate{tenant_id=~"$tenant_id"}[$__rate_interval]))) '
        ">= 0")  # NaN (a window without requests) is no data


def test_error_table_sums_both_sides_by_tenant_and_colours_cells():
    panel = PANELS["Error Rate by Tenant"]
    target = panel["targets"][0]
    assert (target["instant"], target["format"]) == (True, "table")
    # The selected tenants, or under All every tenant (never the aggregate): the same ratio twice, each operand
    # matching nothing in the other case, so a selection reads only its tenants.
    selected, every = target["expr"].split(" or (100 * ")
    assert selected.count('tenant_id=~"$tenant_id",tenant_id!="__all__"') == 3
    assert every.count('{member_of=~"$tenant_id"') == 3
    assert "group(" not in every and '"__all__"' not in every
    assert target["expr"].count("sum by (tenant_id) (sum_over_time(") == 6
    assert target["expr"].count(" > 0)") == 2, "no requests in the window: no data, never NaN"
    assert panel["options"]["sortBy"] == [{"displayName": "Error Rate %", "desc": True}]
    (organize,) = panel["transformations"]
    assert organize["options"]["renameByName"] == {"tenant_id": "Tenant", "Value": "Error Rate %"}
    (override,) = panel["fieldConfig"]["overrides"]
    assert override["matcher"] == {"id": "byName", "options": "Error Rate %"}
    props = {p["id"]: p["value"] for p in override["properties"]}
    assert props["custom.cellOptions"]["type"] == "color-background"
    assert [(s["value"], s["color"]) for s in props["thresholds"]["steps"]] == [
        (None, "green"), (1, "yellow"), (5, "red")]


def test_workers_stat_is_one_total_with_sparkline():
    panel = PANELS["Active Celery Workers"]
    assert panel["options"]["graphMode"] == "area"
    assert panel["options"]["reduceOptions"]["calcs"] == ["lastNotNull"]
    assert thresholds(panel["fieldConfig"]["defaults"]) == [(None, "red"), (1, "green")]
    assert panel["targets"][0]["expr"] == (
        'sum(avg_over_time(tenant_id:worker_active_count:sum_avg{tenant_id=~"$tenant_id"}[$__rate_interval]))')
    assert (panel["gridPos"]["x"], panel["gridPos"]["w"]) == (6, 3)


def test_tenants_without_a_worker_stat_sits_beside_the_total_and_turns_red_from_one():
    panel = PANELS["Tenants without an active worker"]
    assert (panel["gridPos"]["x"], panel["gridPos"]["y"], panel["gridPos"]["w"]) == (9, 0, 3)
    assert thresholds(panel["fieldConfig"]["defaults"]) == [(None, "green"), (1, "red")]
    assert panel["targets"][0]["expr"] == (
        "sum(max_over_time(tenant_id:tenants_without_active_worker:count"
        '{tenant_id=~"$tenant_id"}[$__rate_interval]))')


def test_success_rate_without_requests_is_no_data_not_nan():
    expr = PANELS["Enhancement Success Rate"]["targets"][0]["expr"]
    total = ("sum(sum_over_time(tenant_id_status:enhancement_requests:sum_rate"
             '{tenant_id=~"$tenant_id"}[$__rate_interval]))')
    assert expr.endswith(f" / ({total} > 0)")


def test_thresholds_come_from_the_configuration():
    changed = load_platform(REPO / "config" / "platform.yaml")
    changed = type(changed)(**{**changed.__dict__,
                               "thresholds": type(changed.thresholds)(**{**changed.thresholds.__dict__,
                                                                         "queue_depth_reference": 250})})
    board = render_dashboards(changed)["agentmon-system-health.json"]
    queue = next(p for p in board["panels"] if p["title"] == "Pending Enhancement Jobs in Queue")
    assert thresholds(queue["fieldConfig"]["defaults"])[1] == (250, "red")
