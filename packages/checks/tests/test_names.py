"""Every generated Kubernetes name is valid for its place: checked on the real overlays, on planted faults,
and on a generator fault (a tenant id the schema now refuses, injected past the loader)."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import pytest

from agentmon_bundle.outputs import render
from agentmon_bundle.pipeline import check_bundle
from agentmon_checks.kustomize import RenderedOverlay, render_overlays
from agentmon_checks.names import check_names
from agentmon_config import load_platform

REPO = Path(__file__).resolve().parents[3]
CONFIG = load_platform(REPO / "config/platform.yaml", REPO / "tenants")
OVERLAYS = {o.name: o for o in render_overlays(REPO, render(CONFIG).files)}


def names_findings(overlay: RenderedOverlay) -> list[str]:
    return [str(f) for f in check_names(overlay)]


def test_every_name_in_every_rendered_overlay_is_valid():
    assert sorted(OVERLAYS) == ["dev", "grafana-operator", "kube-prometheus-stack", "prod", "prod+demo-stack",
                                "prod+ingress", "prod+servicemonitor"]
    assert {name: names_findings(o) for name, o in OVERLAYS.items()} == {name: [] for name in OVERLAYS}


def find(objects: list[dict], kind: str, prefix: str) -> dict:
    (obj,) = [o for o in objects if o["kind"] == kind and o["metadata"]["name"].startswith(prefix)]
    return obj


def test_planted_bad_names_are_each_named():
    objects = copy.deepcopy(OVERLAYS["prod"].objects)
    pod = find(objects, "Deployment", "grafana")["spec"]["template"]["spec"]
    globex = next(i for i, v in enumerate(pod["volumes"]) if v["name"] == "dashboards-tenants-1001")  # globex's shard
    pod["volumes"][globex]["name"] = "dashboards-zeta-"
    pod["containers"][0]["name"] = "Grafana"
    pod["containers"][0]["ports"][0]["name"] = "http-port-number-3000"
    find(objects, "Service", "grafana")["metadata"]["name"] = "3grafana"
    configmap = find(objects, "ConfigMap", "grafana-dashboards-tenants-0000")  # acme's shard
    configmap["data"]["tenant acme.json"] = configmap["data"].pop("acme_tenant-acme.json")
    label = "DNS-1123 label (a-z, 0-9 and '-', starting and ending with a letter or digit, at most 63)"
    at = "overlays/prod: Deployment/grafana: spec.template.spec"
    assert names_findings(RenderedOverlay("prod", objects)) == [
        "overlays/prod: ConfigMap/" + configmap["metadata"]["name"] + ": data key: 'tenant acme.json' is not a valid "
        "ConfigMap/Secret key (letters, digits, '-', '_' and '.', not '.' or '..', at most 253)",
        "overlays/prod: Service/3grafana: metadata.name: '3grafana' is not a valid DNS-1035 label (a DNS-1123 label "
        "that starts with a letter)",
        f"{at}.volumes[{globex}].name: 'dashboards-zeta-' is not a valid {label}",
        f"{at}.containers[0].name: 'Grafana' is not a valid {label}",
        f"{at}.containers[0].ports[0].name: 'http-port-number-3000' is not a valid IANA service name (a-z, 0-9 and "
        "'-', at least one letter, no '--', at most 15)",
        f"{at}.containers[copy-dashboards].volumeMounts: 'dashboards-tenants-1001' is not a volume of this pod",
    ]


def test_duplicate_volume_names_are_named():
    objects = copy.deepcopy(OVERLAYS["prod"].objects)
    pod = find(objects, "Deployment", "grafana")["spec"]["template"]["spec"]
    pod["volumes"].append(dict(pod["volumes"][0]))
    assert names_findings(RenderedOverlay("prod", objects)) == [
        "overlays/prod: Deployment/grafana: spec.template.spec.volumes: 'data' is used 2 times; names must be "
        "unique in a pod"]


@pytest.mark.parametrize(("name", "valid"), [("a" * 63, True), ("a" * 64, False), ("a\n", False), ("", False),
                                             ("a.b", False), ("a--b", True)])
def test_volume_name_rule_is_the_dns_label_rule(name, valid):
    objects = copy.deepcopy(OVERLAYS["prod"].objects)
    pod = find(objects, "Deployment", "grafana")["spec"]["template"]["spec"]
    pod["volumes"][0]["name"] = pod["containers"][0]["volumeMounts"][0]["name"] = name
    assert (names_findings(RenderedOverlay("prod", objects)) == []) is valid


def test_validate_catches_a_generator_that_builds_an_invalid_name():
    """A tenant id ending in '-' (refused by the schema since) makes the names of the targets' resources invalid:
    the check in check_bundle catches such a generator fault whatever lets it through. (The base keys the tenant's
    dashboard zeta-_tenant-zeta-.json in a shard: a valid key.)"""
    zeta = dataclasses.replace(CONFIG.tenants[0], tenant_id="zeta-", source=REPO / "tenants/zeta-/tenant.yaml")
    checked = check_bundle(REPO, dataclasses.replace(CONFIG, tenants=(*CONFIG.tenants, zeta)), against_disk=False)
    invalid = [(f.file, f.where, f.message.split(": ", 1)[1]) for f in checked.findings if "zeta-" in f.message]
    subdomain = "is not a valid DNS-1123 subdomain (DNS labels joined by '.', at most 253 characters)"
    operator = [("GrafanaDashboard/dashboard-tenant-zeta-", f"'dashboard-tenant-zeta-' {subdomain}"),
                ("GrafanaFolder/agentmon-zeta-", f"'agentmon-zeta-' {subdomain}")]
    assert sorted(invalid) == sorted([
        ("overlays/kube-prometheus-stack", "ConfigMap/dashboard-tenant-zeta-", f"'dashboard-tenant-zeta-' {subdomain}"),
        *(("overlays/grafana-operator", where, message) for where, message in operator)])
