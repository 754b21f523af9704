"""Alertmanager routing from the configuration: one receiver per distinct contact, each tenant's alerts to its
owner_contact, platform-wide alerts to the operations receiver, the heartbeat to its own receiver.

The routing is a few subtrees, each matching managed_by="agentmon" (every agentmon alert carries it, so the other
alerts of a shared Alertmanager never reach these receivers) and a disjoint set of tenant_id values:

- the main subtree (`agentmon-routing`): every agentmon alert but those of the tenants the shards own
  (`tenant_id!~"a|b"`): platform alerts, the tenants whose owner_contact is alerts.operations_contact, and tenants
  that are not configured; first the heartbeat route, then the operations tenants' route; the rest falls through
  to `operations`;
- one subtree per contact shard (`agentmon-routing-NN`): every other contact lands in shard crc32(contact) mod
  CONTACT_SHARDS, with one route matching all its tenants (`tenant_id=~"a|b"`, anchored by Alertmanager). A
  contact's alerts are therefore grouped in one place whatever its number of tenants, an added tenant or contact
  changes its shard and the main subtree's list only (names never move), and no object grows past Kubernetes'
  limits (issue 25: 250,000 bytes at 2,000 contacts).

alertmanager.yml holds the subtrees under a root route whose receiver is "null" (notifies nobody); the Prometheus
Operator builds the same tree from the AlertmanagerConfigs (one per subtree), adding a namespace matcher and
`continue: true` to each top route (agentmon_checks.operator_merge reproduces that).

A contact that starts with http:// or https:// becomes a webhook receiver; anything else is an e-mail address.
Inhibition: a critical alert inhibits the warning of the same alert name and tenant (AgentmonSuccessRateLow), and
the burn-rate page inhibits the ticket of its tenant. Tenant alert names have one severity each
(agentmon_config.alertnames), so kube-prometheus-stack's default inhibit rules cannot cross tenants.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from typing import Any

from agentmon_config import Contact, PlatformConfig, Tenant
from agentmon_config.alertnames import (
    CRITICAL,
    ERROR_BUDGET_BURN_FAST,
    ERROR_BUDGET_BURN_SLOW,
    HEARTBEAT,
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    WARNING,
)
from agentmon_config.contract import TENANT_LABEL
from agentmon_config.durations import duration_seconds, promql_duration

ALERTMANAGER_FILE = "alertmanager.yml"
OPERATIONS_RECEIVER = "operations"
HEARTBEAT_RECEIVER = "heartbeat"
NULL_RECEIVER = "null"  # alertmanager.yml's root: alerts that are not agentmon's (kube-prometheus-stack's name)
OPERATOR_DIR = "operator"
ALERTMANAGER_CONFIG_PATH = f"{OPERATOR_DIR}/alertmanagerconfig.yaml"
ALERTMANAGER_CONFIG_NAME = "agentmon-routing"
ALERTMANAGER_CONFIG_API = "monitoring.coreos.com/v1alpha1"
CONTACT_SHARDS = 16  # fixed: changing it moves contacts between objects
# Platform alerts are grouped by name (one notification per alert name); an owner's tenant alerts by severity, so
# an outage across all its tenants sends at most one page and one warning digest (docs/operations/alerts.md).
PLATFORM_GROUP_BY = ("alertname",)
OWNER_GROUP_BY = ("severity",)
_MANAGED = (MANAGED_BY_LABEL, "=", MANAGED_BY_VALUE)
# (source matchers, target matchers, equal labels): a critical alert inhibits the warning of the same alert name and
# tenant (AgentmonSuccessRateLow's pair); the burn-rate page inhibits its tenant's ticket. Both sides match
# managed_by, so other teams' alerts are never inhibited by these rules.
INHIBITION = (
    ((_MANAGED, ("severity", "=", CRITICAL)), (_MANAGED, ("severity", "=", WARNING)), ("alertname", TENANT_LABEL)),
    ((_MANAGED, ("alertname", "=", ERROR_BUDGET_BURN_FAST)), (_MANAGED, ("alertname", "=", ERROR_BUDGET_BURN_SLOW)),
     (TENANT_LABEL,)),
)
WEBHOOK_SECRETS_DIR = "/etc/alertmanager/secrets"  # the webhook Secret's keys, one file each
# The dev overlay's Alertmanager reads alertmanager.yml from ConfigMaps, each under Kubernetes' object budget: the
# file cut at line ends into parts (parts/alertmanager.yml.NN, one ConfigMap each) that an init container
# concatenates in name order (components/demo-stack/alertmanager.yaml). A cut falls where a line's hash says so
# once a part holds PART_MIN_BYTES (content-defined: an added contact changes the part around it, not every part
# after it), and always before a part would pass PART_MAX_BYTES.
PARTS_DIR = "parts"
CONFIGMAP = "alertmanager-config"
PART_MIN_BYTES, PART_MAX_BYTES = 32_000, 200_000
PART_CUT_ONE_IN = 256
DEMO_ALERTMANAGER_DIR = "demo-alertmanager"
DEMO_ALERTMANAGER = "alertmanager"  # the Deployment and its volume of parts (components/demo-stack/alertmanager.yaml)
DEMO_PARTS_VOLUME = "config-parts"
DEMO_PARTS_PATCH = "parts-volume.yaml"


@dataclass(frozen=True)
class Timing:
    """Alertmanager's waits. group_interval of 15m bounds every aggregation group to one notification in any
    15 minutes (the storm budget); the heartbeat re-notifies every heartbeat_repeat while it fires (always)."""

    group_wait: str = "30s"
    group_interval: str = "15m"
    repeat_interval: str = "4h"
    heartbeat_interval: str = "1m"
    heartbeat_repeat: str = "5m"

    def scaled(self, divisor: int) -> Timing:
        """Every wait divided by `divisor` (tests run the production timing faster)."""
        return Timing(*(promql_duration(duration_seconds(getattr(self, field)) / divisor)
                        for field in self.__dataclass_fields__))


PRODUCTION = Timing()


@dataclass(frozen=True)
class Route:
    """A route of the agentmon tree, rendered into both formats."""

    receiver: str
    matchers: tuple[tuple[str, str, str], ...]  # (label, operator, value)
    group_by: tuple[str, ...] = ()
    timing: tuple[tuple[str, str], ...] = ()  # (snake_case field, duration)
    routes: tuple[Route, ...] = ()


@dataclass(frozen=True)
class Subtree:
    """One AlertmanagerConfig: its name, file, routing tree and receivers (name -> contact, None for nobody)."""

    name: str
    path: str
    route: Route
    receivers: tuple[tuple[str, Contact | None], ...]
    inhibit: bool = False  # the inhibit rules live in the main subtree only


def contact_identity(contact: Contact | str) -> str:
    """What tells contacts apart, stable across builds: the address, the URL, or the Secret key holding a URL."""
    contact = Contact.of(contact)
    return contact.email or contact.url or f"secret:{contact.secret_name}/{contact.secret_key}"


def owner_receiver(contact: Contact | str) -> str:
    """One receiver per contact, named after it: the e-mail address, the Secret key of a secret webhook, or a hash
    for an inline webhook URL (kept out of names all the same)."""
    contact = Contact.of(contact)
    if contact.url:
        return f"owner-webhook-{hashlib.sha256(contact.url.encode()).hexdigest()[:12]}"
    return f"owner-{contact.email}" if contact.email else f"owner-webhook-secret-{contact.secret_key}"


def contact_shard(contact: Contact | str) -> int:
    return zlib.crc32(contact_identity(contact).encode()) % CONTACT_SHARDS


def tenants_regex(tenants: tuple[Tenant, ...]) -> str:
    """Alertmanager anchors regular expressions; tenant ids are [a-z0-9-] (tenant schema), nothing to escape."""
    return "|".join(sorted(t.tenant_id for t in tenants))


def _by_contact(tenants: tuple[Tenant, ...]) -> dict[Contact, tuple[Tenant, ...]]:
    found: dict[Contact, list[Tenant]] = {}
    for tenant in tenants:
        found.setdefault(Contact.of(tenant.owner_contact), []).append(tenant)
    return {contact: tuple(found[contact]) for contact in sorted(found, key=contact_identity)}


def _timing(timing: Timing) -> tuple[tuple[str, str], ...]:
    return (("group_wait", timing.group_wait), ("group_interval", timing.group_interval),
            ("repeat_interval", timing.repeat_interval))


def _owner_route(receiver: str, tenants: tuple[Tenant, ...], group_by: tuple[str, ...] = ()) -> Route:
    """group_by empty: inherited from the parent (a shard's top route groups by OWNER_GROUP_BY already)."""
    return Route(receiver, ((TENANT_LABEL, "=~", tenants_regex(tenants)),), group_by)


def _main_subtree(config: PlatformConfig, own: tuple[Tenant, ...], others: tuple[Tenant, ...],
                  timing: Timing) -> Subtree:
    """Everything of agentmon's except the tenants the contact shards own: platform alerts, the operations
    contact's tenants, and tenants that are not configured (their alerts reach operations rather than nobody)."""
    heartbeat = Route(HEARTBEAT_RECEIVER, (("alertname", "=", HEARTBEAT),), (),
                      (("group_interval", timing.heartbeat_interval), ("repeat_interval", timing.heartbeat_repeat)))
    routes = (heartbeat, _owner_route(OPERATIONS_RECEIVER, own, OWNER_GROUP_BY)) if own else (heartbeat,)
    not_sharded = ((TENANT_LABEL, "!~", tenants_regex(others)),) if others else ()
    top = Route(OPERATIONS_RECEIVER, (_MANAGED, *not_sharded), PLATFORM_GROUP_BY, _timing(timing), routes)
    receivers = ((OPERATIONS_RECEIVER, config.alerts.operations_contact),
                 (HEARTBEAT_RECEIVER, config.alerts.heartbeat_contact))
    return Subtree(ALERTMANAGER_CONFIG_NAME, ALERTMANAGER_CONFIG_PATH, top, receivers, inhibit=True)


def _shard_subtree(shard: int, contacts: dict[Contact, tuple[Tenant, ...]], timing: Timing) -> Subtree:
    routes = tuple(_owner_route(owner_receiver(c), tenants) for c, tenants in contacts.items())
    everyone = tuple(t for tenants in contacts.values() for t in tenants)
    top = Route(routes[0].receiver, (_MANAGED, (TENANT_LABEL, "=~", tenants_regex(everyone))),
                OWNER_GROUP_BY, _timing(timing), routes)
    name = f"{ALERTMANAGER_CONFIG_NAME}-{shard:02d}"
    return Subtree(name, f"{OPERATOR_DIR}/alertmanagerconfig-{shard:02d}.yaml", top,
                   tuple((owner_receiver(c), c) for c in contacts))


def subtrees(config: PlatformConfig, timing: Timing = PRODUCTION) -> tuple[Subtree, ...]:
    """The main subtree, then the non-empty contact shards in shard order."""
    contacts = _by_contact(config.tenants)
    operations = Contact.of(config.alerts.operations_contact)
    own = contacts.pop(operations, ())
    shards: dict[int, dict[Contact, tuple[Tenant, ...]]] = {}
    for contact, tenants in contacts.items():
        shards.setdefault(contact_shard(contact), {})[contact] = tenants
    others = tuple(t for t in config.tenants if Contact.of(t.owner_contact) != operations)
    return (_main_subtree(config, own, others, timing),
            *(_shard_subtree(k, shards[k], timing) for k in sorted(shards)))


# --- alertmanager.yml ----------------------------------------------------------------------------------------------

def receiver(name: str, contact: Contact | str) -> dict[str, Any]:
    """A receiver of the plain configuration. A webhook whose URL is a secret is read from the file the Secret's
    key is mounted as (compose: compose/secrets/KEY; dev overlay: the Secret): url_file, Alertmanager 0.26+."""
    contact = Contact.of(contact)
    if contact.secret_key:
        return {"name": name, "webhook_configs": [{"url_file": webhook_secret_file(contact.secret_key),
                                                   "send_resolved": True}]}
    if contact.url:
        return {"name": name, "webhook_configs": [{"url": contact.url, "send_resolved": True}]}
    return {"name": name, "email_configs": [{"to": contact.email, "send_resolved": True}]}


def webhook_secret_file(key: str) -> str:
    """Where compose and the dev overlay mount the webhook Secret's key (docs/operations/alerts.md#secrets)."""
    return f"{WEBHOOK_SECRETS_DIR}/{key}"


def _file_receiver(name: str, contact: Contact | None) -> dict[str, Any]:
    return receiver(name, contact) if contact else {"name": name}


def _file_route(route: Route, top: bool = False) -> dict[str, Any]:
    doc: dict[str, Any] = {"receiver": route.receiver,
                           "matchers": _file_matchers(route.matchers)}
    if route.group_by:
        doc["group_by"] = list(route.group_by)
    doc |= dict(route.timing)
    if route.routes:
        doc["routes"] = [_file_route(child) for child in route.routes]
    if top:
        doc["continue"] = True  # as the Operator sets it: the next subtree sees the alert too
    return doc


def _file_matchers(matchers: tuple[tuple[str, str, str], ...]) -> list[str]:
    return [f'{name}{op}"{value}"' for name, op, value in matchers]


def inhibit_rules() -> list[dict[str, Any]]:
    return [{"source_matchers": _file_matchers(source), "target_matchers": _file_matchers(target),
             "equal": list(equal)} for source, target, equal in INHIBITION]


def alertmanager_config(config: PlatformConfig, timing: Timing = PRODUCTION) -> dict[str, Any]:
    a, trees = config.alerts, subtrees(config, timing)
    receivers = {NULL_RECEIVER: {"name": NULL_RECEIVER}}
    for tree in trees:
        receivers |= {name: _file_receiver(name, contact) for name, contact in tree.receivers}
    return {
        "global": {"smtp_smarthost": a.smtp_smarthost, "smtp_from": a.smtp_from, "smtp_require_tls": True,
                   **_smtp_login_file(config)},
        "route": {"receiver": NULL_RECEIVER, "group_by": list(PLATFORM_GROUP_BY), **dict(_timing(timing)),
                  "routes": [_file_route(tree.route, top=True) for tree in trees]},
        "inhibit_rules": inhibit_rules(),
        "receivers": [receivers[name] for name in sorted(receivers)],
    }


# --- AlertmanagerConfig (monitoring.coreos.com/v1alpha1) -----------------------------------------------------------

_CAMEL = {"group_wait": "groupWait", "group_interval": "groupInterval", "repeat_interval": "repeatInterval"}


def _matcher(name: str, op: str, value: str) -> dict[str, str]:
    """matchType "=" is left out: the Operator reads a matcher without it as name="value" (Alertmanager >= 0.22),
    and a bare = is a YAML 1.1 tag that breaks YAML readers after kustomize re-serialises the file."""
    return {"name": name, "value": value} | ({} if op == "=" else {"matchType": op})


def _operator_route(route: Route) -> dict[str, Any]:
    doc: dict[str, Any] = {"receiver": route.receiver, "matchers": [_matcher(*m) for m in route.matchers]}
    if route.group_by:
        doc["groupBy"] = list(route.group_by)
    doc |= {_CAMEL[field]: value for field, value in route.timing}
    if route.routes:
        doc["routes"] = [_operator_route(child) for child in route.routes]
    return doc


def _operator_inhibit_rules() -> list[dict[str, Any]]:
    return [{"sourceMatch": [_matcher(*m) for m in source], "targetMatch": [_matcher(*m) for m in target],
             "equal": list(equal)} for source, target, equal in INHIBITION]


def _smtp_login_file(config: PlatformConfig) -> dict[str, str]:
    """The SMTP login of alertmanager.yml: the password is the file the Secret's key is mounted as, never text."""
    a = config.alerts
    if not a.smtp_auth_username:
        return {}
    return {"smtp_auth_username": a.smtp_auth_username,
            "smtp_auth_password_file": webhook_secret_file(a.smtp_auth_password_key)}


def _smtp_login_secret(config: PlatformConfig) -> dict[str, Any]:
    """The SMTP login of an AlertmanagerConfig's e-mail receiver: the password is a Secret reference."""
    a = config.alerts
    if not a.smtp_auth_username:
        return {}
    return {"authUsername": a.smtp_auth_username,
            "authPassword": {"name": a.webhook_secret_name, "key": a.smtp_auth_password_key}}


def operator_document(config: PlatformConfig, tree: Subtree) -> dict[str, Any]:
    """One subtree as an AlertmanagerConfig. alerts.alertmanager_config_labels adds the labels the Alertmanager
    resource's alertmanagerConfigSelector matches. E-mail receivers carry smarthost and from: kube-prometheus-stack
    sets no global SMTP, and the Operator refuses the whole configuration, every team's, without them."""
    labels = {"app.kubernetes.io/part-of": "agentmon", **dict(config.alerts.alertmanager_config_labels)}
    smtp = {"smarthost": config.alerts.smtp_smarthost, "from": config.alerts.smtp_from, "requireTLS": True,
            **_smtp_login_secret(config)}
    spec: dict[str, Any] = {
        "route": _operator_route(tree.route),
        "receivers": [_operator_receiver(name, contact, smtp) if contact else {"name": name}
                      for name, contact in tree.receivers]}
    if tree.inhibit:
        spec["inhibitRules"] = _operator_inhibit_rules()
    return {"apiVersion": ALERTMANAGER_CONFIG_API, "kind": "AlertmanagerConfig",
            "metadata": {"name": tree.name, "labels": labels}, "spec": spec}


def alertmanager_operator_config(config: PlatformConfig) -> dict[str, Any]:
    """The main AlertmanagerConfig (platform alerts, heartbeat, the operations contact's tenants)."""
    return operator_document(config, subtrees(config)[0])


def _operator_receiver(name: str, contact: Contact | str, smtp: dict[str, Any]) -> dict[str, Any]:
    """A receiver of the AlertmanagerConfig; a secret webhook URL is the Operator's urlSecret reference (a Secret
    in the AlertmanagerConfig's namespace), never written here. E-mail carries the SMTP settings itself: the
    cluster's Alertmanager may have no global ones (kube-prometheus-stack sets none)."""
    contact = Contact.of(contact)
    if contact.secret_key:
        return {"name": name, "webhookConfigs": [{"urlSecret": {"name": contact.secret_name, "key": contact.secret_key},
                                                  "sendResolved": True}]}
    if contact.url:
        return {"name": name, "webhookConfigs": [{"url": contact.url, "sendResolved": True}]}
    return {"name": name, "emailConfigs": [{"to": contact.email, "sendResolved": True, **smtp}]}


def config_parts(text: str) -> list[str]:
    """alertmanager.yml cut at line ends into consecutive parts whose concatenation is the file, byte for byte."""
    parts, current, size = [], [], 0
    for line in text.splitlines(keepends=True):
        cut_here = size >= PART_MIN_BYTES and zlib.crc32(line.encode()) % PART_CUT_ONE_IN == 0
        if current and (cut_here or size + len(line.encode()) > PART_MAX_BYTES):
            parts.append("".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line.encode())
    return [*parts, "".join(current)]


def part_path(index: int) -> str:
    return f"{PARTS_DIR}/{ALERTMANAGER_FILE}.{index:02d}"


def parts_files(count: int) -> dict[str, dict[str, Any]]:
    """The kustomization making one ConfigMap per part of alertmanager.yml, and the Component mounting them all in
    the demo Alertmanager's parts volume (their number changes with the contacts, so the list is generated)."""
    names = [f"{CONFIGMAP}-{i:02d}" for i in range(count)]
    generators = [{"name": name, "files": [f"{ALERTMANAGER_FILE}.{i:02d}={part_path(i)}"]}
                  for i, name in enumerate(names)]
    volume = {"name": DEMO_PARTS_VOLUME, "projected": {"sources": [{"configMap": {"name": n}} for n in names]}}
    return {
        "kustomization.yaml": {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                               "configMapGenerator": generators},
        f"{DEMO_ALERTMANAGER_DIR}/kustomization.yaml": {
            "apiVersion": "kustomize.config.k8s.io/v1alpha1", "kind": "Component",
            "patches": [{"path": DEMO_PARTS_PATCH}]},
        f"{DEMO_ALERTMANAGER_DIR}/{DEMO_PARTS_PATCH}": {
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": DEMO_ALERTMANAGER},
            "spec": {"template": {"spec": {"volumes": [volume]}}}},
    }


def render_alertmanager(config: PlatformConfig) -> dict[str, dict[str, Any]]:
    """Path relative to the alertmanager folder -> document (the parts of alertmanager.yml and their kustomization
    come from its text: config_parts, parts_files)."""
    trees = subtrees(config)
    return {
        ALERTMANAGER_FILE: alertmanager_config(config),
        f"{OPERATOR_DIR}/kustomization.yaml": {
            "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
            "resources": [tree.path.removeprefix(f"{OPERATOR_DIR}/") for tree in trees]},
        **{tree.path: operator_document(config, tree) for tree in trees},
    }
