"""The kube-prometheus-stack and grafana-operator targets, rendered with real kustomize, replayed the way the
chart's dashboard sidecar and grafana-operator place dashboards; planted faults are named."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path, PurePosixPath

import pytest
from ruamel.yaml import YAML

from agentmon_bundle.outputs import render
from agentmon_checks import crds, targets
from agentmon_checks import kubernetes as kube_checks
from agentmon_checks.kustomize import RenderedOverlay, render_overlays
from agentmon_config import load_platform

REPO = Path(__file__).resolve().parents[3]
CONFIG = load_platform(REPO / "config/platform.yaml", REPO / "tenants")
RENDERED = render(CONFIG)
KPS, OPERATOR = "kube-prometheus-stack", "grafana-operator"
OVERLAYS = {o.name: o for o in render_overlays(REPO, RENDERED.files, with_components=(), only=(KPS, OPERATOR))}
# The chart's values (grafana-community/helm-charts charts/grafana/values.yaml, kube-prometheus-stack 88.5.3):
# sidecar.dashboards.folder, the folder the sidecar writes to and the file provider reads.
SIDECAR_FOLDER = "/tmp/dashboards"


def problems(name: str, objects: list[dict] | None = None, config=CONFIG) -> list[str]:
    overlay = RenderedOverlay(name, objects if objects is not None else OVERLAYS[name].objects)
    return [str(f) for f in targets.check_target(overlay, config, RENDERED.dashboards)]


def find(objects: list[dict], kind: str, name: str) -> dict:
    (found,) = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def datasource_uids(node) -> set[str]:
    """Every datasource uid anywhere in a dashboard (panels, queries, variables, annotations)."""
    if isinstance(node, dict):
        own = {node["datasource"]["uid"]} if isinstance(node.get("datasource"), dict) else set()
        return own.union(*(datasource_uids(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(datasource_uids(v) for v in node))
    return set()


def sidecar_files(objects: list[dict], label: str = "grafana_dashboard", value: str = "1",
                  annotation: str = "grafana_folder") -> dict[str, dict]:
    """What k8s-sidecar writes (README: FOLDER, FOLDER_ANNOTATION relative to FOLDER, LABEL/LABEL_VALUE)."""
    files = {}
    for cm in (o for o in objects if o["kind"] == "ConfigMap" and o["metadata"].get("labels", {}).get(label) == value):
        folder = PurePosixPath(SIDECAR_FOLDER) / cm["metadata"].get("annotations", {}).get(annotation, "")
        for key, text in cm["data"].items():
            assert str(folder / key) not in files
            files[str(folder / key)] = json.loads(text)
    return files


def test_every_target_passes_every_check():
    assert {name: problems(name) for name in OVERLAYS} == {KPS: [], OPERATOR: []}
    assert {name: [str(f) for f in kube_checks.check_overlay(o, CONFIG)] for name, o in OVERLAYS.items()} == {
        KPS: [], OPERATOR: []}


def test_the_sidecar_loads_every_dashboard_into_its_folder_pointing_at_the_charts_datasource():
    files = sidecar_files(OVERLAYS[KPS].objects)
    # foldersFromFilesStructure: a file directly in the folder lands in General, one in <dir>/ in folder <dir>
    assert {path: board["uid"] for path, board in files.items()} == {
        "/tmp/dashboards/agentmon-system-health.json": "agentmon-system-health",
        "/tmp/dashboards/agentmon-tenant-slos.json": "agentmon-tenant-slos",
        "/tmp/dashboards/acme/tenant-acme.json": "tenant-acme",
        "/tmp/dashboards/globex/tenant-globex.json": "tenant-globex"}
    assert {path: datasource_uids(board) for path, board in files.items()} == {path: {"prometheus"} for path in files}
    # the standard bundle keeps its own datasource
    assert datasource_uids(RENDERED.dashboards["acme/tenant-acme.json"]) == {"agentmon-prometheus"}
    # the two tenants' dashboards differ beyond their uid (their own SLOs and limits)
    acme, globex = files["/tmp/dashboards/acme/tenant-acme.json"], files["/tmp/dashboards/globex/tenant-globex.json"]
    assert json.dumps(acme).replace("acme", "globex").replace("Acme", "Globex") != json.dumps(globex)


def test_kube_prometheus_stack_deploys_no_grafana_only_dashboards_rules_routing_and_the_service_monitor():
    objects = OVERLAYS[KPS].objects
    assert sorted(f"{o['kind']}/{o['metadata']['name']}" for o in objects) == [
        "AlertmanagerConfig/agentmon-routing", "AlertmanagerConfig/agentmon-routing-05",
        "ConfigMap/dashboard-agentmon-system-health", "ConfigMap/dashboard-agentmon-tenant-slos",
        "ConfigMap/dashboard-tenant-acme", "ConfigMap/dashboard-tenant-globex", "PrometheusRule/agentmon-alerts",
        "PrometheusRule/agentmon-limits-26", "PrometheusRule/agentmon-limits-30",  # globex's and acme's limits
        "PrometheusRule/agentmon-recording-rules", "ServiceMonitor/agentmon-platform"]
    assert {o["metadata"]["namespace"] for o in objects} == {"monitoring"}
    monitor = find(objects, "ServiceMonitor", "agentmon-platform")
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"  # the chart's serviceMonitorSelector
    assert monitor["spec"]["endpoints"] == [{"interval": "15s", "path": "/metrics", "port": "metrics"}]
    assert monitor["spec"]["selector"] == {"matchLabels": {"app.kubernetes.io/name": "ai-agents-platform"}}
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["ai-agents"]}
    # the rules and the routing exactly as prod ships them (overlays/kube-prometheus-stack copies prod's
    # replacement that labels the alerts for the Operator's namespace matcher: this fails when the two part)
    prod = render_overlays(REPO, RENDERED.files, with_components=(), only=("prod",))[0].objects
    for kind, name in (("PrometheusRule", "agentmon-alerts"), ("PrometheusRule", "agentmon-recording-rules"),
                       ("AlertmanagerConfig", "agentmon-routing")):
        assert find(objects, kind, name) == find(prod, kind, name), f"{kind}/{name}"


def test_a_configured_datasource_uid_and_sidecar_label_reach_every_dashboard(tmp_path):
    kps = dataclasses.replace(CONFIG.targets.kube_prometheus_stack, datasource_uid="kps-prom",
                              dashboard_label="team_dashboards", dashboard_label_value="agentmon",
                              folder_annotation="k8s-sidecar-target-directory")
    config = dataclasses.replace(CONFIG, targets=dataclasses.replace(CONFIG.targets, kube_prometheus_stack=kps))
    rendered = render(config)
    (overlay,) = render_overlays(REPO, rendered.files, with_components=(), only=(KPS,))
    files = sidecar_files(overlay.objects, "team_dashboards", "agentmon", "k8s-sidecar-target-directory")
    assert sorted(files) == ["/tmp/dashboards/acme/tenant-acme.json", "/tmp/dashboards/agentmon-system-health.json",
                             "/tmp/dashboards/agentmon-tenant-slos.json", "/tmp/dashboards/globex/tenant-globex.json"]
    assert set().union(*(datasource_uids(b) for b in files.values())) == {"kps-prom"}
    assert [str(f) for f in targets.check_target(overlay, config, rendered.dashboards)] == []
    # the same objects checked against the default configuration: nothing carries the label the sidecar selects by
    assert problems(KPS, overlay.objects)[:1] == [
        "overlays/kube-prometheus-stack: bundle: dashboard 'agentmon-system-health' is not deployed"]


def test_a_dashboard_pointing_at_another_datasource_is_named():
    objects = copy.deepcopy(OVERLAYS[KPS].objects)
    cm = find(objects, "ConfigMap", "dashboard-tenant-acme")
    cm["data"]["tenant-acme.json"] = cm["data"]["tenant-acme.json"].replace('"uid": "prometheus"',
                                                                            '"uid": "agentmon-prometheus"', 1)
    assert problems(KPS, objects) == [
        "overlays/kube-prometheus-stack: ConfigMap/dashboard-tenant-acme data.tenant-acme.json: annotation "
        "'Firing alerts': datasource uid 'agentmon-prometheus', expected 'prometheus'"]


def test_a_missing_folder_annotation_a_doubled_dashboard_and_a_second_key_are_named():
    objects = copy.deepcopy(OVERLAYS[KPS].objects)
    del find(objects, "ConfigMap", "dashboard-tenant-acme")["metadata"]["annotations"]
    twin = copy.deepcopy(find(objects, "ConfigMap", "dashboard-tenant-globex"))
    twin["metadata"]["name"] = "dashboard-tenant-globex-copy"
    twin["metadata"]["annotations"]["grafana_folder"] = "elsewhere"
    main = find(objects, "ConfigMap", "dashboard-agentmon-system-health")
    main["data"]["notes.txt"] = "{}"
    assert problems(KPS, [*objects, twin]) == [
        "overlays/kube-prometheus-stack: ConfigMap/dashboard-agentmon-system-health: data: 2 keys; one dashboard "
        "per ConfigMap keeps each within the size budget",
        "overlays/kube-prometheus-stack: ConfigMap/dashboard-agentmon-system-health: data.notes.txt: Grafana's "
        "file provider loads only *.json files",
        "overlays/kube-prometheus-stack: ConfigMap/dashboard-agentmon-system-health data.notes.txt: not a dashboard "
        "with a uid (Grafana would give it a random one)",
        "overlays/kube-prometheus-stack: bundle: file name tenant-globex.json is used by 2 ConfigMaps: file names "
        "must be unique across folders",
        "overlays/kube-prometheus-stack: ConfigMap/dashboard-tenant-acme data.tenant-acme.json: dashboard "
        "'tenant-acme' would land in folder 'General', expected 'acme'",
        "overlays/kube-prometheus-stack: bundle: dashboard 'tenant-globex' is deployed 2 times "
        "(ConfigMap/dashboard-tenant-globex data.tenant-globex.json, "
        "ConfigMap/dashboard-tenant-globex-copy data.tenant-globex.json)"]


def test_a_grafana_in_a_target_is_named():
    grafana = {"apiVersion": "grafana.integreatly.org/v1beta1", "kind": "Grafana",
               "metadata": {"name": "grafana", "namespace": "monitoring"}, "spec": {}}
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "grafana"}}
    assert problems(KPS, [*OVERLAYS[KPS].objects, deployment]) == [
        "overlays/kube-prometheus-stack: Deployment/grafana: this target deploys nothing that runs: the user's stack "
        "already runs Grafana"]
    assert problems(OPERATOR, [*OVERLAYS[OPERATOR].objects, grafana]) == [
        "overlays/grafana-operator: Grafana/grafana: this target deploys nothing that runs: the user's stack "
        "already runs Grafana"]


def test_the_operator_resources_fold_every_dashboard_into_its_tenants_folder_on_one_datasource():
    """grafana-operator's CRD schemas ship in no package agentmon can depend on, and copies of them are not committed
    here: the resources' structure is checked by agentmon_checks.targets (its own test below)."""
    objects = OVERLAYS[OPERATOR].objects
    assert sorted(f"{o['kind']}/{o['metadata']['name']}" for o in objects) == [
        "GrafanaDashboard/dashboard-agentmon-system-health", "GrafanaDashboard/dashboard-agentmon-tenant-slos",
        "GrafanaDashboard/dashboard-tenant-acme", "GrafanaDashboard/dashboard-tenant-globex",
        "GrafanaDatasource/agentmon-datasource",
        "GrafanaFolder/agentmon-acme", "GrafanaFolder/agentmon-globex"]
    # dashboards in the folders of their tenant, resolving to the datasource the overlay ships, at the overlay's URL
    boards = {o["metadata"]["name"]: o["spec"] for o in objects if o["kind"] == "GrafanaDashboard"}
    assert {name: spec.get("folderRef") for name, spec in boards.items()} == {
        "dashboard-agentmon-system-health": None, "dashboard-agentmon-tenant-slos": None,
        "dashboard-tenant-acme": "agentmon-acme",
        "dashboard-tenant-globex": "agentmon-globex"}
    assert set().union(*(datasource_uids(json.loads(s["json"])) for s in boards.values())) == {"agentmon-prometheus"}
    # kustomize reads back exactly the dashboards of dashboards/ (same datasource uid by default)
    assert {name: json.loads(spec["json"]) for name, spec in boards.items()} == {
        f"dashboard-{board['uid']}": board for board in RENDERED.dashboards.values()}
    datasource = find(objects, "GrafanaDatasource", "agentmon-datasource")["spec"]["datasource"]
    assert (datasource["uid"], datasource["url"]) == ("agentmon-prometheus",
                                                      "http://prometheus-operated.monitoring.svc:9090")


def test_a_dashboard_referencing_a_missing_folder_or_two_folders_is_named():
    objects = copy.deepcopy(OVERLAYS[OPERATOR].objects)
    objects = [o for o in objects if o["metadata"]["name"] != "agentmon-globex"]
    find(objects, "GrafanaDashboard", "dashboard-tenant-acme")["spec"]["folderUID"] = "agentmon-acme"
    assert problems(OPERATOR, objects) == [
        "overlays/grafana-operator: GrafanaDashboard/dashboard-tenant-acme: spec: only one of folder, folderUID and "
        "folderRef may be set, found ['folderUID', 'folderRef']",
        "overlays/grafana-operator: GrafanaDashboard/dashboard-tenant-globex: spec.folderRef: no GrafanaFolder "
        "'agentmon-globex' in this overlay",
        "overlays/grafana-operator: GrafanaDashboard/dashboard-tenant-globex: dashboard 'tenant-globex' would land "
        "in folder 'General', expected 'globex'"]


def test_operator_instance_selector_and_datasource_follow_the_configuration():
    operator = dataclasses.replace(CONFIG.targets.grafana_operator, create_datasource=False, datasource_uid="prom",
                                   instance_selector=(("app", "grafana"), ("team", "ops")))
    config = dataclasses.replace(CONFIG, targets=dataclasses.replace(CONFIG.targets, grafana_operator=operator))
    rendered = render(config)
    (overlay,) = render_overlays(REPO, rendered.files, with_components=(), only=(OPERATOR,))
    assert "GrafanaDatasource" not in {o["kind"] for o in overlay.objects}
    assert {json.dumps(o["spec"]["instanceSelector"], sort_keys=True) for o in overlay.objects} == {
        '{"matchLabels": {"app": "grafana", "team": "ops"}}'}
    assert [str(f) for f in targets.check_target(overlay, config, rendered.dashboards)] == []
    # checked against the default configuration, the same objects are named
    assert problems(OPERATOR, overlay.objects)[0] == (
        "overlays/grafana-operator: GrafanaDashboard/dashboard-agentmon-system-health: spec.instanceSelector: must be "
        "{'matchLabels': {'dashboards': 'grafana'}} (targets.grafana_operator.instance_selector)")


@pytest.mark.parametrize(("pad", "over"), [(0, False), (1, True)])
def test_the_size_budget_applies_to_grafana_dashboards_at_the_byte(pad, over):
    board = copy.deepcopy(find(OVERLAYS[OPERATOR].objects, "GrafanaDashboard", "dashboard-tenant-acme"))
    size = len(json.dumps(board, separators=(",", ":")).encode())
    board["metadata"]["annotations"] = {"note": ""}
    base = len(json.dumps(board, separators=(",", ":")).encode())
    board["metadata"]["annotations"]["note"] = "x" * (kube_checks.MAX_OBJECT_BYTES - base + pad)
    assert size < 20_000  # one tenant's dashboard: far below the budget
    found = [p for p in (str(f) for f in kube_checks.check_overlay(RenderedOverlay(OPERATOR, [board]), CONFIG))
             if "budget" in p]
    assert found == (["overlays/grafana-operator: GrafanaDashboard/dashboard-tenant-acme: 250,001 bytes, over the "
                      "250,000-byte budget (client-side `kubectl apply` stores the object in a 262,144-byte "
                      "annotation): split it or trim the dashboards"] if over else [])


def test_a_service_monitor_at_the_stacks_default_interval_or_unselected_is_named():
    objects = copy.deepcopy(OVERLAYS[KPS].objects)
    monitor = find(objects, "ServiceMonitor", "agentmon-platform")
    monitor["spec"]["endpoints"][0]["interval"] = "30s"
    monitor["metadata"]["labels"]["release"] = "prometheus"
    assert problems(KPS, objects) == [
        "overlays/kube-prometheus-stack: ServiceMonitor/agentmon-platform: metadata.labels.release: 'prometheus', "
        "expected 'kube-prometheus-stack' (targets.service_monitor.labels, what serviceMonitorSelector matches)",
        "overlays/kube-prometheus-stack: ServiceMonitor/agentmon-platform: spec.endpoints[0].interval: '30s', "
        "expected '15s' (datasource.scrape_interval; the Operator's default is the Prometheus resource's, 30 s in "
        "kube-prometheus-stack)"]
    monitor["spec"]["endpoints"][0]["interval"] = "15 s"
    assert list(crds.crd_problems(monitor)) == [
        "spec.endpoints[0].interval: String should match pattern '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?"
        "(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$'"]


def test_the_documented_helm_values_set_what_the_overlay_needs_and_the_chart_defaults_match_the_configuration():
    """docs/operations/kubernetes.md's values file; the chart's defaults as kube-prometheus-stack 88.5.3's
    values.yaml and the Grafana subchart 12.11.1's state them (grafana.sidecar.dashboards.label/labelValue,
    grafana.sidecar.datasources.uid)."""
    text = (REPO / "docs/operations/kubernetes.md").read_text()
    section = text[text.index("### kube-prometheus-stack"):text.index("### grafana-operator")]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    assert YAML(typ="safe").load(block) == {"grafana": {"sidecar": {"dashboards": {
        "folderAnnotation": CONFIG.targets.kube_prometheus_stack.folder_annotation,
        "provider": {"foldersFromFilesStructure": True}}}}}
    kps = CONFIG.targets.kube_prometheus_stack
    assert (kps.dashboard_label, kps.dashboard_label_value, kps.datasource_uid) == ("grafana_dashboard", "1",
                                                                                    "prometheus")
    assert dict(CONFIG.targets.service_monitor.labels) == dict(CONFIG.rules.prometheus_rule_labels) == {
        "release": "kube-prometheus-stack"}
