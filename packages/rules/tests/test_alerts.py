"""The generated alerts at their boundaries, with the real `promtool test rules`.

Each case writes the generated rule files (recording rules, then alerts), and a promtool test file built here from
the same configuration: every threshold, window and `for:` below is read from the config, never copied. Input
series are raw contract metrics at a 1-minute resolution; the recording rules compute what the alerts read.
"""

from __future__ import annotations

import math
import re
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from agentmon_bundle.serialize import yaml_bytes
from agentmon_config import load_platform
from agentmon_config.durations import duration_seconds
from agentmon_config.slo import BURN_TIERS, error_budget
from agentmon_rules import ALERTS_FILE, RULE_FILE, alert_groups, render_rules
from agentmon_rules.alerts import burn_threshold
from agentmon_testkit import prerequisite

REPO = Path(__file__).resolve().parents[3]
CONFIG = load_platform(REPO / "config" / "platform.yaml", REPO / "tenants")
T, A = CONFIG.thresholds, CONFIG.alerts
ACME = next(t for t in CONFIG.tenants if t.tenant_id == "acme")
PER_MINUTE = 10_000  # requests per minute of a busy tenant: enough for percentages to one decimal
JOB = 'job="agentmon", instance="app:8000"'


@pytest.fixture(scope="module")
def promtool():
    return prerequisite("promtool")


def minutes(duration: str) -> int:
    return int(duration_seconds(duration) // 60)


def requests(tenant: str, error_percent: float, per_minute: float = PER_MINUTE, length: int = 600,
             healthy_first: int = 0) -> list[dict[str, str]]:
    """Request counters of one tenant: `per_minute` requests, `error_percent` of them failed, after
    `healthy_first` minutes without failures."""
    failed = per_minute * error_percent / 100
    ok_after = per_minute - failed
    success, failure = f"0+{ok_after}x{length}", f"0+{failed}x{length}"
    if healthy_first:  # minutes 0 .. healthy_first - 1 without failures, the incident from minute healthy_first
        before = per_minute * (healthy_first - 1)
        success = f"0+{per_minute}x{healthy_first - 1} {before + ok_after}+{ok_after}x{length}"
        failure = f"0x{healthy_first - 1} {failed}+{failed}x{length}"
    return [{"series": f'enhancement_requests_total{{tenant_id="{tenant}", status="success", {JOB}}}',
             "values": success},
            {"series": f'enhancement_requests_total{{tenant_id="{tenant}", status="failure", {JOB}}}',
             "values": failure}]


def gauges(tenant: str, queue: float, workers: float, length: int = 600) -> list[dict[str, str]]:
    return [{"series": f'queue_depth{{tenant_id="{tenant}", {JOB}}}', "values": f"{queue}x{length}"},
            {"series": f'worker_active_count{{tenant_id="{tenant}", {JOB}}}', "values": f"{workers}x{length}"}]


def latency(tenant: str, p95: float, length: int = 600) -> list[dict[str, str]]:
    """Every observation in the bucket (0, b]: histogram_quantile interpolates p95 = 0.95 b."""
    upper = p95 / 0.95
    return [{"series": f'enhancement_duration_seconds_bucket{{tenant_id="{tenant}", le="{le}", {JOB}}}',
             "values": values}
            for le, values in (("0", f"0x{length}"), (repr(upper), f"0+60x{length}"), ("+Inf", f"0+60x{length}"))]


def healthy_rest(tenant: str = "acme") -> list[dict[str, str]]:
    return [*gauges(tenant, 0, 1), *latency(tenant, 1)]


def expand(template: str, labels: dict[str, str], value: float) -> str:
    """Prometheus' expansion of the templates the generator uses."""
    text = template.replace('{{ $value | printf "%.2f" }}', f"{value:.2f}").replace("{{ $value }}", f"{value:g}")
    return re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels[m.group(1)], text)


def expected(alert: str, severity: str, value: float, **labels: str) -> dict[str, object]:
    """The firing alert as promtool lists it: labels, and annotations expanded from the generated rule."""
    rule = next(r for g in alert_groups(CONFIG) for r in g.rules
                if r.alert == alert and dict(r.labels)["severity"] == severity
                and all(dict(r.labels).get(k, v) == v for k, v in labels.items()))
    all_labels = {**dict(rule.labels), **labels}
    return {"exp_labels": all_labels,
            "exp_annotations": {k: expand(v, all_labels, value) for k, v in rule.annotations}}


def run(promtool: str, tmp_path: Path, series: list[dict[str, str]], alert_tests: list[dict[str, object]],
        expr_tests: list[dict[str, object]] = ()) -> None:
    for name, doc in render_rules(CONFIG).items():
        if name in (RULE_FILE, ALERTS_FILE):
            (tmp_path / name).write_bytes(yaml_bytes(doc))
    test = {"rule_files": [RULE_FILE, ALERTS_FILE], "evaluation_interval": "1m",
            "tests": [{"interval": "1m", "input_series": series, "alert_rule_test": alert_tests,
                       "promql_expr_test": list(expr_tests)}]}
    (tmp_path / "test.yml").write_bytes(yaml_bytes(test))
    result = subprocess.run([promtool, "test", "rules", "test.yml"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def at(minute: int, alert: str, *firing: dict[str, object]) -> dict[str, object]:
    return {"eval_time": f"{minute}m", "alertname": alert, "exp_alerts": list(firing)}


# The first evaluation with 2 samples in every window is at 1m: an alert is pending from 1m, fires `for` later.
def fired(for_: str) -> int:
    return minutes(for_) + 2


def still_pending(for_: str) -> int:
    return minutes(for_) - 1


def test_tenant_error_rate_just_below_the_warning_is_silent(promtool, tmp_path):
    below = T.error_rate_warning - 0.1
    run(promtool, tmp_path, [*requests("acme", below), *healthy_rest()],
        [at(fired(A.error_rate_warning.for_) + 10, "AgentmonTenantErrorRateHigh")])


def test_tenant_error_rate_just_above_the_warning_fires_the_warning_after_its_for(promtool, tmp_path):
    above = T.error_rate_warning + 0.1
    run(promtool, tmp_path, [*requests("acme", above), *healthy_rest()], [
        at(still_pending(A.error_rate_warning.for_), "AgentmonTenantErrorRateHigh"),
        at(fired(A.error_rate_warning.for_), "AgentmonTenantErrorRateHigh",
           expected("AgentmonTenantErrorRateHigh", A.error_rate_warning.severity, above, tenant_id="acme")),
    ])


def test_tenant_error_rate_just_above_critical_fires_both_severities(promtool, tmp_path):
    above = T.error_rate_critical + 0.1
    run(promtool, tmp_path, [*requests("acme", above), *healthy_rest()], [
        at(fired(A.error_rate_critical.for_), "AgentmonTenantErrorRateHigh",
           expected("AgentmonTenantErrorRateHigh", A.error_rate_warning.severity, above, tenant_id="acme"),
           expected("AgentmonTenantErrorRateHigh", A.error_rate_critical.severity, above, tenant_id="acme")),
    ])


def test_two_requests_and_one_failure_do_not_page(promtool, tmp_path):
    window = minutes(A.error_rate_window)
    # 2 requests per window, half of them failed: 50 % errors, below the minimum request volume.
    run(promtool, tmp_path, [*requests("acme", 50, per_minute=2 / window), *healthy_rest()],
        [at(fired(A.error_rate_critical.for_) + 10, "AgentmonTenantErrorRateHigh")])
    assert A.minimum_requests > 2


@pytest.mark.parametrize("level", ["warning", "critical"])
def test_platform_success_rate_at_its_boundaries(promtool, tmp_path, level):
    threshold = getattr(T, f"success_rate_{level}")
    rule = getattr(A, f"success_rate_{level}")
    below_threshold, above_threshold = threshold - 0.1, threshold + 0.1
    run(promtool, tmp_path, [*requests("acme", 100 - above_threshold), *healthy_rest()],
        [at(fired(rule.for_) + 5, "AgentmonSuccessRateLow",
            *([expected("AgentmonSuccessRateLow", A.success_rate_warning.severity, above_threshold)]
              if level == "critical" else []))])
    run(promtool, tmp_path, [*requests("acme", 100 - below_threshold), *healthy_rest()], [
        at(still_pending(rule.for_), "AgentmonSuccessRateLow"),
        at(fired(rule.for_), "AgentmonSuccessRateLow",
           *([expected("AgentmonSuccessRateLow", A.success_rate_warning.severity, below_threshold)]
             if level == "critical" else []),
           expected("AgentmonSuccessRateLow", rule.severity, below_threshold)),
    ])


def test_platform_queue_above_the_reference_for_its_duration(promtool, tmp_path):
    reference, for_ = T.queue_depth_reference, A.queue_depth.for_
    # Below the tenant's own threshold too, so only the platform alert is concerned.
    run(promtool, tmp_path, [*requests("acme", 0), *gauges("acme", reference, 1), *latency("acme", 1)],
        [at(fired(for_) + 5, "AgentmonQueueDepthHigh")])
    run(promtool, tmp_path, [*requests("acme", 0), *gauges("acme", reference + 1, 1), *latency("acme", 1)], [
        at(still_pending(for_), "AgentmonQueueDepthHigh"),
        at(fired(for_), "AgentmonQueueDepthHigh", expected("AgentmonQueueDepthHigh", A.queue_depth.severity,
                                                           reference + 1)),
    ])


def test_tenant_queue_above_its_own_threshold_for_its_duration(promtool, tmp_path):
    threshold, for_ = ACME.queue_alert_threshold, A.queue_depth.for_
    run(promtool, tmp_path, [*requests("acme", 0), *gauges("acme", threshold, 1), *latency("acme", 1)],
        [at(fired(for_) + 5, "AgentmonTenantQueueDepthHigh")])
    run(promtool, tmp_path, [*requests("acme", 0), *gauges("acme", threshold + 1, 1), *latency("acme", 1)], [
        at(still_pending(for_), "AgentmonTenantQueueDepthHigh"),
        at(fired(for_), "AgentmonTenantQueueDepthHigh",
           expected("AgentmonTenantQueueDepthHigh", A.queue_depth.severity, threshold + 1, tenant_id="acme")),
    ])


@pytest.mark.parametrize(("alert", "sla"), [("AgentmonLatencyHigh", T.p95_latency_sla_seconds),
                                            ("AgentmonTenantLatencyHigh", ACME.p95_latency_sla_seconds)])
def test_p95_latency_above_the_sla_for_its_duration(promtool, tmp_path, alert, sla):
    for_, labels = A.p95_latency.for_, ({"tenant_id": "acme"} if "Tenant" in alert else {})
    run(promtool, tmp_path, [*requests("acme", 0), *gauges("acme", 0, 1), *latency("acme", sla - 0.5)],
        [at(fired(for_) + 5, alert)])
    run(promtool, tmp_path, [*requests("acme", 0), *gauges("acme", 0, 1), *latency("acme", sla + 0.5)], [
        at(still_pending(for_), alert),
        at(fired(for_), alert, expected(alert, A.p95_latency.severity, sla + 0.5, **labels)),
    ])


def test_no_active_worker_while_jobs_are_queued(promtool, tmp_path):
    needed, for_ = T.workers_minimum, A.no_active_worker.for_
    busy_tenant = [*requests("globex", 0), *gauges("globex", 0, 5), *latency("globex", 1)]
    # One tenant without a worker must not hide behind another tenant's workers.
    run(promtool, tmp_path, [*busy_tenant, *requests("acme", 0), *gauges("acme", 3, needed), *latency("acme", 1)],
        [at(fired(for_) + 5, "AgentmonTenantNoActiveWorker")])
    run(promtool, tmp_path, [*busy_tenant, *requests("acme", 0), *gauges("acme", 0, needed - 1),
                             *latency("acme", 1)],
        [at(fired(for_) + 5, "AgentmonTenantNoActiveWorker")])  # nothing queued: nothing to process
    run(promtool, tmp_path, [*busy_tenant, *requests("acme", 0), *gauges("acme", 3, needed - 1),
                             *latency("acme", 1)], [
        at(still_pending(for_), "AgentmonTenantNoActiveWorker"),
        at(fired(for_), "AgentmonTenantNoActiveWorker",
           expected("AgentmonTenantNoActiveWorker", A.no_active_worker.severity, needed - 1, tenant_id="acme")),
    ])


def test_a_missing_metric_fires_metrics_absent(promtool, tmp_path):
    for_ = A.metrics_absent.for_
    run(promtool, tmp_path, [*requests("acme", 0), *gauges("acme", 0, 1), *latency("acme", 1)],
        [at(fired(for_) + 5, "AgentmonMetricsAbsent")])
    without_workers = [s for s in gauges("acme", 0, 1) if s["series"].startswith("queue_depth")]
    run(promtool, tmp_path, [*requests("acme", 0), *without_workers, *latency("acme", 1)], [
        at(still_pending(for_), "AgentmonMetricsAbsent"),
        at(fired(for_), "AgentmonMetricsAbsent", expected("AgentmonMetricsAbsent", A.metrics_absent.severity, 1,
                                                          metric="worker_active_count")),
    ])


def test_a_target_that_stops_answering_fires_target_down(promtool, tmp_path):
    for_, down_at = A.target_down.for_, 30
    up = {"series": f"up{{{JOB}}}", "values": f"1x{down_at} 0x60"}
    answering = {"series": f"up{{{JOB}}}", "values": "1x90"}
    run(promtool, tmp_path, [*requests("acme", 0, length=down_at), answering, *healthy_rest()],
        [at(down_at + fired(for_) + 5, "AgentmonTargetDown")])
    run(promtool, tmp_path, [*requests("acme", 0, length=down_at), up, *healthy_rest()], [
        at(down_at + still_pending(for_), "AgentmonTargetDown"),
        at(down_at + fired(for_), "AgentmonTargetDown",
           expected("AgentmonTargetDown", A.target_down.severity, 0, job="agentmon", instance="app:8000")),
    ])


def firing_burns(minute: int, tenant: str, *tiers: tuple[str, str], only: str = "") -> dict[str, object]:
    """ALERTS of the burn-rate alert at `minute` (those matching `only`): the (slo_tier, long_window) pairs
    expected to fire."""
    severity = {(t.name, t.long_window): t.severity for t in BURN_TIERS}
    selector = f'alertname="AgentmonErrorBudgetBurn", alertstate="firing", tenant_id="{tenant}"'
    return {"expr": f"ALERTS{{{selector}{', ' + only if only else ''}}}",
            "eval_time": f"{minute}m",
            "exp_samples": [{"labels": f'ALERTS{{alertname="AgentmonErrorBudgetBurn", alertstate="firing", '
                                       f'long_window="{window}", managed_by="agentmon", '
                                       f'severity="{severity[(tier, window)]}", '
                                       f'slo_tier="{tier}", tenant_id="{tenant}"}}', "value": 1}
                            for tier, window in sorted(tiers, key=lambda p: p[1])]}


def test_burn_thresholds_are_factor_times_budget():
    assert [burn_threshold(ACME, tier) for tier in BURN_TIERS] == [
        f"{(tier.factor * error_budget(ACME.success_rate_slo)).normalize():f}" for tier in BURN_TIERS]
    assert burn_threshold(ACME, BURN_TIERS[0]) == "0.072"  # 14.4 x (100 % - 99.5 %)


def test_a_fast_burn_pages_within_the_expected_time(promtool, tmp_path):
    fast = BURN_TIERS[0]
    # A full slower page window of healthy traffic first, so every window holds real history.
    healthy, threshold = max(minutes(t.long_window) for t in BURN_TIERS if t.name == "page"), float(
        burn_threshold(ACME, fast))
    # Everything fails from `healthy` on (the counters' first failed increment is the minute before): the long
    # window's error ratio passes the threshold this many minutes after that onset; one minute either side for
    # rate()'s extrapolation at the window's edges.
    onset, crossing = healthy - 1, threshold * minutes(fast.long_window)
    only = f'long_window="{fast.long_window}"'
    run(promtool, tmp_path, [*requests("acme", 100, healthy_first=healthy), *healthy_rest()], [], [
        firing_burns(onset + math.floor(crossing) - 1, "acme", only=only),
        firing_burns(onset + math.ceil(crossing) + 1, "acme", (fast.name, fast.long_window), only=only),
    ])


def failing_between(tenant: str, first: int, last: int, length: int) -> list[dict[str, str]]:
    """PER_MINUTE requests every minute, all of them failed in minutes first .. last - 1, none otherwise."""
    failed = [PER_MINUTE if first <= minute < last else 0 for minute in range(length)]
    cumulative = {"failure": [sum(failed[:m]) for m in range(length)],
                  "success": [PER_MINUTE * m - sum(failed[:m]) for m in range(length)]}
    return [{"series": f'enhancement_requests_total{{tenant_id="{tenant}", status="{status}", {JOB}}}',
             "values": " ".join(f"{v:g}" for v in values)} for status, values in cumulative.items()]


def test_a_burn_that_stopped_stops_paging_while_the_long_window_still_holds_it(promtool, tmp_path):
    fast = BURN_TIERS[0]
    # A full page window of healthy traffic, 20 minutes of failures, then healthy again: a short window after the
    # burn holds no failure, the long one still a third of failures, far above the threshold.
    healthy, burn = max(minutes(t.long_window) for t in BURN_TIERS if t.name == "page"), 20
    stopped = healthy + burn + minutes(fast.short_window) + 2
    assert burn / minutes(fast.long_window) > float(burn_threshold(ACME, fast))
    only = f'long_window="{fast.long_window}"'
    run(promtool, tmp_path, [*failing_between("acme", healthy, healthy + burn, stopped + 10), *healthy_rest()], [], [
        firing_burns(healthy + burn - 1, "acme", (fast.name, fast.long_window), only=only),
        firing_burns(stopped, "acme", only=only),
    ])


def test_a_slow_burn_opens_only_the_ticket(promtool, tmp_path):
    ticket = next(t for t in BURN_TIERS if t.name == "ticket")
    page_factor = min(t.factor for t in BURN_TIERS if t.name == "page")
    # Twice the budget: above the ticket's 1x, far below the pages' factors.
    error_percent = float(2 * ticket.factor * error_budget(ACME.success_rate_slo) * 100)
    assert 2 * ticket.factor < page_factor
    run(promtool, tmp_path, [*requests("acme", error_percent, length=420), *healthy_rest()], [], [
        firing_burns(7 * 60, "acme", (ticket.name, ticket.long_window)),
    ])


def test_a_low_traffic_tenant_does_not_page(promtool, tmp_path):
    longest_page = max((t for t in BURN_TIERS if t.name == "page"), key=lambda t: duration_seconds(t.long_window))
    # Everything fails, but fewer requests than the minimum in the page windows.
    per_minute = (A.minimum_requests - 2) / minutes(longest_page.long_window)
    run(promtool, tmp_path, [*requests("acme", 100, per_minute=per_minute, length=420), *healthy_rest()], [], [
        {"expr": 'ALERTS{alertname="AgentmonErrorBudgetBurn", alertstate="firing", slo_tier="page"}',
         "eval_time": f"{minutes(longest_page.long_window) + 60}m", "exp_samples": []},
    ])


def test_every_alert_kind_has_a_test_here():
    tested = set(re.findall(r'"(Agentmon\w+)"', Path(__file__).read_text()))
    assert {r.alert for g in alert_groups(CONFIG) for r in g.rules} <= tested


def test_burn_windows_are_recorded():
    recorded = {r["record"] for g in render_rules(CONFIG)[RULE_FILE]["groups"] for r in g["rules"]}
    for tier in BURN_TIERS:
        for window in (tier.long_window, tier.short_window):
            assert f"tenant_id:enhancement_requests_errors:ratio_rate{window}" in recorded
    assert Decimal("14.4") == BURN_TIERS[0].factor
