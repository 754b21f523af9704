"""Recording rules derived from the configuration and the metrics contract: one group per concern.

Every recorded series exists once per tenant and once under the reserved tenant_id ALL_TENANTS (the platform
aggregate). The groups of one concern read raw series; the SLI group reads the recorded request rates, and its
ratios read its own rates: backfilling it takes one promtool pass per level (agentmon_live.rules.backfill).

Windows, from the evaluation interval E and the scrape interval S:
- counters: rate over max(E + S, 4 S). With E = 1m and S = 15s that is 75s: each evaluation sees the 5 samples
  of its own minute, so consecutive evaluations tile the timeline with no gap and no overlap (Grafana's
  $__rate_interval for a step of E, for the same reason);
- gauges: average over max(E, 4 S), every sample of the interval rather than the one at evaluation time.
A panel that sums or averages these over its step therefore covers the whole step: no aliasing at long ranges.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from agentmon_config import PlatformConfig, Tenant
from agentmon_config.contract import TENANT_LABEL, le_spellings
from agentmon_config.durations import duration_seconds, promql_duration
from agentmon_config.recorded import (
    ACTIVE_WORKERS,
    ALL_TENANTS,
    BUCKET_RATE,
    BUDGET_REMAINING,
    BURN_RATE,
    BURN_THRESHOLD,
    ERROR_BUDGET,
    LATENCY_SLA,
    MEMBER_LABEL,
    PERIOD_ERROR_RATE,
    PERIOD_OBSERVATION_RATE,
    PERIOD_REQUEST_RATE,
    PERIOD_SUCCESS_RATIO,
    PERIOD_WITHIN_SLA_RATE,
    PERIOD_WITHIN_SLA_RATIO,
    QUEUE_DEPTH,
    QUEUE_THRESHOLD,
    REQUEST_RATE,
    SLO_INFO,
    SLO_OBJECTIVE,
    TENANT_INFO,
    WITHIN_SLA_RATE,
    WORKERLESS_TENANTS,
    Recorded,
    hourly,
    latency_observation_rate,
    requests_over,
    share,
    sli_error_rate,
    sli_error_ratio,
    sli_request_rate,
    within_sla_rate,
)
from agentmon_config.slo import (
    BURN_TIERS,
    ERROR_BUDGET_WINDOW,
    SLI_COARSE_FROM_SECONDS,
    SLI_COARSE_STEP,
    SLI_WINDOWS,
    error_budget,
)
from agentmon_rules.limits import by_shard, exact, one_of, sharing

REQUESTS = "enhancement_requests_total"
DURATION_BUCKETS = "enhancement_duration_seconds_bucket"
QUEUE = "queue_depth"
WORKERS = "worker_active_count"
# A tenant below this many active workers processes nothing: an outage for that tenant.
WORKERS_NEEDED = 1
# The platform's own limits; each tenant shard's limits are the group LIMITS_GROUP-NN (limit_groups).
LIMITS_GROUP = "agentmon-limits"
# The period's rules (agentmon-slo-period) sum hourly rates (agentmon-slo-hourly, evaluated once an hour), so their
# value changes once an hour: they run every SLO_PERIOD_EVALUATIONS evaluation intervals, at most every
# SLO_PERIOD_INTERVAL_MAX_SECONDS. Above 5 minutes (Prometheus' default lookback) an instant query between two
# evaluations would find no sample; 4 minutes leaves a minute for an evaluation to finish.
SLO_PERIOD_EVALUATIONS = 4
SLO_PERIOD_INTERVAL_MAX_SECONDS = 240


@dataclass(frozen=True)
class RecordingRule:
    record: str
    expr: str
    labels: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, object]:
        rule: dict[str, object] = {"record": self.record, "expr": self.expr}
        if self.labels:
            rule["labels"] = dict(self.labels)
        return rule


@dataclass(frozen=True)
class RuleGroup:
    name: str
    interval: str
    rules: tuple[RecordingRule, ...]

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "interval": self.interval, "rules": [r.to_dict() for r in self.rules]}


@dataclass(frozen=True)
class Windows:
    rate: str
    gauge: str

    @classmethod
    def for_config(cls, config: PlatformConfig) -> Windows:
        evaluation = duration_seconds(config.rules.evaluation_interval)
        scrape = duration_seconds(config.datasource.scrape_interval)
        return cls(rate=promql_duration(max(evaluation + scrape, 4 * scrape)),
                   gauge=promql_duration(max(evaluation, 4 * scrape)))


def _by(labels: tuple[str, ...]) -> str:
    """The grouping clause between an aggregation and its parenthesis: 'sum by (a, b) (...)' or 'sum(...)'."""
    return f" by ({', '.join(labels)}) " if labels else ""


def _per_tenant_and_all(recorded: Recorded, build: Callable[[tuple[str, ...]], str]
                        ) -> tuple[RecordingRule, RecordingRule]:
    """The same expression grouped by tenant, and over every tenant under the reserved tenant_id."""
    extra = tuple(sorted(recorded.labels - {TENANT_LABEL}))
    return (RecordingRule(recorded.name, build((TENANT_LABEL, *extra))),
            RecordingRule(recorded.name, build(extra), labels=((TENANT_LABEL, ALL_TENANTS),)))


def request_rate_rules(w: Windows) -> tuple[RecordingRule, RecordingRule]:
    """REQUEST_RATE per tenant, each tenant's series marked as a member of All (MEMBER_LABEL), and the aggregate."""
    per_tenant, aggregate = _per_tenant_and_all(REQUEST_RATE, lambda by: f"sum{_by(by)}(rate({REQUESTS}[{w.rate}]))")
    return replace(per_tenant, labels=((MEMBER_LABEL, ALL_TENANTS),)), aggregate


def recording_groups(config: PlatformConfig) -> tuple[RuleGroup, ...]:
    w, interval = Windows.for_config(config), config.rules.evaluation_interval

    def workers(by: tuple[str, ...]) -> str:
        # A tenant that reports a queue but no worker gauge has no worker: 0, not missing.
        return (f"sum{_by(by)}(avg_over_time({WORKERS}[{w.gauge}])) "
                f"or 0 * sum{_by(by)}(avg_over_time({QUEUE}[{w.gauge}]))")

    per_tenant_workers = workers((TENANT_LABEL,))
    return (
        RuleGroup("agentmon-requests", interval, request_rate_rules(w)),
        RuleGroup("agentmon-latency", interval, (
            *_per_tenant_and_all(BUCKET_RATE, lambda by: f"sum{_by(by)}(rate({DURATION_BUCKETS}[{w.rate}]))"),
            *within_sla_rules(config))),
        RuleGroup("agentmon-capacity", interval, (
            *_per_tenant_and_all(QUEUE_DEPTH, lambda by: f"sum{_by(by)}(avg_over_time({QUEUE}[{w.gauge}]))"),
            *_per_tenant_and_all(ACTIVE_WORKERS, workers),
            RecordingRule(WORKERLESS_TENANTS.name, f"({per_tenant_workers}) < bool {WORKERS_NEEDED}"),
            RecordingRule(WORKERLESS_TENANTS.name, f"sum(({per_tenant_workers}) < bool {WORKERS_NEEDED})",
                          labels=((TENANT_LABEL, ALL_TENANTS),)),
        )),
        RuleGroup("agentmon-sli", interval, sli_rules(config)),
        *limit_groups(config),
        RuleGroup("agentmon-slo", interval, slo_rules(config)),
        RuleGroup("agentmon-slo-hourly", SLI_COARSE_STEP, slo_hourly_rules(config)),
        RuleGroup("agentmon-slo-period", slo_period_interval(config), slo_period_rules(config)),
    )


def slo_period_interval(config: PlatformConfig) -> str:
    evaluation = duration_seconds(config.rules.evaluation_interval)
    return promql_duration(max(evaluation, min(SLO_PERIOD_EVALUATIONS * evaluation, SLO_PERIOD_INTERVAL_MAX_SECONDS)))


def slo_rules(config: PlatformConfig) -> tuple[RecordingRule, ...]:
    """SLO metadata that changes every evaluation: the burn rate over every SLI window (the error ratio / the
    tenant's error budget: the alerts' tiers fire above their factor). They read the SLI group's ratios, one
    evaluation interval late at most (another group). The SLO info series grow with tenants: they live in the tenant
    shards' limit groups (slo_info_rules)."""
    return tuple(RecordingRule(BURN_RATE.name, f"{sli_error_ratio(window).name} / on ({TENANT_LABEL}) "
                               f"{ERROR_BUDGET.name}", (("window", window),)) for window in SLI_WINDOWS)


def slo_info_rules(tenants: tuple[Tenant, ...]) -> tuple[RecordingRule, ...]:
    """One info series per configured tenant: its display name, SLO and SLA as labels (recording-rule labels are
    never run as templates, so a display name reaches the label as written)."""
    return tuple(RecordingRule(SLO_INFO.name, "vector(1)", (
        (TENANT_LABEL, t.tenant_id), ("display_name", t.display_name), ("slo", exact(t.success_rate_slo)),
        ("sla", exact(t.p95_latency_sla_seconds)))) for t in tenants)


def slo_hourly_rules(config: PlatformConfig) -> tuple[RecordingRule, ...]:
    """Once an hour, per tenant and for the aggregate, the rates of the hour just ended: failed and all requests
    (as the SLI group's 1h rates), requests within the SLA and all requests the latency histogram counts (its +Inf
    bucket; both from the same group's bucket rates, so they cover the same minutes). Consecutive values tile the
    timeline: the period's rules sum 720 of them with a plain range selector, one pass over each series, where 720
    hourly steps of a subquery over the 1h rates recorded every minute took seconds at 1,000 tenants."""
    step = SLI_COARSE_STEP
    return (
        RecordingRule(hourly(sli_error_rate(step)).name, _per_second(config, step, sli_error_rate, "failure")),
        RecordingRule(hourly(sli_request_rate(step)).name, _per_second(config, step, sli_request_rate)),
        RecordingRule(hourly(within_sla_rate(step)).name, _sum_per_second(config, WITHIN_SLA_RATE.name, step)),
        RecordingRule(hourly(latency_observation_rate(step)).name,
                      _sum_per_second(config, f'{BUCKET_RATE.name}{{le="+Inf"}}', step)),
    )


def slo_period_rules(config: PlatformConfig) -> tuple[RecordingRule, ...]:
    """Over the error budget's window (30 days), per tenant and for the aggregate: requests, failures, requests
    within the SLA and requests the latency histogram observed, per second, summed from the hourly rates (exact over
    the window, ending at the last hourly evaluation, at most an hour ago); then the success ratio, the share within
    the SLA and, per tenant, the error budget remaining: 1 - failed share / budget."""
    errors, total, within = PERIOD_ERROR_RATE.name, PERIOD_REQUEST_RATE.name, PERIOD_WITHIN_SLA_RATE.name
    observed = PERIOD_OBSERVATION_RATE.name
    return (
        RecordingRule(errors, _period_sum(sli_error_rate)),
        RecordingRule(total, _period_sum(sli_request_rate)),
        RecordingRule(within, _period_sum(within_sla_rate)),
        RecordingRule(observed, _period_sum(latency_observation_rate)),
        RecordingRule(PERIOD_SUCCESS_RATIO.name, f"1 - {share(errors, total)}"),
        # No series for a tenant without an SLA (one the configuration does not know): nothing to be within.
        RecordingRule(PERIOD_WITHIN_SLA_RATIO.name, f"{within} / ({observed} > 0)"),
        RecordingRule(BUDGET_REMAINING.name, f"1 - {share(errors, total)} / on ({TENANT_LABEL}) {ERROR_BUDGET.name}"),
    )


def _bucket(sla: float) -> str:
    """The matcher of the bucket whose bound is `sla`, however the exporter spells it (120 or 120.0)."""
    return f'le=~"{"|".join(s.replace(".", chr(92) * 2 + ".") for s in le_spellings(sla))}"'


def within_sla_rules(config: PlatformConfig) -> tuple[RecordingRule, ...]:
    """Requests within the latency SLA, per tenant against its own SLA and for the aggregate against the
    platform's: the count of the bucket whose bound is the SLA (the SLA must be a bound: agentmon_config.contract).
    One rule: per distinct SLA a term matching the tenants that have it, joined by `or` (the tenant sets are
    disjoint), so no two rules record the same series."""
    def within(scope: str) -> str:
        return f"sum by ({TENANT_LABEL}) ({BUCKET_RATE.name}{{{scope}}})"

    tenants = [within(f"{one_of(members)},{_bucket(sla)}")
               for sla, members in sharing(config.tenants, lambda t: t.p95_latency_sla_seconds)]
    platform = f'{TENANT_LABEL}="{ALL_TENANTS}",{_bucket(config.thresholds.p95_latency_sla_seconds)}'
    return (RecordingRule(WITHIN_SLA_RATE.name, " or ".join([*tenants, within(platform)])),)


def limit_group_name(shard: int) -> str:
    return f"{LIMITS_GROUP}-{shard:02d}"


def limit_groups(config: PlatformConfig) -> tuple[RuleGroup, ...]:
    """The platform's limits (LIMITS_GROUP), then one group per non-empty tenant shard (agentmon_rules.limits
    .tenant_shard): the limits of 2,000 tenants with limits of their own are over a megabyte, far more than a
    ConfigMap or PrometheusRule may hold, so each shard becomes a rule file and PrometheusRule of its own."""
    interval = config.rules.evaluation_interval
    platform = RecordingRule(LATENCY_SLA.name, f"vector({exact(config.thresholds.p95_latency_sla_seconds)})",
                             ((TENANT_LABEL, ALL_TENANTS),))
    return (RuleGroup(LIMITS_GROUP, interval, (platform,)),
            *(RuleGroup(limit_group_name(shard), interval, limit_rules(tenants))
              for shard, tenants in by_shard(config.tenants).items()))


def limit_rules(tenants: tuple[Tenant, ...]) -> tuple[RecordingRule, ...]:
    """The limits of `tenants` as series (agentmon_config.recorded.LIMITS): one `info` series per tenant, then each
    limit as one rule: value + 0 x info for the tenants that share the value (x + 0 is x in floating point, so the
    value stays exactly the configured one), one such term per distinct value, joined by `or`."""
    info = tuple(RecordingRule(TENANT_INFO.name, "vector(1)", ((TENANT_LABEL, t.tenant_id),)) for t in tenants)

    def per_value(recorded: Recorded, value: Callable[[Tenant], str],
                  labels: tuple[tuple[str, str], ...] = ()) -> tuple[RecordingRule, ...]:
        terms = [f"{number} + 0 * {TENANT_INFO.name}{{{one_of(members)}}}"
                 for number, members in sharing(tenants, value)]
        return (RecordingRule(recorded.name, " or ".join(terms), labels),) if terms else ()

    budget = {t.tenant_id: error_budget(t.success_rate_slo) for t in tenants}
    rules = [*per_value(SLO_OBJECTIVE, lambda t: exact(1 - budget[t.tenant_id])),
             *per_value(ERROR_BUDGET, lambda t: exact(budget[t.tenant_id]))]
    for tier in BURN_TIERS:
        rules += per_value(BURN_THRESHOLD, lambda t, f=tier.factor: exact(f * budget[t.tenant_id]),
                           (("window", tier.long_window),))
    rules += [*per_value(LATENCY_SLA, lambda t: exact(t.p95_latency_sla_seconds)),
              *per_value(QUEUE_THRESHOLD, lambda t: exact(t.queue_alert_threshold))]
    return (*info, *rules, *slo_info_rules(tenants))


def sli_rules(config: PlatformConfig) -> tuple[RecordingRule, ...]:
    """Over every SLI window W, per tenant and for the aggregate (REQUEST_RATE carries both): failed and all
    requests per second, then their ratio. They read REQUEST_RATE, the series the tenant dashboard's error-budget
    panel reads, through the same SLI definition (agentmon_config.recorded): one SLI for panel and alerts. Windows
    of a day or more sum the SLI_COARSE_STEP rates at that step instead (agentmon_config.slo). Each ratio follows
    its rates in the group, so it reads this evaluation's values."""
    rules: list[RecordingRule] = []
    for window in SLI_WINDOWS:
        errors, total = sli_error_rate(window), sli_request_rate(window)
        rules += [RecordingRule(errors.name, _per_second(config, window, sli_error_rate, "failure")),
                  RecordingRule(total.name, _per_second(config, window, sli_request_rate)),
                  RecordingRule(sli_error_ratio(window).name, share(errors.name, total.name))]
    return tuple(rules)


def _per_second(config: PlatformConfig, window: str, coarse: Callable[[str], Recorded],
                status: str | None = None) -> str:
    """Requests (of `status`) per second over `window`: a sum of per-interval rates, times the interval, is the
    requests in the window; divided by the window, per second. A window with no value for part of it (before
    the rules ran) counts that part as 0 requests, so the low-traffic guard errs on the quiet side.

    The range is the window less one second: recorded values sit on evaluation instants, and Prometheus 2.x
    includes both ends of a range (one value too many, 6 for 5 minutes) where 3.x includes only the right one;
    a second less holds exactly window / interval values on both, so a count of failures is whole."""
    seconds = int(duration_seconds(window))
    left_open = promql_duration(seconds - 1)
    if seconds >= SLI_COARSE_FROM_SECONDS:
        step = SLI_COARSE_STEP
        return f"sum_over_time({coarse(step).name}[{left_open}:{step}]) * {int(duration_seconds(step))} / {seconds}"
    evaluation = int(duration_seconds(config.rules.evaluation_interval))
    return f"{requests_over(left_open, (), TENANT_LABEL, status)} * {evaluation} / {seconds}"


def _period_sum(rate: Callable[[str], Recorded]) -> str:
    """Per second over the error budget's window: the sum of the hourly values of `rate`'s 1h rate in the window
    (less one second: 720 values on Prometheus 2.x and 3.x alike), times the hour, over the window."""
    seconds, step = int(duration_seconds(ERROR_BUDGET_WINDOW)), int(duration_seconds(SLI_COARSE_STEP))
    return f"sum_over_time({hourly(rate(SLI_COARSE_STEP)).name}[{promql_duration(seconds - 1)}]) * {step} / {seconds}"


def _sum_per_second(config: PlatformConfig, per_interval: str, window: str) -> str:
    """A per-interval rate recorded by tenant (and the aggregate) as per second over `window`, as _per_second
    computes the request rates."""
    seconds = int(duration_seconds(window))
    evaluation = int(duration_seconds(config.rules.evaluation_interval))
    return (f"sum by ({TENANT_LABEL}) (sum_over_time({per_interval}[{promql_duration(seconds - 1)}])) "
            f"* {evaluation} / {seconds}")
