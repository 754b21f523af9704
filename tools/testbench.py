"""`python tools/testbench.py` (`nox -s testbench`; test tooling, not part of the `agentmon` command): time the whole
test suite as `nox -s tests` runs it and write the figure with the machine and its load.

The suite's time depends on the machine and on what else runs on it, so the figure is written beside the cores, the
load average before and after and its mean sampled during the run (`os.getloadavg()`), the date and the slowest
tests (`--durations`). It goes to build/bench/tests.md, and to docs/bench/tests.md only with --write-docs. The
target (docs/testing.md): under 300 s on a quiet 2-core machine. Nothing here fails on time: a loaded machine
gives a slower figure, and the load beside it says so.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The tests session's own options (noxfile.TEST_WORKERS): the bench times what `nox -s tests` runs.
PYTEST = ("-n", "3", "--dist", "loadgroup", "-q", "-p", "no:cacheprovider", "--durations=15")
LOAD_SAMPLE_SECONDS = 5
TARGET_SECONDS = 300


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="testbench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--write-docs", action="store_true", help="write docs/bench/tests.md (else build/bench/)")
    parser.add_argument("pytest_args", nargs="*", help="more pytest options, e.g. a subset of test files")
    args, unknown = parser.parse_known_args(argv)  # pytest's own options pass through
    args.pytest_args += unknown
    command = [sys.executable, "-m", "pytest", *PYTEST, *args.pytest_args]
    loads, stop = [], threading.Event()
    sampler = threading.Thread(target=_sample_load, args=(loads, stop), daemon=True)
    before, started = os.getloadavg(), time.monotonic()
    sampler.start()
    returncode, stdout = _run_printing(command)
    seconds = time.monotonic() - started
    stop.set()
    after = os.getloadavg()
    summary = _summary(stdout)
    page = _page(command, seconds, before, after, loads, summary, stdout, args)
    target = ROOT / ("docs" if args.write_docs else "build") / "bench" / "tests.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page)
    print(f"\nsuite: {seconds:.1f} s wall, {summary}; load average {before[0]:.1f} before, {after[0]:.1f} after, "
          f"{_mean(loads):.1f} mean during the run, on {os.cpu_count()} cores; written to "
          f"{target.relative_to(ROOT)}")
    return returncode


def _run_printing(command: list[str]) -> tuple[int, str]:
    """Run pytest, printing its output as it comes (the suite takes minutes: its progress dots are the progress)."""
    lines = []
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # pytest writes to a pipe here: no block buffering
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          bufsize=1, env=env) as process:
        for line in process.stdout:
            sys.stdout.write(line)
            lines.append(line)
    return process.returncode, "".join(lines)


def _sample_load(loads: list[float], stop: threading.Event) -> None:
    while not stop.wait(LOAD_SAMPLE_SECONDS):
        loads.append(os.getloadavg()[0])


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else os.getloadavg()[0]


def _summary(stdout: str) -> str:
    """pytest's last line, e.g. `1055 passed, 2 skipped in 250.1s`, without its time."""
    lines = [line.strip("= ") for line in stdout.splitlines() if re.search(r"\d+ (passed|failed)", line)]
    return re.sub(r" in [\d.]+s.*", "", lines[-1]) if lines else "no pytest summary (see its output)"


def _slowest(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if re.match(r"^\d+\.\d+s (call|setup|teardown) ", line)]


def _page(command: list[str], seconds: float, before: tuple[float, ...], after: tuple[float, ...],
          loads: list[float], summary: str, stdout: str, args: argparse.Namespace) -> str:
    shown = " ".join(["pytest", *command[3:]])
    subset = args.pytest_args
    scope = f"the tests selected by `{' '.join(subset)}`" if subset else "the whole suite"
    rows = "\n".join(f"| {line.split()[0]} | {line.split()[1]} | `{line.split(maxsplit=2)[2]}` |"
                     for line in _slowest(stdout))
    return f"""# Test suite time

Written by `python tools/testbench.py{' --write-docs' if args.write_docs else ''}` (`nox -s testbench`) on \
{datetime.now(UTC):%Y-%m-%d %H:%M} UTC.

- what: {scope}, run as `nox -s tests` runs it: `{shown}`
- machine: {os.cpu_count()} CPU cores, {platform.system()} {platform.machine()}, Python {platform.python_version()}
- load average (1 min): {before[0]:.1f} before, {after[0]:.1f} after, {_mean(loads):.1f} mean over the run (sampled \
every {LOAD_SAMPLE_SECONDS} s); a load above the core count means other work shared the cores
- result: {summary}
- wall time: **{seconds:.1f} s** (target: under {TARGET_SECONDS} s on a quiet 2-core machine)

Slowest steps (pytest `--durations`; on several workers they overlap):

| seconds | step | test |
|---|---|---|
{rows}
"""


if __name__ == "__main__":
    raise SystemExit(main())
