"""`agentmon bench`: build + validate wall time and peak memory at several tenant counts.

Each measurement runs the real command in a fresh process over a scratch copy of the repository holding
N synthetic tenants, so numbers include interpreter start-up, kustomize and every check, as a user sees them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

HAND_WRITTEN = ("config", "base", "overlays", "components", "compose")
TARGET_TENANTS, TARGET_SECONDS = 500, 60.0
out = Console(highlight=False)


def add_bench_parser(commands: Any) -> None:
    p = commands.add_parser("bench", help="time build + validate at several tenant counts")
    p.add_argument("--tenants", default="1,50,500", help="comma-separated tenant counts (default 1,50,500)")
    p.set_defaults(run=bench)


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mib: float


@dataclass(frozen=True)
class Measurement:
    tenants: int
    build: Run
    validate: Run

    @property
    def total(self) -> float:
        return self.build.seconds + self.validate.seconds


def timed(command: list[str]) -> Run:
    """Wall time and peak resident memory of one child process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command[3:])} failed: {process.stderr.read().decode()[-2000:]}")
    process.stderr.close()
    return Run(elapsed, usage.ru_maxrss / 1024)  # ru_maxrss is in KiB on Linux


def scratch_repo(repo: Path, target: Path, tenants: int) -> None:
    for name in HAND_WRITTEN:
        shutil.copytree(repo / name, target / name, ignore=shutil.ignore_patterns("generated"))
    for i in range(tenants):
        tenant = target / "tenants" / f"tenant-{i:04d}"
        tenant.mkdir(parents=True)
        (tenant / "tenant.yaml").write_text(
            f"tenant_id: tenant-{i:04d}\ndisplay_name: Tenant {i}\nsuccess_rate_slo: 99\n")


def measure(repo: Path, tenants: int) -> Measurement:
    with tempfile.TemporaryDirectory(prefix=f"agentmon-bench-{tenants}-") as scratch:
        scratch_repo(repo, Path(scratch), tenants)
        command = [sys.executable, "-m", "agentmon_cli", "--root", scratch]
        return Measurement(tenants, timed([*command, "build"]), timed([*command, "validate"]))


def bench(args: argparse.Namespace) -> int:
    counts = sorted({int(n) for n in args.tenants.split(",")})
    results = []
    for count in counts:
        with out.status(f"building and validating with {count} tenants"):
            results.append(measure(args.root, count))
        r = results[-1]
        out.print(f"  {count} tenants: build {r.build.seconds:.1f} s, validate {r.validate.seconds:.1f} s")
    out.print(table(results))
    over = [r for r in results if r.tenants >= TARGET_TENANTS and r.total > TARGET_SECONDS]
    if over:
        out.print(f"[red]over budget[/]: {TARGET_TENANTS} tenants must build and validate in {TARGET_SECONDS:.0f} s")
        return 1
    return 0


def table(results: list[Measurement]) -> Table:
    t = Table(title=f"agentmon bench ({os.cpu_count()} cores); target: {TARGET_TENANTS} tenants "
                    f"in under {TARGET_SECONDS:.0f} s")
    for column in ("tenants", "build s", "validate s", "total s", "ms / tenant", "peak MiB build",
                   "peak MiB validate"):
        t.add_column(column, justify="right")
    for r in results:
        t.add_row(str(r.tenants), f"{r.build.seconds:.1f}", f"{r.validate.seconds:.1f}", f"{r.total:.1f}",
                  f"{1000 * r.total / r.tenants:.0f}", f"{r.build.peak_mib:.0f}", f"{r.validate.peak_mib:.0f}")
    return t
