"""The Tenant SLOs dashboard's JSON: identity, the tenant variable, instant queries of recorded series only, the
table's columns, order and link. Its numbers: packages/live/tests/test_e2e_slo_overview.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agentmon_checks import dashboards as dashboard_checks
from agentmon_checks import rules as rule_checks
from agentmon_config import load_platform
from agentmon_config.identity import SLO_PANELS
from agentmon_dashboards import render_dashboards
from agentmon_live.panelrun import organize
from agentmon_rules import ALERTS_FILE, recording_document, render_rules

REPO = Path(__file__).resolve().parents[3]
CONFIG = load_platform(REPO / "config" / "platform.yaml", REPO / "tenants")
BOARD = render_dashboards(CONFIG)["agentmon-tenant-slos.json"]
PANELS = {p["title"]: p for p in BOARD["panels"]}
TABLE = PANELS["SLOs by tenant"]


def test_identity_tags_and_the_30_day_default_range():
    assert (BOARD["uid"], BOARD["title"], BOARD["tags"]) == ("agentmon-tenant-slos", "Tenant SLOs", ["slo",
                                                                                                     "generated"])
    assert BOARD["time"] == {"from": "now-30d", "to": "now"}
    assert [(p["id"], p["title"], p["type"]) for p in BOARD["panels"]] == [
        (SLO_PANELS["breaching"], "Tenants breaching their SLO (30d)", "stat"),
        (SLO_PANELS["burning_fast"], "Tenants burning fast now", "stat"),
        (SLO_PANELS["without_traffic"], "Tenants without traffic", "stat"),
        (SLO_PANELS["tenants"], "SLOs by tenant", "table")]
    assert [p["id"] for p in BOARD["panels"]] == [1, 2, 3, 4]


def test_the_tenant_variable_lists_configured_tenants_and_all_selects_every_one():
    (variable,) = BOARD["templating"]["list"]
    assert variable["query"] == "label_values(tenant_id:agentmon_slo:info, tenant_id)"
    assert (variable["multi"], variable["includeAll"], variable["allValue"]) == (True, True, ".+")


@pytest.mark.parametrize("title", list(PANELS))
def test_every_query_is_instant_and_reads_recorded_series_or_alerts_of_the_selected_tenants(title):
    for target in PANELS[title]["targets"]:
        assert target["instant"] is True
        selectors = re.findall(r"([\w:]+)\{([^}]*)\}", target["expr"])
        assert selectors, target["expr"]
        for name, matchers in selectors:
            assert ":" in name or name == "ALERTS", name
            assert matchers.startswith('tenant_id=~"$tenant_id",tenant_id!="__all__"') or 'alertname=' in matchers


def test_the_breach_count_starts_a_millionth_of_the_budget_below_zero():
    (target,) = PANELS["Tenants breaching their SLO (30d)"]["targets"]
    assert target["expr"] == ('count(tenant_id:agentmon_error_budget_remaining:ratio{tenant_id=~"$tenant_id",'
                              'tenant_id!="__all__"} < -1e-06) or vector(0)')


def test_the_table_merges_its_queries_into_named_columns_worst_budget_first():
    fields, _ = organize(TABLE, ["Time", "tenant_id", *(f"Value #{r}" for r in "ABCDEFG")], [])
    assert fields == ["Tenant", "SLO", "Success (30d)", "Budget remaining", "Burn rate 1h", "Burn rate 6h",
                      "Burn alerts", "Within latency SLA (30d)"]
    assert [t["id"] for t in TABLE["transformations"]] == ["merge", "organize"]
    assert TABLE["options"]["sortBy"] == [{"displayName": "Budget remaining", "desc": False}]
    burn = next(o for o in TABLE["fieldConfig"]["overrides"] if o["matcher"]["options"] == "Burn alerts")
    (mapping,) = next(p["value"] for p in burn["properties"] if p["id"] == "mappings")
    assert {value: option["text"] for value, option in mapping["options"].items()} == {
        "0": "none", "1": "slow burn (ticket)", "2": "fast burn (page)"}


def test_validate_knows_the_alerts_series_from_the_bundles_alert_rules():
    """The dashboard check reads ALERTS (with the labels the alert rules give it) as a known series; without the
    alert rules it is unknown, and so is a misspelt recorded series."""
    rules = render_rules(CONFIG)
    recorded = rule_checks.recorded_series(recording_document(rules))
    with_alerts = recorded | rule_checks.alert_series(rules[ALERTS_FILE], recorded)
    assert {"alertname", "alertstate", "severity", "tenant_id"} <= with_alerts["ALERTS"]
    assert list(dashboard_checks.promql("slo.json", BOARD, "15s", with_alerts)) == []
    unknown = [f.message for f in dashboard_checks.promql("slo.json", BOARD, "15s", recorded)]
    assert set(unknown) == {"unknown metric 'ALERTS' (neither in the metrics contract nor recorded by a rule)",
                            "groups by unknown label 'tenant_id'"}  # the burn alerts column: max by (tenant_id)
    wrong = {**TABLE["targets"][0], "expr": "100 * tenant_id:agentmon_slo_objective:ratios"}
    misspelt = {**BOARD, "panels": [{**TABLE, "targets": [wrong]}]}
    assert [f.message for f in dashboard_checks.promql("slo.json", misspelt, "15s", with_alerts)] == [
        "unknown metric 'tenant_id:agentmon_slo_objective:ratios' (neither in the metrics contract nor recorded by "
        "a rule)"]
