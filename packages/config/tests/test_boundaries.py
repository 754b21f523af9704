"""Every numeric limit of the configuration at its bound, just inside and just outside: the bound itself is accepted
or refused as docs/configuration promises (an SLO above 0 and at most 99.999, and high enough that its 14.4x page
can fire; an SLA on a latency bucket bound of the contract; the platform's backlog share above 0; at least one
worker, one failure; an evaluation at most 4 scrapes apart), and a refusal names the file and the field. Values
are written out here, not read from the schemas under test."""

from __future__ import annotations

import pytest
from agentmon_alertkit import TENANTS, make_config

from agentmon_config import ConfigError


@pytest.mark.parametrize(("field", "value", "accepted"), [
    # The 14.4x page needs 14.4 x the budget to be at most 100 %: a budget of at most 100 / 14.4 = 6.94444 %, an
    # SLO of at least 93.05556 %: 93.0556 (budget 6.9444 %, x 14.4 = 99.9994 %) passes, 93.0555 (100.0008 %) not.
    ("success_rate_slo", 0, False), ("success_rate_slo", 93.0555, False), ("success_rate_slo", 93.0556, True),
    ("success_rate_slo", 99.999, True), ("success_rate_slo", 99.9991, False),  # maximum 99.999 (100 has no budget)
    # an SLA must be a latency bucket bound of the contract (0.5 ... 300 s), so the p95 alert is exact
    ("p95_latency_sla_seconds", 0, False), ("p95_latency_sla_seconds", 0.4, False),
    ("p95_latency_sla_seconds", 0.5, True), ("p95_latency_sla_seconds", 300, True),
    ("p95_latency_sla_seconds", 301, False),
    ("queue_alert_threshold", 0, False), ("queue_alert_threshold", 1, True),  # minimum 1
])
def test_a_tenant_limit_at_its_bound(tmp_path, field, value, accepted):
    tenants = {**TENANTS, "south": {**TENANTS["south"], field: value}}
    if accepted:
        config = make_config(tmp_path, tenants)
        assert getattr(config.tenants[1], field) == value
        return
    with pytest.raises(ConfigError) as refused:
        make_config(tmp_path, tenants)
    assert (refused.value.path.endswith("tenants/south/tenant.yaml"), refused.value.field) == (True, field)


@pytest.mark.parametrize(("old", "new", "field", "accepted"), [
    ("minimum_failures: 5 ", "minimum_failures: 0 ", "alerts.minimum_failures", False),
    ("minimum_failures: 5 ", "minimum_failures: 1 ", "alerts.minimum_failures", True),
    ("minimum_failures: 5 ", "minimum_failures: 1000 ", "alerts.minimum_failures", True),
    ("minimum_failures: 5 ", "minimum_failures: 1001 ", "alerts.minimum_failures", False),
    ("queue_backlog_tenants_percent: 10 ", "queue_backlog_tenants_percent: 0 ",
     "alerts.queue_backlog_tenants_percent", False),
    ("queue_backlog_tenants_percent: 10 ", "queue_backlog_tenants_percent: 100 ",
     "alerts.queue_backlog_tenants_percent", True),
    ("queue_backlog_tenants_percent: 10 ", "queue_backlog_tenants_percent: 100.5 ",
     "alerts.queue_backlog_tenants_percent", False),
    # 4 x the 15 s scrape interval: 60 s is the longest evaluation interval
    ("evaluation_interval: 1m ", "evaluation_interval: 60s ", "rules.evaluation_interval", True),
    ("evaluation_interval: 1m ", "evaluation_interval: 61s ", "rules.evaluation_interval", False),
    ("workers_minimum: 1 ", "workers_minimum: 0 ", "thresholds.workers_minimum", False),
])
def test_a_platform_limit_at_its_bound(tmp_path, old, new, field, accepted):
    def edit(text: str) -> str:
        assert text.count(old) == 1, old
        return text.replace(old, new)

    if accepted:
        make_config(tmp_path, platform_edit=edit)
        return
    with pytest.raises(ConfigError) as refused:
        make_config(tmp_path, platform_edit=edit)
    assert (refused.value.path.endswith("config/platform.yaml"), refused.value.field) == (True, field)
