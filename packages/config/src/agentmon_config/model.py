"""Typed configuration objects. Defaults live in the JSON Schema, not here: these are filled in by the loader."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentmon_config.fields import is_url_contact
from agentmon_config.targets import Targets


@dataclass(frozen=True)
class Datasource:
    name: str
    uid: str
    url: str
    scrape_interval: str


@dataclass(frozen=True)
class MainDashboard:
    name: str
    title: str
    description: str
    tags: tuple[str, ...]
    refresh: str
    time_from: str
    timezone: str
    refresh_intervals: tuple[str, ...]
    quick_ranges: tuple[str, ...]


@dataclass(frozen=True)
class Thresholds:
    success_rate_critical: float
    success_rate_warning: float
    queue_depth_reference: int
    p95_latency_sla_seconds: float
    error_rate_warning: float
    error_rate_critical: float
    workers_minimum: int
    error_budget_warning: float


@dataclass(frozen=True)
class Provisioning:
    provider_name: str
    dashboards_path: str
    update_interval_seconds: int


@dataclass(frozen=True)
class Kubernetes:
    grafana_image: str
    admin_secret: str
    ingress_namespace: str
    prometheus_namespace: str
    prometheus_port: int
    cpu_request: str
    memory_request: str
    cpu_limit: str
    memory_limit: str


@dataclass(frozen=True)
class Rules:
    evaluation_interval: str
    prometheus_rule_labels: tuple[tuple[str, str], ...]  # sorted (name, value) pairs: hashable, deterministic


@dataclass(frozen=True)
class AlertRule:
    for_: str  # `for:` of the Prometheus alert rule ("for" is a Python keyword)
    severity: str


@dataclass(frozen=True)
class Contact:
    """Who receives alerts: exactly one of an e-mail address, an https:// webhook URL (written inline: it holds
    no credential), or the key of a Kubernetes Secret that holds the webhook URL (secret_name/secret_key)."""

    email: str = ""
    url: str = ""
    secret_name: str = ""
    secret_key: str = ""

    @classmethod
    def of(cls, value: Contact | str | dict[str, str], secret_name: str = "") -> Contact:
        """From a validated configuration value: a string with a scheme is a URL, another string an e-mail
        address, {webhook_secret: KEY} a Secret reference (secret_name: alerts.webhook_secret_name)."""
        if isinstance(value, Contact):
            return value
        if isinstance(value, dict):
            return cls(secret_name=secret_name, secret_key=value["webhook_secret"])
        return cls(url=value) if is_url_contact(value) else cls(email=value)

    def __str__(self) -> str:
        """What may be shown to anyone (a dashboard description, a log): never a webhook's URL."""
        if self.email:
            return self.email
        return f"a webhook (Secret {self.secret_name}, key {self.secret_key})" if self.secret_key else "a webhook"


@dataclass(frozen=True)
class Alerts:
    grafana_url: str
    operations_contact: Contact
    heartbeat_contact: Contact | None  # None (configured as ""): the heartbeat route notifies nobody
    smtp_smarthost: str
    smtp_from: str
    smtp_auth_username: str  # empty: no SMTP login
    smtp_auth_password_key: str  # key of the Secret webhook_secret_name holding the SMTP password
    webhook_secret_name: str  # the Kubernetes Secret whose keys hold the webhook URLs contacts refer to
    allowed_webhook_hosts: tuple[str, ...]  # hosts a webhook may name though internal or plain http
    alertmanager_config_labels: tuple[tuple[str, str], ...]  # sorted (name, value) pairs, like prometheus_rule_labels
    runbooks_url: str
    minimum_failures: int
    error_rate_window: str
    queue_backlog_tenants_percent: float
    burn_keep_firing_for: str
    success_rate_warning: AlertRule
    success_rate_critical: AlertRule
    queue_depth: AlertRule
    p95_latency: AlertRule
    no_active_worker: AlertRule
    metrics_absent: AlertRule
    target_down: AlertRule
    tenant_absent: AlertRule

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> Alerts:
        special = ("alertmanager_config_labels", "operations_contact", "heartbeat_contact", "allowed_webhook_hosts")
        fields = {k: AlertRule(for_=v["for"], severity=v["severity"]) if isinstance(v, dict) else v
                  for k, v in section.items() if k not in special}
        return cls(**fields, alertmanager_config_labels=tuple(sorted(section["alertmanager_config_labels"].items())),
                   operations_contact=Contact.of(section["operations_contact"], section["webhook_secret_name"]),
                   heartbeat_contact=(Contact.of(section["heartbeat_contact"], section["webhook_secret_name"])
                                      if section["heartbeat_contact"] else None),
                   allowed_webhook_hosts=tuple(section["allowed_webhook_hosts"]))


@dataclass(frozen=True)
class Tenant:
    source: Path
    tenant_id: str
    display_name: str
    success_rate_slo: float
    p95_latency_sla_seconds: float
    queue_alert_threshold: int
    owner_contact: Contact


@dataclass(frozen=True)
class PlatformConfig:
    source: Path
    datasource: Datasource
    main_dashboard: MainDashboard
    thresholds: Thresholds
    provisioning: Provisioning
    kubernetes: Kubernetes
    rules: Rules
    alerts: Alerts
    targets: Targets
    tenants: tuple[Tenant, ...] = ()

    @classmethod
    def from_document(cls, source: Path, doc: dict[str, Any]) -> PlatformConfig:
        """Build from a schema-valid document whose defaults are already filled in."""
        return cls(
            source=source,
            datasource=Datasource(**doc["datasource"]),
            main_dashboard=MainDashboard(**_tuples(doc["main_dashboard"])),
            thresholds=Thresholds(**doc["thresholds"]),
            provisioning=Provisioning(**doc["provisioning"]),
            kubernetes=Kubernetes(**{k: tuple(sorted(v.items())) if isinstance(v, dict) else v
                                     for k, v in doc["kubernetes"].items()}),
            rules=Rules(evaluation_interval=doc["rules"]["evaluation_interval"],
                        prometheus_rule_labels=tuple(sorted(doc["rules"]["prometheus_rule_labels"].items()))),
            alerts=Alerts.from_section(doc["alerts"]),
            targets=Targets.from_section(doc["targets"]),
        )


def _tuples(section: dict[str, Any]) -> dict[str, Any]:
    """Lists become tuples so the frozen objects are hashable and truly immutable."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in section.items()}
