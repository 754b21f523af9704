"""Checks on rendered Kustomize overlays. Findings name the overlay, the object (Kind/name) and the field."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import kubernetes_validate
import kubernetes_validate.utils
from ruamel.yaml import YAML

from agentmon_checks.alertmanager_config import alertmanager_config_problems
from agentmon_checks.crds import crd_problems
from agentmon_checks.findings import Finding
from agentmon_checks.kustomize import RenderedOverlay
from agentmon_checks.operator_conformance import overlay_problems
from agentmon_checks.rules import prometheus_rule_problems
from agentmon_checks.targets import TARGET_OVERLAYS
from agentmon_config import PlatformConfig
from agentmon_dashboards import dashboard_uid
from agentmon_deploy import (
    ADMIN_SECRET_KEYS,
    CONTAINER_PORT,
    COPY_CONTAINER,
    COPY_SCRIPT,
    COPY_SOURCE,
    DASHBOARDS_CONFIGMAP,
    DATASOURCES_CONFIGMAP,
    HARDENING_ENV,
)

ALLOWED_KINDS = frozenset({"ConfigMap", "Secret", "Service", "ServiceAccount", "Deployment", "NetworkPolicy",
                           "Ingress", "PrometheusRule", "AlertmanagerConfig", "ServiceMonitor",
                           "GrafanaDashboard", "GrafanaFolder", "GrafanaDatasource"})


def _crd_only(obj: dict[str, Any]) -> Iterator[str]:
    return iter(())  # the ServiceMonitor: its CRD says all the Operator checks (its interval: agentmon_checks.targets)


def _grafana_operator(obj: dict[str, Any]) -> Iterator[str]:
    """grafana-operator's CRDs ship in no package agentmon may depend on, and copies of them may not be committed:
    these resources are checked by agentmon_checks.targets (folders, references, datasources, instance selector)."""
    return iter(())


# Custom resources kubernetes-validate has no schema for: the Prometheus Operator's through the models generated
# from its CRDs (agentmon_checks.crds), then each kind's own check of the Operator's rules.
OPERATOR_RESOURCES = {"PrometheusRule": prometheus_rule_problems,
                      "AlertmanagerConfig": alertmanager_config_problems, "ServiceMonitor": _crd_only}
CUSTOM_RESOURCES = {**OPERATOR_RESOURCES,
                    **dict.fromkeys(("GrafanaDashboard", "GrafanaFolder", "GrafanaDatasource"), _grafana_operator)}
KUBERNETES_VERSIONS = ("1.34", "1.37")  # oldest and newest supported
# Client-side `kubectl apply` keeps the whole object in a 262,144-byte annotation; keep a margin.
MAX_OBJECT_BYTES = 250_000
HARDENED_OVERLAYS = ("prod",)
# Secrets that exist outside the bundle on purpose (documented in docs/operations/kubernetes.md).
TLS_SECRET = "grafana-tls"
# Where Grafana may send traffic, stated here rather than taken from the generator, so a generator bug that
# widens the NetworkPolicy is caught.
NAMESPACE_LABEL = "kubernetes.io/metadata.name"
KUBE_DNS_PEERS = [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}]
DNS_PORT = 53
# The pin, optionally with the digest an overlay adds (`images: [{name, newTag: <tag>@sha256:<digest>}]`).
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}\Z")


# kubernetes-validate re-reads its schema files (a multi-megabyte _definitions.json) for every object it
# validates; they never change, so cache them: at 500 tenants this turns ~40 s into well under 1 s.
kubernetes_validate.utils.schema_contents = cache(kubernetes_validate.utils.schema_contents)
# It also lists its schema folder twice per object to pick the version (a third of its time at 1,000 tenants).
kubernetes_validate.utils.all_versions = cache(kubernetes_validate.utils.all_versions)


def ident(obj: dict[str, Any]) -> str:
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


def check_overlay(overlay: RenderedOverlay, config: PlatformConfig) -> Iterator[Finding]:
    file = f"overlays/{overlay.name.replace('+', ' with component ')}"
    for obj in overlay.objects:
        yield from (Finding(file, ident(obj), m) for m in _object_problems(obj))
    yield from (Finding(file, w, m) for w, m in _references(overlay.objects, config))
    if overlay.name.split("+")[0] not in TARGET_OVERLAYS:  # those run no Grafana: agentmon_checks.targets
        yield from (Finding(file, w, m) for w, m in _datasource_agreement(overlay.objects, config))
        yield from (Finding(file, w, m) for w, m in _dashboard_layout(overlay.objects, config))
    yield from (Finding(file, w, m) for w, m in overlay_problems(overlay.objects, config))
    if overlay.name.split("+")[0] in HARDENED_OVERLAYS:
        yield from (Finding(file, w, m) for w, m in hardening(overlay.objects, config))


def _object_problems(obj: dict[str, Any]) -> Iterator[str]:
    if obj.get("kind") not in ALLOWED_KINDS:
        yield f"kind {obj.get('kind')!r} is not on the allow-list ({', '.join(sorted(ALLOWED_KINDS))})"
    namespace = obj.get("metadata", {}).get("namespace")
    if namespace in (None, "", "default"):
        yield f"metadata.namespace: {namespace or 'unset'}: nothing may land in the default namespace"
    if obj.get("kind") == "Deployment":
        for container in obj["spec"]["template"]["spec"].get("containers", []):
            image = container.get("image", "")
            if ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest"):
                yield f"containers[{container.get('name')}].image: {image!r} must be pinned (never latest or untagged)"
    text = json.dumps(obj, separators=(",", ":"))
    size = len(text.encode())  # every kind: GrafanaDashboards hold JSON too
    if size > MAX_OBJECT_BYTES:
        yield (f"{size:,} bytes, over the {MAX_OBJECT_BYTES:,}-byte budget (client-side `kubectl apply` "
               "stores the object in a 262,144-byte annotation): split it or trim the dashboards")
    shape = _configmap_shape(obj)
    key = hashlib.sha256((json.dumps(shape, separators=(",", ":")) if shape else text).encode()).digest()
    if key not in _SCHEMA_VERDICTS:
        _SCHEMA_VERDICTS[key] = tuple(_schema_or_crd_problems(shape or obj))
    if _SCHEMA_VERDICTS[key] and shape:
        yield from _schema_or_crd_problems(obj)  # named with the real keys
    else:
        yield from _SCHEMA_VERDICTS[key]


def _configmap_shape(obj: dict[str, Any]) -> dict[str, Any] | None:
    """A ConfigMap as its schema sees it: the schema asks the name, labels, annotations and data for strings and
    nothing of their text or of the data keys (agentmon_checks.names checks those), so the kube-prometheus-stack
    target's 2,000 dashboard ConfigMaps share one verdict (2.7 s of schema checks at 2,000 tenants)."""
    if obj.get("kind") != "ConfigMap" or not isinstance(obj.get("metadata"), dict) or "binaryData" in obj:
        return None
    metadata = dict(obj["metadata"])
    metadata.update({field: _blank(metadata[field]) for field in ("name", "labels", "annotations")
                     if field in metadata})
    data = obj.get("data")
    shaped = {f"key{i}": _blank(value) for i, value in enumerate(data.values())} if isinstance(data, dict) else data
    return {**obj, "metadata": metadata, **({"data": shaped} if "data" in obj else {})}


def _blank(value: Any) -> Any:
    """Every string in a value (a string, or a map of strings) as "", everything else as it is."""
    if isinstance(value, str):
        return ""
    if isinstance(value, dict):
        return {key: _blank(item) if isinstance(item, str) else item for key, item in value.items()}
    return value


def _schema_or_crd_problems(obj: dict[str, Any]) -> Iterator[str]:
    if obj.get("kind") in CUSTOM_RESOURCES:
        if obj["kind"] in OPERATOR_RESOURCES:
            yield from crd_problems(obj)
        yield from CUSTOM_RESOURCES[obj["kind"]](obj)
    else:
        yield from _schema_problems(obj)


# Verdicts of _schema_or_crd_problems by the object's content: the overlays share most objects (prod and each
# prod+component variant render the same ConfigMaps and PrometheusRules); an identical object, the same verdict.
# (The Operator's models took 13 ms an object, 3.4 s for the 257 objects of 7 overlays at 2,000 tenants.)
_SCHEMA_VERDICTS: dict[bytes, tuple[str, ...]] = {}


def _schema_problems(obj: dict[str, Any]) -> Iterator[str]:
    for version in KUBERNETES_VERSIONS:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.absolute_path) or "<object>"
            yield f"{path}: invalid for Kubernetes {version}: {exc.message}"
        except kubernetes_validate.SchemaNotFoundError:
            yield f"no Kubernetes {version} schema for {obj.get('apiVersion')} {obj.get('kind')}"


def _pod_specs(objects: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for obj in objects:
        if obj.get("kind") == "Deployment":
            yield obj, obj["spec"]["template"]["spec"]


def _references(objects: list[dict[str, Any]], config: PlatformConfig) -> Iterator[tuple[str, str]]:
    """Every ConfigMap/Secret a pod mounts or reads exists in the bundle, or is a documented external Secret."""
    present = {(o["kind"], o["metadata"]["name"]) for o in objects}
    external = {("Secret", TLS_SECRET), ("Secret", config.kubernetes.admin_secret)}
    for deployment, pod in _pod_specs(objects):
        refs = [(f"spec.template.spec.volumes[{v['name']}]", kind,
                 source[key].get("name") or source[key].get("secretName"))
                for v in pod.get("volumes", [])
                for source in [v, *v.get("projected", {}).get("sources", [])]
                for key, kind in (("configMap", "ConfigMap"), ("secret", "Secret")) if key in source]
        for container in pod.get("containers", []):
            for env in container.get("env", []):
                source = env.get("valueFrom", {})
                for key, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
                    if key in source:
                        refs.append((f"containers[{container['name']}].env[{env['name']}]", kind, source[key]["name"]))
        for field, kind, name in refs:
            if (kind, name) not in present and (kind, name) not in external:
                yield ident(deployment), f"{field}: references {kind} {name!r}, which is not in the bundle"
    for ingress in (o for o in objects if o["kind"] == "Ingress"):
        for tls in ingress["spec"].get("tls", []):
            if ("Secret", tls["secretName"]) not in present | external:
                yield ident(ingress), f"spec.tls: Secret {tls['secretName']!r} is not in the bundle"


def _configmaps(objects: list[dict[str, Any]], base_name: str) -> list[dict[str, Any]]:
    """ConfigMaps whose name, without kustomize's hash suffix, is base_name or base_name-<suffix>."""
    return [o for o in objects if o["kind"] == "ConfigMap"
            and (o["metadata"]["name"].rsplit("-", 1)[0] + "-").startswith(base_name + "-")]


def _datasource_agreement(objects: list[dict[str, Any]], config: PlatformConfig) -> Iterator[tuple[str, str]]:
    """The datasource uid the dashboards use is the one provisioned; the main dashboard is deployed."""
    datasources, dashboards = _configmaps(objects, DATASOURCES_CONFIGMAP), _configmaps(objects, DASHBOARDS_CONFIGMAP)
    if not datasources or not dashboards:
        yield "bundle", f"ConfigMaps {DATASOURCES_CONFIGMAP} and {DASHBOARDS_CONFIGMAP} must both be rendered"
        return
    provisioned = {ds.get("uid") for text in datasources[0]["data"].values()
                   for ds in (YAML(typ="safe", pure=True).load(text) or {}).get("datasources", [])}
    boards = [(cm, key, _board_uids(text)) for cm in dashboards for key, text in cm["data"].items()]
    main_uid = dashboard_uid(config.main_dashboard.name)
    if main_uid not in {uid for _, _, (uid, _) in boards}:
        yield ident(dashboards[0]), f"data: the main dashboard (uid {main_uid!r}) is missing"
    for cm, key, (_, used) in boards:
        for uid in sorted(u for u in used - provisioned if u):
            yield ident(cm), f"data.{key}: datasource uid {uid!r} is not provisioned in {ident(datasources[0])}"


@functools.lru_cache(maxsize=8192)
def _board_uids(text: str) -> tuple[Any, frozenset[Any]]:
    """A dashboard's uid and the datasource uids its panels' queries use. Cached by the text: prod, dev and each
    prod+component variant carry the same dashboards (json.loads took 3 s for them at 2,000 tenants)."""
    board = json.loads(text)
    used = {t.get("datasource", {}).get("uid") for p in board.get("panels", []) for t in p.get("targets", [])}
    return board.get("uid"), frozenset(used)


def _dashboard_layout(objects: list[dict[str, Any]], config: PlatformConfig) -> Iterator[tuple[str, str]]:
    """Every dashboard file reaches Grafana as a regular file, at <dashboards_path>[/<tenant>]/<file>: the init
    container runs agentmon's copy script (its behaviour is tested on a kubelet-like tree with a real shell) over
    every dashboards ConfigMap, mounted at COPY_SOURCE/<folder>, into the emptyDir Grafana mounts at
    dashboards_path. Mounting a volume with sub-paths instead gives symlinked folders, which Grafana's file
    provider does not enter."""
    root = config.provisioning.dashboards_path
    for deployment, pod in _pod_specs(objects):
        if deployment["metadata"]["name"] != "grafana":
            continue
        where = ident(deployment)
        init = next((c for c in pod.get("initContainers", []) if c.get("name") == COPY_CONTAINER), None)
        if init is None or init.get("command") != ["/bin/sh", "-c", COPY_SCRIPT]:
            yield where, f"initContainers[{COPY_CONTAINER}]: missing, or not running agentmon's dashboard copy script"
            continue
        yield from ((where, m) for m in _copy_target_problems(pod, init, root))
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        copied = {volumes.get(m["name"], {}).get("configMap", {}).get("name")
                  for m in init.get("volumeMounts", []) if m["mountPath"].rpartition("/")[0] == COPY_SOURCE}
        for cm in _configmaps(objects, DASHBOARDS_CONFIGMAP):
            if cm["metadata"]["name"] not in copied:
                yield where, (f"initContainers[{COPY_CONTAINER}].volumeMounts: {ident(cm)} is not mounted under "
                              f"{COPY_SOURCE}/, so its dashboards never reach {root}")


def _copy_target_problems(pod: dict[str, Any], init: dict[str, Any], root: str) -> Iterator[str]:
    """The copy writes into an emptyDir at `root` that the Grafana container mounts at `root` too."""
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    env = {e.get("name"): e.get("value") for e in init.get("env", [])}
    if env.get("DASHBOARD_SOURCES") != COPY_SOURCE:
        yield (f"initContainers[{COPY_CONTAINER}].env.DASHBOARD_SOURCES: {env.get('DASHBOARD_SOURCES')!r}, "
               f"expected {COPY_SOURCE!r}")
    if env.get("DASHBOARDS_PATH") != root:
        yield f"initContainers[{COPY_CONTAINER}].env.DASHBOARDS_PATH: {env.get('DASHBOARDS_PATH')!r}, expected {root!r}"
    target = next((m["name"] for m in init.get("volumeMounts", []) if m["mountPath"] == root), None)
    if target is None or "emptyDir" not in volumes.get(target, {}):
        yield f"initContainers[{COPY_CONTAINER}].volumeMounts: no emptyDir at {root}"
    grafana = next((c for c in pod.get("containers", []) if c.get("name") == "grafana"), {})
    if not any(m["name"] == target and m["mountPath"] == root for m in grafana.get("volumeMounts", [])):
        yield f"containers[grafana].volumeMounts: must mount the copied dashboards ({target}) at {root}"


def hardening(objects: list[dict[str, Any]], config: PlatformConfig) -> Iterator[tuple[str, str]]:
    """The prod hardening list, one finding per missing property."""
    found = False
    for deployment, pod in _pod_specs(objects):
        if deployment["metadata"]["name"] != "grafana":
            continue
        found = True
        where = ident(deployment)
        yield from ((where, m) for m in _pod_hardening(pod, config))
    if not found:
        yield "Deployment/grafana", "missing from the bundle"
    yield from _network_hardening(objects, config)


def _pod_hardening(pod: dict[str, Any], config: PlatformConfig) -> Iterator[str]:
    k = config.kubernetes
    (container,) = [c for c in pod["containers"] if c["name"] == "grafana"]
    c = "spec.template.spec.containers[grafana]"
    pod_sc, sc = pod.get("securityContext", {}), container.get("securityContext", {})
    expected: list[tuple[bool, str]] = [
        (_DIGEST.sub("", container.get("image", "")) == k.grafana_image,
         f"{c}.image: {container.get('image')!r}, expected the pinned {k.grafana_image!r} "
         "(optionally followed by @sha256:<digest>)"),
        (container.get("resources") == {"requests": {"cpu": k.cpu_request, "memory": k.memory_request},
                                         "limits": {"cpu": k.cpu_limit, "memory": k.memory_limit}},
         f"{c}.resources: {container.get('resources')}, expected requests {k.cpu_request}/{k.memory_request}, "
         f"limits {k.cpu_limit}/{k.memory_limit}"),
        (container.get("readinessProbe", {}).get("httpGet", {}).get("path") == "/api/health",
         f"{c}.readinessProbe: must be an HTTP GET on /api/health"),
        (bool(container.get("livenessProbe")) and container.get("livenessProbe") != container.get("readinessProbe"),
         f"{c}.livenessProbe: must exist and differ from the readiness probe"),
        (pod_sc.get("runAsNonRoot") is True and pod_sc.get("runAsUser", 0) != 0,
         "spec.template.spec.securityContext: runAsNonRoot with a non-root runAsUser required"),
        (pod_sc.get("seccompProfile", {}).get("type") == "RuntimeDefault",
         "spec.template.spec.securityContext.seccompProfile.type: must be RuntimeDefault"),
        (sc.get("allowPrivilegeEscalation") is False, f"{c}.securityContext.allowPrivilegeEscalation: must be false"),
        (sc.get("capabilities", {}).get("drop") == ["ALL"], f"{c}.securityContext.capabilities.drop: must be [ALL]"),
        (sc.get("readOnlyRootFilesystem") is True, f"{c}.securityContext.readOnlyRootFilesystem: must be true"),
        (pod.get("automountServiceAccountToken") is False,
         "spec.template.spec.automountServiceAccountToken: must be false"),
    ]
    yield from (message for ok, message in expected if not ok)
    yield from _init_hardening(pod)
    yield from _writable_paths(pod, container, c)
    yield from _credential_files(pod, container, c, k.admin_secret)
    yield from _env_hardening(container, c)


def _init_hardening(pod: dict[str, Any]) -> Iterator[str]:
    """An init container runs in the same pod with the same node access: the same restrictions as Grafana's."""
    for init in pod.get("initContainers", []):
        c, sc = f"spec.template.spec.initContainers[{init.get('name')}]", init.get("securityContext", {})
        if sc.get("allowPrivilegeEscalation") is not False:
            yield f"{c}.securityContext.allowPrivilegeEscalation: must be false"
        if sc.get("capabilities", {}).get("drop") != ["ALL"]:
            yield f"{c}.securityContext.capabilities.drop: must be [ALL]"
        if sc.get("readOnlyRootFilesystem") is not True:
            yield f"{c}.securityContext.readOnlyRootFilesystem: must be true"
        if not {"cpu", "memory"} <= set(init.get("resources", {}).get("limits", {})):
            yield f"{c}.resources.limits: cpu and memory required"


def _writable_paths(pod: dict[str, Any], container: dict[str, Any], c: str) -> Iterator[str]:
    empty_dirs = {v["name"] for v in pod.get("volumes", []) if "emptyDir" in v}
    mounted = {m["mountPath"] for m in container.get("volumeMounts", []) if m["name"] in empty_dirs}
    for path in ("/var/lib/grafana", "/tmp"):
        if path not in mounted:
            yield f"{c}.volumeMounts: {path} must be an emptyDir (the root filesystem is read-only)"


def _credential_files(pod: dict[str, Any], container: dict[str, Any], c: str, admin_secret: str) -> Iterator[str]:
    """Each credential reaches Grafana as a file of the mounted admin Secret, named by <VAR>__FILE (the image's
    entrypoint reads it), never as an environment variable of the pod spec (a literal or a secretKeyRef)."""
    env = {e["name"]: e for e in container.get("env", [])}
    for var, key in ADMIN_SECRET_KEYS.items():
        if var in env:
            yield (f"{c}.env[{var}]: must not be set (a literal or secretKeyRef puts the credential in the pod "
                   f"spec); set {var}__FILE to the file of key {key!r} of the mounted Secret {admin_secret}")
            continue
        path = env.get(f"{var}__FILE", {}).get("value", "")
        if _secret_key_at(pod, container, admin_secret, path) != key:
            yield (f"{c}.env[{var}__FILE]: {path!r} is not the file of key {key!r} of the Secret {admin_secret} "
                   "mounted in the container")


def _secret_key_at(pod: dict[str, Any], container: dict[str, Any], secret: str, path: str) -> str | None:
    """The key of `secret` whose file the container sees at `path`, if it is mounted there."""
    sources = {v["name"]: v["secret"] for v in pod.get("volumes", [])
               if v.get("secret", {}).get("secretName") == secret}
    for mount in (m for m in container.get("volumeMounts", []) if m["name"] in sources):
        if "subPath" in mount:
            relative = mount["subPath"] if path == mount["mountPath"] else ""
        else:
            folder = mount["mountPath"].rstrip("/") + "/"
            relative = path.removeprefix(folder) if path.startswith(folder) else ""
        if relative:
            items = sources[mount["name"]].get("items")
            # without items, every key is a file named after it
            return next((i["key"] for i in items if i["path"] == relative), None) if items else relative
    return None


def _env_hardening(container: dict[str, Any], c: str) -> Iterator[str]:
    env = {e["name"]: e for e in container.get("env", [])}
    for var, value in HARDENING_ENV.items():
        if env.get(var, {}).get("value") != value:
            yield f"{c}.env[{var}]: must be {value!r} (Grafana hardening)"


def _network_hardening(objects: list[dict[str, Any]], config: PlatformConfig) -> Iterator[tuple[str, str]]:
    """The generated policy. Policies an overlay adds (say, egress to a Prometheus outside the cluster) add to
    it; they are the overlay author's to review (docs/operations/kubernetes.md)."""
    policies = [o for o in objects if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "grafana"
                and o["spec"].get("podSelector", {}).get("matchLabels", {}).get("app") == "grafana"]
    if not policies:
        yield "NetworkPolicy/grafana", "missing: Grafana's traffic must be restricted"
        return
    yield from ((ident(policies[0]), m) for m in _policy_problems(policies[0]["spec"], config))


def _policy_problems(spec: dict[str, Any], config: PlatformConfig) -> Iterator[str]:
    k = config.kubernetes
    ingress_from = [{"namespaceSelector": {"matchLabels": {NAMESPACE_LABEL: k.ingress_namespace}}}]
    for i, rule in enumerate(spec.get("ingress", [])):
        ports = {p.get("port") for p in rule.get("ports", [])}
        if ports != {CONTAINER_PORT} or rule.get("from") != ingress_from:
            yield (f"spec.ingress[{i}]: only port {CONTAINER_PORT} from the namespace {k.ingress_namespace} "
                   f"(kubernetes.ingress_namespace) may be allowed, found ports {_ports(ports)} from "
                   f"{_reach(rule.get('from'))}")
    prometheus_peers = [{"namespaceSelector": {"matchLabels": {NAMESPACE_LABEL: k.prometheus_namespace}}}]
    allowed = {DNS_PORT: ("DNS", "kube-dns pods (podSelector k8s-app=kube-dns)", KUBE_DNS_PEERS),
               k.prometheus_port: ("Prometheus", f"the namespace {k.prometheus_namespace} "
                                                 "(kubernetes.prometheus_namespace)", prometheus_peers)}
    unused = dict(allowed)
    for i, rule in enumerate(spec.get("egress", [])):
        ports = {p.get("port") for p in rule.get("ports", [])}
        if len(ports) != 1 or not ports <= allowed.keys():
            yield (f"spec.egress[{i}].ports: {_ports(ports)}: only DNS ({DNS_PORT}) and Prometheus "
                   f"({k.prometheus_port}) may be allowed, one rule each")
            continue
        port = ports.pop()
        what, where, peers = unused.pop(port, allowed[port])
        if rule.get("to") != peers:
            yield f"spec.egress[{i}].to: {what} egress must reach only {where}, found {_reach(rule.get('to'))}"
    for port, (what, where, _) in unused.items():
        yield f"spec.egress: no rule lets Grafana reach {what} (port {port}), which must go to {where}"
    if set(spec.get("policyTypes", [])) != {"Ingress", "Egress"}:
        yield "spec.policyTypes: must list Ingress and Egress"


def _ports(ports: set[Any]) -> str:
    return str(sorted(ports, key=str)) if ports else "all ports"


def _reach(peers: list[dict[str, Any]] | None) -> str:
    return json.dumps(peers, sort_keys=True) if peers else "every source and destination (no peers listed)"
