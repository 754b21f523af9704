"""Checks on the generated AlertmanagerConfigs (alertmanager/operator/alertmanagerconfig*.yaml), offline: their
shape, as the Prometheus Operator accepts them, beyond its CRD schema (agentmon_checks.crds). Where they route is
checked on the configuration the Operator builds from them (agentmon_checks.operator_conformance).

The rules come from the Operator's monitoring.coreos.com/v1alpha1 API (prometheus-operator repository):
the CRD markers in pkg/apis/monitoring/v1alpha1/alertmanager_config_types.go (field names, matchType enum,
receiver name MinLength=1 and listType=map keyed by name, emailConfigs[].to MinLength=1) and
monitoringv1.NonEmptyDuration (the duration pattern, MinLength=1); and the semantic validation its admission
webhook and reconciler run, pkg/alertmanager/validation/v1alpha1/validation.go (unique receivers, "root route must
define a receiver", a route's receiver must exist, groupBy unique with "..." alone, the duration regex, mute and
active time intervals must be defined, child routes decoded with DisallowUnknownFields, webhookConfigs need url or
urlSecret and a url Alertmanager parses: http or https with a host, emailConfigs need `to` and a host:port
smarthost). Not checked: receiver kinds agentmon never generates, beyond their field name, and regular
expressions (RE2, not Python's): amtool checks alertmanager.yml and the configuration the Operator builds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from agentmon_config.alertnames import MANAGED_BY_LABEL, MANAGED_BY_VALUE
from agentmon_rules.routing import HEARTBEAT_RECEIVER

ALERTMANAGER_CONFIG_API = "monitoring.coreos.com/v1alpha1"
MATCH_TYPES = ("=", "!=", "=~", "!~")
# monitoringv1.NonEmptyDuration: Prometheus' model.ParseDuration units, "0" allowed by the pattern.
_DURATION = re.compile(r"0|([0-9]+y)?([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?")
# Alertmanager refuses a zero group_interval or repeat_interval ("cannot be zero"); groupWait may be 0.
_NON_ZERO = ("groupInterval", "repeatInterval")
_SPEC_FIELDS = frozenset({"route", "receivers", "inhibitRules", "muteTimeIntervals"})
_ROUTE_FIELDS = frozenset({"receiver", "groupBy", "groupWait", "groupInterval", "repeatInterval", "matchers",
                           "continue", "routes", "muteTimeIntervals", "activeTimeIntervals"})
_MATCHER_FIELDS = frozenset({"name", "value", "matchType", "regex"})
_INHIBIT_FIELDS = frozenset({"sourceMatch", "targetMatch", "equal"})
_RECEIVER_CONFIGS = frozenset({
    "opsgenieConfigs", "pagerdutyConfigs", "discordConfigs", "slackConfigs", "webhookConfigs", "wechatConfigs",
    "emailConfigs", "victoropsConfigs", "pushoverConfigs", "snsConfigs", "telegramConfigs", "webexConfigs",
    "msteamsConfigs", "msteamsv2Configs", "rocketchatConfigs", "mattermostConfigs"})
_WEBHOOK_FIELDS = frozenset({"sendResolved", "url", "urlSecret", "httpConfig", "maxAlerts", "timeout"})
_EMAIL_FIELDS = frozenset({"sendResolved", "to", "from", "hello", "smarthost", "authUsername", "authPassword",
                           "authSecret", "authIdentity", "headers", "html", "text", "requireTLS", "tlsConfig"})
_HOST_PORT = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[^:\s\[\]]+):[0-9]{1,5}")


def alertmanager_config_problems(obj: dict[str, Any]) -> Iterator[str]:
    """Every way the AlertmanagerConfig breaks the Operator's v1alpha1 rules, as "<field path>: <problem>"."""
    if obj.get("apiVersion") != ALERTMANAGER_CONFIG_API:
        yield f"apiVersion: {obj.get('apiVersion')!r}, expected {ALERTMANAGER_CONFIG_API!r}"
    spec = obj.get("spec") or {}
    yield from _unknown("spec", spec, _SPEC_FIELDS)
    receivers = spec.get("receivers") or []
    yield from _receiver_problems(receivers)
    intervals = {m.get("name") for m in spec.get("muteTimeIntervals") or []}
    route = spec.get("route")
    if route is not None:
        yield from _top_route_problems(route)
        yield from _route_problems("spec.route", route, {r.get("name") for r in receivers}, intervals)
    for i, rule in enumerate(spec.get("inhibitRules") or []):
        yield from _unknown(f"spec.inhibitRules[{i}]", rule, _INHIBIT_FIELDS)
        for side in ("sourceMatch", "targetMatch"):
            yield from _matchers_problems(f"spec.inhibitRules[{i}].{side}", rule.get(side))


def _unknown(where: str, obj: Any, known: frozenset[str]) -> Iterator[str]:
    if not isinstance(obj, dict):
        yield f"{where}: must be a mapping, found {obj!r}"
    elif extra := set(obj) - known:
        yield f"{where}: unknown field(s) {', '.join(sorted(extra))}"


def _receiver_problems(receivers: list[dict[str, Any]]) -> Iterator[str]:
    seen: set[str] = set()
    for i, receiver in enumerate(receivers):
        where, name = f"spec.receivers[{i}]", receiver.get("name") if isinstance(receiver, dict) else None
        yield from _unknown(where, receiver, _RECEIVER_CONFIGS | {"name"})
        if not isinstance(receiver, dict):
            continue
        if not name:
            yield f"{where}.name: missing (the Operator requires a non-empty name)"
        elif name in seen:
            yield f"{where}.name: {name!r} is not unique"
        seen.add(name)
        if not any(receiver.get(kind) for kind in _RECEIVER_CONFIGS) and name != HEARTBEAT_RECEIVER:
            yield f"{where}: no notification config: alerts routed to {name!r} would reach nobody"
        for j, webhook in enumerate(receiver.get("webhookConfigs") or []):
            yield from _webhook_problems(f"{where}.webhookConfigs[{j}]", webhook)
        for j, email in enumerate(receiver.get("emailConfigs") or []):
            yield from _email_problems(f"{where}.emailConfigs[{j}]", email)


def _webhook_problems(where: str, webhook: dict[str, Any]) -> Iterator[str]:
    yield from _unknown(where, webhook, _WEBHOOK_FIELDS)
    url = webhook.get("url")
    if url is None and webhook.get("urlSecret") is None:
        yield f"{where}: one of url or urlSecret must be set"
    elif url is not None:
        parts = urlsplit(str(url))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            yield f"{where}.url: {url!r} is not an http(s) URL with a host"


def _email_problems(where: str, email: dict[str, Any]) -> Iterator[str]:
    yield from _unknown(where, email, _EMAIL_FIELDS)
    if not email.get("to"):
        yield f"{where}.to: missing: the address to send to"
    smarthost = email.get("smarthost")
    if smarthost is not None and not _HOST_PORT.fullmatch(str(smarthost)):
        yield f"{where}.smarthost: {smarthost!r} is not host:port"


def _top_route_problems(route: dict[str, Any]) -> Iterator[str]:
    if not route.get("receiver"):
        yield "spec.route.receiver: missing: the top route must define a receiver"
    matchers = [m for m in route.get("matchers") or [] if isinstance(m, dict)]
    if not any(m.get("name") == MANAGED_BY_LABEL and m.get("value") == MANAGED_BY_VALUE
               and m.get("matchType", "=") == "=" for m in matchers):
        yield (f'spec.route.matchers: no {MANAGED_BY_LABEL}="{MANAGED_BY_VALUE}": every other alert of the '
               "namespace (kube-prometheus-stack's own) would reach agentmon's receivers")
    if any(m.get("name") == "namespace" for m in matchers):
        yield "spec.route.matchers: a namespace matcher: the Operator adds its own, and the two could never both match"


def _route_problems(where: str, route: Any, receivers: set[Any], intervals: set[Any]) -> Iterator[str]:
    yield from _unknown(where, route, _ROUTE_FIELDS)
    if not isinstance(route, dict):
        return
    receiver = route.get("receiver")
    if receiver and receiver not in receivers:
        yield f"{where}.receiver: {receiver!r} is not a receiver"
    yield from _group_by_problems(where, route.get("groupBy") or [])
    for field in ("groupWait", *_NON_ZERO):
        value = route.get(field)
        if value is not None and not (str(value) and _DURATION.fullmatch(str(value))):
            yield f"{where}.{field}: {value!r} is not a duration (like 30s, 5m, 4h, 1h30m)"
        elif field in _NON_ZERO and value is not None and not re.search("[1-9]", str(value)):
            yield f"{where}.{field}: must be greater than 0"
    for field in ("muteTimeIntervals", "activeTimeIntervals"):
        for name in route.get(field) or []:
            if name not in intervals:
                yield f"{where}.{field}: {name!r} is not in spec.muteTimeIntervals"
    yield from _matchers_problems(f"{where}.matchers", route.get("matchers"))
    for i, child in enumerate(route.get("routes") or []):
        yield from _route_problems(f"{where}.routes[{i}]", child, receivers, intervals)


def _group_by_problems(where: str, labels: list[Any]) -> Iterator[str]:
    if len(set(labels)) != len(labels):
        yield f"{where}.groupBy: {labels}: a label may appear only once"
    if "..." in labels and len(labels) > 1:
        yield f"{where}.groupBy: {labels}: '...' must be the only entry"


def _matchers_problems(where: str, matchers: Any) -> Iterator[str]:
    for i, matcher in enumerate(matchers or []):
        yield from _unknown(f"{where}[{i}]", matcher, _MATCHER_FIELDS)
        if not isinstance(matcher, dict):
            continue
        if not str(matcher.get("name") or "").strip():
            yield f"{where}[{i}].name: missing: the label to match"
        match_type = matcher.get("matchType")
        if match_type is not None and match_type not in MATCH_TYPES:
            yield f"{where}[{i}].matchType: {match_type!r} is not one of {', '.join(MATCH_TYPES)}"
