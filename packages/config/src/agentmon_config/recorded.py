"""The recorded-series contract: the series agentmon's recording rules write and its dashboards read.

Beside the metrics contract (contract.py) because two generators share it: `agentmon_rules` records these
names, `agentmon_dashboards` queries them, and neither may import the other. validate checks that every name a
panel reads is produced by a rule of the same bundle.

Names follow Prometheus' `level:metric:operations` convention. Each series exists once per tenant and once more
under the reserved tenant_id ALL_TENANTS, the platform aggregate that the tenant variable's "All" selects, so
"All" reads a handful of series whatever the tenant count.
"""

from __future__ import annotations

from dataclasses import dataclass

from agentmon_config.contract import TENANT_LABEL
from agentmon_config.slo import ERROR_BUDGET_WINDOW, SLI_WINDOWS

# Reserved tenant_id of the platform aggregate; the tenant schema forbids it as a tenant name.
ALL_TENANTS = "__all__"
# Every per-tenant REQUEST_RATE series carries MEMBER_LABEL=ALL_TENANTS (the aggregate does not). A panel that lists
# tenants selects them under All through this label, so that Prometheus reads exactly the series shown: the
# selected tenants' under a selection, every tenant's once under All (never all tenants to keep a few of them).
MEMBER_LABEL = "member_of"


@dataclass(frozen=True)
class Recorded:
    name: str
    labels: frozenset[str]
    help: str


REQUEST_RATE = Recorded(
    "tenant_id_status:enhancement_requests:sum_rate", frozenset({TENANT_LABEL, "status"}),
    "Requests per second by outcome over one evaluation interval.")
BUCKET_RATE = Recorded(
    "tenant_id_le:enhancement_duration_seconds_bucket:sum_rate", frozenset({TENANT_LABEL, "le"}),
    "Latency histogram bucket rates (per second) over one evaluation interval.")
QUEUE_DEPTH = Recorded(
    "tenant_id:queue_depth:sum_avg", frozenset({TENANT_LABEL}),
    "Pending jobs, averaged over one evaluation interval.")
ACTIVE_WORKERS = Recorded(
    "tenant_id:worker_active_count:sum_avg", frozenset({TENANT_LABEL}),
    "Active workers averaged over one evaluation interval; 0 for a tenant that reports a queue but no workers.")
WORKERLESS_TENANTS = Recorded(
    "tenant_id:tenants_without_active_worker:count", frozenset({TENANT_LABEL}),
    "1 for a tenant with less than one active worker, else 0; the aggregate counts such tenants.")

WITHIN_SLA_RATE = Recorded(
    "tenant_id:enhancement_duration_within_sla:sum_rate", frozenset({TENANT_LABEL}),
    "Requests per second (over one evaluation interval) that finished within the latency SLA: the tenant's own, "
    "the platform's for the aggregate; read off the bucket whose bound is the SLA.")

RECORDED: tuple[Recorded, ...] = (REQUEST_RATE, BUCKET_RATE, QUEUE_DEPTH, ACTIVE_WORKERS, WORKERLESS_TENANTS,
                                  WITHIN_SLA_RATE)

# Per-tenant limits as data (the `agentmon-limits` group): the alert rules join them on tenant_id, so one rule per
# condition serves every tenant, each against its own configured value, written exactly (no rounding).
TENANT_INFO = Recorded(
    "tenant_id:agentmon_tenant:info", frozenset({TENANT_LABEL}),
    "1 for every tenant of the configuration, whether or not it reports: the set of tenants alerts expect.")
SLO_OBJECTIVE = Recorded(
    "tenant_id:agentmon_slo_objective:ratio", frozenset({TENANT_LABEL}),
    "The tenant's success-rate objective as a ratio (99.5 % -> 0.995).")
ERROR_BUDGET = Recorded(
    "tenant_id:agentmon_error_budget:ratio", frozenset({TENANT_LABEL}),
    "The share of requests that may fail: 1 - objective (0.005).")
BURN_THRESHOLD = Recorded(
    "tenant_id_window:agentmon_error_budget_burn_threshold:ratio", frozenset({TENANT_LABEL, "window"}),
    "Error ratio above which a burn-rate tier fires: the tier's factor x the error budget, per long window.")
LATENCY_SLA = Recorded(
    "tenant_id:agentmon_latency_sla:seconds", frozenset({TENANT_LABEL}),
    "The tenant's p95 latency SLA (the platform's under the aggregate): more than 5 % of requests slower alerts.")
QUEUE_THRESHOLD = Recorded(
    "tenant_id:agentmon_queue_threshold:jobs", frozenset({TENANT_LABEL}),
    "Queued jobs above which the tenant's queue alert fires.")
LIMITS: tuple[Recorded, ...] = (TENANT_INFO, SLO_OBJECTIVE, ERROR_BUDGET, BURN_THRESHOLD, LATENCY_SLA,
                                QUEUE_THRESHOLD)


def sli_error_ratio(window: str) -> Recorded:
    """The SLI of the burn-rate and error-rate alerts: failed share of requests over `window`."""
    return Recorded(f"tenant_id:enhancement_requests_errors:ratio_rate{window}", frozenset({TENANT_LABEL}),
                    f"Failed share of requests (0-1) over {window}; no series while there were no requests.")


def sli_error_rate(window: str) -> Recorded:
    """Failed requests per second over `window`: the numerator of the error ratio."""
    return Recorded(f"tenant_id:enhancement_requests_errors:rate{window}", frozenset({TENANT_LABEL}),
                    f"Failed requests per second over {window}; no series for a tenant that never failed.")


def sli_request_rate(window: str) -> Recorded:
    """Requests per second over `window`: the error ratio's denominator and the alerts' low-traffic guard."""
    return Recorded(f"tenant_id:enhancement_requests:rate{window}", frozenset({TENANT_LABEL}),
                    f"Requests per second over {window}.")


# Apart from RECORDED: the dashboards' panels read RECORDED at every range, only the alerts read these.
SLI_SERIES: tuple[Recorded, ...] = tuple(
    r for w in SLI_WINDOWS for r in (sli_error_rate(w), sli_request_rate(w), sli_error_ratio(w)))


def within_sla_rate(window: str) -> Recorded:
    """Requests per second within the latency SLA over `window`: WITHIN_SLA_RATE summed like the SLI rates."""
    return Recorded(f"tenant_id:enhancement_duration_within_sla:rate{window}", frozenset({TENANT_LABEL}),
                    f"Requests per second that finished within the latency SLA, over {window}.")


def latency_observation_rate(window: str) -> Recorded:
    """Requests per second over `window` as the latency histogram counts them (its +Inf bucket): the denominator
    of the share within the SLA, from the same rule group as its numerator, as the latency alerts divide them."""
    return Recorded(f"tenant_id:enhancement_duration_seconds_count:rate{window}", frozenset({TENANT_LABEL}),
                    f"Requests per second observed by the latency histogram (its +Inf bucket), over {window}.")


def hourly(rate: Recorded) -> Recorded:
    """A 1h rate recorded once an hour (the `agentmon-slo-hourly` group): consecutive values tile the timeline, so
    summing those of a range counts every hour of it once. Read it with range selectors only: an instant query finds
    a value only in the 5 minutes after each evaluation."""
    return Recorded(f"{rate.name}_hourly", rate.labels, f"{rate.help} Recorded once an hour.")


# SLO metadata (the `agentmon-slo` and `agentmon-slo-period` groups): what Pyrra's and Sloth's SLO lists show, as
# plain series any tool reads, beside the objective and budget of LIMITS. The period is the error budget's window.
# Info labels: display_name is tenant text (agentmon_config.fields refuses control characters and templates in it);
# a recording rule's labels are stored as written, never run as a template or parsed as PromQL.
SLO_INFO_LABELS = ("display_name", "slo", "sla")
SLO_INFO = Recorded(
    "tenant_id:agentmon_slo:info", frozenset({TENANT_LABEL, *SLO_INFO_LABELS}),
    "1 for every configured tenant; labels: display_name, slo (success-rate objective, percent as configured), "
    "sla (p95 latency SLA, seconds).")
BURN_RATE = Recorded(
    "tenant_id_window:agentmon_error_budget_burn_rate:ratio", frozenset({TENANT_LABEL, "window"}),
    "How fast the tenant spends its error budget: its error ratio over `window` / its error budget (1: the budget "
    "lasts exactly the period; the burn alerts fire at 14.4, 6, 3 and 1 over their windows).")
PERIOD_REQUEST_RATE = sli_request_rate(ERROR_BUDGET_WINDOW)
PERIOD_ERROR_RATE = sli_error_rate(ERROR_BUDGET_WINDOW)
PERIOD_WITHIN_SLA_RATE = within_sla_rate(ERROR_BUDGET_WINDOW)
PERIOD_OBSERVATION_RATE = latency_observation_rate(ERROR_BUDGET_WINDOW)
PERIOD_SUCCESS_RATIO = Recorded(
    f"tenant_id:enhancement_requests_success:ratio_rate{ERROR_BUDGET_WINDOW}", frozenset({TENANT_LABEL}),
    f"Successful share of requests over {ERROR_BUDGET_WINDOW} (request-weighted), ending at the last hourly "
    "evaluation; no series without requests.")
PERIOD_WITHIN_SLA_RATIO = Recorded(
    f"tenant_id:enhancement_duration_within_sla:ratio_rate{ERROR_BUDGET_WINDOW}", frozenset({TENANT_LABEL}),
    f"Share of requests over {ERROR_BUDGET_WINDOW} that finished within the latency SLA (of those the latency "
    "histogram counts), ending at the last hourly evaluation.")
BUDGET_REMAINING = Recorded(
    "tenant_id:agentmon_error_budget_remaining:ratio", frozenset({TENANT_LABEL}),
    f"Share of the {ERROR_BUDGET_WINDOW} error budget not spent: 1 - (1 - success ratio) / error budget; negative "
    "once the SLO is breached.")
# The hourly rates the period's sums read.
HOURLY_RATES: tuple[Recorded, ...] = tuple(hourly(rate("1h")) for rate in (
    sli_error_rate, sli_request_rate, within_sla_rate, latency_observation_rate))
SLO_METADATA: tuple[Recorded, ...] = (SLO_INFO, BURN_RATE, *HOURLY_RATES, PERIOD_REQUEST_RATE, PERIOD_ERROR_RATE,
                                      PERIOD_WITHIN_SLA_RATE, PERIOD_OBSERVATION_RATE, PERIOD_SUCCESS_RATIO,
                                      PERIOD_WITHIN_SLA_RATIO, BUDGET_REMAINING)


# The SLI, written once: the failed share of requests, from REQUEST_RATE (one value per evaluation interval and
# tenant, by status). The tenant dashboard's error-budget panel computes it over 30 days; the SLI rules record it
# over SLI_WINDOWS for the alerts. Both read the same recorded series through these functions.

def requests_over(window: str, matchers: tuple[str, ...], by: str = "", status: str | None = None) -> str:
    """Requests in `window` (of `status` if given), as the sum of the recorded per-interval rates: a count in
    units of requests/s x evaluation interval, so only ratios of two such sums (or a sum scaled by the interval)
    have a meaning."""
    selected = (*matchers, f'status="{status}"') if status else matchers
    grouping = f" by ({by}) " if by else ""
    labels = f"{{{','.join(selected)}}}" if selected else ""
    return f"sum{grouping}(sum_over_time({REQUEST_RATE.name}{labels}[{window}]))"


def share(part: str, total: str) -> str:
    """part / total where `part` may lack a group (a tenant that never failed has no failure series): such a
    group is 0, not missing; a group without requests is no data (dividing by `total > 0`), never NaN."""
    return f"({part} or 0 * {total}) / ({total} > 0)"


def outcome_ratio(status: str, window: str, matchers: tuple[str, ...], by: str = "") -> str:
    """Share of the requests in `window` that ended with `status`, request-weighted over what `by` groups."""
    return share(requests_over(window, matchers, by, status), requests_over(window, matchers, by))
