from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from agentmon_config import load_platform
from agentmon_dashboards import render_dashboards

REPO = Path(__file__).resolve().parents[3]
CONFIG = load_platform(REPO / "config" / "platform.yaml", REPO / "tenants")
BOARDS = render_dashboards(CONFIG)
ACME = BOARDS["acme/tenant-acme.json"]
PANELS = {p["title"]: p for p in ACME["panels"]}


def steps(panel):
    return [(s["value"], s["color"]) for s in panel["fieldConfig"]["defaults"]["thresholds"]["steps"]]


def test_one_dashboard_per_tenant_in_its_folder():
    assert sorted(BOARDS) == ["acme/tenant-acme.json", "agentmon-system-health.json", "agentmon-tenant-slos.json",
                              "globex/tenant-globex.json"]
    assert ACME["title"] == "Acme Corp - Enhancement Pipeline"
    assert ACME["uid"] == "tenant-acme"
    assert ACME["tags"] == ["tenant", "acme", "generated"]


def test_tenant_is_fixed_with_no_variable():
    assert ACME.get("templating", {}).get("list", []) == []
    exprs = [t["expr"] for p in ACME["panels"] for t in p["targets"]]
    assert len(exprs) == 8
    assert all('tenant_id="acme"' in e and "$tenant_id" not in e for e in exprs)


def test_panels_and_thresholds_come_from_the_tenant_slos():
    assert list(PANELS) == ["Success Rate vs SLO", "Error Budget Remaining (30 d)", "Active Celery Workers",
                            "Pending Jobs in Queue", "Request Rate by Status", "Processing Latency p50 / p95 / p99"]
    assert steps(PANELS["Success Rate vs SLO"]) == [(None, "red"), (99.5, "green")]
    assert steps(PANELS["Processing Latency p50 / p95 / p99"])[1] == (120, "red")
    assert steps(PANELS["Pending Jobs in Queue"])[1] == (100, "red")
    globex = {p["title"]: p for p in BOARDS["globex/tenant-globex.json"]["panels"]}
    assert steps(globex["Success Rate vs SLO"]) == [(None, "red"), (95, "green")]
    assert steps(globex["Processing Latency p50 / p95 / p99"])[1] == (90, "red")
    assert steps(globex["Pending Jobs in Queue"])[1] == (50, "red")


def test_error_budget_is_a_30_day_counter_ratio_against_the_allowed_failure_share():
    (target,) = PANELS["Error Budget Remaining (30 d)"]["targets"]
    assert target["instant"] is True
    assert target["expr"].endswith(" / 0.005)")  # SLO 99.5 % allows 0.5 % failures
    assert target["expr"].count("[30d]") == 3


def test_latency_panel_has_p50_p95_p99():
    targets = PANELS["Processing Latency p50 / p95 / p99"]["targets"]
    assert [(t["refId"], t["legendFormat"], t["expr"].split(",")[0]) for t in targets] == [
        ("A", "p50", "histogram_quantile(0.5"), ("B", "p95", "histogram_quantile(0.95"),
        ("C", "p99", "histogram_quantile(0.99")]


def test_no_tenants_means_only_the_fleet_dashboards():
    assert list(render_dashboards(replace(CONFIG, tenants=()))) == ["agentmon-system-health.json",
                                                                    "agentmon-tenant-slos.json"]
