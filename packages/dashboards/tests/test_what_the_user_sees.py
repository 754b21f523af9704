"""What a Grafana user sees on the generated dashboards, computed the way Grafana displays a panel (the shared
display helpers agentmon_live.panelstyle, the table rows of agentmon_live.panelrun and the preview's reducer):
the colour a known value gets, the text a cell shows, the one number a gauge shows for a series, the colour of
each outcome's line, when the tenant picker is refreshed.

These guard display settings no query test can see: a threshold moved, a unit or reducer swapped.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from agentmon_config import load_platform
from agentmon_dashboards import render_dashboards
from agentmon_live.panelrun import Series, organize, panel_by_title, sort_rows
from agentmon_live.panelstyle import field_style, format_value, threshold_colour
from agentmon_live.preview.panels import reduce

REPO = Path(__file__).resolve().parents[3]
BOARDS = render_dashboards(load_platform(REPO / "config" / "platform.yaml", REPO / "tenants"))
MAIN = BOARDS["agentmon-system-health.json"]
ACME = BOARDS["acme/tenant-acme.json"]


def shown(panel: dict, value: float, field: str | None = None) -> tuple[str, str]:
    """(text, colour) of `value` on the panel, as Grafana shows it."""
    style = field_style(panel, field)
    return format_value(value, style.unit, style.decimals), threshold_colour(value, style.steps)


@pytest.mark.parametrize(("budget_left", "text", "colour"), [
    (-12.0, "-12.0%", "red"), (-0.04, "-0.0%", "red"), (0.0, "0.0%", "yellow"), (24.9, "24.9%", "yellow"),
    (25.0, "25.0%", "green"), (49.9, "49.9%", "green"), (100.0, "100.0%", "green"),
])
def test_tenant_error_budget_is_green_from_25_percent_yellow_from_0_red_below(budget_left, text, colour):
    panel = panel_by_title(ACME, "Error Budget Remaining (30 d)")
    assert shown(panel, budget_left) == (text, colour)


@pytest.mark.parametrize(("budget_left", "colour"), [(-0.1, "red"), (0.0, "yellow"), (39.9, "yellow"),
                                                     (40.0, "green")])
def test_tenant_error_budget_turns_green_at_the_configured_warning(budget_left, colour):
    config = load_platform(REPO / "config" / "platform.yaml", REPO / "tenants")
    config = dataclasses.replace(config, thresholds=dataclasses.replace(config.thresholds, error_budget_warning=40))
    panel = panel_by_title(render_dashboards(config)["acme/tenant-acme.json"], "Error Budget Remaining (30 d)")
    assert shown(panel, budget_left)[1] == colour


@pytest.mark.parametrize(("workers", "colour"), [(0, "red"), (1, "green"), (7, "green")])
def test_tenant_workers_stat_is_red_at_zero_workers(workers, colour):
    assert shown(panel_by_title(ACME, "Active Celery Workers"), workers) == (str(workers), colour)


@pytest.mark.parametrize(("workers", "colour"), [(0, "red"), (1, "green")])
def test_main_workers_stat_is_red_at_zero_workers(workers, colour):
    assert shown(panel_by_title(MAIN, "Active Celery Workers"), workers)[1] == colour


@pytest.mark.parametrize(("success", "text", "colour"), [
    (89.99, "89.99%", "red"), (90.0, "90.00%", "yellow"), (94.99, "94.99%", "yellow"), (95.0, "95.00%", "green"),
])
def test_main_success_gauge_shows_two_decimals_and_the_platform_colours(success, text, colour):
    assert shown(panel_by_title(MAIN, "Enhancement Success Rate"), success) == (text, colour)


def table_rows(panel: dict, error_percent: dict[str, float]) -> list[list[str]]:
    """The error table as shown: the instant query's frame through the panel's transformations, sortBy, unit."""
    fields = ["Time", "tenant_id", "Value"]
    rows = [[1.0, tenant, value] for tenant, value in error_percent.items()]
    fields, rows = organize(panel, fields, rows)
    styles = [field_style(panel, name) for name in fields]
    return [[fields[0], fields[1]]] + [
        [str(row[0]), format_value(row[1], styles[1].unit, styles[1].decimals)]
        for row in sort_rows(panel, fields, rows)]


def test_error_table_shows_percent_with_two_decimals_worst_tenant_first():
    """The query returns 100 * ratio: 2 % must read "2.00%" (with unit percentunit it would read 200.00%)."""
    panel = panel_by_title(MAIN, "Error Rate by Tenant")
    assert table_rows(panel, {"acme": 2.0, "globex": 20.0, "initech": 0.0, "hooli": 0.126}) == [
        ["Tenant", "Error Rate %"], ["globex", "20.00%"], ["acme", "2.00%"], ["hooli", "0.13%"],
        ["initech", "0.00%"]]


@pytest.mark.parametrize(("error", "colour"), [(0.0, "green"), (0.99, "green"), (1.0, "yellow"), (4.99, "yellow"),
                                               (5.0, "red"), (20.0, "red")])
def test_error_table_cells_are_coloured_by_the_error_rate(error, colour):
    panel = panel_by_title(MAIN, "Error Rate by Tenant")
    assert field_style(panel, "Error Rate %").cell_type == "color-background"
    assert shown(panel, error, "Error Rate %")[1] == colour


@pytest.mark.parametrize(("board", "title"), [
    (MAIN, "Enhancement Success Rate"), (MAIN, "Active Celery Workers"), (MAIN, "Tenants without an active worker"),
    (ACME, "Success Rate vs SLO"), (ACME, "Error Budget Remaining (30 d)"), (ACME, "Active Celery Workers"),
])
def test_single_value_panels_show_the_latest_value_not_an_average(board, title):
    """A series that dropped from 99 to 90 at its last point: the user must see 90 (lastNotNull), not the mean
    94.5, the first 99 or the max; a trailing gap (NaN) is skipped."""
    series = Series({}, [99.0, 99.0, 90.0, float("nan")], [0.0, 60.0, 120.0, 180.0])
    assert reduce(series, panel_by_title(board, title)) == 90.0


def test_tenant_request_rate_draws_success_green_and_failure_red():
    """Grafana's palette colours series by their order (success yellow, failure green): each outcome gets a fixed
    colour instead, matched by the series' display name, which the legend format makes the status label."""
    panel = panel_by_title(ACME, "Request Rate by Status")
    assert [t["legendFormat"] for t in panel["targets"]] == ["{{status}}"]
    assert panel["fieldConfig"]["overrides"] == [
        {"matcher": {"id": "byName", "options": status},
         "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": colour}}]}
        for status, colour in (("success", "green"), ("failure", "red"))]
    assert [field_style(panel, status).fixed_colour for status in ("success", "failure")] == ["green", "red"]


# Grafana's variable refresh modes: when the tenant list is queried again.
REQUERIED_ON = {0: set(), 1: {"dashboard load"}, 2: {"dashboard load", "time range change"}}


def test_tenant_picker_is_requeried_when_the_time_range_changes_so_new_tenants_appear():
    """A tenant that starts sending traffic while the dashboard is open appears in the picker at the next
    time-range change (the auto-refresh moves the range), without reloading the dashboard."""
    (variable,) = MAIN["templating"]["list"]
    assert "time range change" in REQUERIED_ON[variable["refresh"]]
    assert variable["query"] == "label_values(enhancement_requests_total, tenant_id)"
