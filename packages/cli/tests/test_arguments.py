"""Options that can never work are refused by the parser (exit 2), naming the allowed values, before anything is
started or written."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentmon_cli import main as cli

REPO = Path(__file__).resolve().parents[3]


def refused(capsys, *args: str) -> str:
    """The parser's one-line complaint; the command must exit 2 without running."""
    with pytest.raises(SystemExit) as exited:
        cli.main(["--root", str(REPO), *args])
    assert exited.value.code == 2
    return capsys.readouterr().err.splitlines()[-1]


@pytest.mark.parametrize("only, unknown", [("bogus", "'bogus'"), ("growth,bogus,sli", "'bogus'"),
                                           ("grow,scales", "'grow', 'scales'")])
def test_querybench_refuses_an_unknown_part_and_writes_no_report(tmp_path, capsys, only, unknown):
    report = tmp_path / "cost.md"
    line = refused(capsys, "querybench", "--only", only, "--output", str(report))
    assert line == (f"agentmon querybench: error: argument --only: {only!r}: unknown {unknown} (allowed, "
                    "comma-separated: growth, scale, rules, sli, slo)")
    assert not report.exists()


def test_querybench_refuses_an_empty_part_list(capsys):
    assert refused(capsys, "querybench", "--only", ",") == (
        "agentmon querybench: error: argument --only: ',': nothing named (allowed, comma-separated: growth, scale, "
        "rules, sli, slo)")


@pytest.mark.parametrize("option, value, expected", [
    ("--runs", "0", "'0': expected a whole number of at least 1"),
    ("--runs", "-3", "'-3': expected a whole number of at least 1"),
    ("--rules-seconds", "0", "'0': expected a number of seconds above 0"),
    ("--rules-seconds", "-1", "'-1': expected a number of seconds above 0"),
])
def test_querybench_refuses_zero_and_negative_counts_and_durations(capsys, option, value, expected):
    assert refused(capsys, "querybench", f"{option}={value}") == (
        f"agentmon querybench: error: argument {option}: {expected}")


@pytest.mark.parametrize("value", ["0s", "0", "-5m", "an hour"])
def test_preview_refuses_an_empty_or_negative_range(capsys, value):
    assert refused(capsys, "preview", f"--range={value}") == (
        f"agentmon preview: error: argument --range: {value!r}: expected a duration above 0 such as 15m, 1h, 6h "
        "or 7d")


@pytest.mark.parametrize("option, value, expected", [
    ("--refresh", "0", "'0': expected a number of seconds above 0"),
    ("--duration", "-1", "'-1': expected a number of seconds, 0 or more"),
    ("--scrape-interval", "0s", "'0s': expected a duration above 0 such as 5s, 500ms or 1m"),
])
def test_demo_refuses_zero_and_negative_durations(capsys, option, value, expected):
    assert refused(capsys, "demo", f"{option}={value}") == f"agentmon demo: error: argument {option}: {expected}"


@pytest.mark.parametrize("option, value, expected", [
    ("--repeat", "0", "must be a whole number of at least 1, not '0'"),
    ("--tenants", "0,50", "expected comma-separated whole numbers of at least 1, not '0,50'"),
])
def test_bench_refuses_zero_counts(capsys, option, value, expected):
    assert refused(capsys, "bench", f"{option}={value}") == f"agentmon bench: error: argument {option}: {expected}"


def test_the_help_summary_names_every_command(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert " ".join(capsys.readouterr().out.split()).count(
        "Commands: build, validate, bench, tenant, backfill, querybench, simulate, demo, publish, preview, "
        "report.") == 1


def test_the_demo_help_counts_no_panels(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "demo simulator + local prometheus: the main dashboard's panels in the terminal" in out
    assert "five" not in out
