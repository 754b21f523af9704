"""Alert rules derived from the configuration: the thresholds that colour the panels (config.thresholds and each
tenant's SLOs, read here, never copied) page someone, and each tenant's success-rate SLO gets multiwindow,
multi-burn-rate alerts (agentmon_config.slo).

Every alert carries `severity`, `tenant_id` when it concerns one tenant (platform-wide alerts drop the
aggregate's reserved tenant_id, so Alertmanager routes them to the operations receiver), and the annotations
summary, description (with the value), panel_url (the panel that shows it) and runbook_url
(docs/operations/runbooks.md#<anchor>).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from agentmon_config import AlertRule, PlatformConfig, Tenant
from agentmon_config.alertnames import MANAGED_BY_LABEL, MANAGED_BY_VALUE
from agentmon_config.contract import TENANT_LABEL
from agentmon_config.durations import duration_seconds
from agentmon_config.identity import MAIN_PANELS, TENANT_PANELS, dashboard_uid, tenant_dashboard_uid
from agentmon_config.recorded import (
    ACTIVE_WORKERS,
    ALL_TENANTS,
    BUCKET_RATE,
    QUEUE_DEPTH,
    sli_error_ratio,
    sli_request_rate,
)
from agentmon_config.slo import BURN_TIERS, BurnTier, error_budget

ALERTS_FILE = "agentmon.alerts.rules.yml"
T = TypeVar("T")
PLATFORM = f'{TENANT_LABEL}="{ALL_TENANTS}"'
TENANTS = f'{TENANT_LABEL}!="{ALL_TENANTS}"'
LATENCY_WINDOW = "5m"
# Contract metrics whose absence empties the dashboards; their absence must never read as "all is well".
WATCHED_METRICS = ("enhancement_requests_total", "enhancement_duration_seconds_bucket", "queue_depth",
                   "worker_active_count")
VALUE = '{{ $value | printf "%.2f" }}'
TENANT = f"{{{{ $labels.{TENANT_LABEL} }}}}"


@dataclass(frozen=True)
class AlertingRule:
    alert: str
    expr: str
    for_: str
    labels: tuple[tuple[str, str], ...]
    annotations: tuple[tuple[str, str], ...]

    def to_dict(self) -> dict[str, object]:
        rule: dict[str, object] = {"alert": self.alert, "expr": self.expr}
        if duration_seconds(self.for_) > 0:
            rule["for"] = self.for_
        return rule | {"labels": dict(self.labels), "annotations": dict(self.annotations)}


@dataclass(frozen=True)
class AlertGroup:
    name: str
    interval: str
    rules: tuple[AlertingRule, ...]

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "interval": self.interval, "rules": [r.to_dict() for r in self.rules]}


class Links:
    """Panel and runbook URLs from the configuration."""

    def __init__(self, config: PlatformConfig) -> None:
        self.grafana = config.alerts.grafana_url
        self.runbooks = config.alerts.runbooks_url
        self.main_uid = dashboard_uid(config.main_dashboard.name)

    def main(self, panel: str, per_tenant: bool = False) -> str:
        url = f"{self.grafana}/d/{self.main_uid}?viewPanel={MAIN_PANELS[panel]}"
        return f"{url}&var-{TENANT_LABEL}={{{{ $labels.{TENANT_LABEL} }}}}" if per_tenant else url

    def tenant(self, panel: str) -> str:
        """The panel on the dashboard of the alert's tenant: the uid is filled in from the alert's tenant_id."""
        return f"{self.grafana}/d/{tenant_dashboard_uid(TENANT)}?viewPanel={TENANT_PANELS[panel]}"

    def runbook(self, anchor: str) -> str:
        return f"{self.runbooks}#{anchor}"


def _alert(name: str, expr: str, rule: AlertRule, summary: str, description: str, panel_url: str,
           runbook: str, links: Links, **labels: str) -> AlertingRule:
    annotations = (("description", description), ("panel_url", panel_url), ("runbook_url", links.runbook(runbook)),
                   ("summary", summary))
    # managed_by: the routing's top route matches it (agentmon_config.alertnames)
    labels = {"severity": rule.severity, MANAGED_BY_LABEL: MANAGED_BY_VALUE, **labels}
    return AlertingRule(name, expr, rule.for_, tuple(sorted(labels.items())),
                        annotations)


def _platform(expr: str) -> str:
    """Drop the aggregate's reserved tenant_id: a platform alert concerns no tenant."""
    return f"sum without ({TENANT_LABEL}) ({expr})"


def _seconds(window: str) -> int:
    return int(duration_seconds(window))


def _enough_requests(config: PlatformConfig, window: str, scope: str) -> str:
    return f"{sli_request_rate(window).name}{{{scope}}} * {_seconds(window)} >= {config.alerts.minimum_requests}"


def success_rate_alerts(config: PlatformConfig, links: Links) -> tuple[AlertingRule, ...]:
    t, a, window = config.thresholds, config.alerts, config.alerts.error_rate_window
    success = f"100 * (1 - {sli_error_ratio(window).name}{{{PLATFORM}}})"
    enough = _platform(_enough_requests(config, window, PLATFORM))
    return tuple(
        _alert("AgentmonSuccessRateLow", f"{_platform(success)} < {threshold:g} and on () {enough}",
               rule, f"Platform success rate below {threshold:g} %",
               f"{VALUE} % of the platform's requests succeeded over {window} (threshold {threshold:g} %).",
               links.main("success_rate"), "success-rate-low", links)
        for threshold, rule in ((t.success_rate_warning, a.success_rate_warning),
                                (t.success_rate_critical, a.success_rate_critical)))


def error_rate_alerts(config: PlatformConfig, links: Links) -> tuple[AlertingRule, ...]:
    t, a, window = config.thresholds, config.alerts, config.alerts.error_rate_window
    return tuple(
        _alert("AgentmonTenantErrorRateHigh",
               f"100 * {sli_error_ratio(window).name}{{{TENANTS}}} > {threshold:g} "
               f"and on ({TENANT_LABEL}) {_enough_requests(config, window, TENANTS)}",
               rule, f"Tenant {{{{ $labels.{TENANT_LABEL} }}}} error rate above {threshold:g} %",
               f"{VALUE} % of tenant {{{{ $labels.{TENANT_LABEL} }}}}'s requests failed over {window} "
               f"(threshold {threshold:g} %, at least {a.minimum_requests} requests).",
               links.main("error_rate", per_tenant=True), "tenant-error-rate-high", links)
        for threshold, rule in ((t.error_rate_warning, a.error_rate_warning),
                                (t.error_rate_critical, a.error_rate_critical)))


def _p95(scope: str, by: str) -> str:
    return (f"histogram_quantile(0.95, sum by ({by}) "
            f"(sum_over_time({BUCKET_RATE.name}{{{scope}}}[{LATENCY_WINDOW}])))")


def capacity_alerts(config: PlatformConfig, links: Links) -> tuple[AlertingRule, ...]:
    t, a = config.thresholds, config.alerts
    queue = _platform(f"{QUEUE_DEPTH.name}{{{PLATFORM}}}")
    platform = (
        _alert("AgentmonQueueDepthHigh", f"{queue} > {t.queue_depth_reference}",
               a.queue_depth, f"More than {t.queue_depth_reference} jobs queued on the platform",
               f"{VALUE} jobs are waiting (reference {t.queue_depth_reference}) for {a.queue_depth.for_}.",
               links.main("queue_depth"), "queue-depth-high", links),
        _alert("AgentmonLatencyHigh", f"{_p95(PLATFORM, 'le')} > {t.p95_latency_sla_seconds:g}", a.p95_latency,
               f"Platform p95 latency above the {t.p95_latency_sla_seconds:g} s SLA",
               f"p95 processing latency is {VALUE} s over {LATENCY_WINDOW} (SLA {t.p95_latency_sla_seconds:g} s).",
               links.main("p95_latency"), "latency-high", links),
        _alert("AgentmonTenantNoActiveWorker",
               f"{ACTIVE_WORKERS.name}{{{TENANTS}}} < {t.workers_minimum} "
               f"and on ({TENANT_LABEL}) {QUEUE_DEPTH.name}{{{TENANTS}}} > 0",
               a.no_active_worker, f"Tenant {{{{ $labels.{TENANT_LABEL} }}}} has jobs queued and no active worker",
               f"{VALUE} active workers (minimum {t.workers_minimum}) while jobs are queued: nothing is processed.",
               links.main("workerless_tenants", per_tenant=True), "no-active-worker", links),
    )
    return platform + _tenant_capacity(config, links)


def sharing(tenants: tuple[Tenant, ...], value: Callable[[Tenant], T]) -> list[tuple[T, tuple[Tenant, ...]]]:
    """Tenants grouped by a threshold of theirs, in the configuration's order. Tenant alerts are one rule per
    distinct threshold, matching the tenants that share it: a tenant adds its name to a matcher, not rules
    (rules per tenant made the rule files 1.9 MB at 500 tenants, over a ConfigMap's budget)."""
    groups: dict[T, list[Tenant]] = {}
    for tenant in tenants:
        groups.setdefault(value(tenant), []).append(tenant)
    return [(threshold, tuple(members)) for threshold, members in groups.items()]


def one_of(tenants: tuple[Tenant, ...]) -> str:
    """Matcher for exactly these tenants (Prometheus anchors the regex; tenant ids hold no regex characters)."""
    return f'{TENANT_LABEL}=~"{"|".join(t.tenant_id for t in tenants)}"'


def _tenant_capacity(config: PlatformConfig, links: Links) -> tuple[AlertingRule, ...]:
    a = config.alerts
    queue = tuple(
        _alert("AgentmonTenantQueueDepthHigh", f"{QUEUE_DEPTH.name}{{{one_of(tenants)}}} > {threshold}",
               a.queue_depth, f"More than {threshold} jobs queued for {TENANT}",
               f"{VALUE} jobs are waiting (threshold {threshold}).",
               links.tenant("queue_depth"), "queue-depth-high", links)
        for threshold, tenants in sharing(config.tenants, lambda t: t.queue_alert_threshold))
    latency = tuple(
        _alert("AgentmonTenantLatencyHigh",
               f"{_p95(one_of(tenants), f'{TENANT_LABEL}, le')} > {sla:g}", a.p95_latency,
               f"p95 latency of {TENANT} above its {sla:g} s SLA",
               f"p95 processing latency is {VALUE} s over {LATENCY_WINDOW} (SLA {sla:g} s).",
               links.tenant("latency"), "latency-high", links)
        for sla, tenants in sharing(config.tenants, lambda t: t.p95_latency_sla_seconds))
    return queue + latency


def availability_alerts(config: PlatformConfig, links: Links) -> tuple[AlertingRule, ...]:
    a = config.alerts
    absent = tuple(
        _alert("AgentmonMetricsAbsent", f"absent({metric})", a.metrics_absent, f"No {metric} in Prometheus",
               f"Prometheus holds no {metric} series: the dashboards show No data, not a healthy platform.",
               links.main("success_rate"), "metrics-absent", links, metric=metric)
        for metric in WATCHED_METRICS)
    # Only targets that exposed the platform's metrics within the hour: up of unrelated jobs is not ours.
    down = _alert("AgentmonTargetDown",
                  "up == 0 and on (job, instance) group by (job, instance) "
                  "(present_over_time(enhancement_requests_total[1h]))",
                  a.target_down, "Scrape target {{ $labels.instance }} of job {{ $labels.job }} is down",
                  "Prometheus cannot scrape {{ $labels.instance }} (up = {{ $value }}): its tenants' panels go "
                  "stale.", links.main("success_rate"), "target-down", links)
    return (*absent, down)


def burn_rate_alerts(config: PlatformConfig, links: Links) -> tuple[AlertingRule, ...]:
    return tuple(_burn(config, slo, tenants, tier, links)
                 for tier in BURN_TIERS for slo, tenants in sharing(config.tenants, lambda t: t.success_rate_slo))


def burn_threshold(tenant: Tenant, tier: BurnTier) -> str:
    """factor x error budget as an exact decimal (99.5 % and 14.4x -> 0.072)."""
    return _burn_threshold(tenant.success_rate_slo, tier)


def _burn_threshold(slo: float, tier: BurnTier) -> str:
    return f"{(tier.factor * error_budget(slo)).normalize():f}"


def _burn(config: PlatformConfig, slo: float, tenants: tuple[Tenant, ...], tier: BurnTier,
          links: Links) -> AlertingRule:
    scope, threshold = one_of(tenants), _burn_threshold(slo, tier)
    long_ratio, short_ratio = (f"{sli_error_ratio(w).name}{{{scope}}}" for w in (tier.long_window, tier.short_window))
    expr = (f"{long_ratio} > {threshold} and {short_ratio} > {threshold} "
            f"and {_enough_requests(config, tier.long_window, scope)}")
    rule = AlertRule(for_="0s", severity=tier.severity)
    return _alert(
        "AgentmonErrorBudgetBurn", expr, rule,
        f"{TENANT} burns its error budget {tier.factor}x too fast ({tier.name}, {tier.long_window})",
        f"{VALUE} of {TENANT}'s requests failed over {tier.long_window} (burn threshold {threshold}, "
        f"{tier.factor}x the {100 - slo:g} % budget of its {slo:g} % SLO).",
        links.tenant("error_budget"), "error-budget-burn", links, slo_tier=tier.name, long_window=tier.long_window)


def alert_groups(config: PlatformConfig) -> tuple[AlertGroup, ...]:
    links, interval = Links(config), config.rules.evaluation_interval
    return (
        AlertGroup("agentmon-alerts-health", interval,
                   success_rate_alerts(config, links) + error_rate_alerts(config, links)),
        AlertGroup("agentmon-alerts-capacity", interval, capacity_alerts(config, links)),
        AlertGroup("agentmon-alerts-availability", interval, availability_alerts(config, links)),
        AlertGroup("agentmon-alerts-slo", interval, burn_rate_alerts(config, links)),
    )
