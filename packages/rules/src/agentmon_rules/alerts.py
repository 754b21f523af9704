"""Alert rules derived from the configuration: one rule per condition, whatever the number of tenants.

Per-tenant limits (SLO, latency SLA, queue threshold) are series recorded by the `agentmon-limits-NN` groups, one
per tenant shard (agentmon_config.recorded.LIMITS, agentmon_rules.recording.limit_groups): a tenant rule compares
each tenant's series with that tenant's own limit through a join on tenant_id, so every threshold is the configured
value exactly and a new tenant adds no alert rule.
Platform thresholds (config.thresholds) are written into the rules exactly (agentmon_rules.limits.exact).

Every alert carries `severity`, `managed_by="agentmon"` (routing matches it, so nothing else reaches agentmon's
receivers), `tenant_id` when it concerns one tenant, and the annotations summary, description (values humanized),
panel_url (the panel that shows it) and runbook_url (docs/operations/runbooks.md#<anchor>). Each tenant alert name
has one severity: the Prometheus Operator stack's default inhibit rules (critical inhibits warning of the same
alertname and namespace) can then never let one tenant's page silence another tenant's ticket.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from agentmon_config import AlertRule, PlatformConfig
from agentmon_config import alertnames as names
from agentmon_config.contract import TENANT_LABEL
from agentmon_config.durations import duration_seconds
from agentmon_config.identity import MAIN_PANELS, TENANT_PANELS, dashboard_uid, tenant_dashboard_uid
from agentmon_config.recorded import (
    ACTIVE_WORKERS,
    ALL_TENANTS,
    BUCKET_RATE,
    BURN_THRESHOLD,
    QUEUE_DEPTH,
    QUEUE_THRESHOLD,
    REQUEST_RATE,
    TENANT_INFO,
    WITHIN_SLA_RATE,
    sli_error_rate,
    sli_error_ratio,
)
from agentmon_config.slo import BURN_TIERS, QUIET_WINDOW, BurnTier
from agentmon_rules.limits import exact

ALERTS_FILE = "agentmon.alerts.rules.yml"
PLATFORM = f'{TENANT_LABEL}="{ALL_TENANTS}"'
TENANTS = f'{TENANT_LABEL}!="{ALL_TENANTS}"'
LATENCY_WINDOW = "5m"
# "p95 above the SLA" is "more than 5 % of requests slower than the SLA", read off the SLA's bucket exactly.
SLOW_SHARE = "0.05"
# A tenant that reported within this window and stopped is absent (not a tenant that never reported).
ABSENT_MEMORY = "1d"
# Contract metrics whose absence empties the dashboards; their absence must never read as "all is well".
WATCHED_METRICS = ("enhancement_requests_total", "enhancement_duration_seconds_bucket", "queue_depth",
                   "worker_active_count")
TENANT = f"{{{{ $labels.{TENANT_LABEL} }}}}"
PERCENT = "{{ $value | humanizePercentage }}"
NUMBER = "{{ $value | humanize }}"

# Alert names (agentmon_config.alertnames, shared with the routing): tenant alerts carry tenant_id and one
# severity each; platform alerts carry no tenant_id.
BURN_FAST, BURN_SLOW = names.ERROR_BUDGET_BURN_FAST, names.ERROR_BUDGET_BURN_SLOW
TENANT_LATENCY, TENANT_QUEUE = names.TENANT_LATENCY_HIGH, names.TENANT_QUEUE_DEPTH_HIGH
NO_WORKER, TENANT_ABSENT = names.TENANT_NO_ACTIVE_WORKER, names.TENANT_ABSENT
SUCCESS_RATE, LATENCY, QUEUE = names.SUCCESS_RATE_LOW, names.LATENCY_HIGH, names.QUEUE_DEPTH_HIGH
METRICS_ABSENT, TARGET_DOWN, HEARTBEAT = names.METRICS_ABSENT, names.TARGET_DOWN, names.HEARTBEAT
HEARTBEAT_SEVERITY = names.NONE


@dataclass(frozen=True)
class AlertingRule:
    alert: str
    expr: str
    for_: str
    labels: tuple[tuple[str, str], ...]
    annotations: tuple[tuple[str, str], ...]
    keep_firing_for: str = "0s"

    def to_dict(self) -> dict[str, object]:
        rule: dict[str, object] = {"alert": self.alert, "expr": self.expr}
        if duration_seconds(self.for_) > 0:
            rule["for"] = self.for_
        if duration_seconds(self.keep_firing_for) > 0:
            rule["keep_firing_for"] = self.keep_firing_for
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
        return f"{url}&var-{TENANT_LABEL}={TENANT}" if per_tenant else url

    def tenant(self, panel: str) -> str:
        """The panel on the dashboard of the alert's tenant: the uid is filled in from the alert's tenant_id."""
        return f"{self.grafana}/d/{tenant_dashboard_uid(TENANT)}?viewPanel={TENANT_PANELS[panel]}"

    def runbook(self, anchor: str) -> str:
        return f"{self.runbooks}#{anchor}"


def _alert(name: str, expr: str, rule: AlertRule, text: tuple[str, str], panel_url: str, runbook: str,
           links: Links, keep_firing_for: str = "0s", **labels: str) -> AlertingRule:
    summary, description = text
    annotations = (("description", description), ("panel_url", panel_url), ("runbook_url", links.runbook(runbook)),
                   ("summary", summary))
    # managed_by: the routing's top route matches it (agentmon_config.alertnames)
    all_labels = {"severity": rule.severity, names.MANAGED_BY_LABEL: names.MANAGED_BY_VALUE, **labels}
    return AlertingRule(name, expr, rule.for_, tuple(sorted(all_labels.items())), annotations, keep_firing_for)


def _platform(expr: str) -> str:
    """Drop the aggregate's reserved tenant_id: a platform alert concerns no tenant."""
    return f"sum without ({TENANT_LABEL}) ({expr})"


def _seconds(window: str) -> int:
    return int(duration_seconds(window))


def failures_at_least(config: PlatformConfig, window: str, scope: str) -> str:
    """The low-traffic guard: at least alerts.minimum_failures failed requests in `window` (per second x seconds;
    half a request of slack absorbs the floating-point error of that product, failures being whole)."""
    count = config.alerts.minimum_failures
    return f"{sli_error_rate(window).name}{{{scope}}} * {_seconds(window)} > {exact(count - 0.5)}"


def success_rate_alerts(config: PlatformConfig, links: Links) -> tuple[AlertingRule, ...]:
    """The platform's success rate below a threshold: its error ratio above 1 - threshold, compared exactly."""
    t, a, window = config.thresholds, config.alerts, config.alerts.error_rate_window
    rules = []
    for threshold, rule in ((t.success_rate_warning, a.success_rate_warning),
                            (t.success_rate_critical, a.success_rate_critical)):
        limit = exact((100 - Decimal(repr(threshold))) / 100)
        expr = _platform(f"{sli_error_ratio(window).name}{{{PLATFORM}}} > {limit} "
                         f"and {failures_at_least(config, window, PLATFORM)}")
        rules.append(_alert(SUCCESS_RATE, expr, rule, (
            f"Platform success rate below {exact(threshold)} %",
            f"{PERCENT} of the platform's requests failed over {window}: the success rate is below "
            f"{exact(threshold)} % (at least {a.minimum_failures} failed requests)."),
            links.main("success_rate"), "success-rate-low", links))
    return tuple(rules)


def _slow_share(scope: str) -> str:
    """Share of the requests in the latency window that took longer than the SLA (their tenant's, or the
    platform's for the aggregate): all requests minus those within the SLA's bucket, over all requests. A missing
    SLA bucket counts every request as slow: loud, never silent."""
    total = f"sum by ({TENANT_LABEL}) (sum_over_time({BUCKET_RATE.name}{{{scope},le=\"+Inf\"}}[{LATENCY_WINDOW}]))"
    within = f"sum by ({TENANT_LABEL}) (sum_over_time({WITHIN_SLA_RATE.name}{{{scope}}}[{LATENCY_WINDOW}]))"
    return f"({total} - on ({TENANT_LABEL}) ({within} or on ({TENANT_LABEL}) 0 * {total})) / {total} > {SLOW_SHARE}"


def latency_alerts(config: PlatformConfig, links: Links) -> tuple[AlertingRule, ...]:
    rule, sla = config.alerts.p95_latency, exact(config.thresholds.p95_latency_sla_seconds)
    return (
        _alert(LATENCY, _platform(_slow_share(PLATFORM)), rule, (
            f"Platform p95 latency above the {sla} s SLA",
            f"{PERCENT} of the platform's requests took longer than {sla} s over {LATENCY_WINDOW} "
            f"(more than 5 %: the p95 is above the SLA)."),
            links.main("p95_latency"), "latency-high", links),
        _alert(TENANT_LATENCY, _slow_share(TENANTS), rule, (
            f"p95 latency of {TENANT} above its SLA",
            f"{PERCENT} of {TENANT}'s requests took longer than its p95 latency SLA over {LATENCY_WINDOW} "
            f"(more than 5 %: its p95 is above the SLA)."),
            links.tenant("latency"), "latency-high", links),
    )


def capacity_alerts(config: PlatformConfig, links: Links) -> tuple[AlertingRule, ...]:
    t, a = config.thresholds, config.alerts
    over = f"{QUEUE_DEPTH.name}{{{TENANTS}}} > on ({TENANT_LABEL}) {QUEUE_THRESHOLD.name}"
    share = exact(a.queue_backlog_tenants_percent)
    return (
        _alert(QUEUE, f"100 * count({over}) / count({QUEUE_DEPTH.name}{{{TENANTS}}}) >= {share}", a.queue_depth, (
            f"{share} % or more of the tenants have a queue above their threshold",
            f"{NUMBER} % of the tenants reporting a queue hold more jobs than their queue_alert_threshold "
            f"(alert from {share} %): a platform-wide backlog, not one tenant's."),
            links.main("queue_depth"), "queue-depth-high", links),
        _alert(TENANT_QUEUE, over, a.queue_depth, (
            f"Queue of {TENANT} above its threshold",
            f"{NUMBER} jobs are waiting for {TENANT}, more than its queue_alert_threshold."),
            links.tenant("queue_depth"), "queue-depth-high", links),
        _alert(NO_WORKER,
               f"{ACTIVE_WORKERS.name}{{{TENANTS}}} < {t.workers_minimum} "
               f"and on ({TENANT_LABEL}) {QUEUE_DEPTH.name}{{{TENANTS}}} > 0", a.no_active_worker, (
                   f"Tenant {TENANT} has jobs queued and no active worker",
                   f"{NUMBER} active workers (minimum {t.workers_minimum}) while jobs are queued: nothing is "
                   "processed."),
               links.main("workerless_tenants", per_tenant=True), "no-active-worker", links),
    )


def availability_alerts(config: PlatformConfig, links: Links) -> tuple[AlertingRule, ...]:
    a = config.alerts
    absent = tuple(
        _alert(METRICS_ABSENT, f"absent({metric})", a.metrics_absent, (
            f"No {metric} in Prometheus",
            f"Prometheus holds no {metric} series: the dashboards show No data, not a healthy platform."),
            links.main("success_rate"), "metrics-absent", links, metric=metric)
        for metric in WATCHED_METRICS)
    return (*absent, _target_down(config, links), _tenant_absent(config, links), _heartbeat(links))


def _target_down(config: PlatformConfig, links: Links) -> AlertingRule:
    """A target that exposed the platform's metrics within the hour, or whose alert is already up: once down it
    stays firing for as long as it is down (the alert's own ALERTS series remembers it), while `up` of unrelated
    jobs never alerts."""
    ours = (f"group by (job, instance) (present_over_time(enhancement_requests_total[1h])) "
            f'or on (job, instance) ALERTS{{alertname="{TARGET_DOWN}"}}')
    return _alert(TARGET_DOWN, f"up == 0 and on (job, instance) ({ours})", config.alerts.target_down, (
        "Scrape target {{ $labels.instance }} of job {{ $labels.job }} is down",
        "Prometheus cannot scrape {{ $labels.instance }} (up = {{ $value }}): its tenants' panels go stale."),
        links.main("success_rate"), "target-down", links)


def _tenant_absent(config: PlatformConfig, links: Links) -> AlertingRule:
    """A configured tenant without request series now that had some within ABSENT_MEMORY (sampled every 5
    minutes: cheap at thousands of tenants), or whose alert is already up: it stays firing while the tenant is
    absent, instead of its other alerts resolving as if it had recovered."""
    reporting = f"{REQUEST_RATE.name}{{{TENANTS}}}"
    seen = (f"group by ({TENANT_LABEL}) (present_over_time({reporting}[{ABSENT_MEMORY}:5m])) "
            f'or on ({TENANT_LABEL}) ALERTS{{alertname="{TENANT_ABSENT}"}}')
    expr = f"{TENANT_INFO.name} unless on ({TENANT_LABEL}) {reporting} and on ({TENANT_LABEL}) ({seen})"
    return _alert(TENANT_ABSENT, expr, config.alerts.tenant_absent, (
        f"Tenant {TENANT} stopped reporting metrics",
        f"{TENANT} reported requests within the last day and reports none now: its other alerts cannot fire "
        "while it is absent."),
        links.tenant("request_rate"), "tenant-absent", links)


def _heartbeat(links: Links) -> AlertingRule:
    """Always firing: a receiver that stops getting it knows the rules are not loaded or alerts do not flow."""
    return _alert(HEARTBEAT, "vector(1)", AlertRule(for_="0s", severity=HEARTBEAT_SEVERITY), (
        "agentmon's alert rules are loaded and evaluated",
        "Always firing. If the heartbeat receiver stops getting it, agentmon's alerts are not evaluated or not "
        "delivered."), links.main("success_rate"), "heartbeat", links)


def _burn_tier(config: PlatformConfig, tier: BurnTier) -> str:
    """Fires for a tenant whose error ratio is above the tier's threshold (factor x its own budget) over the
    long window, over the short window too unless that held no request (emptiness does not disprove a burn), with
    enough failures: minimum_failures in the long window, or (a quiet tenant) in QUIET_WINDOW while that window
    burns above the threshold as well."""
    def ratio(window: str) -> str:
        return f"{sli_error_ratio(window).name}{{{TENANTS}}}"

    threshold = f'on ({TENANT_LABEL}) {BURN_THRESHOLD.name}{{window="{tier.long_window}"}}'
    long, short = ratio(tier.long_window), ratio(tier.short_window)
    still = f"({short} > {threshold} or on ({TENANT_LABEL}) ({long} unless on ({TENANT_LABEL}) {short}))"
    quiet = (f"{failures_at_least(config, QUIET_WINDOW, TENANTS)} "
             f"and on ({TENANT_LABEL}) {ratio(QUIET_WINDOW)} > {threshold}")
    enough = f"({failures_at_least(config, tier.long_window, TENANTS)} or on ({TENANT_LABEL}) {quiet})"
    return f"({long} > {threshold} and on ({TENANT_LABEL}) {still} and on ({TENANT_LABEL}) {enough})"


def burn_rate_alerts(config: PlatformConfig, links: Links) -> tuple[AlertingRule, ...]:
    """The workbook's page tiers as one alert, its ticket tiers as another (agentmon_config.slo)."""
    rules = []
    for name, tier_name, speed in ((BURN_FAST, "page", "fast"), (BURN_SLOW, "ticket", "slowly")):
        tiers = [t for t in BURN_TIERS if t.name == tier_name]
        windows = " or ".join(f"{t.factor}x its budget over {t.long_window}" for t in tiers)
        expr = f" or on ({TENANT_LABEL}) ".join(_burn_tier(config, t) for t in tiers)
        rule = AlertRule(for_="0s", severity=tiers[0].severity)
        rules.append(_alert(name, expr, rule, (
            f"{TENANT} burns its error budget {speed} ({tier_name})",
            f"{PERCENT} of {TENANT}'s requests failed over the burn window: more than {windows} (and at least "
            f"{config.alerts.minimum_failures} failed requests)."),
            links.tenant("error_budget"), "error-budget-burn", links, config.alerts.burn_keep_firing_for))
    return tuple(rules)


def alert_groups(config: PlatformConfig) -> tuple[AlertGroup, ...]:
    links, interval = Links(config), config.rules.evaluation_interval
    return (
        AlertGroup("agentmon-alerts-health", interval, success_rate_alerts(config, links)),
        AlertGroup("agentmon-alerts-capacity", interval,
                   latency_alerts(config, links) + capacity_alerts(config, links)),
        AlertGroup("agentmon-alerts-availability", interval, availability_alerts(config, links)),
        AlertGroup("agentmon-alerts-slo", interval, burn_rate_alerts(config, links)),
    )
