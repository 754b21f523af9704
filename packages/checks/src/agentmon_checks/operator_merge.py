"""The Alertmanager configuration the Prometheus Operator builds from a base configuration (kube-prometheus-stack's
default `alertmanager.config`, data/kube-prometheus-stack-alertmanager-config.yaml) plus AlertmanagerConfig
objects, following its code (pkg/alertmanager/amcfg.go, release 0.93: ConfigBuilder.AddAlertmanagerConfigs,
convertRoute, convertReceiver, convertEmailConfig, convertInhibitRule, the namespace enforcer of the default
alertmanagerConfigMatcherStrategy OnNamespace, on Alertmanager >= 0.22):

- the objects are taken in `<namespace>/<name>` order; each object's inhibit rules are appended to the base's, with
  `namespace="<its namespace>"` added to their source and target matchers;
- each object's top route gets `namespace="<its namespace>"` appended to its matchers and `continue: true`; the top
  routes go, in that order, BEFORE the base's own child routes;
- receiver names (in routes and receivers) become `<namespace>/<name>/<receiver>`;
- a matcher with matchType becomes `name<op>"value"` (OpenMetrics-escaped), one without it `name="value"`
  (`=~` when `regex: true`);
- an e-mail config without `smarthost` (or `from`), when the base has no global `smtp_smarthost` (`smtp_from`),
  makes the Operator refuse the WHOLE configuration, every team's: OperatorRefusal, with its message.

Only the receiver kinds agentmon generates (e-mail, webhook, none) are converted; another kind is a refusal here.
A webhook's urlSecret is read from `secrets` ((secret name, key) -> URL), as the Operator reads the Secret.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

from ruamel.yaml import YAML

from agentmon_checks.amroutes import SECRET_URL_PREFIX

KUBE_PROMETHEUS_STACK_VERSION = "88.5.3"
_BASE_FILE = "kube-prometheus-stack-alertmanager-config.yaml"
_DURATIONS = {"groupWait": "group_wait", "groupInterval": "group_interval", "repeatInterval": "repeat_interval"}


class OperatorRefusal(ValueError):
    """The Operator would refuse to build the configuration (its error text)."""


def kube_prometheus_stack_config() -> dict[str, Any]:
    text = resources.files("agentmon_checks").joinpath("data", _BASE_FILE).read_text()
    return YAML(typ="safe", pure=True).load(text)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def matcher_text(matcher: Mapping[str, Any]) -> str:
    """monitoringv1alpha1.Matcher.String(), or inhibitRuleToV2 / inhibitRuleRegexToV2 without matchType."""
    op = matcher.get("matchType") or ("=~" if matcher.get("regex") else "=")
    return f'{matcher.get("name")}{op}"{_escape(str(matcher.get("value", "")))}"'


def _prefixed(name: str | None, namespace: str, obj: str) -> str | None:
    return f"{namespace}/{obj}/{name}" if name else None


def _route(route: Mapping[str, Any], namespace: str, obj: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if receiver := _prefixed(route.get("receiver"), namespace, obj):
        out["receiver"] = receiver
    if route.get("groupBy"):
        out["group_by"] = list(route["groupBy"])
    out |= {file: route[field] for field, file in _DURATIONS.items() if route.get(field)}
    if route.get("continue"):
        out["continue"] = True
    if route.get("matchers"):
        out["matchers"] = [matcher_text(m) for m in route["matchers"]]
    for field, file in (("muteTimeIntervals", "mute_time_intervals"), ("activeTimeIntervals", "active_time_intervals")):
        if route.get(field):
            out[file] = [_prefixed(n, namespace, obj) for n in route[field]]
    if route.get("routes"):
        out["routes"] = [_route(child, namespace, obj) for child in route["routes"]]
    return out


def _email(email: Mapping[str, Any], smtp: Mapping[str, Any], where: str,
           secrets: Mapping[tuple[str, str], str] = {}) -> dict[str, Any]:
    if not email.get("smarthost") and not smtp.get("smtp_smarthost"):
        raise OperatorRefusal(f"AlertmanagerConfig {where}: SMTP smarthost is a mandatory field, it is neither "
                              "specified at global config nor at receiver level")
    if not email.get("from") and not smtp.get("smtp_from"):
        raise OperatorRefusal(f"AlertmanagerConfig {where}: SMTP from is a mandatory field, it is neither specified "
                              "at global config nor at receiver level")
    fields = {"to": "to", "from": "from", "smarthost": "smarthost", "hello": "hello", "requireTLS": "require_tls",
              "sendResolved": "send_resolved", "html": "html", "text": "text"}
    out = {file: email[field] for field, file in fields.items() if email.get(field) is not None}
    if email.get("authUsername"):
        ref = email.get("authPassword") or {}
        # As for a webhook's urlSecret: a Secret the overlay does not ship is yours; a placeholder stands in.
        out |= {"auth_username": email["authUsername"],
                "auth_password": secrets.get((ref.get("name"), ref.get("key")), "secret-you-create")}
    return out


def _webhook(webhook: Mapping[str, Any], secrets: Mapping[tuple[str, str], str], where: str) -> dict[str, Any]:
    url = webhook.get("url")
    if url is None and webhook.get("urlSecret"):
        ref = webhook["urlSecret"]
        # A Secret the overlay does not ship is one you create (docs/operations/alerts.md#secrets): its URL is
        # unknown here, so a placeholder naming it stands in (agentmon_checks.amroutes.webhook_identity).
        url = secrets.get((ref.get("name"), ref.get("key")), f"{SECRET_URL_PREFIX}{ref.get('name')}/{ref.get('key')}")
    out: dict[str, Any] = {"url": url}
    if webhook.get("sendResolved") is not None:
        out["send_resolved"] = webhook["sendResolved"]
    return out


def _receiver(receiver: Mapping[str, Any], namespace: str, obj: str, smtp: Mapping[str, Any],
              secrets: Mapping[tuple[str, str], str]) -> dict[str, Any]:
    where = f"{namespace}/{obj}"
    out: dict[str, Any] = {"name": _prefixed(receiver.get("name"), namespace, obj)}
    for kind in sorted(set(receiver) - {"name"}):
        if kind == "emailConfigs":
            out["email_configs"] = [_email(e, smtp, where, secrets) for e in receiver[kind]]
        elif kind == "webhookConfigs":
            out["webhook_configs"] = [_webhook(w, secrets, where) for w in receiver[kind]]
        else:
            raise OperatorRefusal(f"AlertmanagerConfig {where}: receiver kind {kind} is not modelled here")
    return out


def _inhibit_rule(rule: Mapping[str, Any], namespace: str, on_namespace: bool) -> dict[str, Any]:
    scoped = f'namespace="{_escape(namespace)}"'
    out: dict[str, Any] = {}
    for field, file in (("sourceMatch", "source_matchers"), ("targetMatch", "target_matchers")):
        texts = [matcher_text(m) for m in rule.get(field) or []]
        out[file] = texts + ([] if scoped in texts or not on_namespace else [scoped])
    if rule.get("equal"):
        out["equal"] = list(rule["equal"])
    return out


def merged_config(base: Mapping[str, Any], objects: Iterable[Mapping[str, Any]], namespace: str,
                  secrets: Mapping[tuple[str, str], str] | None = None, on_namespace: bool = True) -> dict[str, Any]:
    """The configuration the Operator writes for the Alertmanager, from `base` and the AlertmanagerConfig objects
    (all in `namespace`, where the prod overlay puts them). on_namespace=False: the strategy None (or
    OnNamespaceExceptForAlertmanagerNamespace with the objects in the Alertmanager's namespace), which adds no
    namespace matcher; `continue: true` is set either way."""
    config = copy.deepcopy(dict(base))
    smtp = config.get("global") or {}
    top_routes = []
    for obj in sorted(objects, key=lambda o: f"{namespace}/{o['metadata']['name']}"):
        name, spec = obj["metadata"]["name"], obj.get("spec") or {}
        config.setdefault("inhibit_rules", []).extend(_inhibit_rule(r, namespace, on_namespace)
                                                      for r in spec.get("inhibitRules") or [])
        if not spec.get("route"):
            continue
        top = _route(spec["route"], namespace, name)
        if on_namespace:
            top["matchers"] = [*top.get("matchers", []), f'namespace="{_escape(namespace)}"']
        top["continue"] = True
        top_routes.append(top)
        config.setdefault("receivers", []).extend(_receiver(r, namespace, name, smtp, secrets or {})
                                                  for r in spec.get("receivers") or [])
    config["route"]["routes"] = top_routes + list(config["route"].get("routes") or [])
    return config


def config_bytes(config: Mapping[str, Any]) -> bytes:
    """For amtool and Alertmanager: JSON is YAML, and needs no serializer from a later package."""
    return (json.dumps(config, indent=1, sort_keys=True) + "\n").encode()
