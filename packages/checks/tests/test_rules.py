"""validate on the generated recording rules: each planted fault fails, naming the rule or the panel."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path, PurePosixPath

import pytest
from ruamel.yaml import YAML

from agentmon_bundle.outputs import render
from agentmon_bundle.pipeline import semantic_checks
from agentmon_bundle.serialize import yaml_bytes
from agentmon_checks import dashboards, rules
from agentmon_checks.kustomize import render_overlays
from agentmon_config import load_platform
from agentmon_testkit import prerequisite, replace_once

REPO = Path(__file__).resolve().parents[3]
CONFIG = load_platform(REPO / "config/platform.yaml", REPO / "tenants")
RENDERED = render(CONFIG)
RULE_FILE = "rules/agentmon.rules.yml"
OPERATOR = "rules/operator/prometheusrule.yaml"
QUEUE = "tenant_id:queue_depth:sum_avg"


@pytest.fixture(autouse=True)
def promtool():
    """validate runs promtool whenever it is on PATH; these tests need it (a failure in CI when missing)."""
    return prerequisite("promtool")


def with_rules(edit) -> list[str]:
    """Findings of every semantic check after `edit` changed the rendered rules, as a generator defect would:
    the rule file and the PrometheusRule alike (bytes re-serialized)."""
    docs = copy.deepcopy(RENDERED.rules)
    edit(docs["agentmon.rules.yml"])
    edit(docs["operator/prometheusrule.yaml"]["spec"])
    files = {**RENDERED.files, RULE_FILE: yaml_bytes(docs["agentmon.rules.yml"]),
             OPERATOR: yaml_bytes(docs["operator/prometheusrule.yaml"])}
    rendered = dataclasses.replace(RENDERED, rules=docs, files=files)
    return [str(f) for f in semantic_checks(CONFIG, rendered)]


def capacity(doc):
    (group,) = [g for g in doc["groups"] if g["name"] == "agentmon-capacity"]
    return group["rules"]


def test_the_shipped_rules_and_dashboards_pass():
    assert with_rules(lambda doc: None) == []
    assert rules.recorded_series(RENDERED.rules["agentmon.rules.yml"])[QUEUE] == frozenset({"tenant_id"})


def test_a_rule_the_dashboards_need_but_the_bundle_lacks_names_every_panel_reading_it():
    def drop_queue(doc):
        capacity(doc)[:] = [r for r in capacity(doc) if r["record"] != QUEUE]

    findings = with_rules(drop_queue)
    unknown = f"unknown metric '{QUEUE}' (neither in the metrics contract nor recorded by a rule)"
    assert findings == [
        f"dashboards/agentmon-system-health.json: dashboard 'AI Agents - System Health & Performance' panel "
        f"'Pending Enhancement Jobs in Queue' query A: {unknown}",
        f"dashboards/acme/tenant-acme.json: dashboard 'Acme Corp - Enhancement Pipeline' panel "
        f"'Pending Jobs in Queue' query A: {unknown}",
        f"dashboards/globex/tenant-globex.json: dashboard 'Globex - Enhancement Pipeline' panel "
        f"'Pending Jobs in Queue' query A: {unknown}",
    ]


def test_a_misspelled_recorded_name_in_a_panel_is_named():
    board = copy.deepcopy(RENDERED.dashboards["agentmon-system-health.json"])
    target = board["panels"][2]["targets"][0]
    target["expr"] = replace_once(target["expr"], QUEUE, QUEUE + "s")
    recorded = rules.recorded_series(RENDERED.rules["agentmon.rules.yml"])
    assert [str(f) for f in dashboards.promql("main.json", board, "15s", recorded)] == [
        "main.json: dashboard 'AI Agents - System Health & Performance' panel 'Pending Enhancement Jobs in Queue' "
        f"query A: unknown metric '{QUEUE}s' (neither in the metrics contract nor recorded by a rule)"]


def test_a_rule_over_a_metric_outside_the_contract_is_named():
    def add(doc):
        capacity(doc).append({"record": "http_requests:rate5m", "expr": "sum(rate(http_requests_total[5m]))"})

    message = ("group 'agentmon-capacity' rule 'http_requests:rate5m': unknown metric 'http_requests_total' "
               "(neither in the metrics contract nor recorded by a rule)")
    assert with_rules(add) == [f"{RULE_FILE}: {message}"]


def test_a_rule_grouping_by_a_label_the_metric_lacks_is_named():
    def regroup(doc):
        capacity(doc)[0]["expr"] = "sum by (tenant) (avg_over_time(queue_depth[1m]))"

    assert f"{RULE_FILE}: group 'agentmon-capacity' rule '{QUEUE}': groups by unknown label 'tenant'" in \
        with_rules(regroup)


def test_two_rules_recording_the_same_series_are_named():
    def duplicate(doc):
        capacity(doc).append(dict(capacity(doc)[0]))

    assert f"{RULE_FILE}: group 'agentmon-capacity' rule '{QUEUE}': records the same series as group " \
           f"'agentmon-capacity' rule '{QUEUE}' (same name and labels)" in with_rules(duplicate)


def test_promtool_rejects_what_the_parser_accepts():
    """The PrometheusRule holds the very groups of the file (test_a_prometheus_rule_that_differs_from_its_file_is_
    named), so promtool's verdict on the file is its verdict on the PrometheusRule: one finding, naming the file."""
    def add_for(doc):
        capacity(doc)[0]["for"] = "5m"  # recording rules have no `for`

    findings = with_rules(add_for)
    assert [f.split(": ")[:2] for f in findings] == [[RULE_FILE, "promtool check rules --lint=all --lint-fatal"]]
    assert all("invalid field 'for' in recording rule" in f for f in findings), findings


def test_a_prometheus_rule_that_differs_from_its_file_is_named():
    """Each recording-rule file, a tenant shard's too, has a PrometheusRule holding the very same groups."""
    docs = copy.deepcopy(RENDERED.rules)
    docs["operator/limits-26.yaml"]["spec"]["groups"][0]["rules"].pop()
    rendered = dataclasses.replace(RENDERED, rules=docs)
    assert [str(f) for f in semantic_checks(CONFIG, rendered)] == [
        "rules/operator/limits-26.yaml: spec.groups: differ from rules/agentmon.limits-26.rules.yml: both must load "
        "the same rules"]


def test_the_prometheus_rule_is_checked_structurally():
    good = RENDERED.rules["operator/prometheusrule.yaml"]
    assert list(rules.prometheus_rule_problems(good)) == []
    broken = {**copy.deepcopy(good), "apiVersion": "monitoring.coreos.com/v2"}
    broken["spec"]["groups"][0]["rules"][0]["recordd"] = "x"
    assert list(rules.prometheus_rule_problems(broken)) == [
        "apiVersion: 'monitoring.coreos.com/v2', expected 'monitoring.coreos.com/v1'",
        "spec.groups[0].rules[0]: unknown field(s) recordd"]


def test_every_prometheus_loads_the_same_generated_rules():
    """compose mounts rules/ where prometheus.yml's rule_files points; the dev overlay's demo Prometheus mounts the
    generated ConfigMap there; the Operator component ships the PrometheusRule with the configured labels."""
    compose = YAML(typ="safe").load((REPO / "compose/docker-compose.yml").read_text())
    (rule_glob,) = YAML(typ="safe").load((REPO / "compose/prometheus.yml").read_text())["rule_files"]
    mount_dir = PurePosixPath(rule_glob).parent
    assert f"../rules:{mount_dir}:ro" in compose["services"]["prometheus"]["volumes"]
    assert PurePosixPath(f"{mount_dir}/agentmon.rules.yml").match(rule_glob)

    overlays = {o.name: o.objects for o in render_overlays(REPO, RENDERED.files)}
    dev = {f"{o['kind']}/{o['metadata']['name']}": o for o in overlays["dev"]}
    pod = dev["Deployment/prometheus"]["spec"]["template"]["spec"]
    (mount,) = [m for m in pod["containers"][0]["volumeMounts"] if m["mountPath"] == str(mount_dir)]
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    # one folder of every rules ConfigMap: the main one and one per tenant shard (acme's 30, globex's 26)
    mounted = {key: text for source in volume["projected"]["sources"]
               for key, text in dev[f"ConfigMap/{source['configMap']['name']}"]["data"].items()}
    names = ["agentmon.alerts.rules.yml", "agentmon.limits-26.rules.yml", "agentmon.limits-30.rules.yml",
             "agentmon.rules.yml"]
    assert mounted == {name: RENDERED.files[f"rules/{name}"].decode() for name in names}
    assert all(PurePosixPath(f"{mount_dir}/{name}").match(rule_glob) for name in names)

    shipped = {o["metadata"]["name"]: o for o in overlays["prod"] if o["kind"] == "PrometheusRule"}
    recording, alerting = shipped["agentmon-recording-rules"], shipped["agentmon-alerts"]
    assert shipped["agentmon-limits-26"]["spec"] == RENDERED.rules["agentmon.limits-26.rules.yml"]
    for rule in (recording, alerting):
        assert rule["metadata"]["namespace"] == "monitoring"
        assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert recording["spec"] == RENDERED.rules["agentmon.rules.yml"]
    # The same alerts, each labelled with prod's namespace (overlays/prod: for the AlertmanagerConfig's routes).
    assert [{**r, "labels": {k: v for k, v in r["labels"].items() if k != "namespace"}}
            for g in alerting["spec"]["groups"] for r in g["rules"]] == [
        r for g in RENDERED.rules["agentmon.alerts.rules.yml"]["groups"] for r in g["rules"]]
    assert {r["labels"]["namespace"] for g in alerting["spec"]["groups"] for r in g["rules"]} == {"monitoring"}
    # prod and kube-prometheus-stack list the component, so every variant of theirs ships the same two; dev's
    # Prometheus loads the files instead; grafana-operator ships them only when its user adds the component
    assert {name: sorted(o["metadata"]["name"] for o in objects if o["kind"] == "PrometheusRule")
            for name, objects in overlays.items()} == {
        "dev": [], "grafana-operator": [],
        **{name: ["agentmon-alerts", "agentmon-limits-26", "agentmon-limits-30", "agentmon-recording-rules"]
           for name in ("prod", "prod+demo-stack", "prod+ingress", "prod+servicemonitor", "kube-prometheus-stack")}}


def test_a_rule_that_reads_a_series_recorded_further_down_gets_its_labels_in_a_later_pass():
    """x:double reads y:rate, which the next rule records: the first pass knows no labels of y:rate, the second
    must read x:double again (only rules whose inputs changed are read again)."""
    doc = {"groups": [{"name": "g", "rules": [
        {"record": "x:double", "expr": "2 * y:rate"},
        {"record": "y:rate", "expr": "sum by (tenant_id, status) (rate(enhancement_requests_total[5m]))"},
        {"record": "z:total", "expr": "sum(x:double)"},
    ]}]}
    assert rules.recorded_series(doc) == {"x:double": frozenset({"tenant_id", "status"}),
                                          "y:rate": frozenset({"tenant_id", "status"}),
                                          "z:total": frozenset()}
