"""The firing-alert markers (the "Firing alerts" annotation) of the main and tenant dashboards, run as Grafana runs
them (the dashboard's variable interpolated, a range query over the dashboard's time range) against a real
Prometheus holding ALERTS series: which alerts a person sees marked on the time series.

The ALERTS series (Prometheus writes one per alert and state) over the last hour:
- acme:   AgentmonErrorBudgetBurnFast firing; AgentmonTenantLatencyHigh only pending (not firing yet)
- globex: AgentmonTenantQueueDepthHigh firing
- the platform: AgentmonSuccessRateLow firing (no tenant_id), and AgentmonHeartbeat, always firing by design
- the cluster (kube-prometheus-stack's own rules, not agentmon's): Watchdog, always firing, and KubePodCrashLooping
  about a pod, neither with a tenant_id nor managed_by="agentmon".
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentmon_config import load_platform
from agentmon_dashboards import render_dashboards
from agentmon_live.grafana import ALL, QueryWindow, format_variable, interpolate
from agentmon_live.prometheus import PrometheusServer
from agentmon_testkit import prerequisite

from .conftest import history_end

REPO = Path(__file__).resolve().parents[3]
# Rendered from the configuration (the dashboards' own code), as `agentmon build` writes them.
BOARDS = render_dashboards(load_platform(REPO / "config/platform.yaml", REPO / "tenants"))
MAIN, ACME = "agentmon-system-health.json", "acme/tenant-acme.json"
HOUR = 3600
AGENTMON = {"managed_by": "agentmon"}
ALERTS = [
    ("AgentmonErrorBudgetBurnFast", "firing", {"tenant_id": "acme", "severity": "critical", **AGENTMON}),
    ("AgentmonTenantLatencyHigh", "pending", {"tenant_id": "acme", "severity": "warning", **AGENTMON}),
    ("AgentmonTenantQueueDepthHigh", "firing", {"tenant_id": "globex", "severity": "warning", **AGENTMON}),
    ("AgentmonSuccessRateLow", "firing", {"severity": "critical", **AGENTMON}),
    ("AgentmonHeartbeat", "firing", {"severity": "none", **AGENTMON}),
    ("Watchdog", "firing", {"severity": "none"}),
    ("KubePodCrashLooping", "firing", {"severity": "warning", "namespace": "monitoring", "pod": "grafana-0"}),
]


def _openmetrics(end: int) -> str:
    lines = ["# TYPE ALERTS gauge"]
    for name, state, labels in ALERTS:
        text = ",".join(f'{k}="{v}"' for k, v in sorted({"alertname": name, "alertstate": state, **labels}.items()))
        lines += [f"ALERTS{{{text}}} 1 {t}" for t in range(end - HOUR, end + 1, 60)]
    return "\n".join([*lines, "# EOF", ""])


@pytest.fixture(scope="module")
def alerts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PrometheusServer, int]]:
    promtool = prerequisite("promtool")
    prerequisite("prometheus")
    work, end = tmp_path_factory.mktemp("alerts"), history_end()
    (work / "alerts.om").write_text(_openmetrics(end))
    subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet", str(work / "alerts.om"),
                    str(work / "data")], check=True)
    (work / "prometheus.yml").write_text("scrape_configs: []\n")
    with PrometheusServer(config_file=work / "prometheus.yml", storage=work / "data") as server:
        yield server, end


def _annotation(dashboard: str) -> dict:
    (annotation,) = BOARDS[dashboard]["annotations"]["list"]
    return annotation


def marked(alerts: tuple[PrometheusServer, int], dashboard: str, tenants: list[str] | None = None) -> set[str]:
    """The alerts the annotation marks over the last hour: (alertname, tenant or "-")."""
    server, end = alerts
    window = QueryWindow.for_range(HOUR, "15s")
    variables = {"tenant_id": format_variable(tenants, "__all__")} if tenants else {}
    expr = interpolate(_annotation(dashboard)["expr"], window, variables)
    series = server.query_range(expr, end - HOUR, end, window.interval_seconds)
    return {f"{s['metric']['alertname']} {s['metric'].get('tenant_id', '-')}" for s in series if s["values"]}


@pytest.mark.e2e
def test_the_main_dashboard_marks_the_selected_tenants_and_the_platforms_firing_alerts_only(alerts):
    assert marked(alerts, MAIN, ["acme"]) == {"AgentmonErrorBudgetBurnFast acme", "AgentmonSuccessRateLow -"}
    assert marked(alerts, MAIN, ["acme", "globex"]) == {
        "AgentmonErrorBudgetBurnFast acme", "AgentmonTenantQueueDepthHigh globex", "AgentmonSuccessRateLow -"}


@pytest.mark.e2e
def test_under_all_the_main_dashboard_marks_the_platforms_firing_alerts_only(alerts):
    """All is the platform's aggregate view (the variable's All value, __all__): its own alerts, not each tenant's."""
    assert marked(alerts, MAIN, [ALL]) == {"AgentmonSuccessRateLow -"}


@pytest.mark.e2e
def test_a_tenant_dashboard_marks_that_tenants_firing_alerts_only(alerts):
    assert marked(alerts, ACME) == {"AgentmonErrorBudgetBurnFast acme"}


@pytest.mark.parametrize(("dashboard", "panels"), [
    (MAIN, ["Pending Enhancement Jobs in Queue", "p95 Enhancement Processing Latency"]),
    (ACME, ["Pending Jobs in Queue", "Request Rate by Status", "Processing Latency p50 / p95 / p99"]),
], ids=["main", "tenant"])
def test_the_markers_come_from_the_dashboards_prometheus_onto_its_time_series_panels(dashboard, panels):
    """Stats, gauges and tables cannot draw annotations: the markers go on every time series panel, and only there."""
    annotation, board = _annotation(dashboard), BOARDS[dashboard]
    by_id = {p["id"]: p for p in board["panels"]}
    assert annotation["datasource"] == {"type": "prometheus", "uid": "agentmon-prometheus"}
    assert annotation["enable"] is True
    assert annotation["filter"]["exclude"] is False
    assert [by_id[i]["title"] for i in annotation["filter"]["ids"]] == panels
    assert sorted(p["title"] for p in board["panels"] if p["type"] == "timeseries") == sorted(panels)
