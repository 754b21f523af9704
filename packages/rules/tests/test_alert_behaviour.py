"""What the generated alerts do, with the real `promtool test rules`, for two tenants whose limits differ from the
defaults and from each other (alertkit.TENANTS): north SLO 99.9 %, SLA 60 s, queue 30; south SLO 97 %, SLA
180 s, queue 400. Every expected threshold is written out here from the SRE workbook's table and hand arithmetic,
never read from the code under test:

| tier | long/short | factor | north (budget 0.001) | south (budget 0.03) |
|---|---|---|---|---|
| page   | 1h/5m  | 14.4 | 0.0144 | 0.432 |
| page   | 6h/30m | 6    | 0.006  | 0.18  |
| ticket | 1d/2h  | 3    | 0.003  | 0.09  |
| ticket | 3d/6h  | 1    | 0.001  | 0.03  |

Input series have one value a minute; rules evaluate every minute in the generated group order (pinned).
"""

from __future__ import annotations

import pytest
from agentmon_alertkit import (
    TENANTS,
    buckets,
    capacity,
    fast_latency,
    firing,
    group_order,
    labels,
    make_config,
    promtool_test,
    requests,
    steady,
    value,
)

FAST, SLOW = "AgentmonErrorBudgetBurnFast", "AgentmonErrorBudgetBurnSlow"
THRESHOLD = "tenant_id_window:agentmon_error_budget_burn_threshold:ratio"


def healthy(tenant: str, minutes: int) -> list[dict[str, str]]:
    return [*capacity(tenant, 0, 2, minutes), *fast_latency(tenant, 100, minutes)]


def test_burn_thresholds_are_each_tenants_own_budget_times_the_workbook_factors(promtool, tmp_path, config):
    series = [*steady("north", 100, 0, 10), *steady("south", 100, 0, 10)]
    promtool_test(promtool, tmp_path, config, series, exprs=[
        value(5, f'{THRESHOLD}{{window="1h"}}', ({"__name__": THRESHOLD, "tenant_id": "north", "window": "1h"}, 0.0144),
              ({"__name__": THRESHOLD, "tenant_id": "south", "window": "1h"}, 0.432)),
        value(5, f'{THRESHOLD}{{window="6h"}}', ({"__name__": THRESHOLD, "tenant_id": "north", "window": "6h"}, 0.006),
              ({"__name__": THRESHOLD, "tenant_id": "south", "window": "6h"}, 0.18)),
        value(5, f'{THRESHOLD}{{window="1d"}}', ({"__name__": THRESHOLD, "tenant_id": "north", "window": "1d"}, 0.003),
              ({"__name__": THRESHOLD, "tenant_id": "south", "window": "1d"}, 0.09)),
        value(5, f'{THRESHOLD}{{window="3d"}}', ({"__name__": THRESHOLD, "tenant_id": "north", "window": "3d"}, 0.001),
              ({"__name__": THRESHOLD, "tenant_id": "south", "window": "3d"}, 0.03)),
    ])


def test_each_tenants_limits_are_recorded_exactly_from_its_own_shard(promtool, tmp_path, config):
    """north's limits live in group agentmon-limits-02 and south's in agentmon-limits-20 (crc32 of the tenant id mod
    32: 0xdc2a30c2 and 0x41157574), two rule files; each records the configured numbers: north 99.9 % (budget
    0.001), SLA 60 s, queue 30; south 97 % (0.03), 180 s, 400."""
    assert [g for g in group_order(config) if g.startswith("agentmon-limits-")] == [
        "agentmon-limits-02", "agentmon-limits-20"]
    series = [*steady("north", 100, 0, 10), *steady("south", 100, 0, 10)]

    def limit(name: str, north: float, south: float) -> dict[str, object]:
        return value(5, f'{name}{{tenant_id!="__all__"}}', ({"__name__": name, "tenant_id": "north"}, north),
                     ({"__name__": name, "tenant_id": "south"}, south))

    promtool_test(promtool, tmp_path, config, series, exprs=[
        limit("tenant_id:agentmon_slo_objective:ratio", 0.999, 0.97),
        limit("tenant_id:agentmon_error_budget:ratio", 0.001, 0.03),
        limit("tenant_id:agentmon_latency_sla:seconds", 60, 180),
        limit("tenant_id:agentmon_queue_threshold:jobs", 30, 400),
        limit("tenant_id:agentmon_tenant:info", 1, 1),
    ])


def test_failed_requests_are_counted_whole_in_the_guard_window(promtool, tmp_path, config):
    """2 failures a minute for 10 minutes: the 5m window holds 10 failures at minute 10."""
    series = [*steady("north", 100, 2, 12), *steady("south", 100, 0, 12)]
    promtool_test(promtool, tmp_path, config, series, exprs=[
        value(10, 'tenant_id:enhancement_requests_errors:rate5m{tenant_id="north"} * 300',
              ({"tenant_id": "north"}, 10)),
    ])


def page(tenant: str) -> dict[str, str]:
    return labels("critical", tenant)


def ticket(tenant: str) -> dict[str, str]:
    return labels("warning", tenant)


def after_six_healthy_hours(tenant: str, failed_per_thousand: float) -> list[dict[str, str]]:
    """1,000 requests a minute: 6 hours without failures, then one hour failing `failed_per_thousand` of them. At
    minute 420 the 1h and 5m windows hold only the burn, the 6h window one sixth of it (below the 6h tier for
    every burn under 36 x the budget), so the 1h tier alone decides the page."""
    return requests(tenant, [1000] * 360 + [1000 - failed_per_thousand] * 60, [0] * 360 + [failed_per_thousand] * 60)


@pytest.mark.parametrize(("north", "south", "paged"), [
    (14.5, 431, ("north",)),  # north 1.45 % > 1.44 %; south 43.1 % < 43.2 %
    (14.3, 433, ("south",)),  # north 1.43 % < 1.44 %; south 43.3 % > 43.2 %
], ids=["north-just-above-south-just-below", "north-just-below-south-just-above"])
def test_fast_burn_pages_each_tenant_against_its_own_1h_threshold(promtool, tmp_path, config, north, south, paged):
    series = [*after_six_healthy_hours("north", north), *after_six_healthy_hours("south", south),
              *healthy("north", 420), *healthy("south", 420)]
    promtool_test(promtool, tmp_path, config, series,
                  exprs=[firing(359, FAST), firing(420, FAST, *(page(t) for t in paged))])


def test_six_hour_tier_pages_above_six_times_the_budget(promtool, tmp_path, config):
    """north at 0.7 % (above 0.6 %, below 1.44 %) pages through the 6h/30m tier; south at 17 % (below 18 %) only
    opens its ticket (above 9 %), once the 1d window holds its first full hour (minute 61)."""
    series = [*steady("north", 1000, 7, 70), *steady("south", 1000, 170, 70), *healthy("north", 70),
              *healthy("south", 70)]
    promtool_test(promtool, tmp_path, config, series, exprs=[
        firing(35, FAST, page("north")), firing(59, SLOW), firing(65, SLOW, ticket("north"), ticket("south"))])


def test_slow_burn_opens_only_the_ticket(promtool, tmp_path, config):
    """north at 0.2 %: above 0.1 % (3d tier), below 0.3 % (1d), 0.6 % and 1.44 %: a ticket, no page. south at
    2 % (below its 3 % budget): nothing. The ticket's long windows end at the last full hour: it opens at 61."""
    series = [*steady("north", 1000, 2, 70), *steady("south", 1000, 20, 70), *healthy("north", 70),
              *healthy("south", 70)]
    promtool_test(promtool, tmp_path, config, series, exprs=[firing(65, FAST), firing(65, SLOW, ticket("north"))])


def test_within_budget_nothing_fires(promtool, tmp_path, config):
    """north at 0.1 % exactly (its 3d threshold, strict: no ticket) is not above it; south at 3 % neither."""
    series = [*steady("north", 1000, 1, 70), *steady("south", 1000, 30, 70), *healthy("north", 70),
              *healthy("south", 70)]
    promtool_test(promtool, tmp_path, config, series, exprs=[firing(65, FAST), firing(65, SLOW)])


def hourly(minutes: int, first: int, every: int) -> list[float]:
    """One request a minute at `first`, `first` + `every`, ... (per-minute increases)."""
    return [1.0 if m >= first and (m - first) % every == 0 else 0.0 for m in range(minutes)]


def test_quiet_tenant_failing_every_request_pages_by_its_fifth_failure_and_stays_paged(promtool, tmp_path, config):
    """north: 1 request an hour, every one failing, at minutes 30, 90, 150, 210, 270, 330, 390. Its 6h window holds
    its 5th failure from minute 271 (evaluations read the minute's increase at the next minute): no page at 269,
    the page at 272, still one page (the same alert, never resolved) at 300, 330, 360 and 420."""
    minutes = 430
    series = [*requests("north", [0.0] * minutes, hourly(minutes, 30, 60)),
              *steady("south", 100, 0, minutes), *healthy("north", minutes), *healthy("south", minutes)]
    checks = [firing(269, FAST), firing(272, FAST, page("north"))]
    checks += [firing(m, FAST, page("north")) for m in (300, 330, 360, 420)]
    promtool_test(promtool, tmp_path, config, series, exprs=checks)


def test_two_requests_one_failed_stays_quiet(promtool, tmp_path, config):
    """south: 1 success at minute 20, 1 failure at minute 80: a 50 % error ratio of two requests, one failure,
    fewer than 5: no page and no ticket, at any time."""
    minutes = 200
    series = [*requests("south", hourly(minutes, 20, 1000), hourly(minutes, 80, 1000)),
              *steady("north", 100, 0, minutes), *healthy("north", minutes), *healthy("south", minutes)]
    promtool_test(promtool, tmp_path, config, series,
                  exprs=[check for m in (82, 90, 140, 199) for check in (firing(m, FAST), firing(m, SLOW))])


def test_a_stopped_burn_stops_paging_after_keep_firing_for(promtool, tmp_path, config):
    """north fails 50 of 1,000 requests a minute in minutes 60-89 (evaluations 61-90 record them) after an hour
    without failures, then none. The 1h tier's 5m window holds no failure from evaluation 95. The 6h tier needs
    its 30m window (30,000 requests) above 0.6 %, more than 180 failures: 4 failing minutes (200) until evaluation
    116 (87-116), 3 (150) at 117. So the page's condition holds last at 116; keep_firing_for (10m in
    config/platform.yaml) keeps it up through 126, and it is gone at 128."""
    minutes = 150
    failures = [0] * 60 + [50] * 30 + [0] * 60
    series = [*requests("north", [1000 - f for f in failures], failures), *steady("south", 100, 0, minutes),
              *healthy("north", minutes), *healthy("south", minutes)]
    promtool_test(promtool, tmp_path, config, series, exprs=[
        firing(70, FAST, page("north")), firing(116, FAST, page("north")), firing(126, FAST, page("north")),
        firing(128, FAST)])


def test_tenant_that_stops_reporting_alerts_within_10_minutes_and_stays_firing(promtool, tmp_path, config):
    """north reports for 2 hours, then its series end (stale); south keeps reporting; west is configured but
    never reported: no alert for it. for: 5m: pending from 121, firing from 127 at the latest, still at 400
    (more than 4 hours later, beyond every SLI window)."""
    minutes = 420
    cfg = make_config(tmp_path / "project", {**TENANTS, "west": {"display_name": "West"}})
    north = [{"series": s["series"], "values": " ".join(s["values"].split()[:121]) + " stale"}
             for s in steady("north", 100, 0, 120)]
    series = [*north, *steady("south", 100, 0, minutes), *healthy("south", minutes)]
    absent = "AgentmonTenantAbsent"
    promtool_test(promtool, tmp_path, cfg, series, exprs=[
        firing(119, absent), firing(130, absent, labels("critical", "north")),
        firing(400, absent, labels("critical", "north"))])


def test_target_down_alerts_for_as_long_as_it_is_down(promtool, tmp_path, config):
    """The platform's target is down from minute 60 for 6 hours (up 0, its last samples an hour old after minute
    120): firing from 63 (for: 2m) to the end; an unrelated job's target down all along never alerts."""
    minutes = 60 + 360
    up = "1 " * 60 + "0 " * 361
    series = [*steady("north", 100, 0, 60), *steady("south", 100, 0, 60),
              {"series": 'up{job="agentmon", instance="app:8000"}', "values": up.strip()},
              {"series": 'up{job="node", instance="node:9100"}', "values": "0 " * minutes}]
    down = labels("critical", None, job="agentmon", instance="app:8000")
    promtool_test(promtool, tmp_path, config, series, exprs=[
        firing(61, "AgentmonTargetDown"), firing(63, "AgentmonTargetDown", down),
        firing(200, "AgentmonTargetDown", down), firing(minutes, "AgentmonTargetDown", down)])


def latency_share(tenant: str, within: float, slower: float, sla: str, minutes: int) -> list[dict[str, str]]:
    """`within` requests a minute at or below `sla` (the bucket bound, as a Python exporter writes it), `slower`
    above it but within 300 s."""
    return buckets(tenant, {sla: within, "300.0": within + slower, "+Inf": within + slower}, minutes)


@pytest.mark.parametrize(("north_slow", "south_slow", "alerting"), [
    (5, 5, ()),  # exactly 5 % slower than the SLA: p95 at the SLA, not above it
    (6, 4, ("north",)),  # 6 % of north's requests above 60 s; south 4 % above 180 s
    (4, 6, ("south",)),
], ids=["both-at-5-percent", "north-6-percent", "south-6-percent"])
def test_latency_alert_fires_when_more_than_5_percent_exceed_the_tenants_own_sla(
        promtool, tmp_path, config, north_slow, south_slow, alerting):
    """100 requests a minute; the SLA bucket is north's 60.0 and south's 180.0. for: 10m: firing at minute 15."""
    minutes = 20
    series = [*steady("north", 100, 0, minutes), *steady("south", 100, 0, minutes),
              *capacity("north", 0, 2, minutes), *capacity("south", 0, 2, minutes),
              *latency_share("north", 100 - north_slow, north_slow, "60.0", minutes),
              *latency_share("south", 100 - south_slow, south_slow, "180.0", minutes)]
    promtool_test(promtool, tmp_path, config, series, exprs=[
        firing(15, "AgentmonTenantLatencyHigh", *(labels("warning", t) for t in alerting))])


def test_a_request_slower_than_one_tenants_sla_is_within_the_others(promtool, tmp_path, config):
    """Every request of both tenants takes between 60 and 90 s (bucket 90): all slower than north's 60 s SLA, all
    within south's 180 s. The bound is spelled as a Go exporter writes it (90, not 90.0)."""
    minutes = 20
    series = [*steady("north", 100, 0, minutes), *steady("south", 100, 0, minutes),
              *capacity("north", 0, 2, minutes), *capacity("south", 0, 2, minutes),
              *buckets("north", {"60": 0, "90": 100, "+Inf": 100}, minutes),
              *buckets("south", {"60": 0, "90": 100, "180": 100, "+Inf": 100}, minutes)]
    promtool_test(promtool, tmp_path, config, series, exprs=[
        firing(15, "AgentmonTenantLatencyHigh", labels("warning", "north"))])


@pytest.mark.parametrize(("north_queue", "south_queue", "alerting"), [
    (30, 400, ()),  # at each threshold: not above it
    (31, 30, ("north",)),  # north above its 30; south far below its 400
    (29, 401, ("south",)),
], ids=["both-at-threshold", "north-above", "south-above"])
def test_queue_alert_compares_each_tenant_with_its_own_threshold(promtool, tmp_path, config, north_queue, south_queue,
                                                                 alerting):
    """for: 15m: firing at minute 18. The platform alert (10 % of tenants above theirs) fires with any one of
    two tenants above."""
    minutes = 20
    series = [*steady("north", 100, 0, minutes), *steady("south", 100, 0, minutes),
              *capacity("north", north_queue, 2, minutes), *capacity("south", south_queue, 2, minutes),
              *fast_latency("north", 100, minutes), *fast_latency("south", 100, minutes)]
    platform = [labels("warning")] if alerting else []
    promtool_test(promtool, tmp_path, config, series, exprs=[
        firing(18, "AgentmonTenantQueueDepthHigh", *(labels("warning", t) for t in alerting)),
        firing(18, "AgentmonQueueDepthHigh", *platform)])


@pytest.mark.parametrize(("percent", "fires"), [("50", True), ("50.5", False)])
def test_platform_queue_alert_is_a_share_of_the_fleet(promtool, tmp_path, percent, fires):
    """One of two tenants above its threshold is 50 % of the fleet: the alert fires from 50 %, not from 50.5 %."""
    cfg = make_config(tmp_path / "project", platform_edit=lambda text: text.replace(
        "queue_backlog_tenants_percent: 10", f"queue_backlog_tenants_percent: {percent}"))
    minutes = 20
    series = [*steady("north", 100, 0, minutes), *steady("south", 100, 0, minutes),
              *capacity("north", 31, 2, minutes), *capacity("south", 0, 2, minutes)]
    promtool_test(promtool, tmp_path, cfg, series, exprs=[
        firing(18, "AgentmonQueueDepthHigh", *([labels("warning")] if fires else []))])


@pytest.mark.parametrize(("failed", "alerts"), [
    (50, ()),  # 5.0 % of the platform's requests failed: the success rate is 95 %, not below it
    (51, ("warning",)),  # 94.9 %: below 95 %, above 90 %
    (101, ("critical", "warning")),  # 89.9 %
], ids=["success-95.0", "success-94.9", "success-89.9"])
def test_platform_success_rate_alerts_below_each_threshold(promtool, tmp_path, config, failed, alerts):
    """north and south each get 500 requests a minute, north all the failures: the platform's ratio is
    failed / 1,000. for: 5m: firing at minute 8."""
    minutes = 10
    series = [*steady("north", 500, failed, minutes), *steady("south", 500, 0, minutes),
              *healthy("north", minutes), *healthy("south", minutes)]
    promtool_test(promtool, tmp_path, config, series, exprs=[
        firing(8, "AgentmonSuccessRateLow", *(labels(s) for s in alerts))])


def test_heartbeat_always_fires(promtool, tmp_path, config):
    promtool_test(promtool, tmp_path, config, steady("north", 1, 0, 2),
                  exprs=[firing(1, "AgentmonHeartbeat", labels("none"))])


def test_page_annotations_read_as_a_person_reads_them(promtool, tmp_path, config):
    """north at 0.7 % pages through the 6h tier: its value is the 6h error ratio, 0.007, humanized as 0.7%."""
    series = [*steady("north", 1000, 7, 40), *steady("south", 1000, 0, 40), *healthy("north", 40),
              *healthy("south", 40)]
    promtool_test(promtool, tmp_path, config, series, alerts=[{
        "eval_time": "35m", "alertname": FAST, "exp_alerts": [{
            "exp_labels": page("north"),
            "exp_annotations": {
                "summary": "north burns its error budget fast (page)",
                "description": "0.7% of north's requests failed over the burn window: more than 14.4x its budget "
                               "over 1h or 6x its budget over 6h (and at least 5 failed requests).",
                "panel_url": "http://localhost:3000/d/tenant-north?viewPanel=2",
                "runbook_url": "docs/operations/runbooks.md#error-budget-burn"}}]}])


def test_platform_thresholds_are_written_exactly(tmp_path):
    """95.1234567 % is an error ratio above 0.048765433 (100 - 95.1234567 = 4.8765433 %), not a rounded 95.1235."""
    from agentmon_rules import alert_groups

    cfg = make_config(tmp_path / "project", platform_edit=lambda text: text.replace(
        "success_rate_warning: 95 ", "success_rate_warning: 95.1234567 "))
    rule = next(r for g in alert_groups(cfg) for r in g.rules
                if r.alert == "AgentmonSuccessRateLow" and dict(r.labels)["severity"] == "warning")
    assert "tenant_id:enhancement_requests_errors:ratio_rate5m{tenant_id=\"__all__\"} > 0.048765433 " in rule.expr
    assert dict(rule.annotations)["summary"] == "Platform success rate below 95.1234567 %"
