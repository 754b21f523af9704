"""Dashboards as plain JSON-ready dicts, keyed by their file name under dashboards/."""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from agentmon_config import PlatformConfig
from agentmon_dashboards.main import main_dashboard
from agentmon_dashboards.slo import slo_overview
from agentmon_dashboards.tenant import tenant_dashboard


def to_json_dict(builder: Builder[Any]) -> dict[str, Any]:
    return json.loads(json.dumps(builder.build(), cls=JSONEncoder))


def render_dashboards(config: PlatformConfig) -> dict[str, dict[str, Any]]:
    """Path relative to the dashboards folder -> dashboard JSON. Tenant dashboards sit in a sub-folder named
    after the tenant, which Grafana's file provider turns into a Grafana folder."""
    main, slos = to_json_dict(main_dashboard(config)), to_json_dict(slo_overview(config))
    boards = {f"{main['uid']}.json": main, f"{slos['uid']}.json": slos}
    for tenant in config.tenants:
        board = to_json_dict(tenant_dashboard(config, tenant))
        boards[f"{tenant.tenant_id}/{board['uid']}.json"] = board
    return boards
