"""Custom resources checked against their operators' own CRDs (vendored under crds/, see crds/README.md).

The API server validates a custom resource against its CRD's openAPIV3Schema; that schema is JSON Schema
(OpenAPI 3.0's subset), so jsonschema checks it here offline. Unknown fields: the API server prunes them
silently (or refuses them under strict field validation), so a misspelt field would vanish unnoticed; they are
refused here, as strict validation does, unless the schema keeps unknown fields (x-kubernetes-preserve-unknown-fields).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from ruamel.yaml import YAML

CRD_DIR = Path(__file__).parent / "crds"


@cache
def crd_schemas() -> dict[tuple[str, str], tuple[str, dict[str, Any]]]:
    """(apiVersion, kind) -> (the CRD's folder, its strict openAPIV3Schema), for every served version."""
    schemas = {}
    for file in sorted(CRD_DIR.glob("*/*.yaml")):
        for crd in YAML(typ="safe").load_all(file.read_text()):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                if version.get("served"):
                    schema = _strict(version["schema"]["openAPIV3Schema"])
                    schemas[(f"{group}/{version['name']}", kind)] = (file.parent.name, schema)
    return schemas


def _strict(schema: Any) -> Any:
    """A copy in which objects with declared properties refuse others (strict field validation)."""
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    strict = {k: _strict(v) if k in ("items", "additionalProperties", "anyOf", "allOf", "oneOf") else v
              for k, v in schema.items()}
    if isinstance(schema.get("properties"), dict):
        strict["properties"] = {k: _strict(v) for k, v in schema["properties"].items()}
    if ("properties" in strict and "additionalProperties" not in strict
            and not strict.get("x-kubernetes-preserve-unknown-fields")):
        strict["additionalProperties"] = False
    return strict


def is_known(obj: dict[str, Any]) -> bool:
    return (obj.get("apiVersion"), obj.get("kind")) in crd_schemas()


def crd_problems(obj: dict[str, Any]) -> Iterator[str]:
    """Schema errors of a custom resource, each naming the field path and the CRD it breaks."""
    known = crd_schemas().get((obj.get("apiVersion"), obj.get("kind")))
    if known is None:
        yield f"no vendored CRD for {obj.get('apiVersion')} {obj.get('kind')}"
        return
    source, schema = known
    validator = jsonschema.Draft7Validator(schema)
    for error in sorted(validator.iter_errors(obj), key=lambda e: [str(p) for p in e.absolute_path]):
        path = ".".join(str(p) for p in error.absolute_path) or "<object>"
        yield f"{path}: {error.message} (CRD {obj['kind']} of {source})"
