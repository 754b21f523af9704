"""`agentmon` command line: build, validate, publish, simulate, demo, bench, backfill.

Exit status: 0 success, 1 validation failed, 2 bad configuration or usage, 3 missing prerequisite.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from agentmon_bundle.outputs import GENERATED_ROOTS
from agentmon_bundle.pipeline import check_bundle, query_count
from agentmon_bundle.writer import write_roots
from agentmon_checks import compose, kubernetes
from agentmon_checks.findings import Finding
from agentmon_cli import backfill, bench, querybench
from agentmon_config import ConfigError, PlatformConfig, load_platform
from agentmon_live import demo as live
from agentmon_live.grafana import ALL
from agentmon_live.prometheus import PrerequisiteMissing
from agentmon_publish import publish
from agentmon_simulator import INCIDENT_KINDS
from agentmon_simulator.model import DEFAULT_TENANTS

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
    backfill.add_backfill_parser(commands)
    querybench.add_querybench_parser(commands)
    _add_simulate_parser(commands)
    _add_demo_parser(commands)
    _add_publish_parser(commands)
    return parser


def _add_simulate_parser(commands: Any) -> None:
    p = commands.add_parser("simulate", help="serve the platform's metrics with simulated per-tenant traffic")
    _traffic_options(p)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; 0.0.0.0 in a container)")
    p.add_argument("--port", type=int, default=8000, help="port for /metrics (default 8000, like the API)")
    p.set_defaults(run=lambda args: live.simulate(_traffic(args), args.host, args.port))


def _add_demo_parser(commands: Any) -> None:
    p = commands.add_parser("demo", help="simulator + local prometheus: the five panels' values in the terminal")
    _traffic_options(p)
    p.add_argument("--tenant", default=ALL, help="tenant(s) to show, comma-separated (default: all)")
    p.add_argument("--scrape-interval", default="5s", help="demo scrape interval (default 5s: numbers sooner)")
    p.add_argument("--refresh", type=float, default=5.0, help="seconds between refreshes (default 5)")
    p.add_argument("--duration", type=float, default=0.0, help="stop after this many seconds (0: until Ctrl-C)")
    p.add_argument("--once", action="store_true", help="print one snapshot once data has arrived, then exit")
    p.set_defaults(run=lambda args: live.demo(args.root, _traffic(args), live.Display(
        tenants=_names(args.tenant), scrape_interval=args.scrape_interval, refresh=args.refresh,
        duration=args.duration, once=args.once)))


def _traffic_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tenants", default=",".join(DEFAULT_TENANTS), help="comma-separated tenant ids")
    p.add_argument("--profile", type=Path, help="YAML traffic profile per tenant (overrides --tenants)")
    p.add_argument("--seed", type=int, default=42, help="random seed: same seed, same traffic")
    p.add_argument("--noise", type=float, default=0.1, help="relative randomness (0: exact, steady traffic)")
    # argparse %-formats help texts: a literal percent sign must be doubled.
    kinds = "; ".join(f"{k}: {what}" for k, (what, _) in INCIDENT_KINDS.items()).replace("%", "%%")
    p.add_argument("--incident", action="append", default=[], metavar="KIND:TENANT[@Ns]",
                   help=f"scripted incident, repeatable. {kinds}")


def _names(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split(",") if t.strip())


def _traffic(args: argparse.Namespace) -> live.Traffic:
    return live.Traffic(tenants=_names(args.tenants), profile=args.profile, seed=args.seed, noise=args.noise,
                        incidents=tuple(args.incident))


def _add_publish_parser(commands: Any) -> None:
    p = commands.add_parser("publish", help="commit the rendered overlay to a GitOps repository")
    p.add_argument("--repo", dest="target", required=True, help="target git repository: URL or local path")
    p.add_argument("--branch", required=True, help="branch to commit to (created if missing)")
    p.add_argument("--path", required=True, help="folder inside the target repository for the manifests")
    p.add_argument("--overlay", default="prod", help="overlay to render (default: prod)")
    p.add_argument("--dry-run", action="store_true", help="write nothing; print what would change")
    p.add_argument("--allow-dirty", action="store_true", help="publish even if the source tree has changes")
    p.set_defaults(needs_config=True, run=lambda root, config, args: publish.publish(root, config, publish.Request(
        target=args.target, branch=args.branch, path=args.path, overlay=args.overlay, dry_run=args.dry_run,
        allow_dirty=args.allow_dirty)))


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
              f"{' and '.join(kubernetes.KUBERNETES_VERSIONS)}; {compose.COMPOSE_FILE} valid")
    return 0


def report_failure(findings: list[Finding], headline: str) -> int:
    err.print(f"[bold red]{headline}[/]: {len(findings)} problem(s)")
    for finding in findings:
        err.print(f"  {finding}", markup=False, soft_wrap=True)
    return EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
