"""The same alert reaches the same contact, the same way, through alertmanager.yml (compose, the dev overlay) and
through the configuration the Prometheus Operator builds from the AlertmanagerConfigs (a cluster's Alertmanager):
not only the address, but the receiver kind, the exact URL and whether resolved notifications are sent.

Five tenants, one per kind of contact: acme an e-mail address, initech an https:// webhook, hooli a plain http://
webhook on an allowed in-cluster host, umbrella a webhook whose URL is a Secret's key, globex none of its own (the
operations contact). Every expected receiver is written out below from docs/operations/alerts.md: a contact with a
scheme is a webhook, anything else an e-mail; every receiver sends resolved notifications.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from agentmon_checks.amroutes import receivers_for
from agentmon_checks.operator_merge import kube_prometheus_stack_config, merged_config
from agentmon_config import Contact, load_platform
from agentmon_rules import render_alertmanager

REPO = Path(__file__).resolve().parents[3]
CONFIG = load_platform(REPO / "config/platform.yaml", REPO / "tenants")
ACME, GLOBEX = CONFIG.tenants
HTTPS = "https://hooks.example.com/initech"
HTTP = "http://relay.monitoring.svc:8080/hooli"
SECRET_NAME, SECRET_KEY = "agentmon-alert-webhooks", "umbrella-pager"
SECRET_URL = "https://pager.example.net/umbrella/TOKEN"
FIVE = dataclasses.replace(
    CONFIG,
    alerts=dataclasses.replace(CONFIG.alerts, allowed_webhook_hosts=("relay.monitoring.svc",)),
    tenants=(ACME, GLOBEX,
             dataclasses.replace(ACME, tenant_id="initech", owner_contact=Contact(url=HTTPS)),
             dataclasses.replace(ACME, tenant_id="hooli", owner_contact=Contact(url=HTTP)),
             dataclasses.replace(ACME, tenant_id="umbrella",
                                 owner_contact=Contact(secret_name=SECRET_NAME, secret_key=SECRET_KEY))))
RENDERED = render_alertmanager(FIVE)
PLAIN = RENDERED["alertmanager.yml"]
OBJECTS = [doc for path, doc in RENDERED.items() if path.startswith("operator/alertmanagerconfig")]
OPERATOR = merged_config(kube_prometheus_stack_config(), OBJECTS, "monitoring",
                         secrets={(SECRET_NAME, SECRET_KEY): SECRET_URL})

WEBHOOK_HTTPS = {"webhook_configs": [{"url": HTTPS, "send_resolved": True}]}
WEBHOOK_HTTP = {"webhook_configs": [{"url": HTTP, "send_resolved": True}]}
EMAIL_ACME = {"to": "acme-oncall@example.com", "send_resolved": True}
EMAIL_OPS = {"to": "platform-ops@example.com", "send_resolved": True}


def _labels(tenant: str, namespace: str | None) -> dict[str, str]:
    scoped = {"namespace": namespace} if namespace else {}
    return {"alertname": "AgentmonErrorBudgetBurnFast", "severity": "critical", "tenant_id": tenant,
            "managed_by": "agentmon", **scoped}


def _reached(config: dict, labels: dict[str, str]) -> list[dict]:
    """The receivers an alert reaches, without their names (the Operator prefixes them), the chart's null aside."""
    by_name = {r["name"]: r for r in config["receivers"]}
    return [{k: v for k, v in by_name[name].items() if k != "name"}
            for name in receivers_for(config, labels) if name != "null"]


@pytest.mark.parametrize(("tenant", "expected"), [
    ("initech", WEBHOOK_HTTPS),
    ("hooli", WEBHOOK_HTTP),
])
def test_a_webhook_contact_is_the_same_webhook_with_resolved_notifications_on_both_sides(tenant, expected):
    assert _reached(PLAIN, _labels(tenant, None)) == [expected]
    assert _reached(OPERATOR, _labels(tenant, "monitoring")) == [expected]


@pytest.mark.parametrize(("tenant", "to"), [("acme", EMAIL_ACME), ("globex", EMAIL_OPS)])
def test_an_email_contact_is_an_email_receiver_with_resolved_notifications_on_both_sides(tenant, to):
    (plain,) = _reached(PLAIN, _labels(tenant, None))
    (operator,) = _reached(OPERATOR, _labels(tenant, "monitoring"))
    assert list(plain) == list(operator) == ["email_configs"]
    assert plain["email_configs"] == [to]
    # The Operator's copy carries the SMTP settings too (kube-prometheus-stack has no global ones).
    (operator_email,) = operator["email_configs"]
    assert {k: operator_email[k] for k in to} == to
    assert operator_email["smarthost"] == "smtp.example.com:587"


def test_a_secret_webhook_is_read_from_the_secret_on_both_sides_never_written():
    """alertmanager.yml reads the Secret's key mounted as a file (url_file); the Operator resolves urlSecret."""
    assert _reached(PLAIN, _labels("umbrella", None)) == [
        {"webhook_configs": [{"url_file": f"/etc/alertmanager/secrets/{SECRET_KEY}", "send_resolved": True}]}]
    assert _reached(OPERATOR, _labels("umbrella", "monitoring")) == [
        {"webhook_configs": [{"url": SECRET_URL, "send_resolved": True}]}]
    assert SECRET_URL not in str(RENDERED)


def test_operations_alerts_reach_the_operations_email_on_both_sides():
    labels = {"alertname": "AgentmonSuccessRateLow", "severity": "critical", "managed_by": "agentmon"}
    (plain,) = _reached(PLAIN, labels)
    (operator,) = _reached(OPERATOR, {**labels, "namespace": "monitoring"})
    assert plain["email_configs"] == [EMAIL_OPS]
    assert operator["email_configs"][0]["to"] == "platform-ops@example.com"
    assert operator["email_configs"][0]["send_resolved"] is True
