"""Where agentmon's alerts go, asked of a whole Alertmanager configuration: alertmanager/alertmanager.yml, and the
configuration the Prometheus Operator builds from kube-prometheus-stack's defaults plus an overlay's
AlertmanagerConfigs (agentmon_checks.operator_merge). For every configured tenant and every tenant alert name, the
alert reaches exactly its owner_contact; platform alerts, and alerts of a tenant without a configuration, reach
exactly alerts.operations_contact; the heartbeat
only its own receiver; kube-prometheus-stack's own alerts (KubePodCrashLooping in the same namespace, Watchdog)
none of agentmon's contacts; and no inhibit rule (kube-prometheus-stack's or ours) lets an alert of one tenant mute
an alert of another. In an overlay, every alert rule also carries the labels those routes match: managed_by and
the AlertmanagerConfigs' namespace (the Operator's namespace matcher).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from agentmon_checks.amroutes import Router, inhibits, receiver_contacts
from agentmon_checks.findings import Finding
from agentmon_checks.operator_merge import (
    KUBE_PROMETHEUS_STACK_VERSION,
    OperatorRefusal,
    config_bytes,
    kube_prometheus_stack_config,
    merged_config,
)
from agentmon_checks.tools import tool_check
from agentmon_config import Contact, PlatformConfig
from agentmon_config.alertnames import (
    ERROR_BUDGET_BURN_FAST,
    HEARTBEAT,
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    PLATFORM_ALERTS,
    TENANT_ALERTS,
)
from agentmon_config.contract import TENANT_LABEL

# kube-prometheus-stack's own alerts, as they reach the Alertmanager: about a pod in agentmon's namespace, and the
# chart's always-firing Watchdog.
CLUSTER_ALERTS = ({"alertname": "KubePodCrashLooping", "severity": "warning", "namespace": "{namespace}"},
                  {"alertname": "Watchdog", "severity": "none"})
# Two tenants for the inhibition question: any two differ the same way, whatever their ids.
TWO_TENANTS = ("tenant-a", "tenant-b")


def _contact(contact: Contact | None) -> tuple[str, ...]:
    """Who a contact is, as agentmon_checks.amroutes.receiver_contacts names a receiver's."""
    if contact is None:
        return ()
    contact = Contact.of(contact)
    if contact.email:
        return (f"e-mail {contact.email}",)
    return (f"webhook {contact.url}",) if contact.url else (f"webhook secret {contact.secret_key}",)


def _agentmon(alertname: str, severity: str, namespace: str | None, **labels: str) -> dict[str, str]:
    scoped = {"namespace": namespace} if namespace else {}
    return {"alertname": alertname, "severity": severity, MANAGED_BY_LABEL: MANAGED_BY_VALUE, **scoped, **labels}


def expectations(config: PlatformConfig, namespace: str | None) -> Iterator[tuple[str, dict[str, str], tuple]]:
    """(what, labels, the contacts it must reach exactly)."""
    a = config.alerts
    for tenant in config.tenants:
        for name, severity in TENANT_ALERTS.items():
            yield (f"tenant {tenant.tenant_id!r} alert {name}",
                   _agentmon(name, severity, namespace, **{TENANT_LABEL: tenant.tenant_id}),
                   _contact(tenant.owner_contact))
    configured = {t.tenant_id for t in config.tenants}
    stranger = next(f"unconfigured-{i}" for i in range(len(configured) + 1) if f"unconfigured-{i}" not in configured)
    yield (f"alert {ERROR_BUDGET_BURN_FAST} of tenant {stranger!r}, not configured",
           _agentmon(ERROR_BUDGET_BURN_FAST, TENANT_ALERTS[ERROR_BUDGET_BURN_FAST], namespace,
                     **{TENANT_LABEL: stranger}), _contact(a.operations_contact))
    for name, severities in PLATFORM_ALERTS.items():
        for severity in severities:
            contact = a.heartbeat_contact if name == HEARTBEAT else a.operations_contact
            yield f"platform alert {name} ({severity})", _agentmon(name, severity, namespace), _contact(contact)
    for alert in CLUSTER_ALERTS:
        labels = {k: v.format(namespace=namespace or "monitoring") for k, v in alert.items()}
        yield f"kube-prometheus-stack alert {labels['alertname']}", labels, ()


def routing_problems(doc: Mapping[str, Any], config: PlatformConfig, namespace: str | None) -> Iterator[str]:
    contacts, router = receiver_contacts(doc), Router(doc)
    for what, labels, expected in expectations(config, namespace):
        reached = tuple(sorted({c for r in router.receivers(labels) for c in contacts.get(r, ())}))
        if reached != tuple(sorted(expected)):
            wanted = ", ".join(expected) or "none of agentmon's contacts"
            yield f"route: {what} reaches {', '.join(reached) or 'nobody'}, expected {wanted}"


def inhibition_problems(doc: Mapping[str, Any], namespace: str | None) -> Iterator[str]:
    a, b = TWO_TENANTS
    for i, rule in enumerate(doc.get("inhibit_rules") or []):
        for source_name, source_severity in TENANT_ALERTS.items():
            for target_name, target_severity in TENANT_ALERTS.items():
                source = _agentmon(source_name, source_severity, namespace, **{TENANT_LABEL: a})
                target = _agentmon(target_name, target_severity, namespace, **{TENANT_LABEL: b})
                if inhibits(rule, source, target):
                    yield (f"inhibit_rules[{i}]: {source_name} of one tenant inhibits {target_name} of another "
                           f"({rule})")


def check_alertmanager_file(file: str, doc: Any, config: PlatformConfig) -> Iterator[Finding]:
    if not isinstance(doc, dict):
        yield Finding(file, "", "not a mapping")
        return
    for problem in (*routing_problems(doc, config, None), *inhibition_problems(doc, None)):
        where, _, message = problem.partition(": ")
        yield Finding(file, where, message)


def overlay_problems(objects: list[dict[str, Any]], config: PlatformConfig) -> Iterator[tuple[str, str]]:
    """(where, problem) for a rendered overlay that ships AlertmanagerConfigs; nothing when it ships none."""
    amcfgs = [o for o in objects if o.get("kind") == "AlertmanagerConfig"]
    if not amcfgs:
        return
    namespaces = {o.get("metadata", {}).get("namespace") for o in amcfgs}
    if len(namespaces) != 1:
        yield "AlertmanagerConfig", f"in namespaces {sorted(map(str, namespaces))}: expected one"
        return
    (namespace,) = namespaces
    where = f"kube-prometheus-stack {KUBE_PROMETHEUS_STACK_VERSION} + AlertmanagerConfigs"
    # prod and prod with each optional component ship the same AlertmanagerConfigs: build and ask once
    key = json.dumps([amcfgs, sorted(_secrets(objects, namespace).items())], sort_keys=True)
    yield from ((where, problem) for problem in _merged_problems(key, namespace, config))
    yield from _rule_labels(objects, namespace)


@lru_cache(maxsize=4)
def _merged_problems(key: str, namespace: str, config: PlatformConfig) -> tuple[str, ...]:
    amcfgs, secrets = json.loads(key)
    try:
        merged = merged_config(kube_prometheus_stack_config(), amcfgs, namespace,
                               {(name, k): v for (name, k), v in secrets})
    except OperatorRefusal as refusal:
        return (f"the Prometheus Operator refuses to build the Alertmanager configuration: {refusal}",)
    return (*routing_problems(merged, config, namespace), *inhibition_problems(merged, namespace),
            *(f"{f.where}: {f.message}" for f in tool_check("alertmanager.yaml", config_bytes(merged), "amtool",
                                                             "check-config")))


def _secrets(objects: list[dict[str, Any]], namespace: str) -> dict[tuple[str, str], str]:
    """(Secret name, key) -> value, for the Secrets the overlay ships in `namespace` (a webhook's urlSecret)."""
    found = {}
    for obj in objects:
        if obj.get("kind") == "Secret" and obj.get("metadata", {}).get("namespace") == namespace:
            name = obj["metadata"].get("name")
            found |= {(name, k): base64.b64decode(v).decode() for k, v in (obj.get("data") or {}).items()}
            found |= {(name, k): v for k, v in (obj.get("stringData") or {}).items()}
    return found


def _rule_labels(objects: list[dict[str, Any]], namespace: str) -> Iterator[tuple[str, str]]:
    wanted = {MANAGED_BY_LABEL: MANAGED_BY_VALUE, "namespace": namespace}
    for obj in objects:
        if obj.get("kind") != "PrometheusRule":
            continue
        for group in (obj.get("spec") or {}).get("groups") or []:
            for rule in group.get("rules") or []:
                labels = rule.get("labels") or {}
                if "alert" in rule and any(labels.get(k) != v for k, v in wanted.items()):
                    yield (f"PrometheusRule/{obj['metadata'].get('name')}",
                           f"group {group.get('name')!r} alert {rule['alert']!r}: labels {labels} lack "
                           f"{wanted}: the AlertmanagerConfigs' routes would never match it")
