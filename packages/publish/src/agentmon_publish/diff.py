"""Semantic difference between two rendered bundles: dashboards, panels, queries, Kubernetes resources."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from agentmon_checks.kustomize import stable_name

Objects = Mapping[str, dict[str, Any]]  # file name -> Kubernetes object


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
        for text in (obj.get("data") or {}).values():
            try:
                board = json.loads(text)
            except ValueError:
                continue
            if isinstance(board, dict) and "panels" in board and "uid" in board:
                boards[board["uid"]] = board
    return boards


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
