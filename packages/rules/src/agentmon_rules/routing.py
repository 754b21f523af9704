"""Alertmanager routing from the configuration: platform-wide alerts to the operations receiver, each tenant's
alerts (matched on tenant_id) to a receiver built from its owner_contact.

A contact that starts with http:// or https:// becomes a webhook receiver; anything else is an e-mail address,
sent through alerts.smtp_smarthost. A critical alert inhibits the warning of the same alert and tenant (the
success-rate and error-rate pairs, the burn-rate page and ticket).
"""

from __future__ import annotations

from typing import Any

from agentmon_config import Contact, PlatformConfig
from agentmon_config.contract import TENANT_LABEL

ALERTMANAGER_FILE = "alertmanager.yml"
OPERATIONS_RECEIVER = "operations"
OPERATOR_DIR = "operator"
ALERTMANAGER_CONFIG_PATH = f"{OPERATOR_DIR}/alertmanagerconfig.yaml"
ALERTMANAGER_CONFIG_NAME = "agentmon-routing"
WEBHOOK_SECRETS_DIR = "/etc/alertmanager/secrets"  # the webhook Secret's keys, one file each
# Waits of the production routing; the end-to-end test passes shorter ones to alertmanager_config.
GROUP_WAIT, GROUP_INTERVAL, REPEAT_INTERVAL = "30s", "5m", "4h"


def tenant_receiver(tenant_id: str) -> str:
    return f"tenant-{tenant_id}"


def receiver(name: str, contact: Contact | str) -> dict[str, Any]:
    """A receiver of the plain configuration. A webhook whose URL is a secret is read from the file the Secret's
    key is mounted as (compose: compose/secrets/KEY; dev overlay: the Secret): url_file, Alertmanager 0.26+."""
    contact = Contact.of(contact)
    if contact.secret_key:
        return {"name": name, "webhook_configs": [{"url_file": webhook_secret_file(contact.secret_key),
                                                   "send_resolved": True}]}
    if contact.url:
        return {"name": name, "webhook_configs": [{"url": contact.url, "send_resolved": True}]}
    return {"name": name, "email_configs": [{"to": contact.email, "send_resolved": True}]}


def webhook_secret_file(key: str) -> str:
    """Where compose and the dev overlay mount the webhook Secret's key (docs/operations/alerts.md#secrets)."""
    return f"{WEBHOOK_SECRETS_DIR}/{key}"


def alertmanager_config(config: PlatformConfig, group_wait: str = GROUP_WAIT, group_interval: str = GROUP_INTERVAL,
                        repeat_interval: str = REPEAT_INTERVAL) -> dict[str, Any]:
    a = config.alerts
    return {
        "global": {"smtp_smarthost": a.smtp_smarthost, "smtp_from": a.smtp_from},
        "route": {
            "receiver": OPERATIONS_RECEIVER,
            "group_by": ["alertname", TENANT_LABEL],
            "group_wait": group_wait, "group_interval": group_interval, "repeat_interval": repeat_interval,
            "routes": [{"receiver": tenant_receiver(t.tenant_id), "matchers": [f'{TENANT_LABEL}="{t.tenant_id}"']}
                       for t in config.tenants],
        },
        "inhibit_rules": [{"source_matchers": ['severity="critical"'], "target_matchers": ['severity="warning"'],
                           "equal": ["alertname", TENANT_LABEL]}],
        "receivers": [receiver(OPERATIONS_RECEIVER, a.operations_contact),
                      *(receiver(tenant_receiver(t.tenant_id), t.owner_contact) for t in config.tenants)],
    }


def alertmanager_operator_config(config: PlatformConfig) -> dict[str, Any]:
    """The tenants' routes as an AlertmanagerConfig (monitoring.coreos.com/v1alpha1) for the Prometheus Operator.
    Matchers leave matchType out: "=" is its default, and a bare = is a YAML 1.1 tag that breaks YAML readers.

    The Operator scopes it to its namespace and merges it under the cluster's own root route; e-mail needs the
    cluster Alertmanager's global smtp settings (docs/operations/alerts.md). alerts.alertmanager_config_labels adds
    the labels the Alertmanager resource's alertmanagerConfigSelector matches.
    """
    labels = {"app.kubernetes.io/part-of": "agentmon", **dict(config.alerts.alertmanager_config_labels)}
    receivers = [_operator_receiver(OPERATIONS_RECEIVER, config.alerts.operations_contact),
                 *(_operator_receiver(tenant_receiver(t.tenant_id), t.owner_contact) for t in config.tenants)]
    return {
        "apiVersion": "monitoring.coreos.com/v1alpha1", "kind": "AlertmanagerConfig",
        "metadata": {"name": ALERTMANAGER_CONFIG_NAME, "labels": labels},
        "spec": {
            "route": {"receiver": OPERATIONS_RECEIVER, "groupBy": ["alertname", TENANT_LABEL],
                      "groupWait": GROUP_WAIT, "groupInterval": GROUP_INTERVAL, "repeatInterval": REPEAT_INTERVAL,
                      "routes": [{"receiver": tenant_receiver(t.tenant_id),
                                  "matchers": [{"name": TENANT_LABEL, "value": t.tenant_id}]}
                                 for t in config.tenants]},
            "inhibitRules": [{"sourceMatch": [{"name": "severity", "value": "critical"}],
                              "targetMatch": [{"name": "severity", "value": "warning"}],
                              "equal": ["alertname", TENANT_LABEL]}],
            "receivers": receivers,
        },
    }


def _operator_receiver(name: str, contact: Contact | str) -> dict[str, Any]:
    """A receiver of the AlertmanagerConfig; a secret webhook URL is the Operator's urlSecret reference (a Secret
    in the AlertmanagerConfig's namespace), never written here."""
    contact = Contact.of(contact)
    if contact.secret_key:
        return {"name": name, "webhookConfigs": [{"urlSecret": {"name": contact.secret_name, "key": contact.secret_key},
                                                  "sendResolved": True}]}
    if contact.url:
        return {"name": name, "webhookConfigs": [{"url": contact.url, "sendResolved": True}]}
    return {"name": name, "emailConfigs": [{"to": contact.email, "sendResolved": True}]}


def render_alertmanager(config: PlatformConfig) -> dict[str, dict[str, Any]]:
    """Path relative to the alertmanager folder -> document."""
    return {
        ALERTMANAGER_FILE: alertmanager_config(config),
        "kustomization.yaml": {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                               "configMapGenerator": [{"name": "alertmanager-config", "files": [ALERTMANAGER_FILE]}]},
        f"{OPERATOR_DIR}/kustomization.yaml": {"apiVersion": "kustomize.config.k8s.io/v1beta1",
                                               "kind": "Kustomization", "resources": ["alertmanagerconfig.yaml"]},
        ALERTMANAGER_CONFIG_PATH: alertmanager_operator_config(config),
    }
