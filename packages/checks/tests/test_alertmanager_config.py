"""The AlertmanagerConfig checks: each of the Operator's v1alpha1 rules refuses its planted fault with the exact
message, and any routing that differs from alertmanager.yml is named."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from agentmon_bundle.outputs import render
from agentmon_checks.alertmanager_config import alertmanager_config_problems, routing_differences
from agentmon_config import load_platform

REPO = Path(__file__).resolve().parents[3]
RENDERED = render(load_platform(REPO / "config/platform.yaml", REPO / "tenants"))
OPERATOR = RENDERED.alertmanager["operator/alertmanagerconfig.yaml"]
ROUTING = RENDERED.alertmanager["alertmanager.yml"]


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
    receiver(doc, 1).pop("emailConfigs")
    receiver(doc, 1)["webhookConfigs"] = [config]


def test_the_generated_alertmanager_config_passes():
    assert problems(lambda doc: None) == []
    assert list(routing_differences(ROUTING, OPERATOR)) == []


RULES = {
    "api version": (lambda d: d.update(apiVersion="monitoring.coreos.com/v1beta2"),
                    "apiVersion: 'monitoring.coreos.com/v1beta2', expected 'monitoring.coreos.com/v1alpha1'"),
    "unknown spec field": (lambda d: spec(d).update(receiver="operations"), "spec: unknown field(s) receiver"),
    "receiver without name": (lambda d: spec(d)["receivers"].append({"emailConfigs": [{"to": "b@example.com"}]}),
                              "spec.receivers[3].name: missing (the Operator requires a non-empty name)"),
    "duplicate receiver": (lambda d: spec(d)["receivers"].append({**receiver(d, 0), "name": "tenant-acme"}),
                           "spec.receivers[3].name: 'tenant-acme' is not unique"),
    "receiver reaching nobody": (lambda d: receiver(d, 1).pop("emailConfigs"),
                                 "spec.receivers[1]: no notification config: alerts routed to 'tenant-acme' would "
                                 "reach nobody"),
    "unknown receiver kind": (lambda d: receiver(d, 1).update(emailConfig=[{"to": "a@example.com"}]),
                              "spec.receivers[1]: unknown field(s) emailConfig"),
    "webhook without url": (lambda d: set_webhook(d, sendResolved=True),
                            "spec.receivers[1].webhookConfigs[0]: one of url or urlSecret must be set"),
    "webhook url scheme": (lambda d: set_webhook(d, url="ftp://hooks.example.com/acme"),
                           "spec.receivers[1].webhookConfigs[0].url: 'ftp://hooks.example.com/acme' is not an "
                           "http(s) URL with a host"),
    "webhook url host": (lambda d: set_webhook(d, url="https:///acme"),
                         "spec.receivers[1].webhookConfigs[0].url: 'https:///acme' is not an http(s) URL with a host"),
    "webhook unknown field": (lambda d: set_webhook(d, url="https://hooks.example.com/acme", send_resolved=True),
                              "spec.receivers[1].webhookConfigs[0]: unknown field(s) send_resolved"),
    "email without to": (lambda d: receiver(d, 1)["emailConfigs"][0].pop("to"),
                         "spec.receivers[1].emailConfigs[0].to: missing: the address to send to"),
    "email smarthost": (lambda d: receiver(d, 1)["emailConfigs"][0].update(smarthost="smtp.example.com"),
                        "spec.receivers[1].emailConfigs[0].smarthost: 'smtp.example.com' is not host:port"),
    "email unknown field": (lambda d: receiver(d, 1)["emailConfigs"][0].update(cc="b@example.com"),
                            "spec.receivers[1].emailConfigs[0]: unknown field(s) cc"),
    "top route without receiver": (lambda d: route(d).pop("receiver"),
                                   "spec.route.receiver: missing: the top route must define a receiver"),
    "top route with matchers": (lambda d: route(d).update(matchers=[{"name": "namespace", "value": "monitoring"}]),
                                "spec.route.matchers: must be empty: the Operator replaces a namespace matcher here "
                                "with its own, and any other would keep alerts from the receiver alertmanager.yml's "
                                "root route gives them"),
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
        set_webhook(doc, urlSecret={"name": "acme-hook", "key": "url"})
        receiver(doc, 2)["webhookConfigs"] = [{"url": "http://[::1]:8080/hook"}]
        route(doc).update(groupBy=["..."], groupWait="0", repeatInterval="1d12h")
        route(doc, 0)["matchers"][0].update(matchType="!~", value="acme|initech")
        route(doc, 1).pop("receiver")  # a child route without a receiver inherits its parent's
        spec(doc)["muteTimeIntervals"] = [{"name": "weekends"}]
        route(doc, 1)["activeTimeIntervals"] = ["weekends"]
        receiver(doc, 0)["emailConfigs"][0]["smarthost"] = "smtp.example.com:587"
    assert problems(edit) == []


def differences(edit_operator=None, edit_routing=None) -> list[tuple[str, str]]:
    operator, routing = copy.deepcopy(OPERATOR), copy.deepcopy(ROUTING)
    if edit_operator:
        edit_operator(operator)
    if edit_routing:
        edit_routing(routing)
    return list(routing_differences(routing, operator))


def test_a_tenant_sent_to_another_contact_is_named():
    def edit(doc):
        receiver(doc, 1)["emailConfigs"][0]["to"] = "someone@example.com"
    assert differences(edit) == [("spec.route.routes", 'tenant_id="acme": routed to e-mail someone@example.com '
                                                       "here, to e-mail acme-oncall@example.com in alertmanager.yml")]


def test_a_tenant_routed_only_by_one_side_is_named():
    def drop_globex(doc):
        del route(doc)["routes"][1]

    def drop_acme(doc):
        del doc["route"]["routes"][0]
    assert differences(drop_globex) == [("spec.route.routes", 'tenant_id="globex": not routed here, routed to '
                                                              "e-mail platform-ops@example.com in alertmanager.yml")]
    assert differences(edit_routing=drop_acme) == [
        ("spec.route.routes", 'tenant_id="acme": routed to e-mail acme-oncall@example.com here, not routed in '
                              "alertmanager.yml")]


def test_a_different_operations_contact_timing_or_inhibition_is_named():
    def edit(doc):
        receiver(doc, 0)["emailConfigs"] = [{"to": "ops@example.com"}]
        route(doc)["repeatInterval"] = "12h"
        spec(doc)["inhibitRules"][0]["equal"] = ["alertname"]
    assert differences(edit) == [
        ("spec.route.receiver", "the top route reaches e-mail ops@example.com, alertmanager.yml's root route "
                                "e-mail platform-ops@example.com"),
        ("spec.route.repeatInterval", "'12h' here, repeat_interval: '4h' in alertmanager.yml"),
        ("spec.inhibitRules", 'severity="critical" inhibits severity="warning" on equal alertname here, '
                              'severity="critical" inhibits severity="warning" on equal alertname,tenant_id in '
                              "alertmanager.yml's inhibit_rules")]


def test_a_webhook_and_an_email_of_the_same_tenant_differ():
    def edit(doc):
        set_webhook(doc, url="https://hooks.example.com/acme")
    assert differences(edit) == [("spec.route.routes", 'tenant_id="acme": routed to webhook '
                                                       "https://hooks.example.com/acme here, to e-mail "
                                                       "acme-oncall@example.com in alertmanager.yml")]


def test_equivalent_spellings_of_the_same_routing_are_equal():
    """alertmanager.yml's older match/match_re maps and unquoted matchers; the Operator's deprecated regex: true."""
    def operator(doc):
        route(doc, 1)["matchers"][0].update(regex=True, value="globex|initech")

    def routing(doc):
        doc["route"]["routes"][0] = {"receiver": "tenant-acme", "match": {"tenant_id": "acme"}}
        doc["route"]["routes"][1] = {"receiver": "tenant-globex", "matchers": ["tenant_id =~ globex|initech"]}
        doc["inhibit_rules"][0] = {"source_match": {"severity": "critical"}, "target_matchers": ['severity="warning"'],
                                   "equal": ["tenant_id", "alertname"]}
    assert differences(operator, routing) == []
