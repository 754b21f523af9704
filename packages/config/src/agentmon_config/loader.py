"""Load YAML configuration, validate it against its JSON Schema, fill defaults, return typed objects.

Every failure is a ConfigError naming the file, the dotted field path and, when known, the line.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from agentmon_config.durations import duration_seconds
from agentmon_config.errors import ConfigError, ConfigErrors
from agentmon_config.model import PlatformConfig, Tenant

TENANT_FILE = "tenant.yaml"


@cache
def load_schema(name: str) -> dict[str, Any]:
    text = resources.files("agentmon_config").joinpath("schemas", f"{name}.schema.json").read_text()
    return json.loads(text)


def load_platform(path: Path | str, tenants_dir: Path | str | None = None) -> PlatformConfig:
    """Read and validate the platform configuration file, and every tenant under tenants_dir."""
    path = Path(path)
    doc = load_document(path, load_schema("platform"))
    _check_ordering(path, doc)
    config = PlatformConfig.from_document(path, doc)
    if tenants_dir is None:
        return config
    return dataclasses.replace(config, tenants=load_tenants(Path(tenants_dir)))


def load_tenants(tenants_dir: Path) -> tuple[Tenant, ...]:
    """tenants/<tenant_id>/tenant.yaml for every tenant, sorted by id; the folder name must equal tenant_id."""
    tenants = []
    for path in sorted(tenants_dir.glob(f"*/{TENANT_FILE}")):
        doc = load_document(path, load_schema("tenant"))
        if doc["tenant_id"] != path.parent.name:
            raise ConfigError(path, "tenant_id", f"{doc['tenant_id']!r} must equal its folder name "
                                                 f"{path.parent.name!r}", _line_of(_parse_yaml(path), ["tenant_id"]))
        tenants.append(Tenant(source=path, **doc))
    return tuple(tenants)


def load_simulator_profile(path: Path | str) -> dict[str, dict[str, Any]]:
    """Tenant name -> traffic settings (defaults filled in), from a simulator profile file."""
    path = Path(path)
    schema = load_schema("simulator")
    doc = load_document(path, schema)
    tenant_schema = schema["properties"]["tenants"]["additionalProperties"]
    return {name: fill_defaults(tenant_schema, settings or {}, schema) for name, settings in doc["tenants"].items()}


def load_document(path: Path, schema: dict[str, Any]) -> dict[str, Any]:
    """Parse YAML, validate against schema, and return a plain dict with schema defaults filled in."""
    tree = _parse_yaml(path)
    check_document(path, tree, schema)
    return fill_defaults(schema, _plain(tree), schema)


def check_document(source: Path | str, tree: Any, schema: dict[str, Any]) -> None:
    """Raise ConfigError(s) naming source and field for everything in tree that the schema rejects."""
    errors = [_locate(Path(source), tree, e) for e in _schema_errors(schema, tree)]
    if errors:
        raise ConfigErrors(errors) if len(errors) > 1 else errors[0]


def check_tenant_answers(answers: dict[str, Any], source: str = "cookiecutter answers") -> None:
    """Validate a would-be tenant.yaml (as a dict) before anything is written; used by the template's hook."""
    check_document(source, answers, load_schema("tenant"))


def _parse_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, "", "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, "", f"cannot read: {exc}") from None
    try:
        tree = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ConfigError(path, "", f"malformed YAML: {exc.problem or exc}", line) from None
    except YAMLError as exc:
        raise ConfigError(path, "", f"malformed YAML: {exc}") from None
    if tree is None:
        raise ConfigError(path, "", "file is empty")
    return tree


def _schema_errors(schema: dict[str, Any], tree: Any) -> list[jsonschema.ValidationError]:
    validator = jsonschema.Draft202012Validator(schema)
    return sorted(validator.iter_errors(_plain(tree)), key=lambda e: [str(p) for p in e.absolute_path])


_QUOTED = re.compile(r"'([^']+)'")


def _locate(path: Path, tree: Any, error: jsonschema.ValidationError) -> ConfigError:
    """Turn a jsonschema error into a ConfigError with the dotted field and the YAML line."""
    keys = list(error.absolute_path)
    message = error.message
    extra: list[str] = []
    if error.validator == "required":
        missing = _QUOTED.search(error.message)
        extra = [missing.group(1) if missing else "?"]
        message = "missing required field"
    elif error.validator == "additionalProperties":
        unknown = _QUOTED.findall(error.message)
        extra = [",".join(unknown)]
        keys += unknown[:1]  # point at the unknown key's own line
        message = "unknown field (check the spelling; see the schema for allowed fields)"
    elif error.validator == "pattern":
        message = f"{error.instance!r} does not match the expected format {error.validator_value}"
    elif error.validator == "not" and isinstance(error.validator_value, dict) and "enum" in error.validator_value:
        message = f"{error.instance!r} is a reserved name ({', '.join(error.validator_value['enum'])})"
    field = ".".join([str(k) for k in error.absolute_path] + extra)
    return ConfigError(path, field, message, _line_of(tree, keys))


def _line_of(tree: Any, keys: list[Any]) -> int | None:
    """1-based line of the deepest node on the path that ruamel knows a position for."""
    line, node = None, tree
    for key in keys:
        try:
            if isinstance(node, dict):
                line = node.lc.key(key)[0] + 1
            elif isinstance(node, list):
                line = node.lc.item(key)[0] + 1
            node = node[key]
        except (AttributeError, KeyError, IndexError, TypeError):
            break
    if line is None and hasattr(tree, "lc"):
        line = tree.lc.line + 1
    return line


def _plain(node: Any) -> Any:
    """ruamel round-trip objects to plain dict/list/scalars, as json would see them."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


def fill_defaults(schema: dict[str, Any], doc: Any, root: dict[str, Any]) -> Any:
    """Return doc with every missing property that declares a `default` in the schema filled in."""
    schema = _resolve(schema, root)
    if not isinstance(doc, dict) or "properties" not in schema:
        return doc
    filled = dict(doc)
    for key, sub in schema["properties"].items():
        sub = _resolve(sub, root)
        if key not in filled and "default" in sub:
            filled[key] = copy.deepcopy(sub["default"])
        if key in filled:
            filled[key] = fill_defaults(sub, filled[key], root)
    return filled


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if not ref:
        return schema
    target: Any = root
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return {**target, **{k: v for k, v in schema.items() if k != "$ref"}}


def _check_ordering(path: Path, doc: dict[str, Any]) -> None:
    """Threshold pairs the schema cannot express: the warning band must sit between good and critical."""
    t = doc["thresholds"]
    if not t["success_rate_critical"] < t["success_rate_warning"]:
        raise ConfigError(path, "thresholds.success_rate_critical",
                          "must be below thresholds.success_rate_warning")
    if not t["error_rate_warning"] < t["error_rate_critical"]:
        raise ConfigError(path, "thresholds.error_rate_warning", "must be below thresholds.error_rate_critical")
    _check_rule_interval(path, doc)


def _check_rule_interval(path: Path, doc: dict[str, Any]) -> None:
    """Panels read recorded series over Grafana's $__rate_interval, at least 4 scrape intervals: every such window
    must hold one rule evaluation, or short time ranges would show gaps."""
    scrape = doc["datasource"]["scrape_interval"]
    if duration_seconds(doc["rules"]["evaluation_interval"]) > 4 * duration_seconds(scrape):
        raise ConfigError(path, "rules.evaluation_interval",
                          f"must be at most 4 x datasource.scrape_interval ({scrape}), the shortest window "
                          "the dashboards read recorded series over")
