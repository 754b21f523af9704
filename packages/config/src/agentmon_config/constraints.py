"""Rules a JSON Schema cannot express: numbers that survive JSON, cross-field checks, values checked against
what Grafana and Kubernetes accept.

Each rule yields (path, message), path being the list of keys down to the offending field, so the loader can
name the field and find its line in the YAML file.
"""

from __future__ import annotations

import math
import re
import zoneinfo
from collections.abc import Iterator
from fractions import Fraction
from functools import cache
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import SplitResult, urlsplit

from agentmon_config import fields
from agentmon_config.durations import duration_seconds

Problem = tuple[list[Any], str]

# JSON readers such as Grafana's frontend hold numbers as IEEE doubles: larger integers lose their value.
MAX_SAFE_INTEGER = 2**53 - 1
# Grafana's own time zone values besides IANA names ("" = the viewer's or organisation's default).
GRAFANA_TIMEZONES = frozenset({"utc", "browser", ""})
PROVISIONING_DIR = PurePosixPath("/etc/grafana/provisioning")  # GF_PATHS_PROVISIONING on every target
GRAFANA_DATA_DIR = PurePosixPath("/var/lib/grafana")
_QUANTITY = re.compile(r"([0-9]+)(m|Mi|Gi)?")
_QUANTITY_UNITS = {None: Fraction(1), "m": Fraction(1, 1000), "Mi": Fraction(2**20), "Gi": Fraction(2**30)}
# Labels agentmon sets on the objects it generates (app.kubernetes.io/part-of, ...): configured labels may not
# replace them, or the objects would no longer be found as agentmon's.
RESERVED_LABEL_PREFIX = "app.kubernetes.io/"


def number_problems(node: Any) -> Iterator[Problem]:
    """Every number JSON cannot carry faithfully: NaN, infinities (`.nan`, `.inf`, `1e999`), huge integers."""
    for path, value in fields.leaves(node):
        if isinstance(value, float) and not math.isfinite(value):
            yield path, f"must be a finite number, not {'NaN' if math.isnan(value) else 'infinity'}"
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SAFE_INTEGER:
            yield path, (f"{value} is too large (at most {MAX_SAFE_INTEGER}, what JSON readers such as Grafana keep "
                         "exactly)")


def platform_problems(doc: dict[str, Any]) -> Iterator[Problem]:
    """Every rule on a schema-valid, default-filled platform document."""
    yield from _threshold_order(doc["thresholds"])
    if problem := fields.latency_sla_problem(doc["thresholds"]["p95_latency_sla_seconds"]):
        yield ["thresholds", "p95_latency_sla_seconds"], problem
    yield from _resources(doc["kubernetes"])
    yield from _datasource_url(doc["datasource"]["url"])
    yield from _timezone(doc["main_dashboard"]["timezone"])
    yield from _dashboards_path(doc["provisioning"]["dashboards_path"])
    yield from _rule_interval(doc["rules"]["evaluation_interval"], doc["datasource"]["scrape_interval"])
    yield from fields.first_per_field([*_alert_texts(doc["alerts"]), *_reserved_labels(doc),
                                       *fields.text_problems(doc)])


def _alert_texts(alerts: dict[str, Any]) -> Iterator[Problem]:
    """The alert section's contacts and links, each as what it is."""
    checks = [("operations_contact", fields.contact_problem(alerts["operations_contact"],
                                                            alerts["allowed_webhook_hosts"])),
              ("heartbeat_contact", alerts["heartbeat_contact"] and fields.contact_problem(
                  alerts["heartbeat_contact"], alerts["allowed_webhook_hosts"])),
              ("grafana_url", fields.link_problem(alerts["grafana_url"], relative_allowed=False)),
              ("runbooks_url", fields.link_problem(alerts["runbooks_url"], relative_allowed=True)),
              ("smtp_smarthost", fields.smarthost_problem(alerts["smtp_smarthost"])),
              ("smtp_auth_username",
               alerts["smtp_auth_username"] and fields.text_problem(alerts["smtp_auth_username"])),
              ("smtp_auth_password_key", fields.secret_key_problem(alerts["smtp_auth_password_key"])),
              ("smtp_from", fields.text_problem(alerts["smtp_from"])
               or fields.email_problem(alerts["smtp_from"], "an e-mail address"))]
    for field, message in checks:
        if message:
            yield ["alerts", field], message


def _reserved_labels(doc: dict[str, Any]) -> Iterator[Problem]:
    for section, field in (("rules", "prometheus_rule_labels"), ("alerts", "alertmanager_config_labels")):
        for name in doc[section][field]:
            if name.startswith(RESERVED_LABEL_PREFIX):
                yield [section, field, name], (f"{name!r} is reserved: agentmon sets the {RESERVED_LABEL_PREFIX}* "
                                               "labels of what it generates; use a label of your own")


def _rule_interval(interval: str, scrape: str) -> Iterator[Problem]:
    """Panels read recorded series over Grafana's $__rate_interval, at least 4 scrape intervals: every such window
    must hold one rule evaluation, or short time ranges would show gaps."""
    if duration_seconds(interval) > 4 * duration_seconds(scrape):
        yield ["rules", "evaluation_interval"], (f"must be at most 4 x datasource.scrape_interval ({scrape}), the "
                                                 "shortest window the dashboards read recorded series over")


def _threshold_order(t: dict[str, Any]) -> Iterator[Problem]:
    """The warning band must sit between good and critical."""
    if not t["success_rate_critical"] < t["success_rate_warning"]:
        yield ["thresholds", "success_rate_critical"], "must be below thresholds.success_rate_warning"
    if not t["error_rate_warning"] < t["error_rate_critical"]:
        yield ["thresholds", "error_rate_warning"], "must be below thresholds.error_rate_critical"


def quantity(text: str) -> Fraction:
    """A Kubernetes quantity of the forms the schema allows (100m, 2, 256Mi, 1Gi), as an exact number."""
    match = _QUANTITY.fullmatch(text)
    if not match:
        raise ValueError(f"not a quantity: {text!r}")
    return int(match.group(1)) * _QUANTITY_UNITS[match.group(2)]


def _resources(k: dict[str, Any]) -> Iterator[Problem]:
    """Kubernetes refuses a Pod whose request exceeds its limit."""
    for resource in ("cpu", "memory"):
        request, limit = k[f"{resource}_request"], k[f"{resource}_limit"]
        if quantity(request) > quantity(limit):
            yield (["kubernetes", f"{resource}_request"],
                   f"{request} is above kubernetes.{resource}_limit ({limit}); a request may not exceed its limit")


def _datasource_url(url: str) -> Iterator[Problem]:
    where, parts = ["datasource", "url"], urlsplit(url)
    if parts.username is not None or parts.password is not None:
        yield where, ("must not contain credentials (user:password@): they would be committed in plain text; "
                      "see \"Datasource credentials\" in docs/operations/grafana-setup.md for the supported way")
    elif not parts.hostname:
        yield where, f"{url!r} names no host"
    elif not _valid_port(parts):
        yield where, f"{url!r}: the port must be a number from 1 to 65535"


def _valid_port(parts: SplitResult) -> bool:
    try:
        port = parts.port  # raises ValueError for a port that is not a number up to 65535
    except ValueError:
        return False
    return port is None or port > 0


@cache
def _iana_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _timezone(timezone: str) -> Iterator[Problem]:
    if timezone not in GRAFANA_TIMEZONES and timezone not in _iana_timezones():
        yield (["main_dashboard", "timezone"],
               f"{timezone!r} is not a time zone Grafana knows: use utc, browser, \"\" (the viewer's default) "
               "or an IANA name such as Europe/Berlin")


def _dashboards_path(path: str) -> Iterator[Problem]:
    """Grafana's file provider reads this folder: it must not lie inside, or contain, Grafana's own folders."""
    where, pure = ["provisioning", "dashboards_path"], PurePosixPath(path)
    if any(part in (".", "..") for part in path.split("/")):
        yield where, f"{path!r} must be a plain absolute path, without . or .. segments"
    elif pure == PROVISIONING_DIR or PROVISIONING_DIR in pure.parents:
        yield where, f"{path!r} lies inside Grafana's provisioning folder {PROVISIONING_DIR}: choose another folder"
    elif pure == GRAFANA_DATA_DIR or pure in {*PROVISIONING_DIR.parents, *GRAFANA_DATA_DIR.parents}:
        yield where, (f"{path!r} would hold Grafana's own files: choose a folder of its own, e.g. "
                      f"{GRAFANA_DATA_DIR}/dashboards")
