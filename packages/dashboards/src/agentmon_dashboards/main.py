"""The main dashboard: platform health for the selected tenants."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders import dashboard as dashboard_b
from grafana_foundation_sdk.models import dashboard as dashboard_m

from agentmon_config import PlatformConfig
from agentmon_config.contract import TENANT_LABEL
from agentmon_config.identity import MAIN_PANELS
from agentmon_config.recorded import ALL_TENANTS
from agentmon_dashboards import queries as q
from agentmon_dashboards.identity import GENERATED_TAG, dashboard_uid
from agentmon_dashboards.panels import (
    datasource_ref,
    firing_alerts,
    number_stat,
    percent_gauge,
    prom_query,
    ranked_table,
    series_with_line,
)


def main_dashboard(config: PlatformConfig) -> dashboard_b.Dashboard:
    cfg, t = config.main_dashboard, config.thresholds
    ds = datasource_ref(config.datasource.uid)
    scope = q.tenant_variable_scope()
    board = (
        dashboard_b.Dashboard(cfg.title).uid(dashboard_uid(cfg.name)).description(cfg.description)
        .tags([*cfg.tags, GENERATED_TAG]).refresh(cfg.refresh).time(cfg.time_from, "now")
        .timezone(cfg.timezone).editable().timepicker(time_picker(cfg.refresh_intervals, cfg.quick_ranges))
        .with_variable(tenant_variable(ds))
        .annotation(firing_alerts(ds, q.firing_alerts_of_selection(),
                                  [MAIN_PANELS["queue_depth"], MAIN_PANELS["p95_latency"]]))
    )
    panels = [
        (percent_gauge(
            "Enhancement Success Rate",
            "Share of successful enhancement requests across the selected tenants, weighted by request volume.",
            prom_query(ds, q.success_rate_percent(scope), "Success rate", instant=True),
            [(None, "red"), (t.success_rate_critical, "yellow"), (t.success_rate_warning, "green")],
        ), (0, 0, 6, 8)),
        (number_stat(
            "Active Celery Workers",
            "Celery workers processing enhancements for the selected tenants. 0 means nothing is processed. "
            "A total can hide one tenant without workers: see Tenants without an active worker.",
            prom_query(ds, q.active_workers_total(scope), "Active workers"),
            [(None, "red"), (t.workers_minimum, "green")],
        ), (6, 0, 3, 8)),
        (series_with_line(
            "Pending Enhancement Jobs in Queue",
            f"Jobs waiting in Redis for the selected tenants. Dashed line: {t.queue_depth_reference} jobs.",
            [prom_query(ds, q.queue_depth_total(scope), "Pending jobs")],
            unit="none", decimals=0, line_at=t.queue_depth_reference, fill_opacity=25,
        ), (12, 0, 12, 8)),
        (series_with_line(
            "p95 Enhancement Processing Latency",
            f"95th percentile of end-to-end processing time. Dashed line: the {t.p95_latency_sla_seconds:g} s SLA.",
            [prom_query(ds, q.latency_quantile(scope, 0.95), "p95 latency")],
            unit="s", decimals=1, line_at=t.p95_latency_sla_seconds,
        ), (0, 8, 12, 9)),
        (ranked_table(
            "Error Rate by Tenant",
            "Failed share of each tenant's requests, worst first.",
            prom_query(ds, q.error_rate_percent_by_tenant(), "{{tenant_id}}", instant=True, as_table=True),
            key=(TENANT_LABEL, "Tenant"), value=("Value", "Error Rate %"), unit="percent",
            steps=[(None, "green"), (t.error_rate_warning, "yellow"), (t.error_rate_critical, "red")],
        ), (12, 8, 12, 9)),
        # Last, so the five original panels keep their ids (links to them stay valid); placed beside the total.
        (number_stat(
            "Tenants without an active worker",
            "Selected tenants that had no active Celery worker during the step: their jobs are not processed, "
            "even when the platform total above looks healthy.",
            prom_query(ds, q.workerless_tenants(scope), "Tenants without a worker"),
            [(None, "green"), (1, "red")],
        ), (9, 0, 3, 8)),
    ]
    return place_panels(board, ds, panels)


def place_panels(board: dashboard_b.Dashboard, ds: dashboard_m.DataSourceRef,
                 panels: list[tuple[Any, tuple[int, int, int, int]]]) -> dashboard_b.Dashboard:
    """Add panels with stable ids (their order) at (x, y, w, h), all on the provisioned datasource."""
    for panel_id, (panel, (x, y, w, h)) in enumerate(panels, start=1):
        board = board.with_panel(panel.id(panel_id).datasource(ds).grid_pos(dashboard_m.GridPos(h=h, w=w, x=x, y=y)))
    return board


def tenant_variable(ds: dashboard_m.DataSourceRef, all_value: str = ALL_TENANTS,
                    listed_from: str = q.REQUESTS) -> dashboard_b.QueryVariable:
    """The tenant picker: the tenant_id values of `listed_from`; under All the main dashboard selects the recorded
    platform aggregate (`all_value`)."""
    return (
        dashboard_b.QueryVariable(q.TENANT_VARIABLE).label("Tenant").datasource(ds)
        .query(f"label_values({listed_from}, {TENANT_LABEL})")
        # All selects the recorded platform aggregate (tenant_id="__all__"): a few series at any tenant count.
        # The raw counter never carries the reserved value, so the list shows real tenants only.
        .multi(True).include_all(True).all_value(all_value)
        .current(dashboard_m.VariableOption(selected=True, text=["All"], value=["$__all"]))
        .refresh(dashboard_m.VariableRefresh.ON_TIME_RANGE_CHANGED).sort(dashboard_m.VariableSort.ALPHABETICAL_ASC)
    )


def time_picker(refresh_intervals: tuple[str, ...], quick_ranges: tuple[str, ...]) -> dashboard_b.TimePicker:
    ranges = [
        dashboard_b.TimeOption().display(_last(span)).from_val(f"now-{span}").to("now") for span in quick_ranges
    ]
    return dashboard_b.TimePicker().refresh_intervals(list(refresh_intervals)).quick_ranges(ranges)


_SPAN_WORDS = {"m": "minute", "h": "hour", "d": "day", "w": "week"}


def _last(span: str) -> str:
    """'6h' -> 'Last 6 hours', as Grafana's own quick ranges read."""
    count, word = int(span[:-1]), _SPAN_WORDS[span[-1]]
    return f"Last {count} {word}{'s' if count != 1 else ''}"
