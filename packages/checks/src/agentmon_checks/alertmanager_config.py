"""Checks on the generated AlertmanagerConfig (alertmanager/operator/alertmanagerconfig.yaml), offline:

- its shape, as the Prometheus Operator accepts it (kubernetes-validate has no schema for custom resources);
- the routing it describes equals alertmanager/alertmanager.yml's (which amtool checks): the same tenants go to
  the same contacts, with the same grouping, timing and inhibition.

The rules come from the Operator's monitoring.coreos.com/v1alpha1 API (prometheus-operator repository):
the CRD markers in pkg/apis/monitoring/v1alpha1/alertmanager_config_types.go (field names, matchType enum,
receiver name MinLength=1 and listType=map keyed by name, emailConfigs[].to MinLength=1) and
monitoringv1.NonEmptyDuration (the duration pattern, MinLength=1); and the semantic validation its admission
webhook and reconciler run, pkg/alertmanager/validation/v1alpha1/validation.go (unique receivers, "root route must
define a receiver", a route's receiver must exist, groupBy unique with "..." alone, the duration regex, mute and
active time intervals must be defined, child routes decoded with DisallowUnknownFields, webhookConfigs need url or
urlSecret and a url Alertmanager parses: http or https with a host, emailConfigs need `to` and a host:port
smarthost). Not checked: receiver kinds agentmon never generates, beyond their field name, and regular
expressions (RE2, not Python's; alertmanager.yml's are checked by amtool, and the parity check makes both equal).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

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
        if not any(receiver.get(kind) for kind in _RECEIVER_CONFIGS):
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
    if route.get("matchers"):
        yield ("spec.route.matchers: must be empty: the Operator replaces a namespace matcher here with its own, and "
               "any other would keep alerts from the receiver alertmanager.yml's root route gives them")


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


# --- the same routing as alertmanager.yml ---------------------------------------------------------------------------

ROUTING_FILE = "alertmanager.yml"
_MATCHER_TEXT = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|[^"]*?)\s*')
_TIMING = (("groupBy", "group_by"), ("groupWait", "group_wait"), ("groupInterval", "group_interval"),
           ("repeatInterval", "repeat_interval"))
TOP = "(top route)"

Contacts = tuple[str, ...]


def routing_differences(routing: Any, operator: Any) -> Iterator[tuple[str, str]]:
    """Where the AlertmanagerConfig routes differently from alertmanager.yml, as (its field, the difference):
    the top route's contacts, grouping and timing, each first-level route's contacts by its matchers, and the
    inhibition rules. Contacts are compared by address (e-mail `to`, webhook url)."""
    if not isinstance(routing, dict) or not isinstance(operator, dict):
        return
    spec = operator.get("spec") or {}
    ours = _routes(spec, _operator_contacts, lambda route: _operator_matchers(route.get("matchers")))
    yield from _route_differences(ours, _routes(routing, _file_contacts, _file_matchers))
    yield from _timing_differences(spec.get("route") or {}, routing.get("route") or {})
    yield from _inhibition_differences(spec.get("inhibitRules") or [], routing.get("inhibit_rules") or [])


def _routes(doc: dict[str, Any], contacts: Any, matchers: Any) -> dict[str, Contacts]:
    """TOP and each first-level route's matchers -> the contacts of its receiver (the first route of the same
    matchers wins, as in Alertmanager)."""
    by_name = {r.get("name"): contacts(r) for r in doc.get("receivers") or [] if isinstance(r, dict)}
    route = doc.get("route") or {}
    table = {TOP: by_name.get(route.get("receiver"), (f"undefined receiver {route.get('receiver')!r}",))}
    for child in route.get("routes") or []:
        key = ", ".join(matchers(child)) or "(no matcher)"
        table.setdefault(key, by_name.get(child.get("receiver"), (f"undefined receiver {child.get('receiver')!r}",)))
    return table


def _route_differences(ours: dict[str, Contacts], theirs: dict[str, Contacts]) -> Iterator[tuple[str, str]]:
    if ours[TOP] != theirs[TOP]:
        yield "spec.route.receiver", (f"the top route reaches {_show(ours[TOP])}, {ROUTING_FILE}'s root route "
                                      f"{_show(theirs[TOP])}")
    for key in [k for k in ours if k != TOP] + [k for k in theirs if k not in ours]:
        if key not in theirs:
            yield "spec.route.routes", f"{key}: routed to {_show(ours[key])} here, not routed in {ROUTING_FILE}"
        elif key not in ours:
            yield "spec.route.routes", f"{key}: not routed here, routed to {_show(theirs[key])} in {ROUTING_FILE}"
        elif ours[key] != theirs[key]:
            yield "spec.route.routes", (f"{key}: routed to {_show(ours[key])} here, to {_show(theirs[key])} in "
                                        f"{ROUTING_FILE}")


def _timing_differences(top: dict[str, Any], root: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for field, file_field in _TIMING:
        if top.get(field) != root.get(file_field):
            yield f"spec.route.{field}", (f"{top.get(field)!r} here, {file_field}: {root.get(file_field)!r} in "
                                          f"{ROUTING_FILE}")


def _inhibition_differences(ours: list[Any], theirs: list[Any]) -> Iterator[tuple[str, str]]:
    mine = sorted((_operator_matchers(r.get("sourceMatch")), _operator_matchers(r.get("targetMatch")),
                   tuple(sorted(r.get("equal") or []))) for r in ours)
    file = sorted((_file_matchers(r, "source_"), _file_matchers(r, "target_"), tuple(sorted(r.get("equal") or [])))
                  for r in theirs)
    if mine != file:
        yield "spec.inhibitRules", f"{_rules(mine)} here, {_rules(file)} in {ROUTING_FILE}'s inhibit_rules"


def _operator_contacts(receiver: dict[str, Any]) -> Contacts:
    found = [f"e-mail {c.get('to')}" for c in receiver.get("emailConfigs") or []]
    found += [f"webhook {c['url']}" if c.get("url") else _secret_webhook((c.get("urlSecret") or {}).get("key"))
              for c in receiver.get("webhookConfigs") or []]
    found += [kind.removesuffix("Configs").lower() for kind in sorted(_RECEIVER_CONFIGS - {"emailConfigs",
                                                                                        "webhookConfigs"})
              for _ in receiver.get(kind) or []]
    return tuple(sorted(found))


def _secret_webhook(key: Any) -> str:
    """A webhook whose URL is a Secret's key: urlSecret in the AlertmanagerConfig, the file that key is mounted
    as (url_file) in alertmanager.yml; both name the same key."""
    return f"webhook from Secret key {key}"


def _file_contacts(receiver: dict[str, Any]) -> Contacts:
    found = [f"e-mail {c.get('to')}" for c in receiver.get("email_configs") or []]
    found += [f"webhook {c['url']}" if c.get("url") else _secret_webhook(PurePosixPath(str(c.get("url_file"))).name)
              for c in receiver.get("webhook_configs") or []]
    found += [kind.removesuffix("_configs").replace("_", "") for kind in sorted(receiver)
              if kind.endswith("_configs") and kind not in ("email_configs", "webhook_configs")
              for _ in receiver.get(kind) or []]
    return tuple(sorted(found))


def _operator_matchers(matchers: Any) -> tuple[str, ...]:
    """Matchers as Alertmanager prints them: name, operator, the value quoted (the Operator's Matcher.String());
    matchType "=" by default, "=~" for the deprecated regex: true."""
    return tuple(sorted(f'{m.get("name")}{m.get("matchType") or ("=~" if m.get("regex") else "=")}'
                        f'"{_escape(m.get("value", ""))}"' for m in matchers or [] if isinstance(m, dict)))


def _file_matchers(doc: dict[str, Any], prefix: str = "") -> tuple[str, ...]:
    """<prefix>matchers, and the older <prefix>match / <prefix>match_re maps, in the same form."""
    found = [_matcher_text(text) for text in doc.get(f"{prefix}matchers") or []]
    found += [f'{k}="{_escape(v)}"' for k, v in (doc.get(f"{prefix}match") or {}).items()]
    found += [f'{k}=~"{_escape(v)}"' for k, v in (doc.get(f"{prefix}match_re") or {}).items()]
    return tuple(sorted(found))


def _matcher_text(text: str) -> str:
    match = _MATCHER_TEXT.fullmatch(str(text))
    if not match:
        return str(text)
    name, op, value = match.groups()
    return f'{name}{op}{value}' if value.startswith('"') else f'{name}{op}"{_escape(value)}"'


def _escape(value: Any) -> str:
    """OpenMetrics escaping, as Alertmanager and the Operator print a matcher's value."""
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _show(contacts: Contacts | None) -> str:
    return ", ".join(contacts) if contacts else "nobody"


def _rules(rules: list[tuple[tuple[str, ...], ...]]) -> str:
    return "; ".join(f"{' '.join(s)} inhibits {' '.join(t)} on equal {','.join(e)}" for s, t, e in rules) or "none"
