"""Alertmanager's routing and inhibition semantics on a configuration document (alertmanager.yml's form), offline:
which receivers an alert reaches, and whether one alert inhibits another. validate asks these questions for every
tenant and alert name, thousands of times, where running amtool per question would take minutes; the tests check
the answers against `amtool config routes test` and a real Alertmanager.

Alertmanager (dispatch/route.go): the root route matches every alert; a matching route hands the alert to its
children in order, each matching child takes it and the search stops at the first that has no `continue: true`;
a route none of whose children matched notifies its own receiver. A matcher on a missing label sees "". Regular
expressions are anchored (^(?:re)$). Inhibition (inhibit/inhibit.go): a firing source alert matching every source
matcher mutes a target alert matching every target matcher when each `equal` label has the same value on both
(missing counts as ""), and the two are not the same alert.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

Labels = Mapping[str, str]
_MATCHER = re.compile(r'\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|!~|!=|=)\s*(.*?)\s*')
# A regular expression that is only names joined by |: no character of it means anything but itself ('.' would).
_LITERALS = re.compile(r"[A-Za-z0-9_@:/-]+(\|[A-Za-z0-9_@:/-]+)*")


@cache
def parse_matcher(text: str) -> tuple[str, str, str]:
    """`name op value`, the value quoted (OpenMetrics escapes) or bare, as Alertmanager's matcher parser takes it."""
    found = _MATCHER.fullmatch(text)
    if not found:
        raise ValueError(f"not a matcher: {text!r}")
    name, op, value = found.groups()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n" else m.group(1), value[1:-1])
    return name, op, value


@cache
def _value_test(op: str, value: str) -> Any:
    if op in ("=", "!="):
        return lambda v: (v == value) == (op == "=")
    if _LITERALS.fullmatch(value):  # a list of names: a set lookup, fast at thousands of tenants
        names = frozenset(value.split("|"))
        return lambda v: (v in names) == (op == "=~")
    pattern = re.compile(f"(?:{value})")
    return lambda v: bool(pattern.fullmatch(v)) == (op == "=~")


def matches(matchers: list[str], labels: Labels) -> bool:
    for text in matchers:
        name, op, value = parse_matcher(text)
        if not _value_test(op, value)(labels.get(name, "")):
            return False
    return True


def route_matchers(route: Mapping[str, Any]) -> list[str]:
    """matchers, and the older match / match_re maps, as matcher texts."""
    found = list(route.get("matchers") or [])
    found += [f'{k}="{v}"' for k, v in (route.get("match") or {}).items()]
    found += [f'{k}=~"{v}"' for k, v in (route.get("match_re") or {}).items()]
    return found


class Router:
    """A configuration's routing tree with its matchers parsed once (validate asks it thousands of questions)."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.root = _compile(config.get("route") or {})

    def receivers(self, labels: Labels) -> list[str]:
        """The receivers an alert with these labels is notified through, in routing order."""
        return list(_walk(self.root, labels, None))


@dataclass(frozen=True)
class _Route:
    receiver: str | None
    tests: tuple[tuple[str, Any], ...]  # (label, test of its value)
    keep_going: bool  # continue: true
    children: tuple[_Route, ...]
    # The children a value of `key` can reach, in order: those whose matchers let that value through, and those
    # that do not restrict key to a list of values. A tree of a route per tenant is otherwise walked child by child
    # for every question, thousands of tenants times thousands of questions at 2,000 tenants.
    key: str | None
    by_value: Mapping[str, tuple[_Route, ...]]
    unkeyed: tuple[_Route, ...]

    def candidates(self, labels: Labels) -> tuple[_Route, ...]:
        if self.key is None:
            return self.children
        return self.by_value.get(labels.get(self.key, ""), self.unkeyed)


def _compile(route: Mapping[str, Any]) -> _Route:
    children = tuple(_compile(child) for child in route.get("routes") or [])
    key, by_value, unkeyed = _index(route.get("routes") or [], children)
    return _Route(route.get("receiver"), tuple(_tests(route)), bool(route.get("continue")), children,
                  key, by_value, unkeyed)


def _tests(route: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    for text in route_matchers(route):
        name, op, value = parse_matcher(text)
        yield name, _value_test(op, value)


def _index(routes: list[Mapping[str, Any]], children: tuple[_Route, ...]
           ) -> tuple[str | None, dict[str, tuple[_Route, ...]], tuple[_Route, ...]]:
    """The label most children restrict to a list of values, and the children each of its values can reach."""
    allowed = [_allowed_values(route) for route in routes]
    counts: dict[str, int] = {}
    for restricted in allowed:
        for name in restricted:
            counts[name] = counts.get(name, 0) + 1
    if not counts or max(counts.values()) < 2:
        return None, {}, children
    key = max(sorted(counts), key=lambda name: counts[name])
    values = {value for restricted in allowed for value in restricted.get(key, ())}
    by_value = {value: tuple(child for child, restricted in zip(children, allowed, strict=True)
                             if value in restricted.get(key, (value,))) for value in values}
    return key, by_value, tuple(child for child, restricted in zip(children, allowed, strict=True)
                                if key not in restricted)


def _allowed_values(route: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """Label -> the only values the route's matchers let through: `=` a value, `=~` a list of names (anchored, so
    exactly those names); several matchers on a label allow what they all allow."""
    allowed: dict[str, frozenset[str]] = {}
    for name, op, value in map(parse_matcher, route_matchers(route)):
        if op == "=":
            values = frozenset((value,))
        elif op == "=~" and _LITERALS.fullmatch(value):
            values = frozenset(value.split("|"))
        else:
            continue
        allowed[name] = allowed[name] & values if name in allowed else values
    return allowed


def receivers_for(config: Mapping[str, Any], labels: Labels) -> list[str]:
    return Router(config).receivers(labels)


def _walk(route: _Route, labels: Labels, inherited: str | None) -> Iterator[str]:
    receiver = route.receiver or inherited
    found = False
    for child in route.candidates(labels):
        if all(test(labels.get(name, "")) for name, test in child.tests):
            found = True
            yield from _walk(child, labels, receiver)
            if not child.keep_going:
                break
    if not found and receiver is not None:
        yield receiver


def inhibits(rule: Mapping[str, Any], source: Labels, target: Labels) -> bool:
    """Whether `source`, firing, mutes `target` under this inhibit rule."""
    def side(prefix: str) -> list[str]:
        return list(rule.get(f"{prefix}_matchers") or []) + [
            f'{k}="{v}"' for k, v in (rule.get(f"{prefix}_match") or {}).items()] + [
            f'{k}=~"{v}"' for k, v in (rule.get(f"{prefix}_match_re") or {}).items()]
    return (dict(source) != dict(target) and matches(side("source"), source) and matches(side("target"), target)
            and all(source.get(label, "") == target.get(label, "") for label in rule.get("equal") or []))


# A webhook whose URL is a Secret's key: alertmanager.yml reads the key's file (url_file), the Operator the Secret
# (urlSecret, which agentmon_checks.operator_merge writes as this placeholder when the overlay does not ship the
# Secret: you create it). Both are the same contact: "secret <key>".
SECRET_FILE_PREFIX = "/etc/alertmanager/secrets/"
SECRET_URL_PREFIX = "https://secret.invalid/"


def webhook_identity(config: Mapping[str, Any]) -> str:
    url, url_file = str(config.get("url") or ""), str(config.get("url_file") or "")
    if url_file.startswith(SECRET_FILE_PREFIX):
        return f"secret {url_file.removeprefix(SECRET_FILE_PREFIX)}"
    if url.startswith(SECRET_URL_PREFIX):
        return f"secret {url.rsplit('/', 1)[-1]}"
    return url or url_file


def receiver_contacts(config: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Receiver name -> who it notifies ("e-mail <to>", "webhook <url>", other kinds by name); () for nobody."""
    table = {}
    for receiver in config.get("receivers") or []:
        found = [f"e-mail {c.get('to')}" for c in receiver.get("email_configs") or []]
        found += [f"webhook {webhook_identity(c)}" for c in receiver.get("webhook_configs") or []]
        found += [kind.removesuffix("_configs") for kind in sorted(receiver)
                  if kind.endswith("_configs") and kind not in ("email_configs", "webhook_configs")]
        table[receiver.get("name")] = tuple(sorted(found))
    return table
