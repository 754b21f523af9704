"""The configuration the Prometheus Operator builds from kube-prometheus-stack's defaults plus agentmon's
AlertmanagerConfigs, checked with the real amtool: who each alert reaches, which inhibit rules apply, and the
e-mail settings without which the Operator refuses everything (issue 19, findings 1 to 3).

Four tenants: acme (its own e-mail), hooli (acme's contact too), initech (a webhook), globex (the operations
contact). Expected receivers are written out: <namespace>/<object>/<receiver>, as the Operator names them.
"""

from __future__ import annotations

import copy
import dataclasses
import subprocess
from pathlib import Path

import pytest

from agentmon_checks.amroutes import inhibits, receivers_for
from agentmon_checks.operator_conformance import inhibition_problems, overlay_problems, routing_problems
from agentmon_checks.operator_merge import (
    OperatorRefusal,
    config_bytes,
    kube_prometheus_stack_config,
    merged_config,
)
from agentmon_config import load_platform
from agentmon_rules import render_alertmanager
from agentmon_testkit import prerequisite

REPO = Path(__file__).resolve().parents[3]
CONFIG = load_platform(REPO / "config/platform.yaml", REPO / "tenants")
ACME, GLOBEX = CONFIG.tenants
FOUR = dataclasses.replace(CONFIG, tenants=(
    ACME, GLOBEX, dataclasses.replace(ACME, tenant_id="initech", owner_contact="https://hooks.example.com/initech"),
    dataclasses.replace(ACME, tenant_id="hooli")))
OBJECTS = [doc for path, doc in render_alertmanager(FOUR).items() if path.startswith("operator/alertmanagerconfig")]
MERGED = merged_config(kube_prometheus_stack_config(), OBJECTS, "monitoring")
AGENTMON = {"managed_by": "agentmon", "namespace": "monitoring"}
OPS = "monitoring/agentmon-routing/operations"
ACME_OWNER = "monitoring/agentmon-routing-05/owner-acme-oncall@example.com"
INITECH_OWNER = "monitoring/agentmon-routing-07/owner-webhook-a545ece39282"
ROUTES = [  # labels -> the receivers amtool must name
    ({"alertname": "AgentmonErrorBudgetBurnFast", "severity": "critical", "tenant_id": "acme", **AGENTMON},
     [ACME_OWNER]),
    ({"alertname": "AgentmonTenantLatencyHigh", "severity": "warning", "tenant_id": "hooli", **AGENTMON}, [ACME_OWNER]),
    ({"alertname": "AgentmonTenantAbsent", "severity": "critical", "tenant_id": "initech", **AGENTMON},
     [INITECH_OWNER]),
    ({"alertname": "AgentmonErrorBudgetBurnSlow", "severity": "warning", "tenant_id": "globex", **AGENTMON}, [OPS]),
    ({"alertname": "AgentmonSuccessRateLow", "severity": "critical", **AGENTMON}, [OPS]),
    ({"alertname": "AgentmonTargetDown", "severity": "critical", "job": "platform", "instance": "a:8000", **AGENTMON},
     [OPS]),
    ({"alertname": "AgentmonHeartbeat", "severity": "none", **AGENTMON}, ["monitoring/agentmon-routing/heartbeat"]),
    # a tenant that is not configured: operations rather than nobody
    ({"alertname": "AgentmonTenantAbsent", "severity": "critical", "tenant_id": "umbrella", **AGENTMON}, [OPS]),
    # finding 3: kube-prometheus-stack's own alerts about our namespace, and its Watchdog
    ({"alertname": "KubePodCrashLooping", "severity": "warning", "namespace": "monitoring", "pod": "grafana-0"},
     ["null"]),
    ({"alertname": "Watchdog", "severity": "none"}, ["null"]),
    # an agentmon alert outside the AlertmanagerConfigs' namespace: the Operator's matcher keeps it out
    ({"alertname": "AgentmonSuccessRateLow", "severity": "critical", "managed_by": "agentmon", "namespace": "other"},
     ["null"]),
]


def test_the_operator_puts_our_top_routes_first_with_namespace_matcher_and_continue():
    routes = MERGED["route"]["routes"]
    assert [(r["receiver"], r["matchers"], r.get("continue")) for r in routes] == [
        (OPS, ['managed_by="agentmon"', 'tenant_id!~"acme|hooli|initech"', 'namespace="monitoring"'], True),
        (ACME_OWNER, ['managed_by="agentmon"', 'tenant_id=~"acme|hooli"', 'namespace="monitoring"'], True),
        (INITECH_OWNER, ['managed_by="agentmon"', 'tenant_id=~"initech"', 'namespace="monitoring"'], True),
        ("null", ['alertname = "Watchdog"'], None)]
    assert routes[0]["routes"][0] == {"receiver": "monitoring/agentmon-routing/heartbeat",
                                      "matchers": ['alertname="AgentmonHeartbeat"'], "group_interval": "1m",
                                      "repeat_interval": "5m"}
    assert [r["name"] for r in MERGED["receivers"]] == [
        "null", OPS, "monitoring/agentmon-routing/heartbeat", ACME_OWNER, INITECH_OWNER]


def test_our_inhibit_rules_get_the_namespace_matcher_after_the_charts_four():
    assert MERGED["inhibit_rules"][4:] == [
        {"source_matchers": ['managed_by="agentmon"', 'severity="critical"', 'namespace="monitoring"'],
         "target_matchers": ['managed_by="agentmon"', 'severity="warning"', 'namespace="monitoring"'],
         "equal": ["alertname", "tenant_id"]},
        {"source_matchers": ['managed_by="agentmon"', 'alertname="AgentmonErrorBudgetBurnFast"',
                             'namespace="monitoring"'],
         "target_matchers": ['managed_by="agentmon"', 'alertname="AgentmonErrorBudgetBurnSlow"',
                             'namespace="monitoring"'],
         "equal": ["tenant_id"]}]


def test_email_receivers_carry_what_the_operator_needs_without_global_smtp():
    """Finding 1: kube-prometheus-stack sets no global SMTP; each e-mail config brings smarthost and from."""
    assert "smtp_smarthost" not in kube_prometheus_stack_config()["global"]
    (acme,) = [r for r in MERGED["receivers"] if r["name"] == ACME_OWNER]
    assert acme["email_configs"] == [{"to": "acme-oncall@example.com", "from": "alertmanager@example.com",
                                      "smarthost": "smtp.example.com:587", "require_tls": True,
                                      "send_resolved": True}]


@pytest.mark.parametrize("field, message", [
    ("smarthost", "AlertmanagerConfig monitoring/agentmon-routing: SMTP smarthost is a mandatory field, it is neither "
                  "specified at global config nor at receiver level"),
    ("from", "AlertmanagerConfig monitoring/agentmon-routing: SMTP from is a mandatory field, it is neither "
             "specified at global config nor at receiver level")])
def test_an_email_receiver_without_smtp_settings_breaks_every_teams_configuration(field, message):
    objects = copy.deepcopy(OBJECTS)
    objects[0]["spec"]["receivers"][0]["emailConfigs"][0].pop(field)
    with pytest.raises(OperatorRefusal) as info:
        merged_config(kube_prometheus_stack_config(), objects, "monitoring")
    assert str(info.value) == message
    with_global = {**kube_prometheus_stack_config(), "global": {"smtp_smarthost": "mail:25", "smtp_from": "a@b.c"}}
    assert merged_config(with_global, objects, "monitoring")["receivers"][1]["name"] == OPS
    assert list(overlay_problems([{**o, "metadata": {**o["metadata"], "namespace": "monitoring"}} for o in objects],
                                 FOUR)) == [("kube-prometheus-stack 88.5.3 + AlertmanagerConfigs",
                                             f"the Prometheus Operator refuses to build the Alertmanager "
                                             f"configuration: {message}")]


def test_amtool_accepts_the_merged_configuration_and_routes_as_expected(tmp_path):
    amtool = prerequisite("amtool")
    (tmp_path / "alertmanager.yaml").write_bytes(config_bytes(MERGED))
    subprocess.run([amtool, "check-config", str(tmp_path / "alertmanager.yaml")], check=True, capture_output=True)
    for labels, expected in ROUTES:
        result = subprocess.run([amtool, "config", "routes", "test", f"--config.file={tmp_path / 'alertmanager.yaml'}",
                                 *(f"{k}={v}" for k, v in labels.items())], capture_output=True, text=True, check=True)
        assert result.stdout.split() == expected, labels
        assert receivers_for(MERGED, labels) == expected, labels  # validate's walker agrees with amtool


def test_validate_finds_no_routing_or_inhibition_problem_in_the_merged_configuration():
    assert list(routing_problems(MERGED, FOUR, "monitoring")) == []
    assert list(inhibition_problems(MERGED, "monitoring")) == []


def test_one_name_with_two_severities_would_let_the_charts_rule_cross_tenants():
    """Finding 2, reproduced on the chart's first inhibit rule: the retired AgentmonTenantErrorRateHigh had both
    severities, so acme's critical muted globex's warning (same namespace, same alertname)."""
    chart_rule = kube_prometheus_stack_config()["inhibit_rules"][0]
    acme = {"alertname": "AgentmonTenantErrorRateHigh", "severity": "critical", "tenant_id": "acme", **AGENTMON}
    globex = {**acme, "severity": "warning", "tenant_id": "globex"}
    assert inhibits(chart_rule, acme, globex)
    planted = {**MERGED, "inhibit_rules": [{"source_matchers": ['severity="critical"'],
                                            "target_matchers": ['severity="warning"'], "equal": ["namespace"]}]}
    assert next(iter(inhibition_problems(planted, "monitoring"))) == (
        "inhibit_rules[0]: AgentmonErrorBudgetBurnFast of one tenant inhibits AgentmonErrorBudgetBurnSlow of another "
        "({'source_matchers': ['severity=\"critical\"'], 'target_matchers': ['severity=\"warning\"'], "
        "'equal': ['namespace']})")


def test_a_misrouted_tenant_is_named():
    planted = copy.deepcopy(MERGED)
    planted["route"]["routes"][2]["routes"][0]["receiver"] = OPS
    assert list(routing_problems(planted, FOUR, "monitoring")) == [
        f"route: tenant 'initech' alert {name} reaches e-mail platform-ops@example.com, expected webhook "
        "https://hooks.example.com/initech"
        for name in ("AgentmonErrorBudgetBurnFast", "AgentmonErrorBudgetBurnSlow", "AgentmonTenantLatencyHigh",
                     "AgentmonTenantQueueDepthHigh", "AgentmonTenantNoActiveWorker", "AgentmonTenantAbsent")]


def test_alert_rules_without_the_namespace_label_are_named_in_an_overlay():
    objects = [{**o, "metadata": {**o["metadata"], "namespace": "monitoring"}} for o in OBJECTS]
    rule = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": {"name": "agentmon-alerts"},
            "spec": {"groups": [{"name": "g", "rules": [
                {"alert": "AgentmonHeartbeat", "expr": "vector(1)", "labels": {"managed_by": "agentmon",
                                                                              "severity": "none"}}]}]}}
    assert list(overlay_problems([*objects, rule], FOUR)) == [
        ("PrometheusRule/agentmon-alerts", "group 'g' alert 'AgentmonHeartbeat': labels {'managed_by': 'agentmon', "
                                           "'severity': 'none'} lack {'managed_by': 'agentmon', 'namespace': "
                                           "'monitoring'}: the AlertmanagerConfigs' routes would never match it")]


def test_a_webhook_url_from_a_secret_is_read_from_the_overlays_secret():
    """The Operator reads a urlSecret from the AlertmanagerConfig's namespace. A Secret the overlay does not ship is
    one the user creates: a placeholder naming it stands in, so here (the configuration wants initech's URL inline)
    the routing check names the Secret the object reads instead."""
    objects = [{**copy.deepcopy(o), "metadata": {**o["metadata"], "namespace": "monitoring"}} for o in OBJECTS]
    (initech,) = [o for o in objects if o["metadata"]["name"] == "agentmon-routing-07"]
    initech["spec"]["receivers"][0]["webhookConfigs"][0] = {"urlSecret": {"name": "hooks", "key": "initech"},
                                                            "sendResolved": True}
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "hooks", "namespace": "monitoring"},
              "stringData": {"initech": "https://hooks.example.com/initech"}}
    assert list(overlay_problems([*objects, secret], FOUR)) == []
    problems = list(overlay_problems(objects, FOUR))
    assert problems[0] == ("kube-prometheus-stack 88.5.3 + AlertmanagerConfigs",
                           "route: tenant 'initech' alert AgentmonErrorBudgetBurnFast reaches webhook secret initech, "
                           "expected webhook https://hooks.example.com/initech")


def test_without_the_namespace_matcher_managed_by_still_keeps_the_routing_right(tmp_path):
    """alertmanagerConfigMatcherStrategy None (or our objects in the Alertmanager's own namespace with
    OnNamespaceExceptForAlertmanagerNamespace): no namespace matcher; managed_by alone keeps the chart's alerts out
    and ours in, also for an agentmon alert without the namespace label."""
    amtool = prerequisite("amtool")
    merged = merged_config(kube_prometheus_stack_config(), OBJECTS, "monitoring", on_namespace=False)
    assert merged["route"]["routes"][0]["matchers"] == ['managed_by="agentmon"', 'tenant_id!~"acme|hooli|initech"']
    assert list(routing_problems(merged, FOUR, None)) == [] and list(inhibition_problems(merged, None)) == []
    (tmp_path / "alertmanager.yaml").write_bytes(config_bytes(merged))
    subprocess.run([amtool, "check-config", str(tmp_path / "alertmanager.yaml")], check=True, capture_output=True)
    assert receivers_for(merged, {"alertname": "KubePodCrashLooping", "severity": "warning",
                                  "namespace": "monitoring"}) == ["null"]
