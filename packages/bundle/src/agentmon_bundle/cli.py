"""`agentmon` command line: build, validate, publish, simulate, demo, bench.

Exit status: 0 success, 1 validation failed, 2 bad configuration or usage, 3 missing prerequisite.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from agentmon_bundle import bench, compose_checks, kube_checks, live, publish
from agentmon_bundle.checks import Finding
from agentmon_bundle.outputs import GENERATED_ROOTS
from agentmon_bundle.pipeline import check_bundle, query_count
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
        if getattr(args, "needs_config", False):
            config = load_platform(args.root / (args.config or DEFAULT_CONFIG), args.root / TENANTS_DIR)
            return args.run(args.root, config, args)
        return args.run(args)
    except ConfigError as exc:
        err.print(f"[bold red]configuration error[/]\n{exc}", soft_wrap=True)
        return EXIT_CONFIG
    except ValueError as exc:  # bad option values (incident syntax, unknown tenant, ...)
        err.print(f"[bold red]error[/]: {exc}", soft_wrap=True)
        return EXIT_CONFIG
    except publish.PublishError as exc:
        err.print(f"[bold red]publish failed[/]: {exc}", soft_wrap=True)
        return EXIT_INVALID
    except PrerequisiteMissing as exc:
        err.print(f"[bold red]missing prerequisite[/]: {exc}", soft_wrap=True)
        return EXIT_PREREQUISITE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agentmon", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path.cwd(),
                        help="repository root holding config/ and the generated folders (default: current dir)")
    parser.add_argument("--config", type=Path, default=None,
                        help=f"platform configuration, relative to --root (default: {DEFAULT_CONFIG})")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("build", help="render and write every generated file").set_defaults(
        run=build, needs_config=True)
    commands.add_parser("validate", help="re-render in memory and check the committed bundle").set_defaults(
        run=validate, needs_config=True)
    bench.add_bench_parser(commands)
    live.add_simulate_parser(commands)
    live.add_demo_parser(commands)
    publish.add_publish_parser(commands)
    return parser


def build(root: Path, config: PlatformConfig, _args: argparse.Namespace | None = None) -> int:
    checked = check_bundle(root, config, against_disk=False)
    if checked.findings:
        return report_failure(checked.findings, "build refused: nothing was written")
    write_roots(root, GENERATED_ROOTS, checked.rendered.files)
    for rel in checked.rendered.files:
        out.print(f"  wrote {rel}")
    out.print(f"[green]build ok[/]: {len(checked.rendered.files)} files in {', '.join(GENERATED_ROOTS)}/")
    return 0


def validate(root: Path, config: PlatformConfig, _args: argparse.Namespace | None = None) -> int:
    checked = check_bundle(root, config, against_disk=True)
    if checked.findings:
        return report_failure(checked.findings, "validate failed")
    rendered = checked.rendered
    out.print(f"[green]validate ok[/]: {len(rendered.files)} generated files fresh; "
              f"{len(rendered.dashboards)} dashboards, {query_count(rendered)} queries checked; "
              f"kustomize renders {', '.join(checked.overlays)} valid for Kubernetes "
              f"{' and '.join(kube_checks.KUBERNETES_VERSIONS)}; {compose_checks.COMPOSE_FILE} valid")
    return 0


def report_failure(findings: list[Finding], headline: str) -> int:
    err.print(f"[bold red]{headline}[/]: {len(findings)} problem(s)")
    for finding in findings:
        err.print(f"  {finding}", markup=False, soft_wrap=True)
    return EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
