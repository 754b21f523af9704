"""`agentmon bench`: build + validate wall time and peak memory at several tenant counts.

Each run is the real command in a fresh process over a fresh scratch copy of the repository holding N synthetic
tenants, so numbers include interpreter start-up, kustomize and every check, as a user sees them. Each count
runs --repeat times; the median is reported with the fastest and slowest run, because a shared machine's
single runs vary widely. The figures, with the machine and the date, go to a Markdown file the docs quote.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.measure import Measurement as RichMeasurement
from rich.table import Table
from rich.text import Text

from agentmon_live.owned import die_with_parent, scratch_dir

HAND_WRITTEN = ("config", "base", "overlays", "components", "compose")
TARGET_TENANTS, TARGET_SECONDS = 500, 60.0
DOCS_OUTPUT = Path("docs/bench/build-validate.md")
# Figures go to build/ (ignored by git) unless --write-docs: a run on a busy laptop must not rewrite the
# figures the docs quote, measured on a quiet machine.
BUILD_OUTPUT = Path("build/bench")
COLUMNS = ("tenants", "build s", "validate s", "total s", "ms / tenant", "peak MiB build", "peak MiB validate")
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def add_bench_parser(commands: Any) -> None:
    p = commands.add_parser("bench", help="time build + validate at several tenant counts")
    p.add_argument("--tenants", type=_counts, default="1,50,500",
                   help="comma-separated tenant counts (default 1,50,500)")
    p.add_argument("--repeat", type=_positive, default=3,
                   help="runs per tenant count; the median is reported, with min and max (default 3)")
    add_output_options(p, DOCS_OUTPUT)
    p.set_defaults(run=bench)


def add_output_options(p: argparse.ArgumentParser, docs: Path) -> None:
    """--output FILE or --write-docs (the docs' own figures file); neither: build/bench/<its name>."""
    where = p.add_mutually_exclusive_group()
    where.add_argument("--output", type=Path, default=None,
                       help=f"Markdown file for the figures, relative to --root (default {BUILD_OUTPUT / docs.name})")
    where.add_argument("--write-docs", dest="output", action="store_const", const=docs,
                       help=f"write the figures to {docs}, which the docs quote (run on a quiet machine)")
    p.set_defaults(default_output=BUILD_OUTPUT / docs.name)


def figures_file(args: argparse.Namespace) -> Path:
    """Where the figures go, relative to --root; its folder is created now, before minutes of measuring."""
    relative = args.output or args.default_output
    try:
        (args.root / relative).parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"--output {relative}: {exc.strerror}: {exc.filename}") from exc
    return relative


def load_average() -> float:
    """The 1-minute load average: figures measured under load are slower, and say so."""
    return os.getloadavg()[0]


def print_whole(console: Console, table: Table) -> None:
    """The table at its natural width, never cut: piped to a file or a CI log rich assumes 80 columns and would
    shorten cells to fit."""
    natural = RichMeasurement.get(console, console.options.update_width(10_000), table).maximum
    width = console.width
    console.width = max(natural, width)  # print() never renders wider than the console
    try:
        console.print(table, crop=False)
    finally:
        console.width = width


def _counts(text: str) -> list[int]:
    parts = [part.strip() for part in text.split(",")]
    if not all(part.isdigit() and int(part) >= 1 for part in parts):
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers of at least 1, not {text!r}")
    return sorted({int(part) for part in parts})


class BenchFailed(RuntimeError):
    pass


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return int(text)


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mib: float


@dataclass(frozen=True)
class Measurement:
    """Every run at one tenant count: runs[i] is (build, validate) of repetition i."""

    tenants: int
    runs: tuple[tuple[Run, Run], ...]

    def seconds(self, pick: Callable[[tuple[Run, Run]], float]) -> Spread:
        return Spread.of([pick(run) for run in self.runs])

    @property
    def build(self) -> Spread:
        return self.seconds(lambda r: r[0].seconds)

    @property
    def validate(self) -> Spread:
        return self.seconds(lambda r: r[1].seconds)

    @property
    def total(self) -> Spread:
        return self.seconds(lambda r: r[0].seconds + r[1].seconds)

    def peak_mib(self, step: int) -> float:
        return max(run[step].peak_mib for run in self.runs)


@dataclass(frozen=True)
class Spread:
    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        return cls(statistics.median(values), min(values), max(values))

    def __str__(self) -> str:
        return f"{self.median:.1f} ({self.low:.1f}-{self.high:.1f})" if self.high > self.low else f"{self.median:.1f}"


def timed(command: list[str]) -> Run:
    """Wall time and peak resident memory of one child process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               preexec_fn=die_with_parent())
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise BenchFailed(f"{' '.join(command[3:])} failed: {process.stderr.read().decode()[-2000:]}")
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


def measure_once(repo: Path, tenants: int) -> tuple[Run, Run]:
    with scratch_dir(f"bench-{tenants}") as scratch:
        scratch_repo(repo, Path(scratch), tenants)
        command = [sys.executable, "-m", "agentmon_cli", "--root", scratch]
        return timed([*command, "build"]), timed([*command, "validate"])


def machine() -> str:
    cpu = _cpu_model()
    return (f"{os.cpu_count()} CPU cores{f' ({cpu})' if cpu else ''}, {platform.system()} {platform.machine()}, "
            f"Python {platform.python_version()}")


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor()
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "")


def method(repeat: int) -> str:
    return (f"each run is a fresh `agentmon build` process, then a fresh `agentmon validate` process, over a fresh "
            f"scratch copy of the hand-written files plus N synthetic tenants (wall time includes interpreter "
            f"start-up, kustomize and every check); {repeat} runs per tenant count: median, with the fastest and "
            f"slowest run in brackets; peak memory is the largest resident set of any run")


def bench(args: argparse.Namespace) -> int:
    counts = args.tenants
    relative = figures_file(args)
    started = datetime.datetime.now(datetime.UTC)
    load = load_average()
    out.print(f"agentmon bench on {machine()}; load average {load:.1f} at start; "
              f"{started:%Y-%m-%d %H:%M} UTC", markup=False, soft_wrap=True)
    out.print(f"method: {method(args.repeat)}", markup=False, soft_wrap=True)
    try:
        results = [_measure(args.root, count, args.repeat) for count in counts]
    except BenchFailed as exc:
        err.print(Text.assemble(("bench failed", "bold red"), f": {exc}"), soft_wrap=True)
        return 1
    load_after = load_average()
    print_whole(out, table(results))
    out.print(f"load average {load:.1f} at start, {load_after:.1f} at the end", markup=False)
    (args.root / relative).write_text(markdown(results, args, started, (load, load_after)))
    out.print(f"figures written to {relative}", markup=False)
    over = [r for r in results if r.tenants >= TARGET_TENANTS and r.total.median > TARGET_SECONDS]
    if over:
        out.print(Text.assemble(("over budget", "red"), f": {TARGET_TENANTS} tenants must build and validate in "
                                f"{TARGET_SECONDS:.0f} s (median)"))
        return 1
    return 0


def _measure(repo: Path, count: int, repeat: int) -> Measurement:
    runs = []
    for i in range(repeat):
        with out.status(f"building and validating with {count} tenants (run {i + 1} of {repeat})"):
            runs.append(measure_once(repo, count))
        build, validate = runs[-1]
        out.print(f"  {count} tenants, run {i + 1}: build {build.seconds:.1f} s, validate {validate.seconds:.1f} s")
    return Measurement(count, tuple(runs))


def rows(results: list[Measurement]) -> list[tuple[str, ...]]:
    return [(str(r.tenants), str(r.build), str(r.validate), str(r.total), f"{1000 * r.total.median / r.tenants:.0f}",
             f"{r.peak_mib(0):.0f}", f"{r.peak_mib(1):.0f}") for r in results]


def table(results: list[Measurement]) -> Table:
    repeat = len(results[0].runs) if results else 0
    t = Table(title=f"agentmon bench ({os.cpu_count()} cores, median of {repeat} runs); target: {TARGET_TENANTS} "
                    f"tenants in under {TARGET_SECONDS:.0f} s")
    for column in COLUMNS:
        t.add_column(column, justify="right")
    for row in rows(results):
        t.add_row(*row)
    return t


def markdown(results: list[Measurement], args: argparse.Namespace, started: datetime.datetime,
             load: tuple[float, float]) -> str:
    counts = ",".join(str(r.tenants) for r in results)
    lines = [
        "# Build + validate benchmark",
        "",
        f"Written by `agentmon bench --tenants {counts} --repeat {args.repeat}` on {started:%Y-%m-%d %H:%M} UTC.",
        "",
        f"- machine: {machine()}; load average {load[0]:.1f} at start, {load[1]:.1f} at the end",
        f"- method: {method(args.repeat)}",
        f"- target: {TARGET_TENANTS} tenants build and validate in under {TARGET_SECONDS:.0f} s (median total)",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
        *("| " + " | ".join(row) + " |" for row in rows(results)),
        "",
    ]
    return "\n".join(lines)
