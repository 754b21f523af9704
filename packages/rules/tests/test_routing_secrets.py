"""Contacts whose webhook URL is a secret ({webhook_secret: KEY}) are references in every generated file: the
plain routing reads the URL from the file the Secret's key is mounted as (url_file), the AlertmanagerConfig names
the Secret (urlSecret). Checked with the real amtool and the routing parity check."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from agentmon_bundle.serialize import yaml_bytes
from agentmon_checks.alertmanager_config import routing_differences
from agentmon_checks.alerts import amtool_check
from agentmon_checks.tools import tool_check
from agentmon_config import Contact, load_platform
from agentmon_rules.routing import alertmanager_config, alertmanager_operator_config
from agentmon_testkit import prerequisite

REPO = Path(__file__).resolve().parents[3]
CONFIG = load_platform(REPO / "config" / "platform.yaml", REPO / "tenants")
SECRET = "agentmon-alert-webhooks"  # alerts.webhook_secret_name's default (platform.schema.json)


def with_contacts() -> object:
    """Operations and acme behind Secret keys, globex a public webhook written inline."""
    alerts = dataclasses.replace(CONFIG.alerts, operations_contact=Contact(secret_name=SECRET, secret_key="ops"))
    owners = {"acme": Contact(secret_name=SECRET, secret_key="acme.pager"),
              "globex": Contact(url="https://pager.example.com/hooks/globex")}
    tenants = tuple(dataclasses.replace(t, owner_contact=owners[t.tenant_id]) for t in CONFIG.tenants)
    return dataclasses.replace(CONFIG, alerts=alerts, tenants=tenants)


def test_a_secret_webhook_is_a_file_in_the_plain_routing_and_a_secret_reference_for_the_operator():
    config = with_contacts()
    plain = {r["name"]: r for r in alertmanager_config(config)["receivers"]}
    operator = {r["name"]: r for r in alertmanager_operator_config(config)["spec"]["receivers"]}
    assert plain["operations"] == {"name": "operations", "webhook_configs": [
        {"url_file": "/etc/alertmanager/secrets/ops", "send_resolved": True}]}
    assert plain["tenant-acme"] == {"name": "tenant-acme", "webhook_configs": [
        {"url_file": "/etc/alertmanager/secrets/acme.pager", "send_resolved": True}]}
    assert plain["tenant-globex"]["webhook_configs"] == [
        {"url": "https://pager.example.com/hooks/globex", "send_resolved": True}]
    assert operator["operations"] == {"name": "operations", "webhookConfigs": [
        {"urlSecret": {"name": SECRET, "key": "ops"}, "sendResolved": True}]}
    assert operator["tenant-acme"]["webhookConfigs"] == [
        {"urlSecret": {"name": SECRET, "key": "acme.pager"}, "sendResolved": True}]
    assert list(routing_differences(alertmanager_config(config), alertmanager_operator_config(config))) == []


def test_amtool_checks_the_routing_with_secret_files_though_0_25_does_not_know_url_file():
    """Debian's amtool 0.25 refuses url_file (Alertmanager 0.26+ reads it; compose and dev run 0.28.1): the
    validate check reads a placeholder URL in its place, and still fails a broken file."""
    prerequisite("amtool")
    content = yaml_bytes(alertmanager_config(with_contacts()))
    raw = list(tool_check("alertmanager/alertmanager.yml", content, "amtool", "check-config"))
    assert len(raw) == 1 and "field url_file not found" in raw[0].message
    assert list(amtool_check("alertmanager/alertmanager.yml", content)) == []
    broken = content.replace(b"receiver: operations", b"receiver: nobody", 1)
    assert [f.where for f in amtool_check("alertmanager/alertmanager.yml", broken)] == ["amtool check-config"]


def test_the_parity_check_names_a_secret_key_that_differs():
    config = with_contacts()
    operator = alertmanager_operator_config(config)
    operator["spec"]["receivers"][1]["webhookConfigs"][0]["urlSecret"]["key"] = "other"
    assert [where for where, _ in routing_differences(alertmanager_config(config), operator)] == ["spec.route.routes"]
