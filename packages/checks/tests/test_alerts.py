"""validate on the generated alerts and routing: each planted fault fails with a message naming the alert."""

from __future__ import annotations

import copy
import dataclasses
import os
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from agentmon_bundle.outputs import ALERTMANAGER_ROOT, RULES_ROOT, render
from agentmon_bundle.serialize import yaml_bytes
from agentmon_checks import alerts
from agentmon_checks.kustomize import render_overlays
from agentmon_checks.rules import recorded_series
from agentmon_config import ConfigError, load_platform
from agentmon_live.prometheus import PrerequisiteMissing, find_binary
from agentmon_rules import alertmanager_config, recording_document

REPO = Path(__file__).resolve().parents[3]
CONFIG = load_platform(REPO / "config/platform.yaml", REPO / "tenants")
RENDERED = render(CONFIG)
ALERTS = "agentmon.alerts.rules.yml"
ROUTING = "alertmanager/alertmanager.yml"


@pytest.fixture(autouse=True)
def binaries():
    """validate runs promtool and amtool whenever they are on PATH; these tests need them (fail in CI)."""
    try:
        return find_binary("promtool"), find_binary("amtool")
    except PrerequisiteMissing as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI: {exc}")
        pytest.skip(str(exc))


def findings(root: Path = REPO, edit_rules=None, edit_routing=None, dashboards=None) -> list[str]:
    rules, alertmanager, files = copy.deepcopy(RENDERED.rules), copy.deepcopy(RENDERED.alertmanager), dict(
        RENDERED.files)
    if edit_rules:
        edit_rules(rules[ALERTS]["groups"])
        rules["operator/alerts.yaml"]["spec"] = rules[ALERTS]
        files[f"{RULES_ROOT}/{ALERTS}"] = yaml_bytes(rules[ALERTS])
    if edit_routing:
        edit_routing(alertmanager["alertmanager.yml"])
        files[ROUTING] = yaml_bytes(alertmanager["alertmanager.yml"])
    recorded = recorded_series(recording_document(rules))
    return [str(f) for f in alerts.check_alerts(root, CONFIG, RULES_ROOT, rules, ALERTMANAGER_ROOT, alertmanager,
                                                dashboards or RENDERED.dashboards, files, recorded)]


def first_rule(groups):
    return groups[0]["rules"][0]


def test_the_generated_alerts_and_routing_pass():
    assert findings() == []


def test_an_alert_reading_an_unknown_series_fails():
    def edit(groups):
        first_rule(groups)["expr"] = "tenant_id:made_up:ratio > 1"
    assert findings(edit_rules=edit) == [
        f"rules/{ALERTS}: group 'agentmon-alerts-health' alert 'AgentmonSuccessRateLow': unknown metric "
        "'tenant_id:made_up:ratio' (neither in the metrics contract nor recorded by a rule)"]


def test_an_alert_without_severity_or_runbook_fails():
    def edit(groups):
        del first_rule(groups)["labels"]["severity"]
        del first_rule(groups)["annotations"]["runbook_url"]
    where = f"rules/{ALERTS}: group 'agentmon-alerts-health' alert 'AgentmonSuccessRateLow'"
    assert findings(edit_rules=edit) == [
        f"{where}: labels.severity: missing", f"{where}: annotations.runbook_url: missing",
        f"{where}: annotations.runbook_url: no heading # in docs/operations/runbooks.md"]


def test_a_panel_link_to_a_missing_panel_or_dashboard_fails():
    def edit(groups):
        groups[0]["rules"][0]["annotations"]["panel_url"] = "http://g/d/agentmon-system-health?viewPanel=99"
        groups[0]["rules"][1]["annotations"]["panel_url"] = "http://g/d/nope?viewPanel=1"
    where = f"rules/{ALERTS}: group 'agentmon-alerts-health' alert 'AgentmonSuccessRateLow'"
    assert findings(edit_rules=edit) == [
        f"{where}: annotations.panel_url: dashboard 'agentmon-system-health' has no panel 99",
        f"{where}: annotations.panel_url: no dashboard has uid 'nope'"]


def test_a_tenant_alerts_link_is_checked_for_every_tenant_it_selects():
    slo = next(g for g in RENDERED.rules[ALERTS]["groups"] if g["name"] == "agentmon-alerts-slo")
    burn = slo["rules"][0]
    assert burn["annotations"]["panel_url"].endswith("/d/tenant-{{ $labels.tenant_id }}?viewPanel=2")

    def edit(groups):
        rules = next(g for g in groups if g["name"] == "agentmon-alerts-slo")["rules"]
        rules[0]["expr"] = 'tenant_id:enhancement_requests_errors:ratio_rate1h{tenant_id=~"acme|zeta"} > 0.5'
        rules[1]["expr"] = "up == 0"
    fast = f"rules/{ALERTS}: group 'agentmon-alerts-slo' alert 'AgentmonErrorBudgetBurnFast'"
    slow = f"rules/{ALERTS}: group 'agentmon-alerts-slo' alert 'AgentmonErrorBudgetBurnSlow'"
    assert findings(edit_rules=edit) == [
        f"{fast}: annotations.panel_url: no dashboard has uid 'tenant-zeta'",
        f"{slow}: annotations.panel_url: 'tenant-{{{{ $labels.tenant_id }}}}' names the alert's tenant, but the "
        "expression selects no tenant by name"]


def test_alert_rules_do_not_grow_with_tenants_even_when_every_tenant_has_its_own_limits():
    """500 tenants, each with its own SLO, SLA and queue threshold: the same 16 alert rules as for the two
    configured tenants, byte for byte (limits are recorded series the rules join on tenant_id)."""
    acme = next(t for t in CONFIG.tenants if t.tenant_id == "acme")
    bounds = (0.5, 1, 2.5, 5, 10, 20, 30, 60, 90, 120, 180, 300)
    many = tuple(dataclasses.replace(acme, tenant_id=f"tenant-{i:04d}", success_rate_slo=99 + i / 1000,
                                     p95_latency_sla_seconds=bounds[i % len(bounds)], queue_alert_threshold=10 + i)
                 for i in range(500))
    assert render(dataclasses.replace(CONFIG, tenants=many)).rules[ALERTS] == RENDERED.rules[ALERTS]
    assert sum(len(g["rules"]) for g in RENDERED.rules[ALERTS]["groups"]) == 16


def test_a_runbook_anchor_missing_from_the_runbooks_fails(tmp_path):
    runbooks = tmp_path / alerts.RUNBOOKS
    runbooks.parent.mkdir(parents=True)
    runbooks.write_text((REPO / alerts.RUNBOOKS).read_text().replace("## target-down\n", "## target-gone\n"))
    assert findings(root=tmp_path) == [
        f"rules/{ALERTS}: group 'agentmon-alerts-availability' alert 'AgentmonTargetDown': annotations.runbook_url: "
        "no heading #target-down in docs/operations/runbooks.md"]


def test_a_tenant_without_a_route_fails():
    def edit(doc):
        acme = doc["route"]["routes"][1]
        acme["routes"] = []
        acme["matchers"] = ['managed_by="agentmon"', 'tenant_id=~"initech"']
    assert findings(edit_routing=edit) == [
        f"{ROUTING}: route: tenant 'acme' alert {name} reaches nobody, expected e-mail acme-oncall@example.com"
        for name in ("AgentmonErrorBudgetBurnFast", "AgentmonErrorBudgetBurnSlow", "AgentmonTenantLatencyHigh",
                     "AgentmonTenantQueueDepthHigh", "AgentmonTenantNoActiveWorker", "AgentmonTenantAbsent")]


def test_a_tenant_routed_to_another_contact_fails():
    def edit(doc):
        doc["route"]["routes"][1]["routes"][0]["receiver"] = "operations"
    assert findings(edit_routing=edit)[0] == (
        f"{ROUTING}: route: tenant 'acme' alert AgentmonErrorBudgetBurnFast reaches e-mail platform-ops@example.com, "
        "expected e-mail acme-oncall@example.com")


def test_an_alert_without_managed_by_fails():
    """Finding 3's other half: the routing matches managed_by, so an alert without it would reach nobody."""
    def edit(groups):
        del first_rule(groups)["labels"]["managed_by"]
    assert findings(edit_rules=edit) == [
        f"rules/{ALERTS}: group 'agentmon-alerts-health' alert 'AgentmonSuccessRateLow': labels.managed_by: None, "
        "expected 'agentmon': the routing matches it, without it the alert reaches nobody"]


def test_amtool_rejects_a_route_to_an_undefined_receiver():
    def edit(doc):
        doc["route"]["routes"][1]["routes"][0]["receiver"] = "nobody"
    messages = findings(edit_routing=edit)
    assert messages[0] == (f"{ROUTING}: route: tenant 'acme' alert AgentmonErrorBudgetBurnFast reaches nobody, "
                           "expected e-mail acme-oncall@example.com")
    assert messages[-1].startswith(f"{ROUTING}: amtool check-config: ")
    assert 'undefined receiver "nobody"' in messages[-1]


def test_a_webhook_owner_contact_becomes_a_webhook_receiver():
    tenant = dataclasses.replace(CONFIG.tenants[0], owner_contact="https://hooks.example.com/acme")
    doc = alertmanager_config(dataclasses.replace(CONFIG, tenants=(tenant,)))
    assert doc["receivers"][3] == {"name": "owner-webhook-5c190b9c3a08", "webhook_configs": [
        {"url": "https://hooks.example.com/acme", "send_resolved": True}]}


def test_an_slo_no_burn_rate_alert_could_fire_on_is_a_configuration_error(tmp_path):
    tenant = tmp_path / "tenants" / "acme"
    tenant.mkdir(parents=True)
    (tenant / "tenant.yaml").write_text((REPO / "tenants/acme/tenant.yaml").read_text().replace(
        "success_rate_slo: 99.5", "success_rate_slo: 90"))
    with pytest.raises(ConfigError) as info:
        load_platform(REPO / "config/platform.yaml", tmp_path / "tenants")
    assert str(info.value) == (
        f"{tenant / 'tenant.yaml'}:6: success_rate_slo: 90 % leaves an error budget of 10 %: the 14.4x burn-rate "
        "alert (1h/5m) would need more than 100 % of requests to fail and could never fire; use an SLO of at "
        "least 93.0556 %")


def test_compose_and_the_dev_overlay_run_alertmanager_with_the_generated_routing():
    compose = YAML(typ="safe").load((REPO / "compose/docker-compose.yml").read_text())
    service = compose["services"]["alertmanager"]
    assert service["ports"] == ["127.0.0.1:9093:9093"]
    assert "../alertmanager/alertmanager.yml:/etc/alertmanager/alertmanager.yml:ro" in service["volumes"]
    prometheus = YAML(typ="safe").load((REPO / "compose/prometheus.yml").read_text())
    assert prometheus["alerting"] == {"alertmanagers": [{"static_configs": [{"targets": ["alertmanager:9093"]}]}]}

    dev = {f"{o['kind']}/{o['metadata']['name']}": o
           for o in next(o for o in render_overlays(REPO, RENDERED.files) if o.name == "dev").objects}
    pod = dev["Deployment/alertmanager"]["spec"]["template"]["spec"]
    # The routing arrives in parts (one ConfigMap each, all in one projected folder); the init container writes
    # their concatenation, in name order, to the file the Alertmanager container reads.
    (assemble,) = pod["initContainers"]
    assert assemble["command"] == ["/bin/sh", "-c", "cat /etc/alertmanager/parts/alertmanager.yml.* > "
                                   "/etc/alertmanager/config/alertmanager.yml"]
    assert "--config.file=/etc/alertmanager/config/alertmanager.yml" in pod["containers"][0]["args"]
    (parts,) = [v for v in pod["volumes"] if v["name"] == "config-parts"]
    mounted = {key: text for source in parts["projected"]["sources"]
               for key, text in dev[f"ConfigMap/{source['configMap']['name']}"]["data"].items()}
    assert sorted(mounted) == ["alertmanager.yml.00"]  # two tenants: one part
    assert "".join(mounted[key] for key in sorted(mounted)) == RENDERED.files[ROUTING].decode()
    assert dev["Service/alertmanager"]["spec"]["ports"][0]["port"] == 9093


def test_links_that_only_work_on_this_machine_are_warned_about():
    assert [f"{w.where}: {w.message}" for w in alerts.link_warnings(CONFIG)] == [
        "alerts.grafana_url: 'http://localhost:3000' is this machine: the panel links of alerts the prod overlay "
        "delivers open nothing for whoever receives them; set your Grafana's address",
        "alerts.runbooks_url: 'docs/operations/runbooks.md' is a relative path: the runbook links of alerts the prod "
        "overlay delivers lead nowhere; set the web address of docs/operations/runbooks.md in your repository"]
    for grafana in ("http://127.0.0.1:3000", "https://[::1]/grafana"):
        local = dataclasses.replace(CONFIG, alerts=dataclasses.replace(CONFIG.alerts, grafana_url=grafana))
        assert [w.where for w in alerts.link_warnings(local)] == ["alerts.grafana_url", "alerts.runbooks_url"]
    public = dataclasses.replace(CONFIG, alerts=dataclasses.replace(
        CONFIG.alerts, grafana_url="https://grafana.example.com",
        runbooks_url="https://git.example.com/ops/agentmon/blob/main/docs/operations/runbooks.md"))
    assert list(alerts.link_warnings(public)) == []


def test_alert_names_and_severities_come_from_alertnames():
    """Finding 2's guard (validate runs it): one severity per tenant alert name."""
    def rule(name, severity):
        return {"alert": name, "expr": "vector(1)", "labels": {"severity": severity}}
    doc = {"groups": [{"name": "g", "rules": [
        rule("AgentmonErrorBudgetBurnFast", "critical"), rule("AgentmonSuccessRateLow", "warning"),
        rule("AgentmonSuccessRateLow", "critical"), rule("AgentmonHeartbeat", "none"),
        rule("AgentmonTenantLatencyHigh", "critical"), rule("AgentmonTenantLatencyHigh", "warning"),
        rule("AgentmonTenantErrorRateHigh", "warning")]}]}
    assert [str(f) for f in alerts.alert_name_problems("rules/x.yml", doc)] == [
        "rules/x.yml: group 'g' alert 'AgentmonTenantLatencyHigh': labels.severity: 'warning', but another rule of "
        "this tenant alert has 'critical': one severity per tenant alert name",
        "rules/x.yml: group 'g' alert 'AgentmonTenantErrorRateHigh': alert name not in agentmon_config.alertnames: "
        "the routing, its checks and the inhibition rules know only those"]
