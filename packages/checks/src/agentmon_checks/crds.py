"""Generated Prometheus Operator objects against the Operator's own CRDs, through the models generated from them
(PyPI `cloudcoil-models-prometheus-operator`, pinned in pyproject.toml): AlertmanagerConfig
(monitoring.coreos.com/v1alpha1), PrometheusRule and ServiceMonitor (monitoring.coreos.com/v1).

The API server validates a custom resource against the CRD's openAPIV3Schema and kubectl's default strict field
validation refuses unknown fields. The models check types, enums and required fields; they accept unknown fields,
so every key is also looked up in the model's fields here (strict, as kubectl is). Not covered: the CRDs' CEL rules
(x-kubernetes-validations); the Operator's own checks (agentmon_checks.alertmanager_config) and its configuration
build (agentmon_checks.operator_merge) cover the rest.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from functools import cache
from typing import Any

import pydantic


@cache
def models() -> dict[tuple[str, str], type[pydantic.BaseModel]]:
    """The models by (apiVersion, kind). Imported on first use: the generated models take seconds to import, and
    every `agentmon` command that never checks a CRD (tenant, demo, preview, backfill, --help) would pay for them."""
    from cloudcoil.models.prometheus_operator import v1, v1alpha1

    return {
        ("monitoring.coreos.com/v1alpha1", "AlertmanagerConfig"): v1alpha1.AlertmanagerConfig,
        ("monitoring.coreos.com/v1", "PrometheusRule"): v1.PrometheusRule,
        ("monitoring.coreos.com/v1", "ServiceMonitor"): v1.ServiceMonitor,
    }


def crd_problems(doc: Any) -> Iterator[str]:
    """Every way `doc` breaks its CRD, as "<field path>: <problem>"; a kind without a model is one problem."""
    key = (doc.get("apiVersion"), doc.get("kind")) if isinstance(doc, dict) else (None, None)
    model = models().get(key)
    if model is None:
        yield f"apiVersion/kind: {key[0]!r}/{key[1]!r} is not one of {sorted(f'{a}/{k}' for a, k in models())}"
        return
    try:
        model.model_validate(doc, strict=True)
    except pydantic.ValidationError as error:
        for problem in error.errors():
            yield f"{_path(problem['loc'])}: {problem['msg']}"
    yield from _unknown_fields(model, doc, ())


def _path(loc: tuple[Any, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".") or "(document)"


def _unknown_fields(model: type[pydantic.BaseModel], data: Any, where: tuple[Any, ...]) -> Iterator[str]:
    if not isinstance(data, dict):
        return
    fields = {(info.alias or name): info.annotation for name, info in model.model_fields.items()}
    for key, value in data.items():
        if key not in fields:
            yield f"{_path((*where, key))}: unknown field (the CRD has no {key!r} here)"
        else:
            yield from _descend(fields[key], value, (*where, key))


def _descend(annotation: Any, value: Any, where: tuple[Any, ...]) -> Iterator[str]:
    """Into the models an annotation holds: Optional[X], List[X], Dict[str, X], Union[...] of models."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        yield from _unknown_fields(annotation, value, where)
    elif origin in (typing.Union, types.UnionType):
        for arg in args:
            if isinstance(arg, type) and issubclass(arg, pydantic.BaseModel) and isinstance(value, dict):
                yield from _unknown_fields(arg, value, where)
                return
            if typing.get_origin(arg) in (list, dict):
                yield from _descend(arg, value, where)
                return
    elif origin is list and isinstance(value, list):
        for index, item in enumerate(value):
            yield from _descend(args[0], item, (*where, index))
    elif origin is dict and isinstance(value, dict):
        for key, item in value.items():
            yield from _descend(args[1], item, (*where, key))
