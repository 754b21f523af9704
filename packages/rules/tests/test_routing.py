"""The routing generator: one receiver per distinct contact, each contact's tenants in one route of its shard,
platform alerts and the operations contact's tenants in the main tree, the heartbeat first with its own receiver,
the labels an Alertmanager's alertmanagerConfigSelector matches, the SMTP settings the Operator needs, and the
objects' sizes at 2,000 tenants. Expected documents are written out here, not derived from the generator."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from agentmon_bundle.serialize import yaml_bytes
from agentmon_config import ConfigError, load_platform
from agentmon_rules import config_parts, render_alertmanager
from agentmon_rules.routing import PRODUCTION, Timing, alertmanager_config, alertmanager_operator_config
from agentmon_testkit import replace_once

REPO = Path(__file__).resolve().parents[3]
CONFIG = load_platform(REPO / "config" / "platform.yaml", REPO / "tenants")
LABELS_LINE = "alertmanager_config_labels: {}"
ACME, GLOBEX = CONFIG.tenants  # acme: its own e-mail; globex: the operations contact (tenants/*/tenant.yaml)
INITECH = dataclasses.replace(ACME, tenant_id="initech", owner_contact="https://hooks.example.com/initech")
HOOLI = dataclasses.replace(ACME, tenant_id="hooli")  # shares acme's contact
FOUR = dataclasses.replace(CONFIG, tenants=(ACME, GLOBEX, INITECH, HOOLI))
SMTP = {"from": "alertmanager@example.com", "requireTLS": True, "smarthost": "smtp.example.com:587"}


def test_one_route_and_receiver_per_contact_platform_alerts_to_operations():
    doc = alertmanager_config(FOUR)
    assert doc["route"] == {
        "receiver": "null", "group_by": ["alertname"], "group_wait": "30s", "group_interval": "15m",
        "repeat_interval": "4h",
        "routes": [
            {"receiver": "operations", "matchers": ['managed_by="agentmon"', 'tenant_id!~"acme|hooli|initech"'],
             "group_by": ["alertname"], "group_wait": "30s", "group_interval": "15m", "repeat_interval": "4h",
             "continue": True,
             "routes": [{"receiver": "heartbeat", "matchers": ['alertname="AgentmonHeartbeat"'],
                         "group_interval": "1m", "repeat_interval": "5m"},
                        {"receiver": "operations", "matchers": ['tenant_id=~"globex"'], "group_by": ["severity"]}]},
            {"receiver": "owner-acme-oncall@example.com",
             "matchers": ['managed_by="agentmon"', 'tenant_id=~"acme|hooli"'],
             "group_by": ["severity"], "group_wait": "30s", "group_interval": "15m", "repeat_interval": "4h",
             "continue": True,
             "routes": [{"receiver": "owner-acme-oncall@example.com", "matchers": ['tenant_id=~"acme|hooli"']}]},
            {"receiver": "owner-webhook-a545ece39282", "matchers": ['managed_by="agentmon"', 'tenant_id=~"initech"'],
             "group_by": ["severity"], "group_wait": "30s", "group_interval": "15m", "repeat_interval": "4h",
             "continue": True,
             "routes": [{"receiver": "owner-webhook-a545ece39282", "matchers": ['tenant_id=~"initech"']}]}]}
    assert doc["receivers"] == [
        {"name": "heartbeat"},
        {"name": "null"},
        {"name": "operations", "email_configs": [{"to": "platform-ops@example.com", "send_resolved": True}]},
        {"name": "owner-acme-oncall@example.com",
         "email_configs": [{"to": "acme-oncall@example.com", "send_resolved": True}]},
        {"name": "owner-webhook-a545ece39282",
         "webhook_configs": [{"url": "https://hooks.example.com/initech", "send_resolved": True}]}]
    assert doc["global"] == {"smtp_smarthost": "smtp.example.com:587", "smtp_from": "alertmanager@example.com",
                             "smtp_require_tls": True}


def test_inhibition_stays_within_a_tenant_and_agentmon():
    assert alertmanager_config(FOUR)["inhibit_rules"] == [
        {"source_matchers": ['managed_by="agentmon"', 'severity="critical"'],
         "target_matchers": ['managed_by="agentmon"', 'severity="warning"'], "equal": ["alertname", "tenant_id"]},
        {"source_matchers": ['managed_by="agentmon"', 'alertname="AgentmonErrorBudgetBurnFast"'],
         "target_matchers": ['managed_by="agentmon"', 'alertname="AgentmonErrorBudgetBurnSlow"'],
         "equal": ["tenant_id"]}]


def test_the_alertmanager_configs_are_the_same_trees_with_smtp_on_every_email_receiver():
    rendered = render_alertmanager(FOUR)
    assert rendered["operator/kustomization.yaml"]["resources"] == [
        "alertmanagerconfig.yaml", "alertmanagerconfig-05.yaml", "alertmanagerconfig-07.yaml"]
    main, acme, initech = (rendered[f"operator/alertmanagerconfig{s}.yaml"] for s in ("", "-05", "-07"))
    assert [d["metadata"]["name"] for d in (main, acme, initech)] == [
        "agentmon-routing", "agentmon-routing-05", "agentmon-routing-07"]
    assert main["spec"]["route"]["matchers"] == [
        {"name": "managed_by", "value": "agentmon"},
        {"name": "tenant_id", "matchType": "!~", "value": "acme|hooli|initech"}]
    assert main["spec"]["receivers"] == [
        {"name": "operations", "emailConfigs": [{"to": "platform-ops@example.com", "sendResolved": True, **SMTP}]},
        {"name": "heartbeat"}]
    assert acme["spec"] == {
        "route": {"receiver": "owner-acme-oncall@example.com", "groupBy": ["severity"], "groupWait": "30s",
                  "groupInterval": "15m", "repeatInterval": "4h",
                  "matchers": [{"name": "managed_by", "value": "agentmon"},
                               {"name": "tenant_id", "matchType": "=~", "value": "acme|hooli"}],
                  "routes": [{"receiver": "owner-acme-oncall@example.com",
                              "matchers": [{"name": "tenant_id", "matchType": "=~", "value": "acme|hooli"}]}]},
        "receivers": [{"name": "owner-acme-oncall@example.com",
                       "emailConfigs": [{"to": "acme-oncall@example.com", "sendResolved": True, **SMTP}]}]}
    assert initech["spec"]["receivers"] == [
        {"name": "owner-webhook-a545ece39282",
         "webhookConfigs": [{"url": "https://hooks.example.com/initech", "sendResolved": True}]}]
    assert "inhibitRules" not in acme["spec"] and len(main["spec"]["inhibitRules"]) == 2


def test_a_heartbeat_contact_gets_the_heartbeat_receiver():
    changed = dataclasses.replace(FOUR, alerts=dataclasses.replace(
        FOUR.alerts, heartbeat_contact="https://deadman.example.com/ping/abc"))
    assert alertmanager_config(changed)["receivers"][0] == {
        "name": "heartbeat",
        "webhook_configs": [{"url": "https://deadman.example.com/ping/abc", "send_resolved": True}]}


def test_scaled_timing_divides_every_wait():
    assert PRODUCTION.scaled(60) == Timing(group_wait="500ms", group_interval="15s", repeat_interval="4m",
                                           heartbeat_interval="1s", heartbeat_repeat="5s")


def tenants(count: int, contact=lambda i: f"owner-{i:04d}@example.com"):
    return tuple(dataclasses.replace(ACME, tenant_id=f"tenant-{i:04d}", owner_contact=contact(i))
                 for i in range(count))


def test_2000_tenants_with_their_own_contacts_stay_within_kubernetes_limits():
    """Issue 25: no AlertmanagerConfig over 250,000 bytes; alertmanager.yml, one file for compose and the dev
    overlay, is measured and documented (docs/operations/alerts.md)."""
    rendered = render_alertmanager(dataclasses.replace(CONFIG, tenants=tenants(2000)))
    sizes = {path: len(yaml_bytes(doc)) for path, doc in rendered.items()}
    operator = {p: n for p, n in sizes.items() if p.startswith("operator/alertmanagerconfig")}
    assert len(operator) == 17  # the main object and the 16 contact shards
    assert max(operator.values()) < 250_000
    assert sizes["alertmanager.yml"] > 250_000  # documented: one file, loaded from disk or a server-side ConfigMap


def test_an_added_tenant_changes_one_shard_only():
    """Stable names: tenant-0200's contact lands in shard 11, empty before: one new object, listed in the
    kustomization, and the main object's list of the tenants the shards own; every other object is unchanged."""
    before = render_alertmanager(dataclasses.replace(CONFIG, tenants=tenants(200)))
    after = render_alertmanager(dataclasses.replace(CONFIG, tenants=tenants(201)))
    changed = sorted(p for p in after if p.startswith("operator/") and after[p] != before.get(p))
    assert changed == ["operator/alertmanagerconfig-11.yaml", "operator/alertmanagerconfig.yaml",
                       "operator/kustomization.yaml"]
    assert "operator/alertmanagerconfig-11.yaml" not in before
    before = render_alertmanager(dataclasses.replace(CONFIG, tenants=tenants(400)))  # every shard in use
    after = render_alertmanager(dataclasses.replace(CONFIG, tenants=tenants(401)))
    assert sorted(p for p in after if after[p] != before.get(p)) == [
        "alertmanager.yml", "operator/alertmanagerconfig-09.yaml", "operator/alertmanagerconfig.yaml"]


def test_the_alertmanager_config_carries_the_configured_selector_labels():
    changed = dataclasses.replace(CONFIG, alerts=dataclasses.replace(
        CONFIG.alerts, alertmanager_config_labels=(("alertmanagerConfig", "main"), ("release", "kps"))))
    doc = alertmanager_operator_config(changed)
    assert (doc["apiVersion"], doc["kind"], doc["metadata"]["name"]) == (
        "monitoring.coreos.com/v1alpha1", "AlertmanagerConfig", "agentmon-routing")
    assert doc["metadata"]["labels"] == {"app.kubernetes.io/part-of": "agentmon", "alertmanagerConfig": "main",
                                         "release": "kps"}
    assert doc["spec"] == alertmanager_operator_config(CONFIG)["spec"]


def test_by_default_only_the_part_of_label_as_kube_prometheus_stack_selects_every_config():
    assert CONFIG.alerts.alertmanager_config_labels == ()
    assert render_alertmanager(CONFIG)["operator/alertmanagerconfig.yaml"]["metadata"]["labels"] == {
        "app.kubernetes.io/part-of": "agentmon"}


def test_labels_from_platform_yaml_reach_the_model_sorted(tmp_path):
    config = tmp_path / "platform.yaml"
    config.write_text(replace_once((REPO / "config/platform.yaml").read_text(), LABELS_LINE,
                                   "alertmanager_config_labels: {team: sre, alertmanagerConfig: main}"))
    assert load_platform(config).alerts.alertmanager_config_labels == (("alertmanagerConfig", "main"),
                                                                       ("team", "sre"))


@pytest.mark.parametrize("labels, field", [
    ("{alertmanagerConfig: not a label value}", "alerts.alertmanager_config_labels.alertmanagerConfig"),
    ("{'bad key': x}", "alerts.alertmanager_config_labels"),
])
def test_alertmanager_config_labels_must_be_valid_kubernetes_labels(tmp_path, labels, field):
    config = tmp_path / "platform.yaml"
    config.write_text(replace_once((REPO / "config/platform.yaml").read_text(), LABELS_LINE,
                                   f"alertmanager_config_labels: {labels}"))
    with pytest.raises(ConfigError) as info:
        load_platform(config)
    assert info.value.field == field


def test_heartbeat_contact_is_empty_by_default_and_one_line_when_set(tmp_path):
    assert CONFIG.alerts.heartbeat_contact is None
    config = tmp_path / "platform.yaml"
    config.write_text(replace_once((REPO / "config/platform.yaml").read_text(), 'heartbeat_contact: ""',
                                   'heartbeat_contact: "a\\nb"'))
    with pytest.raises(ConfigError) as info:
        load_platform(config)
    assert info.value.field == "alerts.heartbeat_contact"


def test_alertmanager_yml_parts_join_to_the_file_and_an_added_line_changes_only_its_part():
    """576,000 bytes of distinct lines: parts of at most 200,000 bytes, cut at line ends where the content says; a line
    added in the middle moves no cut point but those in its own part, so at most two parts differ."""
    lines = [f"  - name: owner-tenant-{i:05d}-oncall@example.com\n" for i in range(12_000)]
    text = "".join(lines)
    parts = config_parts(text)
    assert "".join(parts) == text and len(text) == 576_000
    assert len(parts) >= 4 and all(len(p.encode()) <= 200_000 and p.endswith("\n") for p in parts)
    grown = config_parts("".join([*lines[:6000], "  - name: owner-new@example.com\n", *lines[6000:]]))
    assert len(set(grown) - set(parts)) <= 2 and len(set(parts) - set(grown)) <= 2
