"""The AlertmanagerConfig checks: each of the Operator's v1alpha1 rules, and its CRD schema, refuses its planted
fault with the exact message."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from agentmon_bundle.outputs import render
from agentmon_checks.alertmanager_config import alertmanager_config_problems
from agentmon_checks.crds import crd_problems
from agentmon_config import load_platform

REPO = Path(__file__).resolve().parents[3]
RENDERED = render(load_platform(REPO / "config/platform.yaml", REPO / "tenants"))
OPERATOR = RENDERED.alertmanager["operator/alertmanagerconfig.yaml"]
SHARD = RENDERED.alertmanager["operator/alertmanagerconfig-05.yaml"]


def problems(edit) -> list[str]:
    doc = copy.deepcopy(OPERATOR)
    edit(doc)
    return list(alertmanager_config_problems(doc))


def spec(doc):
    return doc["spec"]


def route(doc, i=None):
    top = doc["spec"]["route"]
    return top if i is None else top["routes"][i]


def receiver(doc, i):
    return doc["spec"]["receivers"][i]


def set_webhook(doc, **config):
    receiver(doc, 0).pop("emailConfigs")
    receiver(doc, 0)["webhookConfigs"] = [config]


def test_the_generated_alertmanager_configs_pass():
    assert problems(lambda doc: None) == []
    assert list(alertmanager_config_problems(SHARD)) == []
    assert list(crd_problems(OPERATOR)) == [] and list(crd_problems(SHARD)) == []


RULES = {
    "api version": (lambda d: d.update(apiVersion="monitoring.coreos.com/v1beta2"),
                    "apiVersion: 'monitoring.coreos.com/v1beta2', expected 'monitoring.coreos.com/v1alpha1'"),
    "unknown spec field": (lambda d: spec(d).update(receiver="operations"), "spec: unknown field(s) receiver"),
    "receiver without name": (lambda d: spec(d)["receivers"].append({"emailConfigs": [{"to": "b@example.com"}]}),
                              "spec.receivers[2].name: missing (the Operator requires a non-empty name)"),
    "duplicate receiver": (lambda d: spec(d)["receivers"].append({**receiver(d, 0)}),
                           "spec.receivers[2].name: 'operations' is not unique"),
    "receiver reaching nobody": (lambda d: receiver(d, 0).pop("emailConfigs"),
                                 "spec.receivers[0]: no notification config: alerts routed to 'operations' would "
                                 "reach nobody"),
    "unknown receiver kind": (lambda d: receiver(d, 0).update(emailConfig=[{"to": "a@example.com"}]),
                              "spec.receivers[0]: unknown field(s) emailConfig"),
    "webhook without url": (lambda d: set_webhook(d, sendResolved=True),
                            "spec.receivers[0].webhookConfigs[0]: one of url or urlSecret must be set"),
    "webhook url scheme": (lambda d: set_webhook(d, url="ftp://hooks.example.com/acme"),
                           "spec.receivers[0].webhookConfigs[0].url: 'ftp://hooks.example.com/acme' is not an "
                           "http(s) URL with a host"),
    "webhook url host": (lambda d: set_webhook(d, url="https:///acme"),
                         "spec.receivers[0].webhookConfigs[0].url: 'https:///acme' is not an http(s) URL with a host"),
    "webhook unknown field": (lambda d: set_webhook(d, url="https://hooks.example.com/acme", send_resolved=True),
                              "spec.receivers[0].webhookConfigs[0]: unknown field(s) send_resolved"),
    "email without to": (lambda d: receiver(d, 0)["emailConfigs"][0].pop("to"),
                         "spec.receivers[0].emailConfigs[0].to: missing: the address to send to"),
    "email smarthost": (lambda d: receiver(d, 0)["emailConfigs"][0].update(smarthost="smtp.example.com"),
                        "spec.receivers[0].emailConfigs[0].smarthost: 'smtp.example.com' is not host:port"),
    "email unknown field": (lambda d: receiver(d, 0)["emailConfigs"][0].update(cc="b@example.com"),
                            "spec.receivers[0].emailConfigs[0]: unknown field(s) cc"),
    "top route without receiver": (lambda d: route(d).pop("receiver"),
                                   "spec.route.receiver: missing: the top route must define a receiver"),
    "top route without managed_by": (lambda d: route(d)["matchers"].pop(0),
                                     'spec.route.matchers: no managed_by="agentmon": every other alert of the '
                                     "namespace (kube-prometheus-stack's own) would reach agentmon's receivers"),
    "top route with a namespace matcher": (lambda d: route(d)["matchers"].append({"name": "namespace",
                                                                                 "value": "monitoring"}),
                                           "spec.route.matchers: a namespace matcher: the Operator adds its own, and "
                                           "the two could never both match"),
    "route to an undefined receiver": (lambda d: route(d, 0).update(receiver="nobody"),
                                       "spec.route.routes[0].receiver: 'nobody' is not a receiver"),
    "groupBy repeated": (lambda d: route(d).update(groupBy=["alertname", "alertname"]),
                         "spec.route.groupBy: ['alertname', 'alertname']: a label may appear only once"),
    "groupBy ... not alone": (lambda d: route(d).update(groupBy=["...", "tenant_id"]),
                              "spec.route.groupBy: ['...', 'tenant_id']: '...' must be the only entry"),
    "groupWait not a duration": (lambda d: route(d).update(groupWait="30 seconds"),
                                 "spec.route.groupWait: '30 seconds' is not a duration (like 30s, 5m, 4h, 1h30m)"),
    "empty repeatInterval": (lambda d: route(d, 1).update(repeatInterval=""),
                             "spec.route.routes[1].repeatInterval: '' is not a duration (like 30s, 5m, 4h, 1h30m)"),
    "zero groupInterval": (lambda d: route(d).update(groupInterval="0s"),
                           "spec.route.groupInterval: must be greater than 0"),
    "undefined mute interval": (lambda d: route(d, 0).update(muteTimeIntervals=["weekends"]),
                                "spec.route.routes[0].muteTimeIntervals: 'weekends' is not in spec.muteTimeIntervals"),
    "matcher without name": (lambda d: route(d, 0)["matchers"][0].pop("name"),
                             "spec.route.routes[0].matchers[0].name: missing: the label to match"),
    "matcher type": (lambda d: route(d, 0)["matchers"][0].update(matchType="=="),
                     "spec.route.routes[0].matchers[0].matchType: '==' is not one of =, !=, =~, !~"),
    "matcher unknown field": (lambda d: route(d, 0)["matchers"][0].update(op="="),
                              "spec.route.routes[0].matchers[0]: unknown field(s) op"),
    "child route unknown field": (lambda d: route(d, 1).update(match={"tenant_id": "globex"}),
                                  "spec.route.routes[1]: unknown field(s) match"),
    "inhibit rule unknown field": (lambda d: spec(d)["inhibitRules"][0].update(source_matchers=[]),
                                   "spec.inhibitRules[0]: unknown field(s) source_matchers"),
    "inhibit matcher type": (lambda d: spec(d)["inhibitRules"][0]["targetMatch"][0].update(matchType="~"),
                             "spec.inhibitRules[0].targetMatch[0].matchType: '~' is not one of =, !=, =~, !~"),
}


@pytest.mark.parametrize("edit, message", RULES.values(), ids=RULES.keys())
def test_each_operator_rule_names_its_fault(edit, message):
    assert problems(edit) == [message]


def test_valid_variants_the_operator_accepts_pass():
    def edit(doc):
        set_webhook(doc, urlSecret={"name": "ops-hook", "key": "url"})
        receiver(doc, 1)["webhookConfigs"] = [{"url": "http://[::1]:8080/hook"}]
        route(doc).update(groupBy=["..."], groupWait="0", repeatInterval="1d12h")
        route(doc, 1)["matchers"][0].update(matchType="!~", value="acme|initech")
        route(doc, 1).pop("receiver")  # a child route without a receiver inherits its parent's
        spec(doc)["muteTimeIntervals"] = [{"name": "weekends"}]
        route(doc, 1)["activeTimeIntervals"] = ["weekends"]
    assert problems(edit) == []


def test_the_heartbeat_receiver_may_notify_nobody_and_no_other():
    """alerts.heartbeat_contact unset: the heartbeat route's receiver is empty, as kube-prometheus-stack's "null"."""
    assert receiver(OPERATOR, 1) == {"name": "heartbeat"}
    assert problems(lambda d: receiver(d, 1).update(name="operations-2")) == [
        "spec.receivers[1]: no notification config: alerts routed to 'operations-2' would reach nobody",
        "spec.route.routes[0].receiver: 'heartbeat' is not a receiver"]


CRD = {
    "matchType outside the enum": (lambda d: route(d)["matchers"][1].update(matchType="=="),
                                   "spec.route.matchers[1].matchType: '==' is not one of ['!=', '=', '=~', '!~']"),
    "unknown field (strict field validation)": (lambda d: receiver(d, 0)["emailConfigs"][0].update(cc="b@x.org"),
                                                "spec.receivers[0].emailConfigs[0]: Additional properties are not "
                                                "allowed ('cc' was unexpected)"),
    "duration pattern": (lambda d: route(d).update(groupWait="30 s"),
                         "spec.route.groupWait: '30 s' does not match '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?"
                         "(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$'"),
    "requireTLS type": (lambda d: receiver(d, 0)["emailConfigs"][0].update(requireTLS="yes"),
                        "spec.receivers[0].emailConfigs[0].requireTLS: 'yes' is not of type 'boolean'"),
    "empty smarthost": (lambda d: receiver(d, 0)["emailConfigs"][0].update(smarthost=""),
                        "spec.receivers[0].emailConfigs[0].smarthost: '' should be non-empty"),
}


@pytest.mark.parametrize("edit, message", CRD.values(), ids=CRD.keys())
def test_the_operators_crd_schema_names_each_fault(edit, message):
    doc = copy.deepcopy(OPERATOR)
    edit(doc)
    assert list(crd_problems(doc)) == [message]


def test_a_kind_without_a_vendored_crd_is_named():
    assert list(crd_problems({"apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor"})) == [
        "apiVersion/kind: 'monitoring.coreos.com/v1'/'PodMonitor' is not one of "
        "['monitoring.coreos.com/v1/PrometheusRule', 'monitoring.coreos.com/v1/ServiceMonitor', "
        "'monitoring.coreos.com/v1alpha1/AlertmanagerConfig']"]


def test_a_prometheus_rule_off_its_crd_is_named():
    rules = render(load_platform(REPO / "config/platform.yaml", REPO / "tenants")).rules["operator/alerts.yaml"]
    assert list(crd_problems(rules)) == []
    bad = copy.deepcopy(rules)
    bad["spec"]["groups"][0]["rules"][0]["for"] = "5 minutes"
    bad["spec"]["groups"][0]["interval"] = 60
    assert list(crd_problems(bad)) == [
        "spec.groups[0].interval: 60 is not of type 'string'",
        "spec.groups[0].rules[0].for: '5 minutes' does not match "
        "'^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$'"]
