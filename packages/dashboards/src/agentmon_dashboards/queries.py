"""PromQL for every panel, derived from the metrics contract.

`scope` is the label matcher that selects tenants (the tenant variable on the main dashboard). It is
interpolated into every selector, so no query repeats a selector inline.

Aggregation rules (docs/architecture.md): platform-wide ratios are ratios of summed counters (request-weighted);
numerator and denominator carry the same `by` labels; quantiles come from `sum by (le)` of bucket rates.
"""

from __future__ import annotations

from decimal import Decimal

from agentmon_config.contract import TENANT_LABEL

REQUESTS = "enhancement_requests_total"
DURATION_BUCKETS = "enhancement_duration_seconds_bucket"
QUEUE_DEPTH = "queue_depth"
WORKERS = "worker_active_count"

RATE_WINDOW = "$__rate_interval"
TENANT_VARIABLE = TENANT_LABEL


def tenant_variable_scope() -> str:
    """Matcher for the multi-select tenant variable; Grafana expands it to a regex (or `.+` for All)."""
    return f'{TENANT_LABEL}=~"${TENANT_VARIABLE}"'


def selector(metric: str, scope: str, *extra: str) -> str:
    return f"{metric}{{{','.join((scope, *extra))}}}"


def tenant_scope(tenant_id: str) -> str:
    """Matcher for one fixed tenant (tenant dashboards have no tenant variable)."""
    return f'{TENANT_LABEL}="{tenant_id}"'


def _rate(metric: str, scope: str, *extra: str, window: str = RATE_WINDOW) -> str:
    return f"rate({selector(metric, scope, *extra)}[{window}])"


def _outcome_ratio(scope: str, status: str, by: str, window: str = RATE_WINDOW) -> str:
    """Requests with `status` / all requests, both summed with the same grouping.

    `or 0 * total` keeps groups that never saw this status (no such series) at 0 instead of dropping them.
    """
    grouping = f" by ({by}) " if by else ""
    status_matcher = f'status="{status}"'
    part = f"sum{grouping}({_rate(REQUESTS, scope, status_matcher, window=window)})"
    total = f"sum{grouping}({_rate(REQUESTS, scope, window=window)})"
    return f"({part} or 0 * {total}) / {total}"


def _outcome_ratio_percent(scope: str, status: str, by: str) -> str:
    return f"100 * {_outcome_ratio(scope, status, by)}"


def success_rate_percent(scope: str) -> str:
    """One request-weighted success percentage for the whole selection."""
    return _outcome_ratio_percent(scope, "success", by="")


def error_rate_percent_by_tenant(scope: str) -> str:
    """Failure percentage per tenant; summing by tenant_id on both sides drops the status label."""
    return _outcome_ratio_percent(scope, "failure", by=TENANT_LABEL)


def error_budget_remaining_percent(scope: str, slo_percent: float, window: str = "30d") -> str:
    """Share of the window's error budget (100 - SLO % of requests may fail) not yet spent; negative when overspent.

    A ratio of counters over the whole window: correct even when history is shorter than the window.
    The allowed failure share is computed in decimal from the SLO as written (99.9 -> 0.001): float arithmetic
    would need rounding, and rounding turns an SLO close to 100 into a budget of 0, a division by zero.
    """
    allowed = (100 - Decimal(repr(slo_percent))) / 100
    if allowed <= 0:
        raise ValueError(f"SLO {slo_percent!r} % leaves no error budget; it must be below 100")
    return f"100 * (1 - {_outcome_ratio(scope, 'failure', by='', window=window)} / {allowed.normalize():f})"


def request_rate_by_status(scope: str) -> str:
    return f"sum by (status) ({_rate(REQUESTS, scope)})"


def latency_quantile(scope: str, quantile: float) -> str:
    return f"histogram_quantile({quantile}, sum by (le) ({_rate(DURATION_BUCKETS, scope)}))"


def queue_depth_total(scope: str) -> str:
    return f"sum({selector(QUEUE_DEPTH, scope)})"


def active_workers_total(scope: str) -> str:
    return f"sum({selector(WORKERS, scope)})"
