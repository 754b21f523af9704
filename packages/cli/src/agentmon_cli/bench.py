"""`agentmon bench`: build + validate wall time and peak memory at several tenant counts.

Each run is the real command in a fresh process over a fresh scratch copy of the repository holding N synthetic
tenants, so numbers include interpreter start-up, kustomize and every check, as a user sees them. Each count
runs --repeat times; the median is reported with the fastest and slowest run, because a shared machine's
single runs vary widely. The figures, with the machine and the date, go to a Markdown file the docs quote.

--distinct gives every synthetic tenant its own SLO, latency SLA, queue threshold and contact (the case that makes
rules and routing grow, issue 25) and adds the budgets of that case: build + validate, peak memory of the command
with every process it starts, and the largest generated file and rendered Kubernetes object, each named.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.measure import Measurement as RichMeasurement
from rich.table import Table
from rich.text import Text

from agentmon_bundle.outputs import GENERATED_ROOTS
from agentmon_checks.kustomize import render_overlays
from agentmon_config.contract import LATENCY_BUCKETS_SECONDS
from agentmon_live.owned import die_with_parent, scratch_dir

HAND_WRITTEN = ("config", "base", "overlays", "components", "compose")
TARGET_TENANTS, TARGET_SECONDS = 500, 60.0
DOCS_OUTPUT = Path("docs/bench/build-validate.md")
DISTINCT_DOCS_OUTPUT = Path("docs/bench/distinct-limits.md")
# Budgets of the --distinct case (issue 25), at every count it measures.
DISTINCT_SECONDS, DISTINCT_PEAK_MIB, MAX_OBJECT_BYTES = 60.0, 1024.0, 250_000
# Figures go to build/ (ignored by git) unless --write-docs: a run on a busy laptop must not rewrite the
# figures the docs quote, measured on a quiet machine.
BUILD_OUTPUT = Path("build/bench")
COLUMNS = ("tenants", "build s", "validate s", "total s", "ms / tenant", "peak MiB build", "peak MiB validate",
           "validate, no cache s")
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def add_bench_parser(commands: Any) -> None:
    p = commands.add_parser("bench", help="time build + validate at several tenant counts")
    p.add_argument("--tenants", type=_counts, default="1,50,500",
                   help="comma-separated tenant counts (default 1,50,500)")
    p.add_argument("--repeat", type=_positive, default=3,
                   help="runs per tenant count; the median is reported, with min and max (default 3)")
    p.add_argument("--distinct", action="store_true",
                   help="every tenant with its own SLO, SLA, queue threshold and contact; adds the size and memory "
                        f"budgets (figures: {DISTINCT_DOCS_OUTPUT} with --write-docs)")
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
    peak_mib: float  # the command and every process it started (kustomize, promtool), summed, at its peak


@dataclass(frozen=True)
class Largest:
    """The largest generated file and rendered Kubernetes object (bytes as the validate check counts them)."""

    file: tuple[str, int]
    kubernetes_object: tuple[str, int]


@dataclass(frozen=True)
class Measurement:
    """Every run at one tenant count: runs[i] is (build, validate, validate without the render cache) of
    repetition i."""

    tenants: int
    runs: tuple[tuple[Run, Run, Run], ...]
    largest: Largest | None = None  # --distinct: of the last run

    def seconds(self, pick: Callable[[tuple[Run, Run, Run]], float]) -> Spread:
        return Spread.of([pick(run) for run in self.runs])

    @property
    def build(self) -> Spread:
        return self.seconds(lambda r: r[0].seconds)

    @property
    def validate(self) -> Spread:
        return self.seconds(lambda r: r[1].seconds)

    @property
    def cold_validate(self) -> Spread:
        return self.seconds(lambda r: r[2].seconds)

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


def timed(command: list[str], env: dict[str, str] | None = None) -> Run:
    """Wall time and peak resident memory of one child process and its descendants. What earlier steps wrote (the
    scratch project, the last command's files) is flushed to disk first: on a 2-core machine the kernel's
    write-back of thousands of files otherwise runs during the next measurement, on its cores."""
    os.sync()
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                               preexec_fn=die_with_parent())
    sampler = TreeMemory(process.pid)
    sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    sampler.stop()
    if os.waitstatus_to_exitcode(status) != 0:
        raise BenchFailed(f"{' '.join(command[3:])} failed: {process.stderr.read().decode()[-2000:]}")
    process.stderr.close()
    # ru_maxrss (KiB on Linux) is the largest single process: the floor when /proc cannot be read
    return Run(elapsed, max(usage.ru_maxrss / 1024, sampler.peak_bytes / 2**20))


class TreeMemory(threading.Thread):
    """Samples the summed resident memory of a process and its descendants (kustomize runs side by side) every
    SAMPLE_SECONDS, from /proc; keeps the peak."""

    SAMPLE_SECONDS = 0.1

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root, self.peak_bytes, self._done = root, 0, threading.Event()

    def run(self) -> None:
        while not self._done.wait(self.SAMPLE_SECONDS):
            self.peak_bytes = max(self.peak_bytes, tree_rss_bytes(self.root))

    def stop(self) -> None:
        self._done.set()
        self.join()


def tree_rss_bytes(root: int) -> int:
    parents, rss = {}, {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            resident = int(Path(entry.path, "statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        pid = int(entry.name)
        parents[pid] = int(stat.rsplit(")", 1)[1].split()[1])  # the name in brackets may hold spaces
        rss[pid] = resident * page
    tree, frontier = set(), {root}
    while frontier:
        tree |= frontier
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - tree
    return sum(rss.get(pid, 0) for pid in tree)


def scratch_repo(repo: Path, target: Path, tenants: int, distinct: bool = False) -> None:
    for name in HAND_WRITTEN:
        shutil.copytree(repo / name, target / name, ignore=shutil.ignore_patterns("generated"))
    for i in range(tenants):
        tenant = target / "tenants" / f"tenant-{i:04d}"
        tenant.mkdir(parents=True)
        limits = "".join(f"{k}: {v}\n" for k, v in distinct_limits(i).items()) if distinct else "success_rate_slo: 99\n"
        (tenant / "tenant.yaml").write_text(f"tenant_id: tenant-{i:04d}\ndisplay_name: Tenant {i}\n{limits}")


def distinct_limits(i: int) -> dict[str, object]:
    """Tenant i's own limits, all valid and none shared with another tenant but the SLA (one of the 12 bucket
    bounds of the contract): SLO 95 % + i x 0.002 (95.000 to 98.998 at 2,000), queue threshold 10 + i, a contact
    of its own."""
    return {"success_rate_slo": round(95 + i * 0.002, 3),
            "p95_latency_sla_seconds": LATENCY_BUCKETS_SECONDS[i % len(LATENCY_BUCKETS_SECONDS)],
            "queue_alert_threshold": 10 + i, "owner_contact": f"tenant-{i:04d}-oncall@example.com"}


def measure_once(repo: Path, tenants: int, distinct: bool = False) -> tuple[tuple[Run, Run, Run], Largest | None]:
    """One build, then one validate, as `nox -s build validate` runs them: the build starts with an empty render
    cache of its own (agentmon_checks.kustomize.RenderCache) and validate reads what the build rendered; then a
    validate without the cache, as on a fresh clone. With distinct, the largest file and object too."""
    with scratch_dir(f"bench-{tenants}") as scratch, scratch_dir("bench-cache") as cache:
        scratch_repo(repo, Path(scratch), tenants, distinct)
        command = [sys.executable, "-m", "agentmon_cli", "--root", scratch]
        env = {**os.environ, "AGENTMON_CACHE_DIR": cache}
        runs = (timed([*command, "build"], env), timed([*command, "validate"], env),
                timed([*command, "validate"], {**env, "AGENTMON_NO_CACHE": "1"}))
        return runs, largest(Path(scratch)) if distinct else None


# Generated files that no object carries whole, so the object budget does not apply: compose loads alertmanager.yml
# as one file, Kubernetes gets it in parts of at most 200,000 bytes (docs/operations/alerts.md).
WHOLE_FILES = frozenset({"alertmanager/alertmanager.yml"})


def largest(root: Path) -> Largest:
    """The largest generated file, and the largest object of every overlay (and overlay + component) as kustomize
    renders it, measured as the validate check measures it (compact JSON)."""
    generated = {str(path.relative_to(root)): path.read_bytes() for name in GENERATED_ROOTS
                 for path in sorted((root / name).rglob("*")) if path.is_file()}
    file = max(((k, v) for k, v in generated.items() if k not in WHOLE_FILES), key=lambda item: len(item[1]))
    objects = ((f"{overlay.name}: {obj['kind']}/{obj['metadata']['name']}",
                len(json.dumps(obj, separators=(",", ":")).encode()))
               for overlay in render_overlays(root, generated) for obj in overlay.objects)
    return Largest((file[0], len(file[1])), max(objects, key=lambda item: item[1]))


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


def method(repeat: int, distinct: bool = False) -> str:
    tenants = ("N synthetic tenants, each with its own SLO, latency SLA (one of the 12 bucket bounds), queue threshold "
               "and contact" if distinct else "N synthetic tenants")
    return (f"each run is a fresh `agentmon build` process, then a fresh `agentmon validate` process, over a fresh "
            f"scratch copy of the hand-written files plus {tenants}; the build starts with an empty kustomize render "
            f"cache and validate reads the renders of the same files from it, as in `nox -s build validate`; the last "
            f"column is a third process, validate with AGENTMON_NO_CACHE=1, as on a fresh clone (wall time includes "
            f"interpreter start-up, kustomize and every check; what earlier steps wrote is flushed to disk before "
            f"each command starts); {repeat} runs per tenant count: median, with the fastest and "
            f"slowest run in brackets; peak memory is the largest of any run, summed over the command and every "
            f"process it starts (kustomize, promtool, amtool), sampled every {TreeMemory.SAMPLE_SECONDS} s")


def bench(args: argparse.Namespace) -> int:
    counts = args.tenants
    if args.distinct:  # its own figures file: the docs quote both cases
        args.default_output = BUILD_OUTPUT / DISTINCT_DOCS_OUTPUT.name
        args.output = DISTINCT_DOCS_OUTPUT if args.output == DOCS_OUTPUT else args.output
    relative = figures_file(args)
    started = datetime.datetime.now(datetime.UTC)
    load = load_average()
    out.print(f"agentmon bench on {machine()}; load average {load:.1f} at start; "
              f"{started:%Y-%m-%d %H:%M} UTC", markup=False, soft_wrap=True)
    out.print(f"method: {method(args.repeat, args.distinct)}", markup=False, soft_wrap=True)
    try:
        results = [_measure(args.root, count, args.repeat, args.distinct) for count in counts]
    except BenchFailed as exc:
        err.print(Text.assemble(("bench failed", "bold red"), f": {exc}"), soft_wrap=True)
        return 1
    load_after = load_average()
    print_whole(out, table(results, args.distinct))
    for line in largest_lines(results):
        out.print(line, markup=False, soft_wrap=True)
    out.print(f"load average {load:.1f} at start, {load_after:.1f} at the end", markup=False)
    (args.root / relative).write_text(markdown(results, args, started, (load, load_after)))
    out.print(f"figures written to {relative}", markup=False)
    over = over_budget(results, args.distinct)
    for problem in over:
        out.print(Text.assemble(("over budget", "red"), f": {problem}"), soft_wrap=True)
    return 1 if over else 0


def over_budget(results: list[Measurement], distinct: bool) -> list[str]:
    if not distinct:
        slow = any(r.tenants >= TARGET_TENANTS and r.total.median > TARGET_SECONDS for r in results)
        return [f"{TARGET_TENANTS} tenants must build and validate in {TARGET_SECONDS:.0f} s (median)"] if slow else []
    problems = []
    for r in results:
        if r.total.median > DISTINCT_SECONDS:
            problems.append(f"{r.tenants} tenants: build + validate {r.total.median:.1f} s, budget "
                            f"{DISTINCT_SECONDS:.0f} s (median)")
        if max(r.peak_mib(0), r.peak_mib(1), r.peak_mib(2)) > DISTINCT_PEAK_MIB:
            problems.append(f"{r.tenants} tenants: peak memory {max(r.peak_mib(i) for i in range(3)):.0f} MiB, budget "
                            f"{DISTINCT_PEAK_MIB:.0f} MiB")
        for what, (name, size) in (("generated file", r.largest.file), ("object", r.largest.kubernetes_object)):
            if size > MAX_OBJECT_BYTES:
                problems.append(f"{r.tenants} tenants: {what} {name} is {size:,} bytes, budget {MAX_OBJECT_BYTES:,}")
    return problems


def largest_lines(results: list[Measurement]) -> list[str]:
    return [f"{r.tenants} tenants: largest generated file (but alertmanager.yml, which compose loads whole and "
            f"Kubernetes in parts) {r.largest.file[0]} ({r.largest.file[1]:,} bytes), largest rendered object"
            f" {r.largest.kubernetes_object[0]} ({r.largest.kubernetes_object[1]:,} bytes)"
            for r in results if r.largest]


def _measure(repo: Path, count: int, repeat: int, distinct: bool = False) -> Measurement:
    runs, largest_seen = [], None
    for i in range(repeat):
        with out.status(f"building and validating with {count} tenants (run {i + 1} of {repeat})"):
            run, largest_seen = measure_once(repo, count, distinct)
            runs.append(run)
        build, validate, cold = runs[-1]
        out.print(f"  {count} tenants, run {i + 1}: build {build.seconds:.1f} s, validate {validate.seconds:.1f} s, "
                  f"validate without the render cache {cold.seconds:.1f} s")
    return Measurement(count, tuple(runs), largest_seen)


def rows(results: list[Measurement]) -> list[tuple[str, ...]]:
    return [(str(r.tenants), str(r.build), str(r.validate), str(r.total), f"{1000 * r.total.median / r.tenants:.0f}",
             f"{r.peak_mib(0):.0f}", f"{r.peak_mib(1):.0f}", str(r.cold_validate)) for r in results]


def table(results: list[Measurement], distinct: bool = False) -> Table:
    repeat = len(results[0].runs) if results else 0
    t = Table(title=f"agentmon bench{' --distinct' if distinct else ''} ({os.cpu_count()} cores, median of {repeat} "
                    f"runs); target: {target(distinct)}")
    for column in COLUMNS:
        t.add_column(column, justify="right")
    for row in rows(results):
        t.add_row(*row)
    return t


def markdown(results: list[Measurement], args: argparse.Namespace, started: datetime.datetime,
             load: tuple[float, float]) -> str:
    counts = ",".join(str(r.tenants) for r in results)
    flag = " --distinct" if args.distinct else ""
    lines = [
        "# Build + validate benchmark" + (": every tenant with its own limits and contact" if args.distinct else ""),
        "",
        f"Written by `agentmon bench{flag} --tenants {counts} --repeat {args.repeat}` on {started:%Y-%m-%d %H:%M} UTC.",
        "",
        f"- machine: {machine()}; load average {load[0]:.1f} at start, {load[1]:.1f} at the end",
        f"- method: {method(args.repeat, args.distinct)}",
        f"- target: {target(args.distinct)}",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
        *("| " + " | ".join(row) + " |" for row in rows(results)),
        "",
        *(f"- {line}" for line in largest_lines(results)),
        *(["", "Over budget:", *(f"- {problem}" for problem in over_budget(results, args.distinct))]
          if over_budget(results, args.distinct) else []),
        "",
    ]
    return "\n".join(lines)


def target(distinct: bool) -> str:
    if distinct:
        return (f"at every count, build + validate under {DISTINCT_SECONDS:.0f} s (median total), peak memory under "
                f"{DISTINCT_PEAK_MIB:.0f} MiB, no generated file or rendered object over {MAX_OBJECT_BYTES:,} bytes")
    return f"{TARGET_TENANTS} tenants build and validate in under {TARGET_SECONDS:.0f} s (median total)"
