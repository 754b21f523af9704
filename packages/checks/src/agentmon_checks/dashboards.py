"""Checks on rendered dashboards: queries parse and respect the metrics contract, uids are unique, datasources
are provisioned, every dashboard loads through the SDK model. Findings name the file and the panel."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import promql_parser
from grafana_foundation_sdk.models.dashboard import Dashboard as DashboardModel

from agentmon_checks.findings import Finding
from agentmon_config.contract import series_labels
from agentmon_live.grafana import QueryWindow, interpolate


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])  # panels inside collapsed rows


def dashboard_variables(dashboard: dict[str, Any]) -> dict[str, str]:
    """Each template variable replaced by a value that parses wherever Grafana would put a regex."""
    return {v["name"]: v.get("allValue") or ".+" for v in dashboard.get("templating", {}).get("list", [])}


def promql(file: str, dashboard: dict[str, Any], scrape_interval: str,
           recorded: Mapping[str, frozenset[str]] | None = None) -> Iterator[Finding]:
    """Every panel query parses and only uses metrics and labels of the metrics contract, or series that a
    recording rule of the bundle produces (`recorded`: name -> labels)."""
    window = QueryWindow.for_range(3600, scrape_interval)
    variables = dashboard_variables(dashboard)
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            where = f"dashboard {dashboard.get('title')!r} panel {panel.get('title')!r} query {target.get('refId')}"
            expr = target.get("expr", "")
            try:
                ast = promql_parser.parse(interpolate(expr, window, variables))
            except (KeyError, ValueError) as exc:
                yield Finding(file, where, f"PromQL does not parse: {exc}: {expr}")
                continue
            for problem in contract_violations(ast, recorded):
                yield Finding(file, where, problem)


def contract_violations(ast: Any, recorded: Mapping[str, frozenset[str]] | None = None) -> list[str]:
    """Metrics and labels outside the contract; with `recorded`, the recording rules' series count as known."""
    known = {**series_labels(), **(recorded or {})}
    unknown = "neither in the metrics contract nor recorded by a rule" if recorded else "not in the metrics contract"
    problems: list[str] = []
    used_labels: set[str] = set()
    grouping: list[tuple[str, ...]] = []

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            name = node.name or _name_matcher(node)
            if name not in known:
                problems.append(f"unknown metric {name!r} ({unknown})")
                return
            for matcher in node.matchers.matchers:
                if matcher.name != "__name__" and matcher.name not in known[name]:
                    problems.append(f"metric {name!r} has no label {matcher.name!r}")
            used_labels.update(known[name])
        elif isinstance(node, promql_parser.AggregateExpr) and node.modifier is not None:
            grouping.append(tuple(node.modifier.labels))
        elif isinstance(node, promql_parser.BinaryExpr) and node.modifier and node.modifier.matching:
            grouping.append(tuple(node.modifier.matching.labels))

    walk(ast, visit)
    for labels in grouping:
        problems += [f"groups by unknown label {label!r}" for label in labels if label not in used_labels]
    return problems


def or_terms(node: Any) -> list[Any]:
    """The terms of `a or b or c ...`, a left-deep tree, collected in a loop: a chain of a few thousand terms (one
    per distinct limit value) would pass Python's recursion limit."""
    terms = []
    while isinstance(node, promql_parser.BinaryExpr) and str(node.op) == "or":
        terms.append(node.rhs)
        node = node.lhs
    return [node, *reversed(terms)]


def walk(ast: Any, visit: Callable[[Any], None]) -> None:
    """promql_parser.walk, with `or` chains taken apart first: walking a chain of 62 terms whole took 53 ms, its
    terms one by one 0.8 ms (the walk's cost grows with the square of the depth), 12 s of a build at 2,000 tenants."""
    node = ast
    while isinstance(node, promql_parser.BinaryExpr) and str(node.op) == "or":
        visit(node)  # the `or` itself (its on/ignoring modifier), without descending
        node = node.lhs
    for term in or_terms(ast):
        promql_parser.walk(term, visit)


def _name_matcher(node: Any) -> str | None:
    return next((m.value for m in node.matchers.matchers if m.name == "__name__"), None)


def unique_uids(dashboards: Mapping[str, dict[str, Any]]) -> Iterator[Finding]:
    seen: dict[str, str] = {}
    for file, dashboard in dashboards.items():
        uid = dashboard.get("uid")
        if not uid:
            yield Finding(file, "uid", "dashboard has no uid (Grafana would assign a random one)")
        elif uid in seen:
            yield Finding(file, "uid", f"duplicate dashboard uid {uid!r}, also used by {seen[uid]}")
        else:
            seen[uid] = file


def datasource_refs(file: str, dashboard: dict[str, Any], provisioned: set[str]) -> Iterator[Finding]:
    """Every datasource a panel, query or variable references is provisioned (by uid)."""
    users = [("templating " + v.get("name", "?"), v) for v in dashboard.get("templating", {}).get("list", [])]
    for panel in panels(dashboard):
        users.append((f"panel {panel.get('title')!r}", panel))
        users += [(f"panel {panel.get('title')!r} query {t.get('refId')}", t) for t in panel.get("targets", [])]
    for where, user in users:
        ref = user.get("datasource")
        uid = ref.get("uid") if isinstance(ref, dict) else ref
        if uid is None:
            yield Finding(file, where, "no datasource: set the provisioned datasource uid explicitly")
        elif uid not in provisioned:
            yield Finding(file, where, f"datasource uid {uid!r} is not provisioned (provisioned: "
                                       f"{', '.join(sorted(provisioned))})")


def sdk_model(file: str, dashboard: dict[str, Any]) -> Iterator[Finding]:
    """The dashboard loads through the foundation SDK's model, as Grafana's schema sees it."""
    try:
        model = DashboardModel.from_json(dashboard)
    except Exception as exc:  # the SDK raises assorted types for malformed input
        yield Finding(file, "", f"does not load as a Grafana dashboard model: {exc}")
        return
    if model.uid != dashboard.get("uid") or len(model.panels or []) != len(dashboard.get("panels", [])):
        yield Finding(file, "", "loses uid or panels when loaded as a Grafana dashboard model")


def provisioned_datasource_uids(provisioning: Mapping[str, dict[str, Any]]) -> set[str]:
    return {ds["uid"] for doc in provisioning.values() for ds in doc.get("datasources", [])}
