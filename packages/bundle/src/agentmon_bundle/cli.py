"""`agentmon` command line: build, validate, simulate, demo, bench.

Exit status: 0 success, 1 validation failed, 2 bad configuration or usage, 3 missing prerequisite.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from rich.console import Console

from agentmon_bundle import bench, checks, compose_checks, kube_checks, live
from agentmon_bundle.checks import Finding
from agentmon_bundle.kustomize import KustomizeError, render_overlays
from agentmon_bundle.outputs import GENERATED_ROOTS, Rendered, render
from agentmon_bundle.prometheus import PrerequisiteMissing
from agentmon_bundle.writer import write_roots
from agentmon_config import ConfigError, PlatformConfig, load_platform

DEFAULT_CONFIG = Path("config/platform.yaml")
TENANTS_DIR = Path("tenants")
EXIT_INVALID = 1
EXIT_CONFIG = 2
EXIT_PREREQUISITE = 3

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command in ("build", "validate"):
            config = load_platform(args.repo / (args.config or DEFAULT_CONFIG), args.repo / TENANTS_DIR)
            return args.run(args.repo, config)
        return args.run(args)
    except ConfigError as exc:
        err.print(f"[bold red]configuration error[/]\n{exc}", soft_wrap=True)
        return EXIT_CONFIG
    except ValueError as exc:  # bad option values (incident syntax, unknown tenant, ...)
        err.print(f"[bold red]error[/]: {exc}", soft_wrap=True)
        return EXIT_CONFIG
    except PrerequisiteMissing as exc:
        err.print(f"[bold red]missing prerequisite[/]: {exc}", soft_wrap=True)
        return EXIT_PREREQUISITE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agentmon", description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=Path.cwd(),
                        help="repository root holding config/ and the generated folders (default: current dir)")
    parser.add_argument("--config", type=Path, default=None,
                        help=f"platform configuration, relative to --repo (default: {DEFAULT_CONFIG})")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("build", help="render and write every generated file").set_defaults(run=build)
    commands.add_parser("validate", help="re-render in memory and check the committed bundle").set_defaults(
        run=validate)
    bench.add_bench_parser(commands)
    live.add_simulate_parser(commands)
    live.add_demo_parser(commands)
    return parser


def build(repo: Path, config: PlatformConfig) -> int:
    rendered = render(config)
    findings = list(_semantic_checks(config, rendered))
    findings += _kubernetes_checks(repo, config, rendered)[0]
    findings += compose_checks.check_compose(repo, config, rendered.files)
    if findings:
        return _report_failure(findings, "build refused: nothing was written")
    write_roots(repo, GENERATED_ROOTS, rendered.files)
    for rel in rendered.files:
        out.print(f"  wrote {rel}")
    out.print(f"[green]build ok[/]: {len(rendered.files)} files in {', '.join(GENERATED_ROOTS)}/")
    return 0


def validate(repo: Path, config: PlatformConfig) -> int:
    rendered = render(config)
    findings = list(checks.drift(repo, GENERATED_ROOTS, rendered.files))
    findings += _semantic_checks(config, rendered)
    kube_findings, overlays = _kubernetes_checks(repo, config, rendered)
    findings += kube_findings
    findings += compose_checks.check_compose(repo, config, rendered.files)
    if findings:
        return _report_failure(findings, "validate failed")
    out.print(f"[green]validate ok[/]: {len(rendered.files)} generated files fresh; "
              f"{len(rendered.dashboards)} dashboards, {_query_count(rendered)} queries checked; "
              f"kustomize renders {', '.join(overlays)} valid for Kubernetes "
              f"{' and '.join(kube_checks.KUBERNETES_VERSIONS)}; {compose_checks.COMPOSE_FILE} valid")
    return 0


def _semantic_checks(config: PlatformConfig, rendered: Rendered) -> Iterable[Finding]:
    provisioned = checks.provisioned_datasource_uids(rendered.provisioning)
    yield from checks.unique_uids(rendered.dashboards)
    per_dashboard: list[Callable[[str, dict], Iterable[Finding]]] = [
        lambda f, d: checks.promql(f, d, config.datasource.scrape_interval),
        lambda f, d: checks.datasource_refs(f, d, provisioned),
        checks.sdk_model,
    ]
    for name, dashboard in rendered.dashboards.items():
        for check in per_dashboard:
            yield from check(f"dashboards/{name}", dashboard)


def _kubernetes_checks(repo: Path, config: PlatformConfig, rendered: Rendered) -> tuple[list[Finding], list[str]]:
    """Render every overlay (and optional component) with real kustomize; return findings and overlay names."""
    with err.status("rendering overlays with kustomize and checking them"):
        try:
            overlays = render_overlays(repo, rendered.files)
        except KustomizeError as exc:
            return [Finding("overlays", "", str(exc))], []
        findings = [f for overlay in overlays for f in kube_checks.check_overlay(overlay, config)]
    return findings, [o.name for o in overlays]


def _query_count(rendered: Rendered) -> int:
    return sum(len(p.get("targets", [])) for d in rendered.dashboards.values() for p in checks.panels(d))


def _report_failure(findings: list[Finding], headline: str) -> int:
    err.print(f"[bold red]{headline}[/]: {len(findings)} problem(s)")
    for finding in findings:
        err.print(f"  {finding}", markup=False, soft_wrap=True)
    return EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
