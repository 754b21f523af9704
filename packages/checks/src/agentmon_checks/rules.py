"""Checks on the generated recording rules (rules/): structure, unique names, every expression parses and reads
only contract metrics or series recorded in the same bundle, `promtool check rules` when promtool is on PATH,
and the PrometheusRule wrapper (which kubernetes-validate does not know) checked structurally.

Findings name the file, the group and the recorded name.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping
from typing import Any

import promql_parser
from ruamel.yaml import YAML

from agentmon_checks.dashboards import contract_violations, or_terms, walk
from agentmon_checks.findings import Finding
from agentmon_checks.tools import tool_check, tool_check_all
from agentmon_config.contract import series_labels
from agentmon_rules import operator_path_of, recording_files

PROMETHEUS_RULE_API = "monitoring.coreos.com/v1"
_GROUP_FIELDS = frozenset({"name", "interval", "rules", "limit", "query_offset", "partial_response_strategy"})
_RULE_FIELDS = frozenset({"record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"})
# Recorded names may hold colons (level:metric:operations); raw metrics scraped from targets may not.
ALERTS_SERIES = "ALERTS"
_RECORD_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
# Functions whose result keeps the labels of their first series argument (every one the rules use, and more).
_LABEL_KEEPING = frozenset({
    "rate", "irate", "increase", "delta", "idelta", "deriv", "resets", "changes", "abs", "ceil", "floor", "round",
    "clamp", "clamp_min", "clamp_max", "avg_over_time", "sum_over_time", "min_over_time", "max_over_time",
    "count_over_time", "last_over_time", "quantile_over_time", "stddev_over_time", "stdvar_over_time",
    "present_over_time", "histogram_quantile", "exp", "ln", "log2", "log10", "sqrt", "timestamp",
})


def _yaml_text(doc: Any) -> str:
    out = io.StringIO()
    YAML(typ="safe", pure=True).dump(doc, out)
    return out.getvalue()


def _groups(doc: Any) -> list[dict[str, Any]]:
    groups = doc.get("groups") if isinstance(doc, dict) else None
    return groups if isinstance(groups, list) else []


def _rules(doc: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    for group in _groups(doc):
        for rule in group.get("rules") or []:
            yield f"group {group.get('name')!r} rule {rule.get('record') or rule.get('alert')!r}", rule


def recorded_series(doc: Any) -> dict[str, frozenset[str]]:
    """Every name a recording rule writes, with the labels its series carry (the union over its rules)."""
    recorded: dict[str, frozenset[str]] = {}
    pending = [rule for _, rule in _rules(doc) if rule.get("record")]
    # A rule may read a series recorded by another; resolve in passes until nothing changes. A rule is parsed again
    # only when a recorded series it reads has changed since: parsing every rule in every pass made 54,827 parses
    # of about 5,000 expressions at 2,000 tenants, and keeping their syntax trees instead took 1.3 GB.
    inputs: dict[int, dict[str, frozenset[str] | None]] = {}  # rule -> the recorded series it read, as it read them
    for _ in range(len(pending) + 1):
        changed = False
        for i, rule in enumerate(pending):
            if i in inputs and all(recorded.get(name) == seen for name, seen in inputs[i].items()):
                continue
            try:
                ast = promql_parser.parse(str(rule.get("expr", "")))
            except ValueError:
                inputs[i] = {}
                continue  # reported by check_rule_file
            inputs[i] = {name: recorded.get(name) for name in selected_names(ast)}
            labels = output_labels(ast, recorded) | frozenset(rule.get("labels") or {})
            merged = recorded.get(rule["record"], frozenset()) | labels
            changed |= merged != recorded.get(rule["record"])
            recorded[rule["record"]] = merged
        if not changed:
            break
    return recorded


def selected_names(ast: Any) -> set[str]:
    """The metric names the expression's selectors read."""
    names: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            names.add(node.name or next((m.value for m in node.matchers.matchers if m.name == "__name__"), ""))

    walk(ast, visit)
    return names


def alert_series(doc: Any, recorded: Mapping[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    """Prometheus' ALERTS series of the alert rules in `doc`, with the labels they carry: alertname, alertstate,
    each rule's own labels and its expression's (a panel may read which alerts fire)."""
    labels = {"alertname", "alertstate"}
    for _, rule in _rules(doc):
        if not rule.get("alert"):
            continue
        labels |= set(rule.get("labels") or {})
        try:
            labels |= output_labels(promql_parser.parse(str(rule.get("expr", ""))), recorded)
        except ValueError:
            continue  # reported by the alert checks
    return {ALERTS_SERIES: frozenset(labels)} if labels - {"alertname", "alertstate"} else {}


def output_labels(node: Any, recorded: Mapping[str, frozenset[str]]) -> frozenset[str]:
    """The labels an expression's result series carry (besides the metric name)."""
    if isinstance(node, promql_parser.VectorSelector):
        name = node.name or ""
        return recorded[name] if name in recorded else series_labels().get(name, frozenset())
    if isinstance(node, promql_parser.MatrixSelector):
        return output_labels(node.vector_selector, recorded)
    if isinstance(node, promql_parser.ParenExpr | promql_parser.UnaryExpr | promql_parser.SubqueryExpr):
        return output_labels(node.expr, recorded)
    if isinstance(node, promql_parser.AggregateExpr):
        return _aggregated_labels(node, recorded)
    if isinstance(node, promql_parser.BinaryExpr):
        return _binary_labels(node, recorded)
    if isinstance(node, promql_parser.Call):
        series = [a for a in node.args if not isinstance(a, promql_parser.NumberLiteral | promql_parser.StringLiteral)]
        labels = output_labels(series[0], recorded) if series and node.func.name in _LABEL_KEEPING else frozenset()
        return labels - {"le"} if node.func.name == "histogram_quantile" else labels
    return frozenset()  # number and string literals


def _aggregated_labels(node: Any, recorded: Mapping[str, frozenset[str]]) -> frozenset[str]:
    modifier = node.modifier
    if modifier is None:
        return frozenset()
    if modifier.type == promql_parser.AggModifierType.By:
        return frozenset(modifier.labels)
    return output_labels(node.expr, recorded) - set(modifier.labels)


def _binary_labels(node: Any, recorded: Mapping[str, frozenset[str]]) -> frozenset[str]:
    if str(node.op) == "or":
        return frozenset().union(*(output_labels(term, recorded) for term in or_terms(node)))
    lhs, rhs = output_labels(node.lhs, recorded), output_labels(node.rhs, recorded)
    if isinstance(node.lhs, promql_parser.NumberLiteral):
        return rhs
    return lhs


def check_rule_file(file: str, doc: Any, elsewhere: Mapping[str, frozenset[str]] | None = None) -> Iterator[Finding]:
    """Structure, unique names, and every expression against the contract plus the file's own recorded series and
    those `elsewhere` (what the other rule files a Prometheus loads beside it record)."""
    if not _groups(doc):
        yield Finding(file, "groups", "no rule groups")
        return
    yield from _unique_names(file, doc)
    recorded = {**(elsewhere or {}), **recorded_series(doc)}
    for where, rule in _rules(doc):
        if not _RECORD_NAME.match(str(rule.get("record", ""))):
            yield Finding(file, where, "record: not a valid Prometheus metric name")
        try:
            ast = promql_parser.parse(str(rule.get("expr", "")))
        except ValueError as exc:
            yield Finding(file, where, f"PromQL does not parse: {exc}: {rule.get('expr')}")
            continue
        for problem in contract_violations(ast, recorded):
            yield Finding(file, where, problem)


def _unique_names(file: str, doc: Any) -> Iterator[Finding]:
    groups = [str(g.get("name")) for g in _groups(doc)]
    for name in sorted({g for g in groups if groups.count(g) > 1}):
        yield Finding(file, f"group {name!r}", "duplicate group name (Prometheus refuses the file)")
    seen: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}
    for where, rule in _rules(doc):
        key = (str(rule.get("record")), tuple(sorted((rule.get("labels") or {}).items())))
        if key in seen:
            yield Finding(file, where, f"records the same series as {seen[key]} (same name and labels)")
        seen.setdefault(key, where)


def promtool_check(file: str, content: bytes) -> Iterator[Finding]:
    """`promtool check rules` with every lint fatal (duplicate rules: same name and labels) on the rendered file;
    skipped (no finding) when promtool is not on PATH."""
    yield from tool_check(file, content, "promtool", "check", "rules", "--lint=all", "--lint-fatal")


def prometheus_rule_problems(obj: dict[str, Any]) -> Iterator[str]:
    """The PrometheusRule's shape as the Operator's CRD requires it (kubernetes-validate has no schema for it)."""
    if obj.get("apiVersion") != PROMETHEUS_RULE_API:
        yield f"apiVersion: {obj.get('apiVersion')!r}, expected {PROMETHEUS_RULE_API!r}"
    metadata = obj.get("metadata") or {}
    if not metadata.get("name"):
        yield "metadata.name: missing"
    if not all(isinstance(v, str) for v in (metadata.get("labels") or {}).values()):
        yield "metadata.labels: every value must be a string"
    spec = obj.get("spec") or {}
    if set(spec) != {"groups"} or not _groups(spec):
        yield f"spec: expected a non-empty list under 'groups' and nothing else, found {sorted(spec)}"
    for i, group in enumerate(_groups(spec)):
        if extra := set(group) - _GROUP_FIELDS:
            yield f"spec.groups[{i}]: unknown field(s) {', '.join(sorted(extra))}"
        if not group.get("name") or not isinstance(group.get("rules"), list):
            yield f"spec.groups[{i}]: needs a name and a list of rules"
        for j, rule in enumerate(group.get("rules") or []):
            if extra := set(rule) - _RULE_FIELDS:
                yield f"spec.groups[{i}].rules[{j}]: unknown field(s) {', '.join(sorted(extra))}"
            if not isinstance(rule.get("expr"), str) or not (rule.get("record") or rule.get("alert")):
                yield f"spec.groups[{i}].rules[{j}]: needs a string expr and a record or alert name"


def check_rules(root: str, rules: Mapping[str, Any], files: Mapping[str, bytes]) -> Iterator[Finding]:
    """Every check on the rendered rules folder: `rules` holds its documents keyed by path under `root`. Each
    recording-rule file (the main one and the tenant shards' limits) is checked alone and has a PrometheusRule with
    the same groups; no two files share a group name or record the same series; promtool checks them all."""
    names = recording_files(rules)
    # Files are loaded together: the SLO rules of the main file read the limits the tenant shards record.
    together = recorded_series({"groups": [g for name in names for g in _groups(rules.get(name))]})
    for name in names:
        yield from check_rule_file(f"{root}/{name}", rules.get(name), together)
        yield from _operator_twin(root, name, rules)
    yield from _across_files(root, names, rules)
    yield from tool_check_all({f"{root}/{n}": files.get(f"{root}/{n}", b"") for n in names},
                              "promtool", "check", "rules", "--lint=all", "--lint-fatal")


def _operator_twin(root: str, name: str, rules: Mapping[str, Any]) -> Iterator[Finding]:
    """The file's PrometheusRule: the Operator's shape, and the very groups the file holds."""
    operator_path = f"{root}/{operator_path_of(name)}"
    operator = rules.get(operator_path_of(name))
    if operator is None:
        yield Finding(operator_path, "", "missing: the PrometheusRule component would load nothing")
        return
    yield from (Finding(operator_path, "", problem) for problem in prometheus_rule_problems(operator))
    if _groups(operator.get("spec")) != _groups(rules.get(name)):
        yield Finding(operator_path, "spec.groups", f"differ from {root}/{name}: both must load the same rules")


def _across_files(root: str, names: list[str], rules: Mapping[str, Any]) -> Iterator[Finding]:
    """A group name in two files: Prometheus would run both groups under one name. (The shards record the same
    names with the same static labels by design: their series differ by tenant_id, set by each expression.)"""
    first: dict[object, str] = {}
    for name in names:
        for group in _groups(rules.get(name)):
            if first.setdefault(group.get("name"), name) != name:
                yield Finding(f"{root}/{name}", f"group {group.get('name')!r}",
                              f"duplicate group name: also in {root}/{first[group.get('name')]}")
