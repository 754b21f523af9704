"""Checks on the generated alert rules (rules/agentmon.alerts.rules.yml and its PrometheusRule) and the
Alertmanager routing (alertmanager/):

- every alert expression parses and reads only contract metrics, series recorded by the bundle, or `up`;
- every alert has a severity, a summary, a description, a panel_url naming an existing dashboard uid and panel id,
  and a runbook_url whose anchor is a heading of docs/operations/runbooks.md;
- every alert carries managed_by="agentmon", which the routing's top routes match;
- alertmanager.yml sends every tenant alert to its owner only, platform alerts to operations, no tenant's alert
  inhibits another's (agentmon_checks.operator_conformance); `amtool check-config` when amtool is on PATH. The
  AlertmanagerConfigs get the same questions in every rendered overlay, merged as the Prometheus Operator merges
  them (agentmon_checks.kubernetes).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import promql_parser

from agentmon_checks.dashboards import contract_violations, panels, walk
from agentmon_checks.findings import Finding
from agentmon_checks.operator_conformance import check_alertmanager_file
from agentmon_checks.rules import promtool_check
from agentmon_checks.tools import tool_check
from agentmon_config import PlatformConfig
from agentmon_config.alertnames import MANAGED_BY_LABEL, MANAGED_BY_VALUE, PLATFORM_ALERTS, TENANT_ALERTS
from agentmon_config.contract import SCRAPE_LABELS, TENANT_LABEL
from agentmon_rules import ALERTMANAGER_FILE, ALERTS_FILE, ALERTS_PROMETHEUS_RULE_PATH

RUNBOOKS = "docs/operations/runbooks.md"
REQUIRED_ANNOTATIONS = ("summary", "description", "panel_url", "runbook_url")
# Scrape health: not part of the metrics contract, written by Prometheus itself for every target.
SCRAPE_HEALTH = {"up": SCRAPE_LABELS}
# Prometheus' own series of the alerts it holds: an alert may read its own to stay up (target down, tenant absent).
ALERT_STATE = {"ALERTS": SCRAPE_LABELS | {"alertname", "alertstate", TENANT_LABEL}}
_PANEL_LINK = re.compile(r"/d/([^/?#]+)\?viewPanel=(\d+)(?:&|$)")
TENANT_TEMPLATE = f"{{{{ $labels.{TENANT_LABEL} }}}}"  # a tenant alert's link names the alert's own tenant


def _alert_rules(doc: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    groups = doc.get("groups") if isinstance(doc, dict) else None
    for group in groups if isinstance(groups, list) else []:
        for rule in group.get("rules") or []:
            yield f"group {group.get('name')!r} alert {rule.get('alert')!r}", rule


def check_alert_file(file: str, doc: Any, recorded: Mapping[str, frozenset[str]]) -> Iterator[Finding]:
    rules = list(_alert_rules(doc))
    if not rules:
        yield Finding(file, "groups", "no alert rules")
    for where, rule in rules:
        try:
            ast = promql_parser.parse(str(rule.get("expr", "")))
        except ValueError as exc:
            yield Finding(file, where, f"PromQL does not parse: {exc}: {rule.get('expr')}")
            continue
        for problem in contract_violations(ast, {**recorded, **SCRAPE_HEALTH, **ALERT_STATE}):
            yield Finding(file, where, problem)
        labels = rule.get("labels") or {}
        if not labels.get("severity"):
            yield Finding(file, where, "labels.severity: missing")
        if labels.get(MANAGED_BY_LABEL) != MANAGED_BY_VALUE:
            yield Finding(file, where, f"labels.{MANAGED_BY_LABEL}: {labels.get(MANAGED_BY_LABEL)!r}, expected "
                                       f"{MANAGED_BY_VALUE!r}: the routing matches it, without it the alert reaches "
                                       "nobody")
        annotations = rule.get("annotations") or {}
        for missing in (a for a in REQUIRED_ANNOTATIONS if not annotations.get(a)):
            yield Finding(file, where, f"annotations.{missing}: missing")


def alert_name_problems(file: str, doc: Any) -> Iterator[Finding]:
    """Every alert is one of agentmon_config.alertnames (the routing and its checks know only those), and each
    tenant alert name has ONE severity: two would let kube-prometheus-stack's inhibit rules (equal namespace and
    alertname) mute one tenant's warning with another's critical. Which severity is the configuration's choice
    (alerts.<rule>.severity); platform alerts may have several (their alerts carry no tenant)."""
    seen: dict[str, str] = {}
    for where, rule in _alert_rules(doc):
        name, severity = rule.get("alert"), (rule.get("labels") or {}).get("severity")
        if name not in TENANT_ALERTS and name not in PLATFORM_ALERTS:
            yield Finding(file, where, "alert name not in agentmon_config.alertnames: the routing, its checks and "
                                       "the inhibition rules know only those")
        elif name in TENANT_ALERTS and seen.setdefault(name, severity) != severity:
            yield Finding(file, where, f"labels.severity: {severity!r}, but another rule of this tenant alert has "
                                       f"{seen[name]!r}: one severity per tenant alert name")


def dashboard_panels(dashboards: Mapping[str, dict[str, Any]]) -> dict[str, set[int]]:
    """Dashboard uid -> its panel ids."""
    return {d.get("uid"): {p.get("id") for p in panels(d)} for d in dashboards.values()}


def check_panel_links(file: str, doc: Any, dashboards: Mapping[str, dict[str, Any]],
                      tenants: tuple[str, ...] = ()) -> Iterator[Finding]:
    """A tenant alert's link names its tenant's dashboard: checked for every tenant its expression names, or for
    every configured tenant when it selects them through a join (tenant_id!="__all__")."""
    known = dashboard_panels(dashboards)
    for where, rule in _alert_rules(doc):
        url = str((rule.get("annotations") or {}).get("panel_url", ""))
        match = _PANEL_LINK.search(url)
        if not match:
            yield Finding(file, where, f"annotations.panel_url: {url!r} is not a <grafana>/d/<uid>?viewPanel=<id> link")
            continue
        uid, panel = match.group(1), int(match.group(2))
        selected = _selected_tenants(rule) or (set(tenants) if _every_tenant(rule) else set())
        uids = [uid.replace(TENANT_TEMPLATE, t) for t in sorted(selected)] if TENANT_TEMPLATE in uid else [uid]
        if not uids:
            yield Finding(file, where, f"annotations.panel_url: {uid!r} names the alert's tenant, but the expression "
                                       "selects no tenant by name")
        for one in uids:
            if one not in known:
                yield Finding(file, where, f"annotations.panel_url: no dashboard has uid {one!r}")
            elif panel not in known[one]:
                yield Finding(file, where, f"annotations.panel_url: dashboard {one!r} has no panel {panel}")


def _selected_tenants(rule: dict[str, Any]) -> set[str]:
    """The tenant ids the expression's tenant_id matchers name (= or a =~ list of names)."""
    names: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            for m in node.matchers.matchers:
                if m.name == TENANT_LABEL and m.op in (promql_parser.MatchOp.Equal, promql_parser.MatchOp.Re):
                    names.update(m.value.split("|"))

    with contextlib.suppress(ValueError):  # check_alert_file names the parse error
        walk(promql_parser.parse(str(rule.get("expr", ""))), visit)
    return names


def _every_tenant(rule: dict[str, Any]) -> bool:
    return f'{TENANT_LABEL}!="' in str(rule.get("expr", ""))


def runbook_anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#{1,6}\s+(.+?)\s*$", markdown, re.M)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


def check_runbook_links(file: str, doc: Any, root: Path) -> Iterator[Finding]:
    """Skipped in a tree without docs/operations/ (a scratch or generated-only copy): nothing to link into there."""
    if not (root / Path(RUNBOOKS).parent).is_dir():
        return
    try:
        anchors = runbook_anchors((root / RUNBOOKS).read_text())
    except OSError:
        yield Finding(RUNBOOKS, "", "missing: every alert's runbook_url points into it")
        return
    for where, rule in _alert_rules(doc):
        url = str((rule.get("annotations") or {}).get("runbook_url", ""))
        anchor = url.partition("#")[2]
        if anchor not in anchors:
            yield Finding(file, where, f"annotations.runbook_url: no heading #{anchor} in {RUNBOOKS}")


LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]", "0.0.0.0")


def link_warnings(config: PlatformConfig) -> Iterator[Finding]:
    """Links that work on the machine that built them but not from a notification: the prod overlay ships the
    alerts, so their receivers would open localhost, or a path relative to nothing. Warnings, not failures: the
    defaults suit the local compose stack."""
    where = str(config.source)
    grafana, runbooks = config.alerts.grafana_url, config.alerts.runbooks_url
    if urlsplit(grafana).hostname in {h.strip("[]") for h in LOCAL_HOSTS}:
        yield Finding(where, "alerts.grafana_url", f"{grafana!r} is this machine: the panel links of alerts the prod "
                                                   "overlay delivers open nothing for whoever receives them; set your "
                                                   "Grafana's address")
    if not urlsplit(runbooks).scheme:
        yield Finding(where, "alerts.runbooks_url", f"{runbooks!r} is a relative path: the runbook links of alerts "
                                                    "the prod overlay delivers lead nowhere; set the web address of "
                                                    "docs/operations/runbooks.md in your repository")


def amtool_check(file: str, content: bytes) -> Iterator[Finding]:
    """`amtool check-config` on the rendered file; skipped (no finding) when amtool is not on PATH.
    A webhook read from a Secret's file (url_file, Alertmanager 0.26+, which compose and the dev overlay run) is
    checked as a URL naming that file: amtool 0.25 (Debian's) does not know url_file, and no amtool reads the file."""
    yield from tool_check(file, _URL_FILE.sub(rb"url: https://url-file.invalid\1", content), "amtool", "check-config")


_URL_FILE = re.compile(rb"url_file: (/\S+)")


def check_alerts(root: Path, config: PlatformConfig, rules_root: str, rules: Mapping[str, Any],
                 alertmanager_root: str, alertmanager: Mapping[str, Any], dashboards: Mapping[str, dict[str, Any]],
                 files: Mapping[str, bytes], recorded: Mapping[str, frozenset[str]]) -> Iterator[Finding]:
    alerts_path, alerts = f"{rules_root}/{ALERTS_FILE}", rules.get(ALERTS_FILE)
    yield from check_alert_file(alerts_path, alerts, recorded)
    yield from alert_name_problems(alerts_path, alerts)
    yield from check_panel_links(alerts_path, alerts, dashboards, tuple(t.tenant_id for t in config.tenants))
    yield from check_runbook_links(alerts_path, alerts, root)
    yield from promtool_check(alerts_path, files.get(alerts_path, b""))
    operator = rules.get(ALERTS_PROMETHEUS_RULE_PATH) or {}
    if (operator.get("spec") or {}).get("groups") != (alerts or {}).get("groups"):
        yield Finding(f"{rules_root}/{ALERTS_PROMETHEUS_RULE_PATH}", "spec.groups",
                      f"differ from {alerts_path}: both must load the same alerts")
    routing_path = f"{alertmanager_root}/{ALERTMANAGER_FILE}"
    yield from check_alertmanager_file(routing_path, alertmanager.get(ALERTMANAGER_FILE), config)
    yield from amtool_check(routing_path, files.get(routing_path, b""))
