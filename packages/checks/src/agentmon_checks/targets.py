"""Checks on the rendered overlays that deploy into a monitoring stack the user already runs.

kube-prometheus-stack: the chart's dashboard sidecar (k8s-sidecar) writes every key of every ConfigMap that carries
its label into <FOLDER>/<folder annotation>/<key>, and Grafana's file provider (foldersFromFilesStructure) makes
each directory a folder. grafana-operator: a GrafanaDashboard lands in the GrafanaFolder its folderRef names, in the
Grafana instances its instanceSelector matches. Each check replays that, and finds where a dashboard would be
missing, doubled, in the wrong folder, or pointing at a datasource that is not there.

The expected dashboards are the standard render's (dashboards/): a dashboard added there must reach every target.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import PurePosixPath
from typing import Any

from agentmon_checks.dashboards import datasource_refs
from agentmon_checks.findings import Finding
from agentmon_checks.kustomize import RenderedOverlay
from agentmon_config import PlatformConfig

SIDECAR_OVERLAY, OPERATOR_OVERLAY = "kube-prometheus-stack", "grafana-operator"
TARGET_OVERLAYS = (SIDECAR_OVERLAY, OPERATOR_OVERLAY)
# Nothing in these overlays may run a Grafana (or anything else): the user's stack already runs one.
WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod", "Job", "CronJob",
                            "Grafana"})

Problem = tuple[str, str]  # (where: Kind/name, message)


def ident(obj: dict[str, Any]) -> str:
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


def check_target(overlay: RenderedOverlay, config: PlatformConfig,
                 dashboards: Mapping[str, dict[str, Any]]) -> Iterator[Finding]:
    """Every check that applies to the overlay: the target's own, and the ServiceMonitor's wherever there is one."""
    file = f"overlays/{overlay.name.replace('+', ' with component ')}"
    target = overlay.name.split("+")[0]
    problems: list[Problem] = []
    if target == SIDECAR_OVERLAY:
        problems += no_grafana(overlay.objects)
        problems += sidecar_layout(overlay.objects, config, expected_layout(dashboards))
    elif target == OPERATOR_OVERLAY:
        problems += no_grafana(overlay.objects)
        problems += operator_layout(overlay.objects, config, expected_layout(dashboards))
    problems += service_monitors(overlay.objects, config)
    yield from (Finding(file, where, message) for where, message in problems)


def expected_layout(dashboards: Mapping[str, dict[str, Any]]) -> dict[str, str]:
    """Dashboard uid -> its folder ("" for Grafana's General folder), from the standard render's paths."""
    return {board["uid"]: str(PurePosixPath(path).parent).removeprefix(".") for path, board in dashboards.items()}


def no_grafana(objects: list[dict[str, Any]]) -> Iterator[Problem]:
    for obj in objects:
        if obj.get("kind") in WORKLOAD_KINDS:
            yield ident(obj), "this target deploys nothing that runs: the user's stack already runs Grafana"


def _placed(where: str, board_text: str, folder: str, placed: dict[str, list[tuple[str, str]]],
            datasource_uid: str) -> Iterator[Problem]:
    """Record where a dashboard lands; its datasource references must all be datasource_uid."""
    try:
        board = json.loads(board_text)
    except (TypeError, ValueError) as exc:
        yield where, f"not dashboard JSON: {exc}"
        return
    if not isinstance(board, dict) or not board.get("uid"):
        yield where, "not a dashboard with a uid (Grafana would give it a random one)"
        return
    placed.setdefault(board.get("uid"), []).append((where, folder))
    yield from ((f"{where} {f.where}", f.message) for f in datasource_refs("", board, {datasource_uid}))
    for annotation in board.get("annotations", {}).get("list", []):  # datasource_refs reads panels and variables
        uid = (annotation.get("datasource") or {}).get("uid")
        if uid not in (datasource_uid, "-- Grafana --", "grafana"):  # Grafana's built-in annotation source
            yield where, f"annotation {annotation.get('name')!r}: datasource uid {uid!r}, expected {datasource_uid!r}"


def _compare(placed: dict[str, list[tuple[str, str]]], expected: dict[str, str]) -> Iterator[Problem]:
    """Every expected dashboard exactly once, in its folder; nothing else."""
    for uid, folder in sorted(expected.items()):
        places = placed.get(uid, [])
        if not places:
            yield "bundle", f"dashboard {uid!r} is not deployed"
        elif len(places) > 1:
            yield "bundle", f"dashboard {uid!r} is deployed {len(places)} times ({', '.join(w for w, _ in places)})"
        elif places[0][1] != folder:
            yield places[0][0], (f"dashboard {uid!r} would land in folder {places[0][1] or 'General'!r}, "
                                 f"expected {folder or 'General'!r}")
    for uid in sorted(set(placed) - set(expected), key=str):
        yield placed[uid][0][0], f"dashboard {uid!r} is not one agentmon renders"


def sidecar_layout(objects: list[dict[str, Any]], config: PlatformConfig,
                   expected: dict[str, str]) -> Iterator[Problem]:
    """Replays the sidecar: the labelled ConfigMaps' keys become files <annotation folder>/<key>."""
    kps = config.targets.kube_prometheus_stack
    placed: dict[str, list[tuple[str, str]]] = {}
    files: Counter[str] = Counter()
    for cm in (o for o in objects if o.get("kind") == "ConfigMap"):
        metadata = cm.get("metadata", {})
        if (metadata.get("labels") or {}).get(kps.dashboard_label) != kps.dashboard_label_value:
            continue
        folder = (metadata.get("annotations") or {}).get(kps.folder_annotation, "")
        data = cm.get("data") or {}
        if len(data) != 1:
            yield ident(cm), f"data: {len(data)} keys; one dashboard per ConfigMap keeps each within the size budget"
        for key, text in data.items():
            if not key.endswith(".json"):
                yield ident(cm), f"data.{key}: Grafana's file provider loads only *.json files"
            if "/" in folder or folder.startswith("."):
                yield ident(cm), f"metadata.annotations.{kps.folder_annotation}: {folder!r} is not one folder name"
            files[key] += 1
            yield from _placed(f"{ident(cm)} data.{key}", text, folder, placed, kps.datasource_uid)
    for key, count in sorted(files.items()):
        if count > 1:
            # the sidecar (UNIQUE_FILENAMES off, the chart's default) and some setups flatten folders: keep them unique
            yield "bundle", f"file name {key} is used by {count} ConfigMaps: file names must be unique across folders"
    yield from _compare(placed, expected)


def operator_layout(objects: list[dict[str, Any]], config: PlatformConfig,
                    expected: dict[str, str]) -> Iterator[Problem]:
    """Resources for the configured Grafana instances, in existing folders, with their datasource (their schema:
    agentmon_checks.crds, for every overlay)."""
    operator = config.targets.grafana_operator
    selector = {"matchLabels": dict(operator.instance_selector)}
    folders: dict[str, str] = {}
    for obj in (o for o in objects if o.get("kind") in ("GrafanaDashboard", "GrafanaFolder", "GrafanaDatasource")):
        if obj.get("spec", {}).get("instanceSelector") != selector:
            yield ident(obj), f"spec.instanceSelector: must be {selector} (targets.grafana_operator.instance_selector)"
        if obj["kind"] == "GrafanaFolder":
            folders[obj["metadata"]["name"]] = obj["spec"].get("title", "")
    placed: dict[str, list[tuple[str, str]]] = {}
    for board in (o for o in objects if o.get("kind") == "GrafanaDashboard"):
        spec = board.get("spec", {})
        where = ident(board)
        declared = [k for k in ("folder", "folderUID", "folderRef") if k in spec]
        if len(declared) > 1:  # the CRD's CEL rules, which JSON Schema cannot express
            yield where, f"spec: only one of folder, folderUID and folderRef may be set, found {declared}"
        ref = spec.get("folderRef")
        if ref is not None and ref not in folders:
            yield where, f"spec.folderRef: no GrafanaFolder {ref!r} in this overlay"
        yield from _placed(where, spec.get("json"), folders.get(ref, "") if ref else spec.get("folder", ""),
                           placed, operator.datasource_uid)
    yield from _compare(placed, expected)
    yield from _operator_datasource(objects, config)


def _operator_datasource(objects: list[dict[str, Any]], config: PlatformConfig) -> Iterator[Problem]:
    operator = config.targets.grafana_operator
    uids = [o["spec"].get("datasource", {}).get("uid") for o in objects if o.get("kind") == "GrafanaDatasource"]
    if operator.create_datasource and uids != [operator.datasource_uid]:
        yield "bundle", (f"expected one GrafanaDatasource with uid {operator.datasource_uid!r} "
                         f"(targets.grafana_operator.create_datasource), found {uids}")
    if not operator.create_datasource and uids:
        yield "bundle", f"GrafanaDatasource {uids} shipped although targets.grafana_operator.create_datasource is false"


def service_monitors(objects: list[dict[str, Any]], config: PlatformConfig) -> Iterator[Problem]:
    """Selected by the Prometheus resource, selecting the platform, at the configured interval."""
    monitor = config.targets.service_monitor
    for obj in (o for o in objects if o.get("kind") == "ServiceMonitor"):
        where = ident(obj)
        labels = obj.get("metadata", {}).get("labels") or {}
        for name, value in monitor.labels:
            if labels.get(name) != value:
                yield where, (f"metadata.labels.{name}: {labels.get(name)!r}, expected {value!r} "
                              "(targets.service_monitor.labels, what serviceMonitorSelector matches)")
        spec = obj.get("spec", {})
        if spec.get("selector") != {"matchLabels": dict(monitor.service_labels)}:
            yield where, f"spec.selector: must match the platform's Service labels {dict(monitor.service_labels)}"
        if spec.get("namespaceSelector") != {"matchNames": [monitor.namespace]}:
            yield where, f"spec.namespaceSelector: must be the platform's namespace {monitor.namespace!r}"
        for i, endpoint in enumerate(spec.get("endpoints") or []):
            if endpoint.get("interval") != config.datasource.scrape_interval:
                yield where, (f"spec.endpoints[{i}].interval: {endpoint.get('interval')!r}, expected "
                              f"{config.datasource.scrape_interval!r} (datasource.scrape_interval; the Operator's "
                              "default is the Prometheus resource's, 30 s in kube-prometheus-stack)")
