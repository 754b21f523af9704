"""The overlays set their Prometheus URL by replacing the text after `url: ` in the generated datasources file:
every datasource name shape the schema allows (docs/operations/grafana-setup.md) must survive that."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from agentmon_bundle.outputs import render
from agentmon_checks.kustomize import render_overlays
from agentmon_config import load_platform
from agentmon_config.loader import check_document, load_schema

REPO = Path(__file__).resolve().parents[3]
CONFIG = load_platform(REPO / "config/platform.yaml", REPO / "tenants")
OVERLAY_URLS = {"dev": "http://prometheus:9090", "prod": "http://prometheus-operated.monitoring.svc:9090"}
# The shapes documented in the configuration reference: letters, digits, spaces and . _ ( ) / -.
ALLOWED_NAMES = ["Prometheus", "P", "prom_main-2.eu", "Prometheus (prod)", "Prometheus / EU", "url", "my url"]


def datasource_files(name: str) -> dict[str, str]:
    """Overlay -> the datasources file Grafana would read from the rendered overlay."""
    config = dataclasses.replace(CONFIG, datasource=dataclasses.replace(CONFIG.datasource, name=name))
    overlays = render_overlays(REPO, render(config).files, with_components=(), only=tuple(OVERLAY_URLS))
    return {overlay.name: configmap["data"]["agentmon.yaml"] for overlay in overlays
            for configmap in overlay.objects if configmap["metadata"]["name"].startswith("grafana-datasources")}


def provisioned(name: str) -> dict[str, dict]:
    return {overlay: YAML(typ="safe", pure=True).load(text)["datasources"][0]
            for overlay, text in datasource_files(name).items()}


@pytest.mark.parametrize("name", ALLOWED_NAMES)
def test_every_allowed_name_shape_survives_the_overlays_url_replacement(name):
    schema = load_schema("platform")
    check_document("test", {**_minimal(), "datasource": {"name": name, "uid": "u"}}, schema)  # allowed
    assert {overlay: (ds["name"], ds["url"]) for overlay, ds in provisioned(name).items()} == {
        overlay: (name, url) for overlay, url in OVERLAY_URLS.items()}


def test_a_name_holding_url_colon_space_would_break_the_replacement():
    """Why the schema refuses ': ': the overlays would rewrite the name instead of the URL."""
    text = datasource_files("Prom url: x")["prod"]
    assert text.endswith("name: 'Prom url: http://prometheus-operated.monitoring.svc:9090url: http://prometheus:9090\n")


def _minimal() -> dict:
    return {"main_dashboard": {"name": "health", "title": "Health"}}
