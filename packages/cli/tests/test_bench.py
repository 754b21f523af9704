"""`agentmon bench`: repeated runs, medians, and a figures file that says how and where it measured."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agentmon_cli import bench
from agentmon_cli import main as cli
from agentmon_testkit import edit_file

REPO = Path(__file__).resolve().parents[3]


def test_spread_is_the_median_with_the_fastest_and_slowest_run():
    assert str(bench.Spread.of([3.0, 9.5, 2.5])) == "3.0 (2.5-9.5)"
    assert str(bench.Spread.of([4.0, 4.0])) == "4.0"
    runs = ((bench.Run(1.0, 50), bench.Run(2.0, 60), bench.Run(5.0, 90)),
            (bench.Run(3.0, 70), bench.Run(1.0, 55), bench.Run(6.0, 65)),
            (bench.Run(2.0, 40), bench.Run(2.5, 80), bench.Run(4.0, 85)))
    measured = bench.Measurement(10, runs)
    assert (measured.build.median, measured.validate.median, measured.total.median) == (2.0, 2.0, 4.0)
    assert (measured.peak_mib(0), measured.peak_mib(1), measured.peak_mib(2)) == (70, 80, 90)
    assert bench.rows([measured]) == [("10", "2.0 (1.0-3.0)", "2.0 (1.0-2.5)", "4.0 (3.0-4.5)", "400", "70", "80",
                                       "5.0 (4.0-6.0)")]


def test_bench_repeats_each_count_and_writes_where_how_and_when_it_measured(bench_run):
    root, result = bench_run
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert f"agentmon bench on {os.cpu_count()} CPU cores" in out
    assert f"Python {platform.python_version()}" in out
    assert "method: each run is a fresh `agentmon build` process, then a fresh `agentmon validate` process" in out
    assert len(re.findall(r"\d tenants, run \d: build \d+\.\d s, validate \d+\.\d s, validate without the render "
                          r"cache \d+\.\d s", out)) == 2
    text = (root / "build/bench/build-validate.md").read_text()
    assert text.startswith("# Build + validate benchmark\n\nWritten by `agentmon bench --tenants 1 --repeat 2` on ")
    assert "2 runs per tenant count: median, with the fastest and slowest run in brackets" in text
    table = [line for line in text.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert [row.split(" | ")[0] for row in table] == ["| 1"]
    assert str(root.parent) not in text and "/tmp" not in text


def test_tenant_counts_are_measured_smallest_first_and_once_each():
    assert bench._counts("500, 1,50,1") == [1, 50, 500]


def test_repeat_must_be_at_least_one(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["bench", "--repeat", "0"])
    assert exit_.value.code == 2
    assert "--repeat: must be a whole number of at least 1, not '0'" in capsys.readouterr().err


@pytest.mark.parametrize("counts", [",", "0", "-5", "1,x"])
def test_tenant_counts_must_be_whole_numbers_of_at_least_one(counts, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--root", str(REPO), "bench", f"--tenants={counts}"])
    assert exit_.value.code == 2
    assert f"expected comma-separated whole numbers of at least 1, not {counts!r}" in capsys.readouterr().err


def test_a_failing_build_ends_the_bench_with_one_error(tmp_path, capsys):
    for name in bench.HAND_WRITTEN:
        shutil.copytree(REPO / name, tmp_path / name, ignore=shutil.ignore_patterns("generated"))
    config = tmp_path / "config/platform.yaml"
    edit_file(config, "  scrape_interval: 15s", "  scrape_interval: fifteen")
    assert cli.main(["--root", str(tmp_path), "bench", "--tenants", "1", "--repeat", "1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("bench failed: --root")
    assert "build failed: configuration error" in err
    assert not (tmp_path / "docs/bench/build-validate.md").exists()
    assert not (tmp_path / "build/bench/build-validate.md").exists()


def hand_written_copy(root: Path) -> Path:
    for name in bench.HAND_WRITTEN:
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("generated"))
    return root


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    """One `agentmon bench --tenants 1 --repeat 2` in a pipe (60 columns), without --output, over a copy of the
    hand-written files. Its runs are fresh build and validate processes (about 10 s a pair): the tests of its
    repeats, its output and where it writes read this one run (one xdist group: the root conftest.py)."""
    root = hand_written_copy(tmp_path_factory.mktemp("bench") / "repo")
    result = subprocess.run([sys.executable, "-m", "agentmon_cli", "--root", str(root), "bench", "--tenants", "1",
                             "--repeat", "2"], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "COLUMNS": "60"})
    return root, result


def test_bench_writes_to_build_unless_asked_for_the_docs_and_prints_the_whole_table_in_a_pipe(bench_run):
    root, result = bench_run
    docs = root / "docs/bench/build-validate.md"
    assert result.returncode == 0, result.stderr
    assert (root / "build/bench/build-validate.md").is_file() and not docs.exists()
    header = next(line for line in result.stdout.splitlines() if "peak MiB validate" in line)
    assert all(column in header for column in bench.COLUMNS) and "…" not in result.stdout
    assert re.search(r"load average \d+\.\d at start, \d+\.\d at the end", result.stdout)
    assert "figures written to build/bench/build-validate.md" in result.stdout


@pytest.mark.parametrize(("args", "output"), [
    ([], "build/bench/build-validate.md"), (["--write-docs"], "docs/bench/build-validate.md"),
    (["--output", "x/y.md"], "x/y.md")])
def test_where_the_bench_figures_go(tmp_path, args, output):
    parsed = cli._parser().parse_args(["--root", str(tmp_path), "bench", *args])
    parsed.root = tmp_path
    assert bench.figures_file(parsed) == Path(output)
    assert (tmp_path / output).parent.is_dir()


@pytest.mark.parametrize(("args", "output"), [
    ([], "build/bench/query-cost.md"), (["--write-docs"], "docs/operations/query-cost.md")])
def test_where_the_querybench_figures_go(tmp_path, args, output):
    parsed = cli._parser().parse_args(["--root", str(tmp_path), "querybench", *args])
    parsed.root = tmp_path
    assert bench.figures_file(parsed) == Path(output)


@pytest.mark.parametrize("command", ["bench", "querybench"])
def test_output_and_write_docs_exclude_each_other(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main([command, "--output", "a.md", "--write-docs"])
    assert exit_.value.code == 2
    assert "argument --write-docs: not allowed with argument --output" in capsys.readouterr().err
