"""Contacts whose webhook URL is a secret ({webhook_secret: KEY}) are references in every generated file: the
plain routing reads the URL from the file the Secret's key is mounted as (url_file), the AlertmanagerConfig names
the Secret (urlSecret). Checked with the real amtool and the routing checks (the plain file, and the configuration
the Operator builds)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from agentmon_bundle.serialize import yaml_bytes
from agentmon_checks.alerts import amtool_check
from agentmon_checks.operator_conformance import check_alertmanager_file, routing_problems
from agentmon_checks.operator_merge import kube_prometheus_stack_config, merged_config
from agentmon_checks.tools import tool_check
from agentmon_config import Contact, load_platform
from agentmon_rules.routing import alertmanager_config, render_alertmanager
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


def operator_objects(config) -> list[dict]:
    """Every AlertmanagerConfig of the configuration, in the overlay's namespace."""
    docs = [doc for name, doc in render_alertmanager(config).items() if name.startswith("operator/alertmanagerconfig")]
    return [{**doc, "metadata": {**doc["metadata"], "namespace": "monitoring"}} for doc in docs]


def test_a_secret_webhook_is_a_file_in_the_plain_routing_and_a_secret_reference_for_the_operator():
    config = with_contacts()
    plain = {r["name"]: r for r in alertmanager_config(config)["receivers"]}
    operator = {r["name"]: r for doc in operator_objects(config) for r in doc["spec"]["receivers"]}
    assert plain["operations"] == {"name": "operations", "webhook_configs": [
        {"url_file": "/etc/alertmanager/secrets/ops", "send_resolved": True}]}
    assert plain["owner-webhook-secret-acme.pager"] == {"name": "owner-webhook-secret-acme.pager", "webhook_configs": [
        {"url_file": "/etc/alertmanager/secrets/acme.pager", "send_resolved": True}]}
    (globex,) = [r for name, r in plain.items() if name.startswith("owner-webhook-") and "secret" not in name]
    assert globex["webhook_configs"] == [{"url": "https://pager.example.com/hooks/globex", "send_resolved": True}]
    assert operator["operations"] == {"name": "operations", "webhookConfigs": [
        {"urlSecret": {"name": SECRET, "key": "ops"}, "sendResolved": True}]}
    assert operator["owner-webhook-secret-acme.pager"]["webhookConfigs"] == [
        {"urlSecret": {"name": SECRET, "key": "acme.pager"}, "sendResolved": True}]
    # each tenant reaches its own secret webhook, in the plain file and as the Operator builds it (the Secret is
    # created by the user: a placeholder stands in for its URL)
    assert list(check_alertmanager_file("alertmanager/alertmanager.yml", alertmanager_config(config), config)) == []
    merged = merged_config(kube_prometheus_stack_config(), operator_objects(config), "monitoring", {})
    assert list(routing_problems(merged, config, "monitoring")) == []


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


def test_a_secret_key_routed_to_another_key_is_named():
    config = with_contacts()
    objects = operator_objects(config)
    receiver = next(r for doc in objects for r in doc["spec"]["receivers"]
                    if r["name"] == "owner-webhook-secret-acme.pager")
    receiver["webhookConfigs"][0]["urlSecret"]["key"] = "other"
    merged = merged_config(kube_prometheus_stack_config(), objects, "monitoring", {})
    problems = list(routing_problems(merged, config, "monitoring"))
    assert problems and all("'acme'" in p and "secret other" in p for p in problems), problems


def test_the_smtp_password_is_a_file_for_alertmanager_and_a_secret_reference_for_the_operator():
    """alerts.smtp_auth_username set: the password is key smtp_auth_password_key of the Secret, read as a file by
    the plain Alertmanager (0.25 knows smtp_auth_password_file) and as authPassword by the Operator; no password
    text anywhere. The Operator-built configuration passes amtool."""
    prerequisite("amtool")
    config = dataclasses.replace(CONFIG, alerts=dataclasses.replace(CONFIG.alerts, smtp_auth_username="alerts-bot"))
    plain = alertmanager_config(config)
    assert {k: v for k, v in plain["global"].items() if k.startswith("smtp_auth")} == {
        "smtp_auth_username": "alerts-bot", "smtp_auth_password_file": "/etc/alertmanager/secrets/smtp-password"}
    assert list(amtool_check("alertmanager/alertmanager.yml", yaml_bytes(plain))) == []
    emails = [e for doc in operator_objects(config) for r in doc["spec"]["receivers"]
              for e in r.get("emailConfigs", [])]
    assert emails and all((e["authUsername"], e["authPassword"]) == ("alerts-bot", {
        "name": SECRET, "key": "smtp-password"}) for e in emails)
    merged = merged_config(kube_prometheus_stack_config(), operator_objects(config), "monitoring", {})
    assert list(routing_problems(merged, config, "monitoring")) == []
    assert list(tool_check("alertmanager.yaml", yaml_bytes(merged), "amtool", "check-config")) == []
    assert not any(b"password:" in text for text in (yaml_bytes(plain), *map(yaml_bytes, operator_objects(config))))


def test_no_smtp_login_by_default():
    assert not any(k.startswith("smtp_auth") for k in alertmanager_config(CONFIG)["global"])


def test_the_smtp_login_passes_the_operators_crd_and_a_bad_key_or_username_is_refused(tmp_path):
    from agentmon_checks.crds import crd_problems
    from agentmon_config import ConfigError

    config = dataclasses.replace(CONFIG, alerts=dataclasses.replace(CONFIG.alerts, smtp_auth_username="alerts-bot"))
    assert [list(crd_problems(doc)) for doc in operator_objects(config)] == [[] for _ in operator_objects(config)]
    for field, value, message in (
            ("smtp_auth_password_key", "../etc/passwd", "'../etc/passwd' is not a Kubernetes Secret key"),
            ("smtp_auth_username", '"bot\\u202e"', "")):
        platform = tmp_path / f"{field}.yaml"
        platform.write_text((REPO / "config/platform.yaml").read_text().replace(
            f"  {field}: ", f"  {field}: {value}  # was: ", 1))
        with pytest.raises(ConfigError) as info:
            load_platform(platform)
        assert info.value.field == f"alerts.{field}" and message in str(info.value)
