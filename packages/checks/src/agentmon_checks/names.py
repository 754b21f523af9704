"""Every name in a rendered overlay is one the Kubernetes API server accepts for its place.

The OpenAPI schemas kubernetes-validate checks against say only "string" for names, so a name built from a
tenant id ending in "-" (a volume `dashboards-zeta-`) passes them and fails at apply time. The rules below
are the API server's (k8s.io/apimachinery validation): DNS-1123 labels and subdomains, DNS-1035 labels,
IANA service names for container ports, ConfigMap keys and label syntax.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from agentmon_checks.findings import Finding
from agentmon_checks.kustomize import RenderedOverlay


@dataclass(frozen=True)
class NameRule:
    what: str
    pattern: re.Pattern[str]
    max_length: int

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str) and len(value) <= self.max_length and bool(self.pattern.fullmatch(value))


_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS_LABEL = NameRule("DNS-1123 label (a-z, 0-9 and '-', starting and ending with a letter or digit, at most 63)",
                     re.compile(_LABEL), 63)
DNS_SUBDOMAIN = NameRule("DNS-1123 subdomain (DNS labels joined by '.', at most 253 characters)",
                         re.compile(rf"{_LABEL}(\.{_LABEL})*"), 253)
DNS_1035_LABEL = NameRule("DNS-1035 label (a DNS-1123 label that starts with a letter)",
                          re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?"), 63)
PORT_NAME = NameRule("IANA service name (a-z, 0-9 and '-', at least one letter, no '--', at most 15)",
                     re.compile(r"(?=.*[a-z])(?!.*--)[a-z0-9]([-a-z0-9]*[a-z0-9])?"), 15)
DATA_KEY = NameRule("ConfigMap/Secret key (letters, digits, '-', '_' and '.', not '.' or '..', at most 253)",
                    re.compile(r"(?!\.\.?$)[-._a-zA-Z0-9]+"), 253)
LABEL_VALUE = NameRule("label value (letters, digits, '-', '_' and '.', starting and ending alphanumeric, at most "
                       "63)", re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"), 63)
LABEL_NAME = NameRule("label name ([DNS-1123 subdomain/]name, the name as a non-empty label value)",
                      re.compile(rf"({_LABEL}(\.{_LABEL})*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{{0,61}}[A-Za-z0-9])?"),
                      253 + 1 + 63)
# metadata.name by kind. Service names become DNS labels of the cluster; a Deployment's name prefixes its
# pods' names and host names, so it is held to a DNS label too (the API's own advice); the rest are subdomains.
METADATA_NAME = {"Service": DNS_1035_LABEL, "Deployment": DNS_LABEL, "Namespace": DNS_LABEL}

Name = tuple[str, Any, NameRule]  # field, value, rule


def check_names(overlay: RenderedOverlay) -> Iterator[Finding]:
    """One finding per invalid, duplicate or dangling name, naming the overlay, the object and the field."""
    file = f"overlays/{overlay.name.replace('+', ' with component ')}"
    for obj in overlay.objects:
        where = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
        for field, value, rule in object_names(obj):
            if not rule.accepts(value):
                yield Finding(file, where, f"{field}: {value!r} is not a valid {rule.what}")
        for field, message in _pod_references(obj):
            yield Finding(file, where, f"{field}: {message}")


def object_names(obj: dict[str, Any]) -> Iterator[Name]:
    meta = obj.get("metadata", {})
    yield "metadata.name", meta.get("name"), METADATA_NAME.get(obj.get("kind", ""), DNS_SUBDOMAIN)
    if "namespace" in meta:
        yield "metadata.namespace", meta["namespace"], DNS_LABEL
    yield from _labels("metadata.labels", meta.get("labels"))
    kind, spec = obj.get("kind"), obj.get("spec") or {}
    if kind in ("ConfigMap", "Secret"):
        for section in ("data", "binaryData", "stringData"):
            yield from ((f"{section} key", key, DATA_KEY) for key in obj.get(section) or {})
    elif kind == "Service":
        yield from ((f"spec.ports[{i}].name", p["name"], DNS_LABEL) for i, p in enumerate(spec.get("ports", []))
                    if "name" in p)
    elif kind == "Deployment":
        yield from _labels("spec.selector.matchLabels", spec.get("selector", {}).get("matchLabels"))
        template = spec.get("template", {})
        yield from _labels("spec.template.metadata.labels", template.get("metadata", {}).get("labels"))
        yield from _pod_names("spec.template.spec", template.get("spec", {}))
    elif kind == "Ingress":
        yield from ((f"spec.tls[{i}].secretName", t["secretName"], DNS_SUBDOMAIN)
                    for i, t in enumerate(spec.get("tls", [])) if "secretName" in t)


def _labels(field: str, labels: dict[str, Any] | None) -> Iterator[Name]:
    for key, value in (labels or {}).items():
        yield f"{field} key", key, LABEL_NAME
        yield f"{field}[{key}]", value, LABEL_VALUE


def _pod_names(field: str, pod: dict[str, Any]) -> Iterator[Name]:
    if "serviceAccountName" in pod:
        yield f"{field}.serviceAccountName", pod["serviceAccountName"], DNS_SUBDOMAIN
    for i, volume in enumerate(pod.get("volumes", [])):
        yield f"{field}.volumes[{i}].name", volume.get("name"), DNS_LABEL
        if "configMap" in volume:
            yield f"{field}.volumes[{i}].configMap.name", volume["configMap"].get("name"), DNS_SUBDOMAIN
        if "secret" in volume:
            yield f"{field}.volumes[{i}].secret.secretName", volume["secret"].get("secretName"), DNS_SUBDOMAIN
        for item in (volume.get("configMap") or volume.get("secret") or {}).get("items", []):
            yield f"{field}.volumes[{i}].items key", item.get("key"), DATA_KEY
    for group in ("initContainers", "containers"):
        for i, container in enumerate(pod.get(group, [])):
            at = f"{field}.{group}[{i}]"
            yield f"{at}.name", container.get("name"), DNS_LABEL
            yield from ((f"{at}.ports[{j}].name", p["name"], PORT_NAME)
                        for j, p in enumerate(container.get("ports", [])) if "name" in p)
            for env in container.get("env", []):
                for ref in ("secretKeyRef", "configMapKeyRef"):
                    source = env.get("valueFrom", {}).get(ref)
                    if source:
                        yield f"{at}.env[{env.get('name')}].{ref}.name", source.get("name"), DNS_SUBDOMAIN
                        yield f"{at}.env[{env.get('name')}].{ref}.key", source.get("key"), DATA_KEY


def _pod_references(obj: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Volume and container names are unique in a pod, and every volume mount names a declared volume."""
    if obj.get("kind") != "Deployment":
        return
    pod, field = obj.get("spec", {}).get("template", {}).get("spec", {}), "spec.template.spec"
    volumes = [v.get("name") for v in pod.get("volumes", [])]
    containers = [c for group in ("initContainers", "containers") for c in pod.get(group, [])]
    for what, names in (("volumes", volumes), ("containers", [c.get("name") for c in containers])):
        for name, count in Counter(names).items():
            if count > 1:
                yield f"{field}.{what}", f"{name!r} is used {count} times; names must be unique in a pod"
    for container in containers:
        for mount in container.get("volumeMounts", []):
            if mount.get("name") not in volumes:
                yield (f"{field}.containers[{container.get('name')}].volumeMounts",
                       f"{mount.get('name')!r} is not a volume of this pod")
