"""The fleet's SLOs at a glance ("Tenant SLOs"): how many tenants breach their SLO over the error budget's period,
burn fast now or send nothing, then one row per tenant, worst first. Every panel reads the recorded SLO metadata
(agentmon_config.recorded.SLO_METADATA) with instant queries: the cost is one value per tenant and query, whatever
the time range."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dashboard_b

from agentmon_config import PlatformConfig
from agentmon_config.contract import TENANT_LABEL
from agentmon_config.identity import SLO_OVERVIEW_NAME
from agentmon_config.recorded import SLO_INFO
from agentmon_config.slo import ERROR_BUDGET_WINDOW
from agentmon_dashboards import queries as q
from agentmon_dashboards.identity import GENERATED_TAG, dashboard_uid, tenant_dashboard_uid
from agentmon_dashboards.main import place_panels, tenant_variable, time_picker
from agentmon_dashboards.panels import Column, datasource_ref, merged_table, number_stat, prom_query

TITLE = "Tenant SLOs"
# Under All the per-tenant metadata is read directly (it has no platform aggregate to select).
ALL_TENANTS_REGEX = ".+"
# The tenant column's link: the tenant's own dashboard, its uid filled in from the cell (Grafana's ${__value.raw}).
TENANT_LINK = f"/d/{tenant_dashboard_uid('${__value.raw}')}?${{__url_time_range}}"


def slo_overview(config: PlatformConfig) -> dashboard_b.Dashboard:
    main, ds = config.main_dashboard, datasource_ref(config.datasource.uid)
    scope = q.slo_scope()
    board = (
        dashboard_b.Dashboard(TITLE).uid(dashboard_uid(SLO_OVERVIEW_NAME))
        .description(f"Every tenant against its SLO over {ERROR_BUDGET_WINDOW}, worst first: success, error budget "
                     "left, burn rates and burn alerts, latency SLA.")
        .tags(["slo", GENERATED_TAG]).refresh(main.refresh).time(f"now-{ERROR_BUDGET_WINDOW}", "now")
        .timezone(main.timezone).editable().timepicker(time_picker(main.refresh_intervals, main.quick_ranges))
        # Configured tenants, with or without traffic (the raw counter lists only those that reported).
        .with_variable(tenant_variable(ds, ALL_TENANTS_REGEX, listed_from=SLO_INFO.name))
    )
    return place_panels(board, ds, [
        (number_stat(
            f"Tenants breaching their SLO ({ERROR_BUDGET_WINDOW})",
            f"Selected tenants whose success ratio over {ERROR_BUDGET_WINDOW} is below their SLO (error budget "
            "remaining below 0). A tenant exactly at its SLO is not breaching.",
            prom_query(ds, q.tenants_breaching(scope), "Breaching", instant=True), [(None, "green"), (1, "red")],
        ), (0, 0, 8, 5)),
        (number_stat(
            "Tenants burning fast now",
            "Selected tenants whose fast-burn page (AgentmonErrorBudgetBurnFast) is firing.",
            prom_query(ds, q.tenants_burning_fast(scope), "Burning fast", instant=True),
            [(None, "green"), (1, "red")],
        ), (8, 0, 8, 5)),
        (number_stat(
            "Tenants without traffic",
            f"Configured tenants (of the selection) without a request in the last {q.TRAFFIC_WINDOW}.",
            prom_query(ds, q.tenants_without_traffic(scope), "Without traffic", instant=True),
            [(None, "green"), (1, "orange")],
        ), (16, 0, 8, 5)),
        (_tenant_table(config, ds, scope), (0, 5, 24, 16)),
    ])


def _tenant_table(config: PlatformConfig, ds, scope: str):
    # As the tenant dashboard's budget stat; red only for a breach (q.BREACH_MARGIN), not for rounding at the SLO.
    budget_steps = [(None, "red"), (-q.BREACH_MARGIN_PERCENT, "yellow"),
                    (config.thresholds.error_budget_warning, "green")]
    columns = [
        (q.slo_percent(scope), Column("SLO", "percent", 2)),
        (q.period_success_percent(scope), Column(f"Success ({ERROR_BUDGET_WINDOW})", "percent", 3)),
        (q.budget_remaining_percent(scope), Column("Budget remaining", "percent", 1, budget_steps)),
        (q.burn_rate(scope, "1h"), Column("Burn rate 1h", "none", 2)),
        (q.burn_rate(scope, "6h"), Column("Burn rate 6h", "none", 2)),
        (q.firing_burn_alerts(scope), Column("Burn alerts", "none", 0, mappings={
            0: ("none", "green"), q.SLOW_BURN_CODE: ("slow burn (ticket)", "orange"),
            q.FAST_BURN_CODE: ("fast burn (page)", "red")})),
        (q.within_sla_percent(scope), Column(f"Within latency SLA ({ERROR_BUDGET_WINDOW})", "percent", 2)),
    ]
    queries = [prom_query(ds, expr, "", instant=True, as_table=True, ref_id=chr(ord("A") + i))
               for i, (expr, _) in enumerate(columns)]
    return merged_table(
        "SLOs by tenant",
        f"One row per selected tenant, least error budget left first. Success, budget and the share within the "
        f"latency SLA cover {ERROR_BUDGET_WINDOW} up to the last hourly evaluation (at most an hour ago); a burn "
        "rate is the error ratio over its window / the error budget (the page fires from 14.4 over 1h and 6 over "
        "6h). The tenant links to its dashboard.",
        queries, key=(TENANT_LABEL, "Tenant"), columns=[c for _, c in columns],
        link=("Tenant dashboard", TENANT_LINK), sort_by="Budget remaining")
