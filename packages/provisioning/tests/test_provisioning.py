from __future__ import annotations

from pathlib import Path

from agentmon_config import load_platform
from agentmon_provisioning import DASHBOARD_PROVIDERS_FILE, DATASOURCES_FILE, render_provisioning

REPO = Path(__file__).resolve().parents[3]
CONFIG = load_platform(REPO / "config" / "platform.yaml")


def test_datasource_is_the_fixed_uid_prometheus_proxied_with_scrape_interval():
    (datasource,) = render_provisioning(CONFIG)[DATASOURCES_FILE]["datasources"]
    assert datasource == {
        "name": "Prometheus", "type": "prometheus", "uid": "agentmon-prometheus",
        "url": "http://prometheus:9090", "access": "proxy", "isDefault": True, "editable": False,
        "jsonData": {"timeInterval": "15s", "httpMethod": "POST"},
    }
    assert render_provisioning(CONFIG)[DATASOURCES_FILE]["apiVersion"] == 1


def test_dashboard_provider_reads_the_dashboards_folder_and_keeps_ui_edits_out():
    (provider,) = render_provisioning(CONFIG)[DASHBOARD_PROVIDERS_FILE]["providers"]
    assert provider["type"] == "file"
    assert provider["allowUiUpdates"] is False
    assert provider["disableDeletion"] is False  # git is the source of truth in both directions
    assert provider["options"] == {"path": "/var/lib/grafana/dashboards", "foldersFromFilesStructure": True}
    assert provider["updateIntervalSeconds"] == 30
