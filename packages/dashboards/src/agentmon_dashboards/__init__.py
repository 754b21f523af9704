"""Dashboard generators: pure functions from typed configuration to Grafana dashboard JSON."""

from agentmon_dashboards.identity import GENERATED_TAG, dashboard_uid, tenant_dashboard_uid
from agentmon_dashboards.main import main_dashboard
from agentmon_dashboards.render import render_dashboards, to_json_dict

__all__ = ["GENERATED_TAG", "dashboard_uid", "main_dashboard", "render_dashboards", "tenant_dashboard_uid",
           "to_json_dict"]
