"""A tenant's own dashboard: the tenant is fixed (no variable), thresholds come from its SLOs."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dashboard_b

from agentmon_config import Contact, PlatformConfig, Tenant
from agentmon_config.identity import TENANT_PANELS
from agentmon_config.slo import ERROR_BUDGET_WINDOW
from agentmon_dashboards import queries as q
from agentmon_dashboards.identity import GENERATED_TAG, tenant_dashboard_uid
from agentmon_dashboards.main import place_panels, time_picker
from agentmon_dashboards.panels import (
    OUTCOME_COLOURS,
    datasource_ref,
    firing_alerts,
    number_stat,
    percent_gauge,
    prom_query,
    series_with_line,
)


def tenant_dashboard(config: PlatformConfig, tenant: Tenant) -> dashboard_b.Dashboard:
    main, ds = config.main_dashboard, datasource_ref(config.datasource.uid)
    scope = q.tenant_scope(tenant.tenant_id)
    slo, sla = tenant.success_rate_slo, tenant.p95_latency_sla_seconds
    board = (
        dashboard_b.Dashboard(f"{tenant.display_name} - Enhancement Pipeline")
        .uid(tenant_dashboard_uid(tenant.tenant_id))
        .description(f"Enhancement pipeline of tenant {tenant.tenant_id}. Owner: {Contact.of(tenant.owner_contact)}")
        .tags(["tenant", tenant.tenant_id, GENERATED_TAG]).refresh(main.refresh).time(main.time_from, "now")
        .timezone(main.timezone).editable().timepicker(time_picker(main.refresh_intervals, main.quick_ranges))
        .annotation(firing_alerts(ds, q.firing_alerts_of(tenant.tenant_id), [
            TENANT_PANELS["queue_depth"], TENANT_PANELS["request_rate"], TENANT_PANELS["latency"]]))
    )
    latency = [prom_query(ds, q.latency_quantile(scope, quantile), f"p{round(quantile * 100)}", ref_id=ref)
               for quantile, ref in ((0.5, "A"), (0.95, "B"), (0.99, "C"))]
    return place_panels(board, ds, [
        (percent_gauge(
            "Success Rate vs SLO", f"Successful share of requests; the SLO is {slo:g} %.",
            prom_query(ds, q.success_rate_percent(scope), "Success rate", instant=True),
            [(None, "red"), (slo, "green")],
        ), (0, 0, 6, 8)),
        (number_stat(
            "Error Budget Remaining (30 d)",
            f"Share of the 30-day error budget ({100 - slo:g} % of requests may fail) not yet spent. "
            "Below 0: the SLO is breached. The burn-rate alerts compute the same failed share, from the same "
            "recorded request rates, over 5 m to 3 d.",
            prom_query(ds, q.error_budget_remaining_percent(scope, slo, ERROR_BUDGET_WINDOW), "Budget left",
                       instant=True),
            [(None, "red"), (0, "yellow"), (config.thresholds.error_budget_warning, "green")], unit="percent",
            decimals=1,
        ), (6, 0, 6, 8)),
        (number_stat(
            "Active Celery Workers", "Workers processing this tenant's jobs.",
            prom_query(ds, q.active_workers_total(scope), "Active workers"), [(None, "red"), (1, "green")],
        ), (12, 0, 4, 8)),
        (series_with_line(
            "Pending Jobs in Queue", f"Jobs waiting in Redis. Dashed line: the {tenant.queue_alert_threshold} "
            "job alert threshold.", [prom_query(ds, q.queue_depth_total(scope), "Pending jobs")],
            unit="none", decimals=0, line_at=tenant.queue_alert_threshold, fill_opacity=25,
        ), (16, 0, 8, 8)),
        (series_with_line(
            "Request Rate by Status", "Requests per second, by outcome.",
            [prom_query(ds, q.request_rate_by_status(scope), "{{status}}")],
            unit="reqps", decimals=2, line_at=None, colours=OUTCOME_COLOURS,
        ), (0, 8, 12, 9)),
        (series_with_line(
            "Processing Latency p50 / p95 / p99", f"End-to-end latency quantiles. Dashed line: the {sla:g} s SLA.",
            latency, unit="s", decimals=1, line_at=sla,
        ), (12, 8, 12, 9)),
    ])
