"""Stable identity of generated dashboards; declared in agentmon_config.identity, which the alert rules' panel
links share (the two generators may not import each other)."""

from agentmon_config.identity import GENERATED_TAG, MAX_UID_LENGTH, UID_PREFIX, dashboard_uid, tenant_dashboard_uid

__all__ = ["GENERATED_TAG", "MAX_UID_LENGTH", "UID_PREFIX", "dashboard_uid", "tenant_dashboard_uid"]
