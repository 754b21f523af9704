"""Typed agentmon configuration: the only package that reads configuration files."""

from agentmon_config.errors import ConfigError
from agentmon_config.loader import check_tenant_answers, load_platform, load_simulator_profile, load_tenants
from agentmon_config.model import (
    AlertRule,
    Alerts,
    Contact,
    Datasource,
    Kubernetes,
    MainDashboard,
    PlatformConfig,
    Provisioning,
    Rules,
    Tenant,
    Thresholds,
)
from agentmon_config.targets import GrafanaOperator, KubePrometheusStack, ServiceMonitor, Targets, with_datasource_uid

__all__ = [
    "AlertRule",
    "Alerts",
    "ConfigError",
    "Contact",
    "Datasource",
    "GrafanaOperator",
    "KubePrometheusStack",
    "Kubernetes",
    "MainDashboard",
    "PlatformConfig",
    "Provisioning",
    "Rules",
    "ServiceMonitor",
    "Targets",
    "Tenant",
    "Thresholds",
    "check_tenant_answers",
    "load_platform",
    "load_simulator_profile",
    "load_tenants",
    "with_datasource_uid",
]
