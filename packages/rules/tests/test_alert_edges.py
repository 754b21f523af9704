"""What the generated alerts do at the edges the behaviour tests (test_alert_behaviour.py) do not reach, with the real
`promtool test rules` and the same two tenants (alertkit.TENANTS: north SLO 99.9 %, queue 30; south SLO 97 %,
queue 400): a metric missing from the start, a target of another job down, a `for:` at its exact minute, a
threshold met exactly, and traffic that differs between a burn tier's long and short windows.

The 1h page tier, from the SRE workbook's table (14.4 x the budget over 1h, and over 5m): north 14.4 x 0.001 =
0.0144, south 14.4 x 0.03 = 0.432. The 6h tier: 6 x the budget over 6h and 30m: north 0.006, south 0.18.
"""

from __future__ import annotations

import pytest
from agentmon_alertkit import (
    JOB,
    fast_latency,
    firing,
    gauge,
    labels,
    promtool_test,
    requests,
    steady,
    value,
)

FAST = "AgentmonErrorBudgetBurnFast"
ABSENT = "AgentmonMetricsAbsent"


def workers_only(tenant: str, workers: float, minutes: int) -> list[dict[str, str]]:
    series = f'worker_active_count{{tenant_id="{tenant}", {JOB}}}'
    return [{"series": series, "values": gauge([workers] * (minutes + 1))}]


def test_a_missing_queue_depth_is_named_from_minute_5_and_no_queue_or_worker_alert_guesses(promtool, tmp_path, config):
    """The platform exports every metric but queue_depth; south has no worker. absent() holds from minute 0, for: 5m:
    not firing at 4, firing at 5 with metric="queue_depth" only. With no queue known, south's missing worker is not
    a page (it needs jobs waiting), and no queue alert fires; the workers are still recorded, 2 and 0."""
    minutes = 20
    series = [*steady("north", 100, 0, minutes), *steady("south", 100, 0, minutes),
              *fast_latency("north", 100, minutes), *fast_latency("south", 100, minutes),
              *workers_only("north", 2, minutes), *workers_only("south", 0, minutes)]
    promtool_test(promtool, tmp_path, config, series, exprs=[
        firing(4, ABSENT), firing(5, ABSENT, labels("critical", None, metric="queue_depth")),
        firing(20, ABSENT, labels("critical", None, metric="queue_depth")),
        firing(20, "AgentmonTenantNoActiveWorker"), firing(20, "AgentmonTenantQueueDepthHigh"),
        firing(20, "AgentmonQueueDepthHigh"),
        value(20, 'tenant_id:worker_active_count:sum_avg{tenant_id!="__all__"}',
              ({"__name__": "tenant_id:worker_active_count:sum_avg", "tenant_id": "north"}, 2),
              ({"__name__": "tenant_id:worker_active_count:sum_avg", "tenant_id": "south"}, 0)),
        value(20, "tenant_id:queue_depth:sum_avg"),
    ])


def test_another_jobs_target_down_on_the_same_address_never_alerts_and_ours_alerts_at_minute_2(
        promtool, tmp_path, config):
    """A node exporter's job on the platform's own address (instance app:8000) is down all along; the platform's
    target serves requests and goes down at minute 20. Only the platform's alerts, for: 2m: not at 21, at 22."""
    minutes = 30
    series = [*steady("north", 100, 0, 20), *steady("south", 100, 0, 20),
              {"series": 'up{job="agentmon", instance="app:8000"}', "values": "1 " * 20 + "0 " * (minutes - 19)},
              {"series": 'up{job="node-exporter", instance="app:8000"}', "values": "0 " * (minutes + 1)}]
    down = labels("critical", None, job="agentmon", instance="app:8000")
    promtool_test(promtool, tmp_path, config, series, exprs=[
        firing(10, "AgentmonTargetDown"), firing(21, "AgentmonTargetDown"), firing(22, "AgentmonTargetDown", down),
        firing(minutes, "AgentmonTargetDown", down)])


def after_six_healthy_hours(tenant: str, failing: list[float]) -> list[dict[str, str]]:
    """1,000 requests a minute: 6 healthy hours, then `failing` failures in each following minute."""
    return requests(tenant, [1000] * 360 + [1000 - f for f in failing], [0] * 360 + failing)


def burning_then_silent(tenant: str, failed_per_thousand: float) -> list[dict[str, str]]:
    """1,000 requests a minute: 340 healthy minutes, 80 minutes failing `failed_per_thousand` of them, then 20
    minutes without any request."""
    return requests(tenant, [1000.0] * 340 + [1000.0 - failed_per_thousand] * 80 + [0.0] * 20,
                    [0.0] * 340 + [failed_per_thousand] * 80 + [0.0] * 20)


@pytest.mark.parametrize(("north", "south", "paged"), [
    (14.5, 431.0, ("north",)),  # north 1.45 % > 1.44 %; south 43.1 % < 43.2 %
    (14.3, 433.0, ("south",)),  # north 1.43 % < 1.44 %; south 43.3 % > 43.2 %
], ids=["north-just-above-south-just-below", "north-just-below-south-just-above"])
def test_with_no_request_in_the_5m_window_the_1h_window_alone_decides_the_page(promtool, tmp_path, config, north,
                                                                                south, paged):
    """Each tenant fails a steady share in minutes 340-419, then gets no request. At 436 (beyond keep_firing_for,
    10m, of a page held while requests came) the 1h window holds only failing and empty minutes: its ratio is that
    share; the 5m window holds no request, so it cannot disprove the burn, and the 1h window decides against each
    tenant's own threshold (0.0144, 0.432). The 6h windows hold 80
    failing minutes of about 350 with traffic: at most 0.34 % and 9.9 %, below 0.6 % and 18 %."""
    minutes = 440
    series = [*burning_then_silent("north", north), *burning_then_silent("south", south),
              *fast_latency("north", 1000, minutes), *fast_latency("south", 1000, minutes)]
    ratio = "tenant_id:enhancement_requests_errors:ratio_rate1h"
    promtool_test(promtool, tmp_path, config, series, exprs=[
        # in ten-thousandths, rounded (the sums over an hour of per-second rates carry float noise)
        value(436, f'round(10000 * {ratio}{{tenant_id=~"north|south"}})', ({"tenant_id": "north"}, north * 10),
              ({"tenant_id": "south"}, south * 10)),
        value(436, 'tenant_id:enhancement_requests_errors:ratio_rate5m{tenant_id=~"north|south"}'),
        firing(436, FAST, *(labels("critical", t) for t in paged))])


def test_the_1h_page_needs_its_5m_window_burning_not_only_the_30m_one(promtool, tmp_path, config):
    """north fails 50 of 1,000 requests a minute (5 %) for 40 minutes after six healthy hours (minutes 370-409),
    then none. At 400 it pages (1h window: 30 failing minutes, 1,500 of 60,000 = 2.5 % > 1.44 %; 5m window 5 %).
    At 430 the 1h window still holds the 40 failing minutes (2,000 of 60,000 = 3.3 %) and the 30m window 10 of
    them (500 of 30,000 = 1.67 % > 1.44 %), but the 5m window none: no page (keep_firing_for, 10m, ended at 425 at
    the latest). The 6h tier never decides: 2,000 of 360,000 = 0.56 % < 0.6 %. south stays healthy."""
    failing = [50.0] * 40 + [0.0] * 30
    series = [*after_six_healthy_hours("north", failing), *after_six_healthy_hours("south", [0.0] * 70),
              *fast_latency("north", 1000, 430), *fast_latency("south", 1000, 430)]
    promtool_test(promtool, tmp_path, config, series, exprs=[
        firing(400, FAST, labels("critical", "north")), firing(430, FAST)])
