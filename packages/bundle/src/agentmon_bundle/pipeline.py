"""Render the bundle and run every check on it: shared by build, validate and publish."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from agentmon_bundle.outputs import ALERTMANAGER_ROOT, GENERATED_ROOTS, RULES_ROOT, Rendered, render
from agentmon_checks import alerts as alert_checks
from agentmon_checks import compose, kubernetes, names, targets
from agentmon_checks import dashboards as checks
from agentmon_checks import rules as rule_checks
from agentmon_checks.drift import drift
from agentmon_checks.findings import Finding
from agentmon_checks.identity import checks_identity
from agentmon_checks.kustomize import KustomizeError, OverlayRenders, RenderedOverlay
from agentmon_config import PlatformConfig
from agentmon_rules import ALERTS_FILE, recording_document

status = Console(stderr=True, highlight=False)


@dataclass(frozen=True)
class Checked:
    rendered: Rendered
    findings: list[Finding]
    overlays: list[str]  # overlay (and overlay+component) names that kustomize rendered
    warnings: list[Finding] = dataclasses.field(default_factory=list)  # printed, never fatal


def check_bundle(root: Path, config: PlatformConfig, *, against_disk: bool, rendered: Rendered | None = None,
                 tree: Path | None = None) -> Checked:
    """Render in memory (unless given the render) and check it; with against_disk, committed generated files must
    match the render. `tree`: a folder already holding the rendered files, where kustomize renders the overlays."""
    rendered = rendered or render(config)
    # kustomize runs in processes of its own: the checks in Python go on meanwhile (a third of a build's time at
    # 2,000 tenants).
    with _OverlayJobs(root, config, rendered, tree) as overlays:
        findings = list(drift(root, GENERATED_ROOTS, rendered.files)) if against_disk else []
        # What the rules record, worked out once for both (0.65 s at 2,000 tenants)
        recorded = rule_checks.recorded_series(recording_document(rendered.rules))
        findings += overlays.remembered("semantic", lambda: list(semantic_checks(config, rendered, recorded)))
        findings += alert_checks.check_alerts(root, config, RULES_ROOT, rendered.rules, ALERTMANAGER_ROOT,
                                              rendered.alertmanager, rendered.dashboards, rendered.files, recorded)
        findings += compose.check_compose(root, config, rendered.files)
        kube_findings, names_rendered = kubernetes_checks(overlays.result())
    return Checked(rendered, findings + kube_findings, names_rendered, list(alert_checks.link_warnings(config)))


def semantic_checks(config: PlatformConfig, rendered: Rendered,
                    rules_record: dict[str, frozenset[str]] | None = None) -> Iterable[Finding]:
    """rules_record: recorded_series of the rendered rules, when the caller has it already."""
    provisioned = checks.provisioned_datasource_uids(rendered.provisioning)
    yield from rule_checks.check_rules(RULES_ROOT, rendered.rules, rendered.files)
    # Panels may read what the bundle's own rules record (and the ALERTS of its alert rules), and nothing else
    # besides the contract.
    if rules_record is None:
        rules_record = rule_checks.recorded_series(recording_document(rendered.rules))
    recorded = rules_record | rule_checks.alert_series(rendered.rules.get(ALERTS_FILE), rules_record)
    yield from checks.unique_uids(rendered.dashboards)
    per_dashboard: list[Callable[[str, dict], Iterable[Finding]]] = [
        lambda f, d: checks.promql(f, d, config.datasource.scrape_interval, recorded),
        lambda f, d: checks.datasource_refs(f, d, provisioned),
        checks.sdk_model,
    ]
    for name, dashboard in rendered.dashboards.items():
        for check in per_dashboard:
            yield from check(f"dashboards/{name}", dashboard)


# What the checks of one rendered overlay found: (its name, overlay checks, name checks, target checks).
_OverlayFindings = tuple[str, list[Finding], list[Finding], list[Finding]]


class _OverlayJobs:
    """Every overlay (and optional component) being rendered with real kustomize and checked as soon as it is
    rendered (its objects are then let go); result() gives what the checks found, or why kustomize failed."""

    def __init__(self, root: Path, config: PlatformConfig, rendered: Rendered, tree: Path | None) -> None:
        def check(overlay: RenderedOverlay) -> list[Any]:
            """The findings as JSON, the form the render cache keeps them in."""
            found = (kubernetes.check_overlay(overlay, config), names.check_names(overlay),
                     targets.check_target(overlay, config, rendered.dashboards))
            return [overlay.name, *([[f.file, f.where, f.message] for f in kind] for kind in found)]

        # The checks of an overlay depend on its render, the configuration (the dashboards follow from it) and the
        # checks themselves: a render checked before under the same three is not checked again.
        self._context = context = hashlib.sha256(f"{config!r}\0{checks_identity()}".encode()).hexdigest()
        self._renders: OverlayRenders | KustomizeError
        try:
            self._renders = OverlayRenders(root, rendered.files, digest=check, tree=tree, digest_key=context)
        except KustomizeError as exc:
            self._renders = exc

    def remembered(self, what: str, check: Callable[[], list[Finding]]) -> list[Finding]:
        """check()'s findings, kept in the render cache beside the overlays' (the generated files are in the tree
        its key names): for checks of the generated files alone, which depend on nothing else but the
        configuration and the checks."""
        if isinstance(self._renders, KustomizeError):
            return check()
        found = self._renders.cache.remembered(
            what, self._context, lambda: [[f.file, f.where, f.message] for f in check()])
        return [Finding(*f) for f in found]

    def result(self) -> list[_OverlayFindings] | KustomizeError:
        if isinstance(self._renders, KustomizeError):
            return self._renders
        with status.status("rendering and checking the overlays with kustomize"):
            try:
                return [(name, *([Finding(*f) for f in kind] for kind in kinds))
                        for name, *kinds in self._renders.digests()]
            except KustomizeError as exc:
                return exc

    def __enter__(self) -> _OverlayJobs:
        return self

    def __exit__(self, *exc: object) -> None:
        if isinstance(self._renders, OverlayRenders):
            self._renders.close()


def kubernetes_checks(checked: list[_OverlayFindings] | KustomizeError) -> tuple[list[Finding], list[str]]:
    """The findings of every rendered overlay (by check: overlay checks, names, targets) and the overlay names."""
    if isinstance(checked, KustomizeError):
        return [Finding("overlays", "", str(checked))], []
    findings = [f for kind in (1, 2, 3) for overlay in checked for f in overlay[kind]]
    return findings, [overlay[0] for overlay in checked]


def query_count(rendered: Rendered) -> int:
    return sum(len(p.get("targets", [])) for d in rendered.dashboards.values() for p in checks.panels(d))
