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
    labels,
    make_config,
    promtool_test,
    requests,
    steady,
    value,
)

from agentmon_testkit import prerequisite

FAST, SLOW = "AgentmonErrorBudgetBurnFast", "AgentmonErrorBudgetBurnSlow"
THRESHOLD = "tenant_id_window:agentmon_error_budget_burn_threshold:ratio"


@pytest.fixture(scope="module")
def promtool():
    return prerequisite("promtool")


@pytest.fixture
def config(tmp_path):
    return make_config(tmp_path / "project")


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


def test_failed_requests_are_counted_whole_in_the_guard_window(promtool, tmp_path, config):
    """2 failures a minute for 10 minutes: the 5m window holds 10 failures at minute 10."""
    series = [*steady("north", 100, 2, 12), *steady("south", 100, 0, 12)]
    promtool_test(promtool, tmp_path, config, series, exprs=[
        value(10, 'tenant_id:enhancement_requests_errors:rate5m{tenant_id="north"} * 300',
              ({"tenant_id": "north"}, 10)),
    ])
