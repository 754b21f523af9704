"""What a text field, a contact and a link may hold: the rules `agentmon build`, `agentmon tenant` and the
tenant template's cookiecutter hook share (docs/operations/tenants.md, "What the build refuses").

Tenant files are untrusted input (they come from pull requests, the cookiecutter, scripts), so every rule here
says what is allowed and refuses the rest:
- text: no control or Unicode format characters (bidi overrides and zero-width characters make lookalikes), no
  `{{` or `}}` (Prometheus and Alertmanager would run the text as a Go template);
- a contact is an e-mail address (parsed by the email-validator library), an https:// webhook URL that holds
  no credential and points at no internal host, or a reference to a Secret, `{webhook_secret: KEY}`;
- a link (alerts.grafana_url, alerts.runbooks_url) is an http(s) URL or a relative path, without quotes,
  whitespace or anything a browser would run.

Standard library only, and Python 3.8 syntax: the cookiecutter hook loads this file by its path when the
cookiecutter that runs it cannot import agentmon (installed with pipx, for example). The e-mail rule then needs
email-validator in that Python; without it the hook says the build checks the address.
"""

from __future__ import annotations

import ipaddress
import math
import re
import unicodedata
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from agentmon_config.contract import LATENCY_BUCKETS_SECONDS
from agentmon_config.slo import minimum_slo, unreachable_tiers

EXCERPT = 80  # characters of an offending value an error shows, at most: a file is never dumped into a log
DISPLAY_NAME_MAX = 60
EMAIL_MAX = 254  # RFC 5321's limit on a forward path
URL_MAX = 2048
SECRET_KEY_MAX = 253  # a Kubernetes Secret data key
SECRET_KEY = re.compile(r"[-._a-zA-Z0-9]+")
SECRETS_DOC = "docs/operations/alerts.md#secrets"
CONTACT_FORMS = "an e-mail address, an https:// URL, or {webhook_secret: KEY}"
# Unicode categories refused in text: control (Cc), format (Cf: bidi overrides, zero-width characters),
# line and paragraph separators (Zl, Zp), surrogates (Cs), private use (Co) and unassigned code points (Cn).
REFUSED_CATEGORIES = {"Cc": "a control character", "Cf": "an invisible Unicode format character",
                      "Zl": "a line separator", "Zp": "a paragraph separator", "Cs": "a surrogate",
                      "Co": "a private-use character", "Cn": "an unassigned code point"}
# Characters a URL may hold as written (RFC 3986's unreserved and reserved characters, and %-escapes), less
# the quote, which ends an attribute in the HTML Grafana and mail clients build from it.
URL_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&()*+,;=%]+")
# Hosts that carry their credential in the URL by design: never written inline.
SECRET_URL_HOSTS = ("hooks.slack.com", "discord.com", "discordapp.com", "ptb.discord.com", "canary.discord.com",
                    "outlook.office.com", "api.telegram.org", "chat.googleapis.com", "hooks.zapier.com",
                    "maker.ifttt.com")
SECRET_URL_HOST_SUFFIXES = (".webhook.office.com", ".logic.azure.com")
# A query parameter whose name holds one of these carries a credential.
SECRET_PARAMETER_PARTS = ("token", "key", "secret", "sig", "pass", "auth", "code", "cred")
# Host names that resolve inside the cluster or the machine, never on the internet.
INTERNAL_HOSTS = ("localhost",)
INTERNAL_SUFFIXES = (".localhost", ".local", ".svc", ".internal", ".localdomain", ".home.arpa")
# Last labels no public host has: reserved names (RFC 2606, 6761) and words used inside networks. A two-label
# name such as alertmanager.monitoring resolves inside a Kubernetes cluster through the Pod's DNS search path, so
# a last label that could be a namespace is refused too: one with a hyphen (no public top-level domain has one,
# besides xn-- forms) or one of Kubernetes' own and the usual monitoring namespaces.
INTERNAL_LAST_LABELS = ("test", "example", "invalid", "localhost", "local", "internal", "lan", "home", "corp",
                        "intranet", "private", "localdomain", "svc", "cluster", "default", "monitoring",
                        "observability", "prometheus", "alertmanager", "grafana", "ingress-nginx", "kube-system",
                        "kube-public")
_EMBEDDED_IPV4 = re.compile(r"(?<![0-9])[0-9]{1,3}([-.])[0-9]{1,3}\1[0-9]{1,3}\1[0-9]{1,3}(?![0-9])")
_RANDOM_MIXED = re.compile(r"(?=.*[a-z])(?=.*[A-Z])(?=.*[0-9])[A-Za-z0-9_-]{16,}")
_RANDOM_HEX = re.compile(r"(?=.*[0-9])[0-9a-fA-F-]{20,}")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def excerpt(value: Any, limit: int = EXCERPT) -> str:
    """repr of value, cut to limit characters: enough to find it, never a whole file in a log."""
    shown = repr(value)
    return shown if len(shown) <= limit else shown[:limit - 3] + "..."


def text_problem(value: str) -> str | None:
    """Why value may not be text in a configuration file, or None."""
    for char in value:
        category = unicodedata.category(char)
        if category in REFUSED_CATEGORIES:
            return (f"{excerpt(value)} holds {REFUSED_CATEGORIES[category]} (U+{ord(char):04X}): write plain "
                    "text on one line")
    if "{{" in value or "}}" in value:
        return (f"{excerpt(value)} holds {{{{ or }}}}, which Prometheus and Alertmanager would run as a template: "
                "write the text without them")
    return None


def leaves(node: Any, path: list | None = None) -> Iterable[tuple[list, Any]]:
    """(path of keys and indexes, value) for every scalar of a parsed document."""
    path = path or []
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaves(value, [*path, key])
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from leaves(value, [*path, index])
    else:
        yield path, node


def text_problems(node: Any) -> Iterable[tuple[list, str]]:
    """(path, message) for every string in a parsed document that text_problem refuses."""
    for path, value in leaves(node):
        problem = text_problem(value) if isinstance(value, str) else None
        if problem:
            yield path, problem


def display_name_key(name: str) -> str:
    """What two display names must not share: the same text after NFKC and case folding looks the same."""
    return unicodedata.normalize("NFKC", name).casefold().strip()


# Scripts whose letters look like Latin ones: a name mixing two of them (a Cyrillic a, U+0430, in "Acme") passes for
# another (Unicode TS #39's mixed-script rule, for the scripts that matter here).
LOOKALIKE_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC")


def mixed_script_problem(value: str) -> str | None:
    scripts = sorted({unicodedata.name(char, "").split(" ")[0] for char in value if char.isalpha()}
                     & set(LOOKALIKE_SCRIPTS))
    if len(scripts) > 1:
        return (f"{excerpt(value)} mixes {' and '.join(s.title() for s in scripts)} letters, which can pass for "
                "another name: write it in one script")
    return None


def name_problem(value: str) -> str | None:
    problem = text_problem(value) or mixed_script_problem(value)
    if problem:
        return problem
    if not value.strip():
        return f"{excerpt(value)} is blank: write a name"
    if value != value.strip():
        return f"{excerpt(value)} starts or ends with a space: write the name without them"
    if len(value) > DISPLAY_NAME_MAX:
        return f"{excerpt(value)} is {len(value)} characters long, more than {DISPLAY_NAME_MAX}"
    return None


def contact_problem(value: Any, allowed_hosts: Iterable[str] = ()) -> str | None:
    """Why value is not a contact (one of CONTACT_FORMS), or None. A URL is told apart by its scheme."""
    if isinstance(value, dict):
        return secret_reference_problem(value)
    if not isinstance(value, str):
        return f"{excerpt(value)} is not a contact: write {CONTACT_FORMS}"
    problem = text_problem(value)
    if problem:
        return problem
    if value != value.strip() or not value:
        return f"{excerpt(value)} starts or ends with a space: write {CONTACT_FORMS} without them"
    if _SCHEME.match(value) or "://" in value:
        return webhook_url_problem(value, allowed_hosts)
    return email_problem(value)


def is_url_contact(value: str) -> bool:
    return bool(_SCHEME.match(value)) or "://" in value


def secret_reference_problem(value: dict) -> str | None:
    key = value.get("webhook_secret")
    if set(value) != {"webhook_secret"} or not isinstance(key, str):
        return f"{excerpt(value)}: a Secret reference is {{webhook_secret: KEY}}, with nothing else"
    problem = secret_key_problem(key)
    return f"webhook_secret: {problem}" if problem else None


def secret_key_problem(key: str) -> str | None:
    if len(key) > SECRET_KEY_MAX or not SECRET_KEY.fullmatch(key) or key in (".", "..") or key.startswith(".."):
        return (f"{excerpt(key)} is not a Kubernetes Secret key (letters, digits, -, _ and ., at most "
                f"{SECRET_KEY_MAX} characters, not . or .. or starting with ..)")
    return None


def email_problem(value: str, forms: str = CONTACT_FORMS) -> str | None:
    """Why value is not an e-mail address Alertmanager can deliver to, or None. Parsed by email-validator (no
    DNS look-up); None also when email-validator is missing (the cookiecutter hook then says so)."""
    if len(value) > EMAIL_MAX:
        return f"{excerpt(value)} is {len(value)} characters long: an e-mail address has at most {EMAIL_MAX}"
    if not value.isascii():
        return (f"{excerpt(value)} is not plain ASCII: write the address in ASCII (a domain in its xn-- form), "
                "so it cannot pass for another")
    try:
        from email_validator import EmailNotValidError, validate_email
    except ImportError:
        return None
    try:
        validate_email(value, check_deliverability=False, allow_smtputf8=False, allow_display_name=False,
                       allow_quoted_local=False, allow_domain_literal=False)
    except EmailNotValidError as exc:
        return f"{excerpt(value)} is not an e-mail address ({exc}); write {forms}"
    return None


def email_checked() -> bool:
    """Whether email_problem can parse addresses here (email-validator importable)."""
    try:
        import email_validator  # noqa: F401
    except ImportError:
        return False
    return True


def webhook_url_problem(url: str, allowed_hosts: Iterable[str] = ()) -> str | None:
    """Why url may not be a webhook written inline, or None (module docstring; docs/operations/alerts.md)."""
    if len(url) > URL_MAX:
        return f"{excerpt(url)} is {len(url)} characters long: a webhook URL has at most {URL_MAX}"
    if not URL_CHARACTERS.fullmatch(url):
        return (f"{excerpt(url)} holds characters a URL may not (spaces, quotes, non-ASCII): write "
                f"{CONTACT_FORMS}")
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    allowed = host in {h.lower() for h in allowed_hosts}
    shown = excerpt(f"{parts.scheme}://{host}/...")  # never the path or query: they may be the secret
    if not url.startswith(("https://", "http://")) or not host:
        return f"{excerpt(url)} is not an https:// URL with a host: write {CONTACT_FORMS}"
    if "@" in parts.netloc:
        return _inline_secret(shown, "holds credentials (user:password@)")
    if "%" in parts.netloc:  # Go unescapes a host: %6c%6fcalhost is localhost
        return f"{excerpt(url)}: write the host without %-escapes"
    credential = _credential_shape(parts, host)
    if credential:
        return _inline_secret(shown, credential)
    if parts.fragment or "#" in url:
        return f"{excerpt(url)}: a webhook URL has no #fragment"
    if not _valid_port(parts):
        return f"{excerpt(url)}: the port must be a number from 1 to 65535"
    if allowed:
        return None
    if url.startswith("http://"):
        return (f"{excerpt(url)} is plain http://: webhooks must use https:// (or list the host in "
                "alerts.allowed_webhook_hosts in config/platform.yaml)")
    internal = _internal_host(host)
    if internal:
        return (f"{excerpt(url)} points at {internal}: the shared Alertmanager would call inside the network; "
                "use a public https:// host, or list the host in alerts.allowed_webhook_hosts in "
                "config/platform.yaml")
    return None


def _valid_port(parts: Any) -> bool:
    try:
        port = parts.port  # raises ValueError for a port that is not a number up to 65535
    except ValueError:
        return False
    return port != 0


def _inline_secret(shown: str, why: str) -> str:
    return (f"{shown} {why}: a secret may not be written here; put the URL in the webhook Secret and write "
            f"{{webhook_secret: KEY}} ({SECRETS_DOC})")


def _credential_shape(parts: Any, host: str) -> str | None:
    """Why the URL looks like it carries a token, or None: a host that puts its token in the URL, a query
    parameter named like a credential, a path segment that looks random."""
    if host in SECRET_URL_HOSTS or host.endswith(SECRET_URL_HOST_SUFFIXES):
        return f"is a {host} URL, which carries its token in the URL"
    for name, _ in parse_qsl(parts.query, keep_blank_values=True):
        if any(part in name.lower() for part in SECRET_PARAMETER_PARTS):
            return f"has a query parameter {excerpt(name, 40)} that carries a credential"
    for segment in parts.path.split("/"):
        if _RANDOM_MIXED.fullmatch(segment) or _RANDOM_HEX.fullmatch(segment):
            return "has a path segment that looks like a token (16+ characters mixing cases and digits, or 20+ hex)"
    return None


def _internal_host(host: str) -> str | None:
    """What kind of internal host this is, or None for a host on the internet. No DNS look-up is made: a public
    name that resolves to an internal address (besides the nip.io kind, which spells the address out) passes;
    docs/operations/alerts.md#secrets says to limit Alertmanager's egress as well."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        address = None
    if address is not None:
        mapped = getattr(address, "ipv4_mapped", None)
        address = mapped or address
        return None if address.is_global and not address.is_multicast else f"the non-public address {address}"
    embedded = _EMBEDDED_IPV4.search(host)
    if embedded:
        return f"{host}, which spells out the address {embedded.group(0)} (such names resolve to it)"
    if host in INTERNAL_HOSTS or host.endswith(INTERNAL_SUFFIXES):
        return f"the internal host name {host}"
    labels = host.split(".")
    if len(labels) == 1:
        return f"the single-label host name {host} (resolved inside the network)"
    last = labels[-1]
    if last.isdigit() or last.startswith("0x"):
        return f"{host}, a numeric host that resolves as an address"
    if last in INTERNAL_LAST_LABELS or ("-" in last and not last.startswith("xn--")):
        return f"{host}, whose last label {last!r} is no public domain (inside a cluster it names a namespace)"
    return None


def link_problem(url: str, relative_allowed: bool) -> str | None:
    """Why url may not be a link in an alert annotation, or None: http(s) only (never javascript:, data:),
    no quotes or whitespace; a relative path (no scheme, not //host) when relative_allowed."""
    problem = text_problem(url)
    if problem:
        return problem
    if len(url) > URL_MAX:
        return f"{excerpt(url)} is {len(url)} characters long, more than {URL_MAX}"
    if not URL_CHARACTERS.fullmatch(url):
        return f"{excerpt(url)} holds characters a link may not (spaces, quotes, non-ASCII)"
    if _SCHEME.match(url) or url.startswith("//"):
        parts = urlsplit(url)
        if not url.startswith(("https://", "http://")) or not parts.hostname:
            return f"{excerpt(url)} is not an http:// or https:// URL with a host"
        if "@" in parts.netloc:
            return f"{excerpt(url)} holds credentials (user:password@): a link may not"
        return None
    if not relative_allowed:
        return f"{excerpt(url)} is not an http:// or https:// URL with a host"
    return None


def smarthost_problem(value: str) -> str | None:
    host, colon, port = value.rpartition(":")
    if not colon or not host or not re.fullmatch(r"[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]", host):
        return f"{excerpt(value)} is not host:port, e.g. smtp.example.com:587"
    if not re.fullmatch(r"[0-9]{1,5}", port) or not 1 <= int(port) <= 65535:
        return f"{excerpt(value)}: the port must be a number from 1 to 65535"
    return None


def tenant_problems(doc: dict, allowed_webhook_hosts: Iterable[str] = ()) -> Iterable[tuple[list, str]]:
    """Every rule on a schema-valid, default-filled tenant document beyond its JSON Schema (build, `agentmon
    tenant` and the template's hook all call this one)."""
    own = [(["display_name"], name_problem(doc["display_name"])),
           (["owner_contact"], contact_problem(doc["owner_contact"], allowed_webhook_hosts)),
           (["success_rate_slo"], slo_problem(doc["success_rate_slo"])),
           (["p95_latency_sla_seconds"], latency_sla_problem(doc["p95_latency_sla_seconds"]))]
    return first_per_field([(keys, message) for keys, message in own if message] + list(text_problems(doc)))


def latency_sla_problem(seconds: float) -> str | None:
    """A latency SLA is read off one histogram bucket exactly (agentmon_config.contract): it must be a bound."""
    if seconds in LATENCY_BUCKETS_SECONDS:
        return None
    bounds = ", ".join(f"{b:g}" for b in LATENCY_BUCKETS_SECONDS)
    return (f"{seconds:g} s is not a latency bucket bound of the metrics contract, so the p95 alert could not tell "
            f"exactly whether 5 % of requests were slower: use one of {bounds}")


def slo_problem(slo: float) -> str | None:
    """An SLO whose error budget is so small that a burn-rate alert could never fire is refused."""
    unreachable = unreachable_tiers(slo)
    if not unreachable:
        return None
    tier = unreachable[0]
    percent_form = (f" (the SLO is a percentage: write {slo * 100:g} for {slo * 100:g} %, not {slo:g})"
                    if 0 < slo < 1 else "")
    return (f"{slo:g} % leaves an error budget of {100 - slo:g} %: the {tier.factor}x burn-rate alert "
            f"({tier.long_window}/{tier.short_window}) would need more than 100 % of requests to fail and could "
            f"never fire; use an SLO of at least {minimum_slo(max(t.factor for t in unreachable)):g} %"
            f"{percent_form}")


def first_per_field(problems: list) -> list:
    """One problem per field (the most specific comes first): a value is not reported twice."""
    seen, kept = set(), []
    for keys, message in problems:
        if tuple(keys) not in seen:
            seen.add(tuple(keys))
            kept.append((keys, message))
    return kept


# YAML 1.2 core schema's numbers, as the build's YAML reader reads them: an answer of any other form (Arabic-
# Indic or full-width digits, which Python's int() would take) is written as text, which the schema refuses.
_YAML_INT = re.compile(r"[-+]?[0-9]+")
_YAML_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_YAML_SPECIAL = {".inf": math.inf, "+.inf": math.inf, "-.inf": -math.inf, ".nan": math.nan}


def yaml_number(text: str) -> Any:
    """What the YAML file will hold for an answer written unquoted: a number when YAML reads one, else text."""
    if _YAML_INT.fullmatch(text):
        return int(text)
    if _YAML_FLOAT.fullmatch(text):
        return float(text)
    return _YAML_SPECIAL.get(text.lower(), text)


def schema_problems(answers: dict, schema: dict) -> list:
    """The tenant schema's rules (types, patterns, reserved names, bounds, finite numbers) in the words the
    build's JSON Schema check uses, for a hook that cannot import jsonschema: (path, message) pairs."""
    problems = []
    for field, rule in schema["properties"].items():
        if field in answers:
            message = _property_problem(answers[field], rule)
            if message:
                problems.append(([field], message))
    return problems


_JSON_TYPES = {"string": (str,), "object": (dict,), "number": (int, float), "integer": (int,)}


def _property_problem(value: Any, rule: dict) -> str | None:
    types = rule.get("type", [])
    types = [types] if isinstance(types, str) else types
    whole_float = "integer" in types and isinstance(value, float) and value.is_integer()  # 3.0 is an integer
    if (isinstance(value, bool) or not any(isinstance(value, _JSON_TYPES[t]) for t in types)) and not whole_float:
        return f"{excerpt(value)} is not of type {', '.join(repr(t) for t in types)}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number, not {'NaN' if math.isnan(value) else 'infinity'}"
    if isinstance(value, str) and "pattern" in rule:
        body = rule["pattern"].replace("(?!\\n)", "")
        if not re.fullmatch(body[1:-1], value):
            return f"{excerpt(value)} does not match the expected format {body}"
    reserved = rule.get("not", {}).get("enum", [])
    if value in reserved:
        return f"{excerpt(value)} is a reserved name ({', '.join(reserved)})"
    return _bound_problem(value, rule)


def _bound_problem(value: Any, rule: dict) -> str | None:
    if not isinstance(value, (int, float)):
        return None
    if "minimum" in rule and value < rule["minimum"]:
        return f"{value!r} is less than the minimum of {rule['minimum']}"
    if "exclusiveMinimum" in rule and value <= rule["exclusiveMinimum"]:
        return f"{value!r} is less than or equal to the minimum of {rule['exclusiveMinimum']}"
    if "maximum" in rule and value > rule["maximum"]:
        return f"{value!r} is greater than the maximum of {rule['maximum']}"
    return None
