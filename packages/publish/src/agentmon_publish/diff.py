"""Semantic difference between two rendered bundles: dashboards, panels, queries, Kubernetes resources."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from agentmon_checks.kustomize import stable_name

Objects = Mapping[str, dict[str, Any]]  # file name -> Kubernetes object
FILE_LIMIT = 8 << 20  # bytes: the largest rendered manifest (every dashboard in one ConfigMap) is far below


def load_resources(sources: Mapping[str, Path | bytes]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Parse each file as one Kubernetes object. The target branch's files come from anyone with push access:
    a file that is too big, not YAML, nested past the parser's depth, full of aliases or not a single resource
    is set aside with the reason instead (second result), never a traceback."""
    objects, unreadable = {}, {}
    for name, source in sources.items():
        try:
            obj = _parse(source)
        except (OSError, ValueError, YAMLError, RecursionError, TypeError) as exc:
            unreadable[name] = f"not a Kubernetes resource publish can read ({type(exc).__name__})"
            continue
        if not _is_resource(obj):
            unreadable[name] = "not a single Kubernetes resource (kind and metadata.name)"
            continue
        objects[name] = obj
    return objects, unreadable


def _parse(source: Path | bytes) -> Any:
    if isinstance(source, Path):
        if source.is_symlink() or not source.is_file() or source.stat().st_size > FILE_LIMIT:
            raise ValueError(f"not a plain file under {FILE_LIMIT} bytes")
        source = source.read_bytes()
    text = source.decode()
    if "&" in text and "*" in text and _has_alias(text):
        raise ValueError("YAML aliases")  # publish never writes them; expanding them is how billion-laughs works
    return YAML(typ="safe", pure=True).load(text)


def _has_alias(text: str) -> bool:
    from ruamel.yaml.tokens import AliasToken

    return any(isinstance(token, AliasToken) for token in YAML(typ="safe", pure=True).scan(text))


def _is_resource(obj: Any) -> bool:
    metadata = obj.get("metadata") if isinstance(obj, dict) else None
    return (isinstance(obj, dict) and isinstance(obj.get("kind"), str) and isinstance(metadata, dict)
            and isinstance(metadata.get("name"), str))


def summarize(old: Objects, new: Objects) -> list[str]:
    return _dashboard_changes(_dashboards(old), _dashboards(new)) + _resource_changes(old, new)


def _resource_changes(old: Objects, new: Objects) -> list[str]:
    ident = stable_name
    lines = [f"added resource {ident(new[f])}" for f in sorted(set(new) - set(old))]
    lines += [f"removed resource {ident(old[f])}" for f in sorted(set(old) - set(new))]
    lines += [f"changed resource {ident(new[f])}" for f in sorted(set(old) & set(new)) if old[f] != new[f]]
    return lines


def _dashboards(objects: Objects) -> dict[str, dict[str, Any]]:
    """uid -> dashboard, for every dashboard JSON held in a ConfigMap."""
    boards = {}
    for obj in objects.values():
        if obj.get("kind") != "ConfigMap":
            continue
        data = obj.get("data")
        for text in data.values() if isinstance(data, dict) else ():
            try:
                board = json.loads(text) if isinstance(text, str) else None
            except (ValueError, RecursionError):
                continue
            if _is_dashboard(board):
                boards[board["uid"]] = board
    return boards


def _is_dashboard(board: Any) -> bool:
    """The shape the comparison reads (a hand-edited ConfigMap in the target may hold anything)."""
    if not (isinstance(board, dict) and isinstance(board.get("uid"), str) and isinstance(board.get("title"), str)
            and isinstance(board.get("panels"), list)):
        return False
    return all(isinstance(p, dict) and isinstance(p.get("targets", []), list)
               and all(isinstance(q, dict) for q in p.get("targets", [])) for p in board["panels"])


def _dashboard_changes(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> list[str]:
    lines = [f"added dashboard {new[u]['title']!r} ({len(new[u]['panels'])} panels)"
             for u in sorted(set(new) - set(old))]
    lines += [f"removed dashboard {old[u]['title']!r}" for u in sorted(set(old) - set(new))]
    for uid in sorted(set(old) & set(new)):
        if old[uid] != new[uid]:
            lines += _panel_changes(new[uid]["title"], old[uid], new[uid]) or [
                f"changed dashboard {new[uid]['title']!r} (settings outside its panels)"]
    return lines


def _panel_changes(title: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    before = {p.get("title"): p for p in old["panels"]}
    after = {p.get("title"): p for p in new["panels"]}
    where = f"dashboard {title!r} panel"
    lines = [f"added {where} {t!r}" for t in after if t not in before]
    lines += [f"removed {where} {t!r}" for t in before if t not in after]
    for name in (t for t in after if t in before and before[t] != after[t]):
        queries_before = {q.get("refId"): q.get("expr") for q in before[name].get("targets", [])}
        queries_after = {q.get("refId"): q.get("expr") for q in after[name].get("targets", [])}
        changed = [f"changed query: {where} {name!r} query {ref}: {queries_before.get(ref)} -> {expr}"
                   for ref, expr in queries_after.items() if queries_before.get(ref) != expr]
        changed += [f"removed query: {where} {name!r} query {ref}"
                    for ref in queries_before if ref not in queries_after]
        lines += changed or [f"changed {where} {name!r} (display settings)"]
    return lines
