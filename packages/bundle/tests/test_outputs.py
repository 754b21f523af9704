"""The grafana-operator dashboards' inline JSON, written by json.dumps, reads back exactly in YAML and kustomize."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from agentmon_bundle.outputs import _configmap_with_block_json, _yaml_with_inline_json
from agentmon_bundle.serialize import json_bytes, yaml_bytes
from agentmon_checks.kustomize import build

TITLES = ['Acme "quoted" \\ back\tslash', "Café Zürich \u2028 line separator \u0001",
          "emoji \U0001F600 beyond U+FFFF"]


def dashboard(title: str) -> dict:
    board = json.dumps({"title": title, "uid": "tenant-acme"}, sort_keys=True, separators=(",", ":"),
                       ensure_ascii=False)  # raw characters, to exercise the escapes (the generator's is ASCII)
    return {"apiVersion": "grafana.integreatly.org/v1beta1", "kind": "GrafanaDashboard",
            "metadata": {"name": "dashboard-tenant-acme"}, "spec": {"json": board, "uid": "tenant-acme"}}


@pytest.mark.parametrize("title", TITLES)
def test_the_inline_json_reads_back_exactly_with_both_yaml_loaders_and_kustomize(tmp_path: Path, title: str):
    assert_reads_back(tmp_path, dashboard(title), _yaml_with_inline_json)


def assert_reads_back(tmp_path: Path, doc: dict, write) -> None:
    written = write(doc)
    assert YAML(typ="safe").load(written) == YAML(typ="safe", pure=True).load(written) == doc
    (tmp_path / "object.yaml").write_bytes(written)
    (tmp_path / "kustomization.yaml").write_text("resources: [object.yaml]\n")
    assert build(tmp_path) == [doc]


def test_json_dumps_writes_the_json_and_ruamel_the_rest():
    plain, emoji = dashboard(TITLES[0]), dashboard(TITLES[2])
    assert ("  json: " + json.dumps(plain["spec"]["json"]) + "\n").encode() in _yaml_with_inline_json(plain)
    assert _yaml_with_inline_json(emoji) == yaml_bytes(emoji)  # a surrogate pair YAML would refuse
    assert _yaml_with_inline_json({"kind": "GrafanaFolder", "spec": {"title": "acme"}}) == yaml_bytes(
        {"kind": "GrafanaFolder", "spec": {"title": "acme"}})


def configmap(title: str) -> dict:
    """A tenant dashboard's ConfigMap for the kube-prometheus-stack sidecar, its JSON as the build writes it."""
    text = json_bytes({"title": title, "uid": "tenant-acme", "panels": [{"id": 1}, {}]}).decode()
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "dashboard-tenant-acme", "annotations": {"grafana_folder": "acme"}},
            "data": {"tenant-acme.json": text}}


@pytest.mark.parametrize("title", [*TITLES, "trailing space ", "# not a comment", "---", "plain"])
def test_the_sidecar_json_reads_back_exactly_with_both_yaml_loaders_and_kustomize(tmp_path: Path, title: str):
    assert_reads_back(tmp_path, configmap(title), _configmap_with_block_json)


def test_the_sidecar_json_is_a_literal_block_unless_yaml_could_not_hold_it_so():
    block = _configmap_with_block_json(configmap("plain")).decode()
    assert '  tenant-acme.json: |\n    {\n      "panels": [\n        {\n          "id": 1\n' in block
    # a tab, a Unicode line separator, a control character: one double-quoted line of escapes, by ruamel
    assert _configmap_with_block_json(configmap(TITLES[1])) == yaml_bytes(configmap(TITLES[1]))
