"""`agentmon report`: the monthly SLO report per tenant and the fleet summary (agentmon_live.report)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from agentmon_config import PlatformConfig
from agentmon_live.demo import Traffic
from agentmon_live.report import DEFAULT_OUTPUT, DEFAULT_PROMETHEUS

out = Console(highlight=False)

DESCRIPTION = """For one calendar month (UTC) and each configured tenant (or those named with --tenant): the success
ratio against the tenant's SLO, the error budget used, requests and failed requests, the share of requests within
the latency SLA, the three worst incident windows, and a chart of the daily success ratio and budget burn. Written
as <out>/<month>/<tenant>.md with <tenant>-daily.png, and fleet.md: every tenant, most budget used first.
Counts are exact: the raw counter samples of the month, not increase() (docs/operations/slos-and-reports.md)."""


def add_report_parser(commands: Any, traffic_options: Callable[[argparse.ArgumentParser], None]
                      ) -> argparse.ArgumentParser:
    p = commands.add_parser("report", help="monthly SLO report per tenant and a fleet summary, from Prometheus",
                            description=DESCRIPTION, add_help=False)
    p.add_argument("--month", metavar="YYYY-MM",
                   help="calendar month in UTC, e.g. 2026-11 (default: the last full month before now)")
    p.add_argument("--tenant", action="append", default=[], metavar="ID",
                   help="a tenant to report on, repeatable (default: every tenant of tenants/)")
    p.add_argument("--prometheus", metavar="URL",
                   help=f"the Prometheus holding the platform's metrics (default {DEFAULT_PROMETHEUS}: the compose "
                        "stack's)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUTPUT, metavar="DIR",
                   help=f"folder for <month>/ (default: {DEFAULT_OUTPUT}, under --root); an earlier report of the "
                        "month is replaced")
    p.add_argument("--simulate", action="store_true",
                   help="no Prometheus: the simulator's traffic over the whole month (options below; @Ns counts from "
                        "the month's start) in a local Prometheus (needs promtool), for a sample report")
    traffic_options(p)
    return p


def run(root: Path, config: PlatformConfig, args: argparse.Namespace, traffic: Callable[[], Traffic]) -> int:
    from agentmon_live.report import command  # here: only this command loads matplotlib
    from agentmon_live.report.figures import Month

    if args.simulate and args.prometheus:
        raise ValueError("--prometheus and --simulate exclude each other: numbers come from one place")
    month = Month.parse(args.month) if args.month else Month.before(datetime.now(UTC))
    request = command.Request(config=config, month=month, tenants=tuple(args.tenant),
                              prometheus=args.prometheus or DEFAULT_PROMETHEUS, output=args.out,
                              simulate=traffic() if args.simulate else None)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=out, transient=True) as progress:
        task = progress.add_task(f"report {month}: starting", total=None)
        folder = command.report(root, request,
                                on_query=lambda done, total: progress.update(task, completed=done, total=total),
                                on_step=lambda text: progress.update(task, description=f"report {month}: {text}"))
    shown = folder.relative_to(root) if folder.is_relative_to(root) else folder
    for path in sorted(folder.iterdir()):
        out.print(f"  wrote {shown / path.name}")
    out.print(f"[green]report ok[/]: {month}, {len(request.tenants) or len(config.tenants)} tenant(s) in {shown}/ "
              f"(fleet summary: {shown / command.FLEET_PAGE})")
    return 0
