"""`agentmon demo` as a process: how it stops, and what it refuses before starting anything."""

from __future__ import annotations

import copy
import io
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from agentmon_live.demo import panel_values, render_table
from agentmon_live.grafana import ALL
from agentmon_live.panelrun import panel_by_title

from .conftest import SCRAPE_SECONDS, prerequisite

REPO = Path(__file__).resolve().parents[3]
MAIN = json.loads((REPO / "dashboards/agentmon-system-health.json").read_text())


def wait_for_line(process: subprocess.Popen[str], text: str, timeout: float) -> str:
    seen = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            seen += process.stdout.readline()
            if text in seen:
                return seen
    raise AssertionError(f"no {text!r} within {timeout} s; output so far: {seen!r}")


@pytest.mark.e2e
def test_sigterm_stops_the_demo_and_removes_its_temporary_folder(tmp_path):
    prerequisite("prometheus")
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp), "PYTHONUNBUFFERED": "1", "COLUMNS": "120"}
    process = subprocess.Popen([sys.executable, "-m", "agentmon_cli", "--root", str(REPO), "demo",
                                "--scrape-interval", "1s", "--refresh", "1"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        wait_for_line(process, "prometheus on http://127.0.0.1:", timeout=60)
        (work,) = temp.iterdir()  # the demo's folder: prometheus.yml, the TSDB, prometheus' log
        assert work.name.startswith("agentmon-demo-") and (work / "prometheus.yml").is_file()
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert stdout.splitlines()[-1] == "demo stopped"
    assert list(temp.iterdir()) == []


@pytest.mark.parametrize(("args", "message"), [
    (["--tenant", "zeta"], "error: --tenant zeta: not simulated (simulated: acme, globex)"),
    (["--tenant", ","], "error: --tenant: no tenant named (simulated: acme, globex)"),
])
def test_a_tenant_to_show_must_be_simulated(args, message):
    prerequisite("prometheus")
    result = subprocess.run([sys.executable, "-m", "agentmon_cli", "--root", str(REPO), "demo", *args],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == message


def test_a_repository_without_the_generated_dashboard_is_a_missing_prerequisite(tmp_path):
    prerequisite("prometheus")
    result = subprocess.run([sys.executable, "-m", "agentmon_cli", "--root", str(tmp_path), "demo", "--tenants",
                             "acme"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 3
    assert " ".join(result.stderr.split()) == (
        f"missing prerequisite: {tmp_path}/dashboards/agentmon-system-health.json not found: run `agentmon build` "
        "first; run from the repository root or pass --root")


def shown_rows(history, dashboard) -> list[str]:
    """The error table's lines as the demo prints them (all tenants selected)."""
    values = panel_values(history.server, dashboard, [ALL], f"{SCRAPE_SECONDS}s", history.end)
    console = Console(file=io.StringIO(), width=100, color_system=None)
    console.print(render_table(values, [ALL], 0))
    values_column = [line.split("│")[2].strip() for line in console.file.getvalue().splitlines()
                     if line.startswith("│")]
    return [cell for cell in values_column if ": " in cell]  # only the table's rows carry a label


@pytest.mark.e2e
@pytest.mark.parametrize(("sort", "rows"), [
    (None, ["globex: 20.00 %", "acme: 2.00 %", "initech: 0.00 %"]),  # as generated: Error Rate % descending
    ({"displayName": "Error Rate %", "desc": False}, ["initech: 0.00 %", "acme: 2.00 %", "globex: 20.00 %"]),
    ({"displayName": "Tenant", "desc": True}, ["initech: 0.00 %", "globex: 20.00 %", "acme: 2.00 %"]),
])
def test_demo_table_rows_follow_the_panels_sort_by(history, sort, rows):
    """The error rates of the end-to-end history (globex 20 %, acme 2 %, initech 0 %) in the order the panel's
    sortBy gives in Grafana, whatever it says: the demo does not order them itself."""
    dashboard = copy.deepcopy(MAIN)
    if sort:
        panel_by_title(dashboard, "Error Rate by Tenant")["options"]["sortBy"] = [sort]
    assert shown_rows(history, dashboard) == rows
