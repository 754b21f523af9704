"""The Grafana workload: Deployment, Service, ServiceAccount, NetworkPolicy.

Secure by default: the base is what prod runs; overlays only relax (dev) or add (ingress).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from agentmon_config import PlatformConfig
from agentmon_deploy.names import DASHBOARDS_CONFIGMAP, DATASOURCES_CONFIGMAP, PROVIDERS_CONFIGMAP

NAME = "grafana"
APP_LABELS = {"app": NAME}
CONTAINER_PORT = 3000
# Not the image's own 472: a uid of 10000 or more is unlikely to be a user of the node (should the container
# escape). The image runs under any uid, since everything it writes here is an emptyDir (owned by fsGroup).
GRAFANA_UID = 10472
PROVISIONING_DIR = "/etc/grafana/provisioning"
# Keys the admin Secret must hold (prod: created out of band; dev: a secretGenerator).
ADMIN_SECRET_KEYS = {"GF_SECURITY_ADMIN_USER": "admin-user", "GF_SECURITY_ADMIN_PASSWORD": "admin-password",
                     "GF_SECURITY_SECRET_KEY": "secret-key"}
# The admin Secret is mounted as files there; the image's entrypoint reads GF_<SECTION>_<KEY>__FILE, so no
# credential appears in the pod spec (`kubectl describe`, the API, audit logs).
SECRETS_DIR = "/etc/grafana/secrets"
SECRETS_VOLUME = "admin-secret"
# Checks of Checkov (docs/operations/kubernetes.md) that do not apply, with the reason. Checkov
# splits each value at "=", so a reason must not contain one.
CHECKOV_SKIPS = {
    "CKV_K8S_43": "pinned by tag in kubernetes.grafana_image (shared with compose); add a digest in the overlay, "
                  "see docs/operations/kubernetes.md",
}
# grafana.ini hardening, as GF_<SECTION>_<KEY> environment variables.
HARDENING_ENV = {
    "GF_AUTH_ANONYMOUS_ENABLED": "false",
    "GF_AUTH_ANONYMOUS_HIDE_VERSION": "true",
    "GF_USERS_ALLOW_SIGN_UP": "false",
    "GF_SECURITY_COOKIE_SECURE": "true",
    "GF_SECURITY_DISABLE_GRAVATAR": "true",
    "GF_ANALYTICS_REPORTING_ENABLED": "false",
    "GF_ANALYTICS_CHECK_FOR_UPDATES": "false",
    "GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES": "false",
    "GF_SNAPSHOTS_EXTERNAL_ENABLED": "false",
    "GF_PATHS_PROVISIONING": PROVISIONING_DIR,
    "GF_LOG_MODE": "console",
}


def _meta(name: str = NAME) -> dict[str, Any]:
    return {"name": name, "labels": dict(APP_LABELS)}


def service_account() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(),
            "automountServiceAccountToken": False}


def service() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(), "spec": {
        "type": "ClusterIP", "selector": dict(APP_LABELS),
        "ports": [{"name": "http", "port": CONTAINER_PORT, "targetPort": "http", "protocol": "TCP"}],
    }}


def dashboard_configmaps(dashboard_files: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    """ConfigMap name -> [(key, path under the dashboards folder)].

    Top-level dashboards share one ConfigMap; each tenant folder gets its own, named after the tenant. A
    tenant's ConfigMap holds only its own dashboard, so it stays far below the size budget at any tenant
    count, and adding a tenant leaves every other ConfigMap's content, and so its hashed name, unchanged.
    A ConfigMap holds the files of one folder only (see _dashboard_mounts).
    """
    groups: dict[str, list[tuple[str, str]]] = {DASHBOARDS_CONFIGMAP: []}
    for path in sorted(dashboard_files):
        folder, _, key = path.rpartition("/")
        name = f"{DASHBOARDS_CONFIGMAP}-{folder}" if folder else DASHBOARDS_CONFIGMAP
        groups.setdefault(name, []).append((key, path))
    return groups


def deployment(config: PlatformConfig, dashboards: dict[str, list[tuple[str, str]]]) -> dict[str, Any]:
    skips = {f"checkov.io/skip{n}": f"{check}={reason}" for n, (check, reason) in enumerate(CHECKOV_SKIPS.items(), 1)}
    metadata = {**_meta(), "annotations": skips}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata, "spec": {
        "replicas": 1,
        "selector": {"matchLabels": dict(APP_LABELS)},
        "template": {"metadata": {"labels": dict(APP_LABELS)}, "spec": {
            "serviceAccountName": NAME,
            "automountServiceAccountToken": False,
            "securityContext": {"runAsNonRoot": True, "runAsUser": GRAFANA_UID, "runAsGroup": GRAFANA_UID,
                                "fsGroup": GRAFANA_UID, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [_container(config, dashboards)],
            "volumes": [*_volumes(dashboards), _admin_secret_volume(config)],
        }},
    }}


def _container(config: PlatformConfig, dashboards: dict[str, list[tuple[str, str]]]) -> dict[str, Any]:
    k = config.kubernetes
    secret_env = [{"name": f"{var}__FILE", "value": f"{SECRETS_DIR}/{key}"} for var, key in ADMIN_SECRET_KEYS.items()]
    return {
        "name": NAME,
        "image": k.grafana_image,
        # A tag pin: re-resolve it at every start, so every node runs what the registry serves for the tag and
        # pull credentials are checked (layers already on the node are reused).
        "imagePullPolicy": "Always",
        "ports": [{"name": "http", "containerPort": CONTAINER_PORT, "protocol": "TCP"}],
        "env": secret_env + [{"name": n, "value": v} for n, v in HARDENING_ENV.items()],
        "resources": {"requests": {"cpu": k.cpu_request, "memory": k.memory_request},
                      "limits": {"cpu": k.cpu_limit, "memory": k.memory_limit}},
        # Ready when the HTTP API and database answer; alive while the port accepts connections, so a slow
        # database does not get the pod killed (liveness deliberately differs from readiness).
        "readinessProbe": {"httpGet": {"path": "/api/health", "port": "http"}, "periodSeconds": 10,
                           "timeoutSeconds": 3, "failureThreshold": 3},
        "livenessProbe": {"tcpSocket": {"port": "http"}, "initialDelaySeconds": 60, "periodSeconds": 20,
                          "timeoutSeconds": 3, "failureThreshold": 6},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}},
        "volumeMounts": [
            {"name": "data", "mountPath": "/var/lib/grafana"},
            {"name": "tmp", "mountPath": "/tmp"},
            {"name": SECRETS_VOLUME, "mountPath": SECRETS_DIR, "readOnly": True},
            {"name": "datasources", "mountPath": f"{PROVISIONING_DIR}/datasources", "readOnly": True},
            {"name": "dashboard-providers", "mountPath": f"{PROVISIONING_DIR}/dashboards", "readOnly": True},
            *_dashboard_mounts(config.provisioning.dashboards_path, dashboards),
        ],
    }


def _volume_name(configmap: str) -> str:
    return configmap.removeprefix("grafana-")  # "dashboards", "dashboards-<tenant>": valid DNS labels


def _dashboard_mounts(path: str, dashboards: dict[str, list[tuple[str, str]]]) -> list[dict[str, Any]]:
    """Each tenant's ConfigMap is mounted as its own real directory <path>/<tenant>; top-level dashboards are
    mounted file by file (subPath). Why not one volume with items in sub-paths: kubelet exposes such
    sub-directories as symlinks, and Grafana's file provider does not descend into symlinked directories,
    so tenant folders would silently stay empty. The folder itself lives in the writable emptyDir."""
    mounts = []
    for configmap, files in dashboards.items():
        for key, rel in files:
            folder = rel.rpartition("/")[0]
            if folder:
                mounts.append({"name": _volume_name(configmap), "mountPath": f"{path}/{folder}", "readOnly": True})
                break
            mounts.append({"name": _volume_name(configmap), "mountPath": f"{path}/{key}", "subPath": key,
                           "readOnly": True})
    return mounts


def _volumes(dashboards: dict[str, list[tuple[str, str]]]) -> list[dict[str, Any]]:
    return [
        {"name": "data", "emptyDir": {}},
        {"name": "tmp", "emptyDir": {}},
        {"name": "datasources", "configMap": {"name": DATASOURCES_CONFIGMAP}},
        {"name": "dashboard-providers", "configMap": {"name": PROVIDERS_CONFIGMAP}},
        *({"name": _volume_name(name), "configMap": {"name": name}} for name in dashboards),
    ]


def _admin_secret_volume(config: PlatformConfig) -> dict[str, Any]:
    """Only the three keys, readable by Grafana's group (fsGroup) alone. Listing them makes a missing key a
    mount error naming it, rather than a Grafana that cannot read its password file."""
    items = [{"key": key, "path": key} for key in ADMIN_SECRET_KEYS.values()]
    return {"name": SECRETS_VOLUME, "secret": {"secretName": config.kubernetes.admin_secret, "items": items,
                                               "defaultMode": 0o440}}


def network_policy(config: PlatformConfig) -> dict[str, Any]:
    k = config.kubernetes
    dns_ports = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": _meta(), "spec": {
        "podSelector": {"matchLabels": dict(APP_LABELS)},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{
            "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": k.ingress_namespace}}}],
            "ports": [{"protocol": "TCP", "port": CONTAINER_PORT}],
        }],
        "egress": [
            {"to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
             "ports": dns_ports},
            {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": k.prometheus_namespace}}}],
             "ports": [{"protocol": "TCP", "port": k.prometheus_port}]},
        ],
    }}
