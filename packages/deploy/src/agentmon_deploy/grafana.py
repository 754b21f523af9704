"""The Grafana workload: Deployment, Service, ServiceAccount, NetworkPolicy.

Secure by default: the base is what prod runs; overlays only relax (dev) or add (ingress).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
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
# Tenant dashboards: shards named <TENANT_SHARDS>-<CRC-32 bit prefix>, each at most this much data (JSON-escaped, as
# stored), which leaves room for metadata under the 250,000-byte object budget.
TENANT_SHARDS = f"{DASHBOARDS_CONFIGMAP}-tenants"
SHARD_DATA_BYTES = 200_000
FIRST_SHARD_BITS = 4  # 16 shards to start with
# The init container copies each dashboards ConfigMap, mounted at COPY_SOURCE/<folder> ($DASHBOARD_SOURCES), into
# the emptyDir DASHBOARD_FILES_VOLUME that Grafana reads at provisioning.dashboards_path: the top-level ConfigMap
# (folder PLATFORM_SOURCE) file by file, a shard's key <tenant>_<file> to <tenant>/<file>. `*/*` skips kubelet's
# `..data` entries (a glob's * matches no leading dot); cp follows the key's symlink to the file.
COPY_CONTAINER = "copy-dashboards"
COPY_SOURCE = "/agentmon-dashboards"
PLATFORM_SOURCE = "platform"
DASHBOARD_FILES_VOLUME = "dashboard-files"
COPY_SCRIPT = """set -eu
cd "$DASHBOARD_SOURCES"
for source in */*; do
  [ -f "$source" ] || continue
  key=${source#*/}
  case "$source" in
    platform/*) cp "$source" "$DASHBOARDS_PATH/$key" ;;
    *) tenant=${key%%_*}; mkdir -p "$DASHBOARDS_PATH/$tenant"; cp "$source" "$DASHBOARDS_PATH/$tenant/${key#*_}" ;;
  esac
done
"""
COPY_RESOURCES = {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "200m", "memory": "64Mi"}}
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


def dashboard_configmaps(dashboard_files: Mapping[str, bytes]) -> dict[str, list[tuple[str, str]]]:
    """ConfigMap name -> [(key, path under the dashboards folder)], from each file's path and content.

    Top-level dashboards share one ConfigMap, keyed by file name. Tenant dashboards go into shards keyed
    <tenant>_<file> (a tenant id has no "_"), so the Deployment mounts about one volume per 100 to 200 KB of tenant
    dashboards rather than one per tenant (which passed the 250,000-byte budget at about 1,200 tenants). A
    tenant's shard is named by the leading bits of the CRC-32 of its id, FIRST_SHARD_BITS of them, and one more
    wherever a shard would pass SHARD_DATA_BYTES: adding a tenant changes the content of its own shard only (or
    splits that one shard in two).
    """
    groups: dict[str, list[tuple[str, str]]] = {DASHBOARDS_CONFIGMAP: []}
    by_tenant: dict[str, list[str]] = {}
    for path in sorted(dashboard_files):
        folder, _, name = path.rpartition("/")
        if folder:
            by_tenant.setdefault(folder, []).append(path)
        else:
            groups[DASHBOARDS_CONFIGMAP].append((name, path))
    stored = {t: sum(_stored_bytes(dashboard_files[p]) for p in paths) for t, paths in by_tenant.items()}
    for prefix, tenants in sorted(_shards(stored, FIRST_SHARD_BITS).items()):
        groups[f"{TENANT_SHARDS}-{prefix}"] = [(shard_key(p), p) for t in tenants for p in by_tenant[t]]
    return groups


def shard_key(path: str) -> str:
    """The ConfigMap key of a tenant's file: <tenant>_<file> (COPY_SCRIPT turns it back into <tenant>/<file>)."""
    return path.replace("/", "_", 1)


def _stored_bytes(content: bytes) -> int:
    """What a file takes in a ConfigMap as the API server stores it: a JSON string, quotes and newlines escaped."""
    return len(json.dumps(content.decode()).encode())


def _shards(stored: Mapping[str, int], bits: int) -> dict[str, list[str]]:
    """Tenants by the first `bits` bits of their id's CRC-32; a group over SHARD_DATA_BYTES (with more than one
    tenant) is split in two by the next bit, so a shard holds between a quarter and all of the budget wherever
    tenants are many (split by a whole hex digit, 3,000 tenants would make a few thousand small shards)."""
    groups: dict[str, list[str]] = {}
    for tenant in sorted(stored):
        groups.setdefault(f"{zlib.crc32(tenant.encode()):032b}"[:bits], []).append(tenant)
    shards: dict[str, list[str]] = {}
    for prefix, tenants in groups.items():
        if len(tenants) > 1 and bits < 32 and sum(stored[t] for t in tenants) > SHARD_DATA_BYTES:
            shards |= _shards({t: stored[t] for t in tenants}, bits + 1)
        else:
            shards[prefix] = tenants
    return shards


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
            "initContainers": [_copy_dashboards(config, dashboards)],
            "containers": [_container(config)],
            "volumes": [*_volumes(dashboards), _admin_secret_volume(config)],
        }},
    }}


def _container(config: PlatformConfig) -> dict[str, Any]:
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
            {"name": DASHBOARD_FILES_VOLUME, "mountPath": config.provisioning.dashboards_path, "readOnly": True},
        ],
    }


def _volume_name(configmap: str) -> str:
    return configmap.removeprefix("grafana-")  # "dashboards", "dashboards-tenants-3a": valid DNS labels


def _copy_dashboards(config: PlatformConfig, dashboards: dict[str, list[tuple[str, str]]]) -> dict[str, Any]:
    """The init container that lays every dashboard out as a regular file in the emptyDir Grafana reads:
    <dashboards_path>/<file> and <dashboards_path>/<tenant>/<file>. Why copy rather than mount: kubelet
    exposes a volume's sub-directories as symlinks, which Grafana's file provider does not enter, and a mount per
    tenant folder made the Deployment grow with every tenant. The Grafana image brings the shell."""
    mounts = [{"name": _volume_name(name), "mountPath": f"{COPY_SOURCE}/{_source_folder(name)}", "readOnly": True}
              for name in dashboards]
    return {
        "name": COPY_CONTAINER,
        "image": config.kubernetes.grafana_image,
        "imagePullPolicy": "Always",
        "command": ["/bin/sh", "-c", COPY_SCRIPT],
        "env": [{"name": "DASHBOARD_SOURCES", "value": COPY_SOURCE},
                {"name": "DASHBOARDS_PATH", "value": config.provisioning.dashboards_path}],
        "resources": dict(COPY_RESOURCES),
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}},
        "volumeMounts": [*mounts, {"name": DASHBOARD_FILES_VOLUME, "mountPath": config.provisioning.dashboards_path}],
    }


def _source_folder(configmap: str) -> str:
    """Where the init container sees a dashboards ConfigMap: `platform` for the top-level one, else its shard."""
    return PLATFORM_SOURCE if configmap == DASHBOARDS_CONFIGMAP else configmap.removeprefix(f"{DASHBOARDS_CONFIGMAP}-")


def _volumes(dashboards: dict[str, list[tuple[str, str]]]) -> list[dict[str, Any]]:
    return [
        {"name": "data", "emptyDir": {}},
        {"name": "tmp", "emptyDir": {}},
        {"name": "datasources", "configMap": {"name": DATASOURCES_CONFIGMAP}},
        {"name": "dashboard-providers", "configMap": {"name": PROVIDERS_CONFIGMAP}},
        {"name": DASHBOARD_FILES_VOLUME, "emptyDir": {}},
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
