"""Generated Prometheus Operator objects against the Operator's own CRD schemas (vendored from its 0.93.0 release:
data/NOTICE.md): AlertmanagerConfig (monitoring.coreos.com/v1alpha1), PrometheusRule and ServiceMonitor
(monitoring.coreos.com/v1).

The API server validates a custom resource against the CRD's openAPIV3Schema (types, enums, patterns, required
fields, minLength...), and kubectl's default strict field validation refuses unknown fields: the schema is made
strict here the same way (additionalProperties: false wherever the CRD lists properties and does not preserve
unknown fields). Not covered: the CRDs' CEL rules (x-kubernetes-validations); the Operator's own checks
(agentmon_checks.alertmanager_config) and its configuration build (agentmon_checks.operator_merge) cover the rest.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

SCHEMAS = {("monitoring.coreos.com/v1alpha1", "AlertmanagerConfig"): "alertmanagerconfigs.v1alpha1",
           ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheusrules.v1",
           ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitors.v1"}


@cache
def crd_schema(name: str) -> dict[str, Any]:
    text = resources.files("agentmon_checks").joinpath("data", f"prometheus-operator-{name}.schema.json").read_text()
    return json.loads(text)


@cache
def _validator(name: str) -> jsonschema.protocols.Validator:
    schema = _strict(crd_schema(name)["openAPIV3Schema"])
    return jsonschema.Draft7Validator(schema)


def _strict(node: Any) -> Any:
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    strict = {key: _strict(value) for key, value in node.items()}
    if "properties" in node and "additionalProperties" not in node \
            and not node.get("x-kubernetes-preserve-unknown-fields"):
        strict["additionalProperties"] = False
    if node.get("x-kubernetes-int-or-string"):
        strict["type"] = ["integer", "string"]
    return strict


def crd_problems(doc: Any) -> Iterator[str]:
    """Every way `doc` breaks its CRD's schema, as "<field path>: <problem>"; a kind without a vendored CRD is one
    problem."""
    key = (doc.get("apiVersion"), doc.get("kind")) if isinstance(doc, dict) else (None, None)
    if key not in SCHEMAS:
        yield f"apiVersion/kind: {key[0]!r}/{key[1]!r} is not one of {sorted(f'{a}/{k}' for a, k in SCHEMAS)}"
        return
    for error in sorted(_validator(SCHEMAS[key]).iter_errors(doc), key=lambda e: list(map(str, e.absolute_path))):
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
        yield f"{where or '(document)'}: {error.message}"
