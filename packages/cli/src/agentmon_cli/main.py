"""`agentmon` command line: monitoring as code for the AI agents platform, one command per stage.

Exit status: 0 success, 1 validation failed, 2 bad configuration or usage, 3 missing prerequisite.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from agentmon_bundle import writer
from agentmon_bundle.outputs import GENERATED_ROOTS, render
from agentmon_bundle.pipeline import check_bundle, query_count
from agentmon_checks import compose, kubernetes
from agentmon_checks.findings import Finding
from agentmon_checks.kustomize import KustomizeError
from agentmon_cli import backfill, bench, buildreport, project, querybench, report, tenant, traffic
from agentmon_config import ConfigError, PlatformConfig, load_platform
from agentmon_live import demo as live
from agentmon_live.grafana import ALL
from agentmon_live.owned import sweep_scratch
from agentmon_live.prometheus import PrerequisiteMissing, PrometheusFailed
from agentmon_publish import publish

DEFAULT_CONFIG = project.DEFAULT_CONFIG
# simulate runs inside the project (its tenants and thresholds) or anywhere else (a container: defaults).
ROOTLESS_COMMANDS = ("simulate",)
TENANTS_DIR = Path("tenants")
EXIT_INVALID = 1
EXIT_CONFIG = 2
EXIT_PREREQUISITE = 3

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    sweep_scratch()  # temporary folders of agentmon commands that were killed (their owner process is gone)
    try:
        args.root = args.root or _project_root(args)
        if getattr(args, "needs_config", False):
            config = load_platform(args.root / (args.config or DEFAULT_CONFIG), tenants_dir(args.root))
            return args.run(args.root, config, args)
        return args.run(args)
    except ConfigError as exc:
        return fail("configuration error", exc, EXIT_CONFIG, separator="\n")
    except (ValueError, publish.BadRequest) as exc:  # bad option values (incident syntax, unknown tenant, ...)
        return fail("error", exc, EXIT_CONFIG)
    except publish.PublishError as exc:
        return fail("publish failed", exc, exc.exit_code)
    except KustomizeError as exc:
        return fail("kustomize failed", exc, EXIT_INVALID)
    except writer.WriteError as exc:
        return fail("error", exc, EXIT_INVALID)
    except PrerequisiteMissing as exc:
        return fail("missing prerequisite", exc, EXIT_PREREQUISITE)
    except PrometheusFailed as exc:
        return fail("prometheus failed", exc, EXIT_PREREQUISITE)


def tenants_dir(root: Path) -> Path:
    """tenants/; the loader refuses it when it is not a folder (read as "no tenants", a stray file would make build
    remove every tenant's dashboard, rules and route, and validate agree)."""
    return root / TENANTS_DIR


def _project_root(args: argparse.Namespace) -> Path:
    try:
        return project.find_root(Path.cwd(), args.config)
    except project.ProjectNotFound:
        if args.command in ROOTLESS_COMMANDS:
            return Path.cwd()
        raise


def fail(headline: str, detail: object, status: int, separator: str = ": ") -> int:
    """The headline in red, the detail literally: user values may hold brackets rich would read as markup."""
    err.print(Text.assemble((headline, "bold red"), separator, str(detail)), soft_wrap=True)
    return status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agentmon", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=None,
                        help="project root holding config/ and the generated folders (default: the nearest folder, "
                             "from the current one upwards, holding config/platform.yaml)")
    parser.add_argument("--config", type=Path, default=None,
                        help=f"platform configuration, relative to --root (default: {DEFAULT_CONFIG})")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("build", help="render and write every generated file").set_defaults(
        run=build, needs_config=True)
    commands.add_parser("validate", help="re-render in memory and check the committed bundle").set_defaults(
        run=validate, needs_config=True)
    bench.add_bench_parser(commands)
    tenant.add_tenant_parser(commands)
    backfill.add_backfill_parser(commands)
    querybench.add_querybench_parser(commands)
    _add_simulate_parser(commands)
    _add_demo_parser(commands)
    _add_publish_parser(commands)
    _add_preview_parser(commands)
    _add_report_parser(commands)
    # Listed from the parser itself, so a new command can never be missing from the summary.
    parser.description = f"{__doc__.splitlines()[0]} Commands: {', '.join(commands.choices)}."
    return parser


def _add_simulate_parser(commands: Any) -> None:
    p = commands.add_parser("simulate", help="serve the platform's metrics with simulated per-tenant traffic",
                            add_help=False)
    _traffic_options(p)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; 0.0.0.0 in a container)")
    p.add_argument("--port", type=traffic.port, default=8000, help="port for /metrics (default 8000, like the API)")
    p.set_defaults(run=traffic.run_or_help(p, lambda args: live.simulate(_traffic(args), args.host, args.port),
                                           DEFAULT_CONFIG, TENANTS_DIR))


def _add_demo_parser(commands: Any) -> None:
    summary = "simulator + local prometheus: the main dashboard's panels in the terminal"
    p = commands.add_parser("demo", help=summary, add_help=False,
                            description=f"{summary}, every panel of {live.MAIN_DASHBOARD}, coloured by its thresholds")
    _traffic_options(p)
    p.add_argument("--tenant", default=ALL, help="tenant(s) to show, comma-separated (default: all)")
    p.add_argument("--scrape-interval", type=traffic.scrape_interval, default="5s",
                   help="demo scrape interval (default 5s: numbers sooner)")
    p.add_argument("--refresh", type=traffic.positive_seconds, default=5.0,
                   help="seconds between refreshes (default 5)")
    p.add_argument("--duration", type=traffic.seconds_or_zero, default=0.0,
                   help="stop after this many seconds (0: until Ctrl-C)")
    p.add_argument("--once", action="store_true", help="print one snapshot once data has arrived, then exit")
    p.set_defaults(run=traffic.run_or_help(p, lambda args: live.demo(args.root, _traffic(args), live.Display(
        tenants=_names(args.tenant), scrape_interval=args.scrape_interval, refresh=args.refresh,
        duration=args.duration, once=args.once)), DEFAULT_CONFIG, TENANTS_DIR))


def _traffic_options(p: argparse.ArgumentParser) -> None:
    traffic.add_help_option(p)
    p.add_argument("--tenants", type=traffic.tenant_ids,
                   help=f"comma-separated tenant ids (default: the tenants of {TENANTS_DIR}/ under --root)")
    p.add_argument("--profile", type=Path, help="YAML traffic profile per tenant (overrides --tenants)")
    p.add_argument("--seed", type=int, default=42, help="random seed: same seed, same traffic")
    p.add_argument("--noise", type=traffic.noise, default=0.1,
                   help="relative randomness, 0 to 1 (default 0.1; 0: exact, steady traffic)")
    # Described with the configuration's thresholds once --root is known (traffic.run_or_help).
    p.add_argument("--incident", action="append", default=[], metavar="KIND:TENANT[@Ns][+Ms]",
                   help="scripted incident, repeatable")


def _names(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split(",") if t.strip())


def _traffic(args: argparse.Namespace) -> live.Traffic:
    """Healthy traffic inside the configuration's thresholds, for the tenants of tenants/ unless --tenants."""
    repository = traffic.repository(args.root, args.config, DEFAULT_CONFIG, TENANTS_DIR)
    tenants = args.tenants or repository.tenants
    if not tenants and not args.profile:
        raise ValueError(f"no tenants to simulate: {args.root / TENANTS_DIR} holds no tenant; "
                         "pass --tenants a,b or --profile FILE")
    return live.Traffic(tenants=tenants, limits=repository.limits, profile=args.profile, seed=args.seed,
                        noise=args.noise, incidents=tuple(args.incident))


PUBLISH_EXIT_STATUS = f"""exit status:
  0  published, or nothing changed, or the dry run's list was printed
  {publish.EXIT_REFUSED}  refused before contacting the target: validate or kustomize fails, or the source tree has \
uncommitted changes
  2  bad option (a --path that is absolute, has '..' or a dot-folder; an invalid --branch; an unknown --overlay)
  3  a prerequisite is missing (kubectl, for kustomize)
  {publish.EXIT_TARGET_FOLDER}  the target folder holds files publish did not write (see --replace-unowned), a \
symbolic link, or a file in place of a folder
  {publish.EXIT_PUSH_REFUSED}  the target refused the push (a hook, permissions, a checked-out branch): git's reason \
is printed
  {publish.EXIT_GIT_FAILED}  git failed or timed out: clone, fetch or commit (commit signing, for example)
  {publish.EXIT_RACE_LOST}  someone else pushed first on every one of {publish.MAX_ATTEMPTS} attempts"""


def _add_publish_parser(commands: Any) -> None:
    p = commands.add_parser("publish", help="commit the rendered overlay to a GitOps repository",
                            epilog=PUBLISH_EXIT_STATUS, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repo", dest="target", required=True, help="target git repository: URL or local path")
    p.add_argument("--branch", required=True, help="branch to commit to (created if missing)")
    p.add_argument("--path", required=True, help="folder inside the target repository for the manifests; publish "
                   f"owns it: it records the files it wrote there in {publish.RECORD}")
    p.add_argument("--overlay", default="prod", help="overlay to render (default: prod)")
    p.add_argument("--dry-run", action="store_true",
                   help="write nothing; print every file that would be added, changed or removed, and the "
                        "dashboards, panels, queries and resources that would change")
    p.add_argument("--allow-dirty", action="store_true", help="publish even if the source tree has changes")
    p.add_argument("--replace-unowned", action="store_true",
                   help="take the folder over: remove or replace files publish did not write (default: refuse)")
    p.add_argument("--timeout", type=traffic.positive_seconds, default=publish.DEFAULT_TIMEOUT,
                   help=f"seconds each git command may talk to the target (default {publish.DEFAULT_TIMEOUT:g})")
    p.set_defaults(needs_config=True, run=lambda root, config, args: publish.publish(root, config, publish.Request(
        target=args.target, branch=args.branch, path=args.path, overlay=args.overlay, dry_run=args.dry_run,
        allow_dirty=args.allow_dirty, replace_unowned=args.replace_unowned, timeout=args.timeout)))


def _add_preview_parser(commands: Any) -> None:
    p = commands.add_parser("preview", help="draw dashboards to PNG with real numbers (not Grafana screenshots)",
                            add_help=False)
    p.add_argument("--uid", action="append", default=[], help="dashboard uid, repeatable (default: every dashboard)")
    p.add_argument("--prometheus", metavar="URL", help="query this Prometheus (default: the simulator's traffic "
                   "backfilled over the whole range, see --backfill)")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--backfill", action="store_true", help="the default without --prometheus: simulate the "
                        "whole range at once into a local Prometheus (needs promtool), so the data fills the range; "
                        "same --seed and --time, same picture; @Ns counts from the range start")
    source.add_argument("--live", action="store_true", help="start the simulator and a local Prometheus, as "
                        "`agentmon demo` does, and wait for data: the range holds only the minutes since the start")
    _traffic_options(p)
    p.add_argument("--range", type=traffic.time_range, default="1h",
                   help="time range shown, ending at --time (default 1h)")
    p.add_argument("--tenant", default=ALL, help="tenant(s) selected on dashboards with a tenant variable "
                   "(default: all)")
    p.add_argument("--time", help="range end: RFC3339 (UTC when no offset) or unix seconds (default: now)")
    p.add_argument("--output", type=Path, default=Path("build/previews"),
                   help="folder for <uid>.png, or one .png file (default: build/previews, under --root)")
    p.add_argument("--against", metavar="REV", help="only dashboards whose JSON differs between git revision REV "
                   "and the work tree, before and after side by side")

    def run(args: argparse.Namespace) -> int:
        from agentmon_live.preview import command as preview  # here: only this command loads matplotlib

        root = args.root
        if args.live and args.prometheus:
            raise ValueError("--prometheus and --live exclude each other: numbers come from one place")
        config = load_platform(root / (args.config or DEFAULT_CONFIG), tenants_dir(root))
        # A live simulator holds seconds of data when the picture starts: by default the traffic is backfilled
        # over the whole range instead, so no panel is drawn over an empty hour.
        backfill = args.backfill or not (args.prometheus or args.live)
        written = preview.preview(root, preview.Request(
            traffic=_traffic(args), config=config, uids=tuple(args.uid),
            prometheus=args.prometheus, backfill=backfill, range_text=args.range, tenants=_names(args.tenant),
            time=args.time, output=args.output, against=args.against))
        for path in written:
            out.print(f"  wrote {path.relative_to(root) if path.is_relative_to(root) else path}")
        out.print(f"[green]preview ok[/]: {len(written)} picture(s)" if written else
                  f"preview: no dashboard differs from {args.against}; nothing written")
        return 0

    p.set_defaults(run=traffic.run_or_help(p, run, DEFAULT_CONFIG, TENANTS_DIR))


def _add_report_parser(commands: Any) -> None:
    p = report.add_report_parser(commands, _traffic_options)

    def run(args: argparse.Namespace) -> int:
        config = load_platform(args.root / (args.config or DEFAULT_CONFIG), tenants_dir(args.root))
        return report.run(args.root, config, args, lambda: _traffic(args))

    p.set_defaults(run=traffic.run_or_help(p, run, DEFAULT_CONFIG, TENANTS_DIR))


def build(root: Path, config: PlatformConfig, _args: argparse.Namespace | None = None) -> int:
    buildreport.recovered(writer.recover(root))
    writer.check_roots(root, GENERATED_ROOTS)
    rendered = render(config)
    # Staged beside the live folders first: kustomize renders the staged tree, and it is swapped in only when
    # every check passed (a refused build removes it).
    with writer.staged(root, GENERATED_ROOTS, rendered.files) as staging:
        checked = check_bundle(root, config, against_disk=False, rendered=rendered, tree=staging.tree)
        if checked.findings:
            return report_failure(checked.findings, "build refused: nothing was written")
        changes = staging.swap()
    buildreport.changes(changes, GENERATED_ROOTS)
    report_warnings(checked.warnings)
    return 0


def validate(root: Path, config: PlatformConfig, _args: argparse.Namespace | None = None) -> int:
    buildreport.recovered(writer.recover(root))
    writer.check_roots(root, GENERATED_ROOTS)
    checked = check_bundle(root, config, against_disk=True)
    if checked.findings:
        return report_failure(checked.findings, "validate failed")
    rendered = checked.rendered
    out.print(Text.assemble(("validate ok", "green"), f": {len(rendered.files)} generated files fresh; "
              f"{len(rendered.dashboards)} dashboards, {query_count(rendered)} queries checked; "
              f"kustomize renders {', '.join(checked.overlays)} valid for Kubernetes "
              f"{' and '.join(kubernetes.KUBERNETES_VERSIONS)}; {compose.COMPOSE_FILE} valid"))
    report_warnings(checked.warnings)
    return 0


def report_warnings(warnings: list[Finding]) -> None:
    for warning in warnings:
        err.print(Text.assemble(("warning", "yellow"), f": {warning}"), soft_wrap=True)


def report_failure(findings: list[Finding], headline: str) -> int:
    err.print(Text.assemble((headline, "bold red"), f": {len(findings)} problem(s)"))
    for finding in findings:
        err.print(f"  {finding}", markup=False, soft_wrap=True)
    return EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
