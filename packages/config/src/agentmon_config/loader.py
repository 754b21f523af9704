"""Load YAML configuration, validate it against its JSON Schema, fill defaults, return typed objects.

Every failure is a ConfigError naming the file, the dotted field path and, when known, the line.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import re
from collections.abc import Iterator
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)

from agentmon_config import constraints
from agentmon_config.errors import ConfigError, ConfigErrors
from agentmon_config.fields import display_name_key, excerpt, tenant_problems
from agentmon_config.model import Contact, PlatformConfig, Tenant

TENANT_FILE = "tenant.yaml"


@cache
def load_schema(name: str) -> dict[str, Any]:
    text = resources.files("agentmon_config").joinpath("schemas", f"{name}.schema.json").read_text()
    return json.loads(text)


def load_platform(path: Path | str, tenants_dir: Path | str | None = None) -> PlatformConfig:
    """Read and validate the platform configuration file, and every tenant under tenants_dir."""
    path = Path(path)
    tree = _parse_yaml(path)
    doc = _validated(path, tree, load_schema("platform"))
    _raise_all([_problem(path, tree, keys, message) for keys, message in constraints.platform_problems(doc)])
    config = PlatformConfig.from_document(path, doc)
    if tenants_dir is None:
        return config
    alerts = config.alerts
    return dataclasses.replace(config, tenants=load_tenants(Path(tenants_dir), alerts.allowed_webhook_hosts,
                                                            alerts.webhook_secret_name))


def load_tenants(tenants_dir: Path, allowed_webhook_hosts: tuple[str, ...] = (),
                 webhook_secret_name: str | None = None, skip: str | None = None) -> tuple[Tenant, ...]:
    """tenants/<tenant_id>/tenant.yaml for every tenant, sorted by id; the folder name must equal tenant_id.
    allowed_webhook_hosts and webhook_secret_name come from config/platform.yaml (the schema's defaults without);
    the folder named skip is left out (a tenant being created)."""
    if webhook_secret_name is None:
        webhook_secret_name = load_schema("platform")["properties"]["alerts"]["properties"][
            "webhook_secret_name"]["default"]
    tenants = []
    for folder in _tenant_folders(tenants_dir, skip):
        path = folder / TENANT_FILE
        try:
            doc = _tenant_document(folder, path, _parse_yaml(path, fast=True), allowed_webhook_hosts)
        except (ConfigError, ConfigErrors):  # read round-trip, so the errors name their lines
            doc = _tenant_document(folder, path, _parse_yaml(path), allowed_webhook_hosts)
        tenants.append(Tenant(source=path, **{
            **doc, "owner_contact": Contact.of(doc["owner_contact"], webhook_secret_name)}))
    _raise_all([_problem(t.source, _parse_yaml(t.source), ["display_name"], message)
                for t, message in duplicate_display_names(tenants)])
    return tuple(tenants)


def _tenant_document(folder: Path, path: Path, tree: Any, allowed_webhook_hosts: tuple[str, ...]) -> dict[str, Any]:
    doc = _validated(path, tree, load_schema("tenant"))
    if doc["tenant_id"] != folder.name:
        raise ConfigError(path, "tenant_id", f"{doc['tenant_id']!r} must equal its folder name "
                                             f"{folder.name!r}", _line_of(tree, ["tenant_id"]))
    _raise_all([_problem(path, tree, keys, message) for keys, message in tenant_problems(doc, allowed_webhook_hosts)])
    return doc


def duplicate_display_names(tenants: list[Tenant]) -> Iterator[tuple[Tenant, str]]:
    """Each tenant whose display name an earlier tenant already has (compared as display_name_key does: two
    dashboards titled alike, or alike but for case or a full-width letter, are indistinguishable in Grafana)."""
    first: dict[str, Tenant] = {}
    for tenant in tenants:
        other = first.setdefault(display_name_key(tenant.display_name), tenant)
        if other is not tenant:
            yield tenant, (f"{excerpt(tenant.display_name)} is already the display name of tenant "
                           f"{other.tenant_id} (compared ignoring case and Unicode compatibility forms): "
                           "choose another")


def _tenant_folders(tenants_dir: Path, skip: str | None = None) -> list[Path]:
    """Every tenant folder, sorted. Anything else under tenants_dir (a tenant.yml, a stray file, a folder
    without tenant.yaml) is an error rather than silently skipped; hidden entries (.gitkeep) are ignored.
    Symbolic links are refused: a tenant file must lie inside the project, not point at any readable file."""
    _refuse_symlink(tenants_dir)
    if not tenants_dir.exists():
        return []
    if not tenants_dir.is_dir():
        raise ConfigError(tenants_dir, "", f"not a folder: tenants are defined in {tenants_dir.name}/<tenant_id>/"
                                           f"{TENANT_FILE} (remove the file, or make it a folder)")
    layout = f"{tenants_dir.name}/<tenant_id>/{TENANT_FILE}"
    folders, errors = [], []
    for entry in _visible(tenants_dir):
        if entry.name == skip:
            continue
        if entry.is_symlink():
            errors.append(_symlink_error(entry))
            continue
        if not entry.is_dir():
            errors.append(ConfigError(entry, "", f"not a tenant folder: a tenant is defined in {layout}"))
            continue
        errors += [_symlink_error(extra) if extra.is_symlink() else
                   ConfigError(extra, "", f"unexpected in a tenant folder, which holds only {TENANT_FILE} "
                                          f"(misnamed? a tenant is defined in {layout})")
                   for extra in _visible(entry) if extra.name != TENANT_FILE or not extra.is_file()
                   or extra.is_symlink()]
        if not (entry / TENANT_FILE).is_file() and not (entry / TENANT_FILE).is_symlink():
            errors.append(ConfigError(entry / TENANT_FILE, "", f"file not found: every tenant folder needs its "
                                                               f"{TENANT_FILE} (or remove the folder)"))
        folders.append(entry)
    _raise_all(errors)
    return folders


def _refuse_symlink(path: Path) -> None:
    if path.is_symlink():
        raise _symlink_error(path)


def _symlink_error(path: Path) -> ConfigError:
    return ConfigError(path, "", "is a symbolic link: configuration is read only from real files and folders "
                                 "inside the project (copy the file here instead)")


def _visible(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def load_simulator_profile(path: Path | str) -> dict[str, dict[str, Any]]:
    """Tenant name -> traffic settings (defaults filled in), from a simulator profile file."""
    path = Path(path)
    schema = load_schema("simulator")
    doc = load_document(path, schema)
    tenant_schema = schema["properties"]["tenants"]["additionalProperties"]
    return {name: fill_defaults(tenant_schema, settings or {}, schema) for name, settings in doc["tenants"].items()}


def load_document(path: Path, schema: dict[str, Any]) -> dict[str, Any]:
    """Parse YAML, validate against schema, and return a plain dict with schema defaults filled in."""
    return _validated(path, _parse_yaml(path), schema)


def _validated(path: Path, tree: Any, schema: dict[str, Any]) -> dict[str, Any]:
    check_document(path, tree, schema)
    return fill_defaults(schema, _plain(tree), schema)


def check_document(source: Path | str, tree: Any, schema: dict[str, Any]) -> None:
    """Raise ConfigError(s) naming source and field for everything in tree that the schema rejects, and for
    every number JSON cannot carry (JSON Schema cannot express that: NaN passes every bound)."""
    source = Path(source)
    numbers = list(constraints.number_problems(_plain(tree)))
    errors = [_problem(source, tree, keys, message) for keys, message in numbers]
    seen = {tuple(keys) for keys, _ in numbers}
    errors += [_locate(source, tree, e) for e in _schema_errors(schema, tree) if tuple(e.absolute_path) not in seen]
    _raise_all(errors)


def check_tenant_answers(answers: dict[str, Any], source: str = "cookiecutter answers",
                         tenants_dir: Path | str | None = None) -> None:
    """Validate a would-be tenant.yaml (as a dict) before anything is written, with the rules the build applies;
    used by `agentmon tenant` and the template's hook. With tenants_dir (and its platform.yaml beside it), also
    against the other tenants (display names) and the platform's allowed webhook hosts."""
    schema = load_schema("tenant")
    check_document(source, answers, schema)
    doc = fill_defaults(schema, answers, schema)
    others: tuple[Tenant, ...] = ()
    allowed: tuple[str, ...] = ()
    if tenants_dir is not None:
        platform = Path(tenants_dir).parent / "config" / "platform.yaml"
        allowed = load_platform(platform).alerts.allowed_webhook_hosts if platform.is_file() else ()
        # The candidate's own folder is skipped: cookiecutter creates it before its hook runs.
        others = load_tenants(Path(tenants_dir), allowed, skip=str(doc["tenant_id"]))
    problems = tenant_problems(doc, allowed)
    if not any(keys == ["display_name"] for keys, _ in problems):
        candidate = Tenant(source=Path(source), **{**doc, "owner_contact": Contact.of(doc["owner_contact"])})
        problems += [(["display_name"], message) for _, message in duplicate_display_names([*others, candidate])]
    _raise_all([ConfigError(source, ".".join(map(str, keys)), message) for keys, message in problems])


def _problem(path: Path, tree: Any, keys: list[Any], message: str) -> ConfigError:
    return ConfigError(path, ".".join(map(str, keys)), message, _line_of(tree, keys))


def _raise_all(errors: list[ConfigError]) -> None:
    """One error as itself, several together (in file order) so one run shows them all."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ConfigErrors(sorted(errors, key=lambda e: (e.path, e.line or 0)))


MAX_FILE_BYTES = 1_000_000  # a configuration file is a few kilobytes; a larger one is refused before it is read


# ruamel's C parser (ruamel.yaml.clib) with its YAML 1.2 safe constructor: plain values, 7x faster than the round-trip
# loader (2,000 tenant files: 0.3 s against 2.1 s), but without the line numbers errors name. A tenant file is read
# with it first; a file it or any check refuses is read again round-trip, which decides and names the line.
_FAST_YAML = YAML(typ="safe")


def _parse_yaml(path: Path, fast: bool = False) -> Any:
    """The file's YAML: round-trip (line numbers for errors), or with `fast` plain values when the C parser
    accepts the file (else round-trip)."""
    text = _read_config(path)
    if fast:
        with contextlib.suppress(ConfigError, YAMLError):
            _refuse_yaml_extras(path, _FAST_YAML.parse(text))
            tree = _FAST_YAML.load(text)
            if tree is not None:
                return tree
    yaml = YAML(typ="rt")
    try:
        _refuse_yaml_extras(path, yaml.parse(text))
        tree = yaml.load(text)
    except MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ConfigError(path, "", f"malformed YAML: {exc.problem or exc}", line) from None
    except YAMLError as exc:
        raise ConfigError(path, "", f"malformed YAML: {exc}") from None
    if tree is None:
        raise ConfigError(path, "", "file is empty")
    return tree


def _read_config(path: Path) -> str:
    _refuse_symlink(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ConfigError(path, "", f"is {path.stat().st_size} bytes, more than a configuration file needs "
                                        f"({MAX_FILE_BYTES}): is it the right file?")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, "", "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, "", f"cannot read: {excerpt(str(exc))}") from None
    return text


MAX_DEPTH = 20  # nested mappings and lists; a configuration needs 4, and 50,000 levels must fail at once


def _refuse_yaml_extras(path: Path, events: Iterator[Event]) -> None:
    """Keep to plain YAML 1.2 core, refused while parsing, before anything is composed (one pass, stopping at the
    first problem): anchors and aliases (a few lines of aliases, a "billion laughs" bomb, expand to billions of
    values), tags (!!binary, !custom make values no schema type matches), %YAML and %TAG directives (`%YAML 1.1`
    turns 1:30 into 90 and 0100 into 64), merge keys `<<` (they inject or silently drop fields) and nesting
    deeper than MAX_DEPTH (composing 1,000 levels recurses past Python's limit)."""
    open_nodes: list[list[bool]] = []  # per open collection: [is a mapping, the next node is a key]
    documents = 0
    for event in events:
        line = event.start_mark.line + 1
        if isinstance(event, DocumentStartEvent) and (event.version or event.tags):
            # Directives stand before the document's `---`; the first document's start on line 1.
            raise ConfigError(path, "", "YAML directives (%YAML, %TAG) are not supported: this file is YAML 1.2 "
                                        "core; remove the directive line", line if documents else 1)
        documents += isinstance(event, DocumentStartEvent)
        anchor, tag = getattr(event, "anchor", None), getattr(event, "tag", None)
        if anchor is not None:
            raise ConfigError(path, "", f"YAML anchors and aliases (&{anchor[:40]}, *{anchor[:40]}) are not "
                                        "supported: write the values out", line)
        if tag is not None:
            raise ConfigError(path, "", f"YAML tag {tag[:80]} is not supported: write a plain value "
                                        "(quoted for text)", line)
        if isinstance(event, (MappingEndEvent, SequenceEndEvent)):
            open_nodes.pop()
            continue
        if not isinstance(event, (ScalarEvent, MappingStartEvent, SequenceStartEvent)):
            continue
        is_key = bool(open_nodes) and open_nodes[-1][0] and open_nodes[-1][1]
        if open_nodes and open_nodes[-1][0]:
            open_nodes[-1][1] = not open_nodes[-1][1]
        if is_key and isinstance(event, ScalarEvent) and event.value == "<<":
            raise ConfigError(path, "", "YAML merge keys (<<) are not supported: write every field out", line)
        if isinstance(event, (MappingStartEvent, SequenceStartEvent)):
            open_nodes.append([isinstance(event, MappingStartEvent), True])
            if len(open_nodes) > MAX_DEPTH:
                raise ConfigError(path, "", f"nested more than {MAX_DEPTH} levels deep: a configuration needs a "
                                            "few levels; flatten it", line)


def _schema_errors(schema: dict[str, Any], tree: Any) -> list[jsonschema.ValidationError]:
    validator = jsonschema.Draft202012Validator(schema)
    return sorted(validator.iter_errors(_plain(tree)), key=lambda e: [str(p) for p in e.absolute_path])


WHOLE_VALUE_SUFFIX = r"(?!\n)"
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
        # `(?!\n)` only makes the schema's `$` mean "end of value"; the reader needs the format itself.
        shown = error.validator_value.removesuffix(WHOLE_VALUE_SUFFIX)
        message = f"{excerpt(error.instance)} does not match the expected format {shown}"
    elif error.validator == "not" and isinstance(error.validator_value, dict) and "enum" in error.validator_value:
        message = f"{excerpt(error.instance)} is a reserved name ({', '.join(error.validator_value['enum'])})"
    # jsonschema quotes the whole offending value (a file's worth, for a document that is a long string): an
    # excerpt is enough to find it.
    message = message.replace(repr(error.instance), excerpt(error.instance))
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
