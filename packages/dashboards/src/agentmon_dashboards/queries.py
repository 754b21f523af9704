"""PromQL for every panel, over the recorded series of agentmon's recording rules (agentmon_config.recorded).

`scope` is the label matcher that selects tenants (the tenant variable on the main dashboard). It is
interpolated into every selector, so no query repeats a selector inline.

Recorded series hold one value per evaluation interval. A panel sums (counters) or averages (gauges) them over
`$__rate_interval`, which Grafana sets to at least the step plus a scrape interval: every plotted point covers
its whole step, so a short incident still moves a 7-day curve; and at least 4 scrape intervals, which the
configuration keeps no shorter than the evaluation interval, so every window holds a recorded value.

Aggregation rules (docs/architecture.md): platform-wide ratios are ratios of summed counters (request-weighted);
numerator and denominator carry the same `by` labels; quantiles come from summed bucket rates. A ratio or a
quantile with no requests in its window is no data, never NaN.
"""

from __future__ import annotations

from collections.abc import Callable

from agentmon_config.alertnames import (
    ERROR_BUDGET_BURN_FAST,
    ERROR_BUDGET_BURN_SLOW,
    HEARTBEAT,
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
)
from agentmon_config.contract import TENANT_LABEL
from agentmon_config.recorded import (
    ACTIVE_WORKERS,
    ALL_TENANTS,
    BUCKET_RATE,
    BUDGET_REMAINING,
    BURN_RATE,
    MEMBER_LABEL,
    PERIOD_SUCCESS_RATIO,
    PERIOD_WITHIN_SLA_RATIO,
    QUEUE_DEPTH,
    REQUEST_RATE,
    SLO_INFO,
    SLO_OBJECTIVE,
    WORKERLESS_TENANTS,
    outcome_ratio,
    sli_request_rate,
)
from agentmon_config.slo import error_budget

REQUESTS = "enhancement_requests_total"  # the raw counter: lists tenants for the variable, never the aggregate
WINDOW = "$__rate_interval"
TENANT_VARIABLE = TENANT_LABEL


def tenant_variable_scope() -> str:
    """Matcher for the multi-select tenant variable: a regex of the selected tenants, or the reserved
    ALL_TENANTS value (the variable's All value), which selects the pre-aggregated platform series."""
    return f'{TENANT_LABEL}=~"${TENANT_VARIABLE}"'


def tenant_scope(tenant_id: str) -> str:
    """Matcher for one fixed tenant (tenant dashboards have no tenant variable)."""
    return f'{TENANT_LABEL}="{tenant_id}"'


def selector(metric: str, scope: str, *extra: str) -> str:
    return f"{metric}{{{','.join((scope, *extra))}}}"


def _over(function: str, metric: str, scope: str, *extra: str, window: str = WINDOW) -> str:
    return f"{function}({selector(metric, scope, *extra)}[{window}])"


def _outcome_ratio(scope: str, status: str, by: str, window: str = WINDOW) -> str:
    """Requests with `status` / all requests over the window, both summed with the same grouping: the SLI as
    agentmon_config.recorded defines it for the alerts too."""
    return outcome_ratio(status, window, (scope,), by)


def success_rate_percent(scope: str) -> str:
    """One request-weighted success percentage for the whole selection."""
    return f"100 * {_outcome_ratio(scope, 'success', by='')}"


def each_selected_tenant(build: Callable[[str], str]) -> str:
    """`build(scope)` for each selected tenant; under All (the reserved value) for every tenant. `scope` selects
    REQUEST_RATE series.

    The first scope matches the chosen tenants and nothing under All; the second matches every tenant's series
    (they carry MEMBER_LABEL=ALL_TENANTS) under All and nothing under a selection. Either way Prometheus reads only
    the series the panel shows: a selection of 3 tenants reads 3 tenants, whatever the fleet's size.
    """
    chosen = f'{tenant_variable_scope()},{TENANT_LABEL}!="{ALL_TENANTS}"'
    every_tenant_under_all = f'{MEMBER_LABEL}=~"${TENANT_VARIABLE}"'
    return f"({build(chosen)}) or ({build(every_tenant_under_all)})"


def error_rate_percent_by_tenant() -> str:
    """Failure percentage per selected tenant; summing by tenant_id on both sides drops the status label."""
    return each_selected_tenant(lambda scope: f"100 * {_outcome_ratio(scope, 'failure', by=TENANT_LABEL)}")


def error_budget_remaining_percent(scope: str, slo_percent: float, window: str = "30d") -> str:
    """Share of the window's error budget (100 - SLO % of requests may fail) not yet spent; negative when overspent.

    A ratio of summed rates over the whole window: correct even when history is shorter than the window.
    The allowed failure share is computed in decimal from the SLO as written (99.9 -> 0.001): float arithmetic
    would need rounding, and rounding turns an SLO close to 100 into a budget of 0, a division by zero.
    """
    allowed = error_budget(slo_percent)
    if allowed <= 0:
        raise ValueError(f"SLO {slo_percent!r} % leaves no error budget; it must be below 100")
    return f"100 * (1 - {_outcome_ratio(scope, 'failure', by='', window=window)} / {allowed.normalize():f})"


def request_rate_by_status(scope: str) -> str:
    return f"sum by (status) ({_over('avg_over_time', REQUEST_RATE.name, scope)})"


def latency_quantile(scope: str, quantile: float) -> str:
    """The quantile of the summed bucket rates. A window without requests (every bucket at 0) makes
    histogram_quantile NaN; `>= 0` is false for NaN, so that window is no data, as for the ratios, without
    reading one more sample (a duration's quantile is never negative)."""
    return f"histogram_quantile({quantile}, sum by (le) ({_over('sum_over_time', BUCKET_RATE.name, scope)})) >= 0"


def queue_depth_total(scope: str) -> str:
    return f"sum({_over('avg_over_time', QUEUE_DEPTH.name, scope)})"


def active_workers_total(scope: str) -> str:
    return f"sum({_over('avg_over_time', ACTIVE_WORKERS.name, scope)})"


def workerless_tenants(scope: str) -> str:
    """Selected tenants without an active worker at some point of the step (under All: the most at once)."""
    return f"sum({_over('max_over_time', WORKERLESS_TENANTS.name, scope)})"


def firing_alerts_of_selection() -> str:
    """agentmon's firing alerts of the selected tenants, and its platform-wide ones (they carry no tenant_id); not
    the heartbeat, which always fires by design, nor another system's alerts in the same Prometheus (a cluster's
    Watchdog carries no tenant_id either): each would mark the whole time range."""
    return (f'ALERTS{{alertstate="firing",{MANAGED_BY_LABEL}="{MANAGED_BY_VALUE}",alertname!="{HEARTBEAT}",'
            f'{TENANT_LABEL}=~"${TENANT_VARIABLE}|"}}')


def firing_alerts_of(tenant_id: str) -> str:
    return f'ALERTS{{alertstate="firing",{tenant_scope(tenant_id)}}}'


# The Tenant SLOs dashboard: instant queries of the SLO metadata (agentmon_config.recorded.SLO_METADATA), one value
# per tenant whatever the time range, so a 30-day view costs what a 1-hour view does.
# A burn alert's code in the table: the page outranks the ticket.
FAST_BURN_CODE, SLOW_BURN_CODE = 2, 1
# A tenant without a request in this window has no traffic.
TRAFFIC_WINDOW = "1h"
# Summing a month of per-minute rates leaves a rounding error of about 1e-12 of the budget: a tenant exactly at its
# SLO can show -0.0000000001 % left. A tenant breaches once it spent more than this share of its budget beyond it.
BREACH_MARGIN_PERCENT = 1e-4
BREACH_MARGIN = BREACH_MARGIN_PERCENT / 100


def slo_scope() -> str:
    """The selected tenants, never the platform aggregate: the SLO dashboard's variable selects `.+` under All."""
    return f'{tenant_variable_scope()},{TENANT_LABEL}!="{ALL_TENANTS}"'


def _firing(alertname: str, scope: str) -> str:
    return f'ALERTS{{alertname="{alertname}",alertstate="firing",{scope}}}'


def _count(expr: str) -> str:
    """How many series `expr` returns; 0, not no data, when it returns none."""
    return f"count({expr}) or vector(0)"


def tenants_breaching(scope: str) -> str:
    """Tenants whose error budget over the period is overspent (success ratio below the SLO); at the SLO is not."""
    return _count(f"{selector(BUDGET_REMAINING.name, scope)} < -{BREACH_MARGIN:g}")


def tenants_burning_fast(scope: str) -> str:
    """Tenants whose fast-burn alert (the page) fires: the alert's own conditions, not a copy of them."""
    return _count(f"count by ({TENANT_LABEL}) ({_firing(ERROR_BUDGET_BURN_FAST, scope)})")


def tenants_without_traffic(scope: str) -> str:
    """Configured tenants without a request in TRAFFIC_WINDOW (never reported, or stopped)."""
    requests = sli_request_rate(TRAFFIC_WINDOW).name
    return _count(f"{selector(SLO_INFO.name, scope)} unless on ({TENANT_LABEL}) ({selector(requests, scope)} > 0)")


def slo_percent(scope: str) -> str:
    return f"100 * {selector(SLO_OBJECTIVE.name, scope)}"


def period_success_percent(scope: str) -> str:
    return f"100 * {selector(PERIOD_SUCCESS_RATIO.name, scope)}"


def budget_remaining_percent(scope: str) -> str:
    return f"100 * {selector(BUDGET_REMAINING.name, scope)}"


def burn_rate(scope: str, window: str) -> str:
    """The burn rate over `window`, without its window label: every column of the table is keyed by tenant only."""
    of_window = f'window="{window}"'
    return f"sum without (window) ({selector(BURN_RATE.name, scope, of_window)})"


def firing_burn_alerts(scope: str) -> str:
    """FAST_BURN_CODE when the page fires, SLOW_BURN_CODE when only the ticket does, 0 for a configured tenant
    without either."""
    fast, slow = _firing(ERROR_BUDGET_BURN_FAST, scope), _firing(ERROR_BUDGET_BURN_SLOW, scope)
    return (f"max by ({TENANT_LABEL}) ({FAST_BURN_CODE} * {fast} or {SLOW_BURN_CODE} * {slow}) "
            f"or 0 * {selector(SLO_OBJECTIVE.name, scope)}")


def within_sla_percent(scope: str) -> str:
    return f"100 * {selector(PERIOD_WITHIN_SLA_RATIO.name, scope)}"
