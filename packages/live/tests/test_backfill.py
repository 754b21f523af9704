"""`agentmon backfill` against a real Prometheus that holds only raw history (conftest.raw_only): the blocks it
writes hold the recorded series with the values the raw history implies."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agentmon_live.prometheus import PrometheusServer, free_loopback_port

from .conftest import prerequisite

REPO = Path(__file__).resolve().parents[3]


def agentmon(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agentmon_cli", "--root", str(REPO), *args], capture_output=True,
                          text=True, timeout=600, env={**os.environ, "COLUMNS": "200", **(env or {})})


@pytest.mark.e2e
def test_backfill_writes_blocks_that_hold_the_recorded_series(incident_history, raw_only, tmp_path):
    end = incident_history.end
    result = agentmon("backfill", "--url", raw_only.url, "--start", str(end - 3600), "--end", str(end),
                      "--output-dir", str(tmp_path / "blocks"))
    assert result.returncode == 0, result.stderr
    blocks = sorted((tmp_path / "blocks").iterdir())
    assert blocks and f"backfill ok: {len(blocks)} blocks in {tmp_path / 'blocks'}/" in result.stdout
    assert "mv " in result.stdout and "restart Prometheus" in result.stdout
    data = tmp_path / "data"
    shutil.copytree(tmp_path / "blocks", data)
    config = tmp_path / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 15s\nscrape_configs: []\n")
    with PrometheusServer(config_file=config, storage=data) as server:
        # hooli queues 10 jobs, dormant none; dormant has a worker, hooli 3.
        by_tenant = {r["metric"]["tenant_id"]: float(r["value"][1])
                     for r in server.query("tenant_id:queue_depth:sum_avg", at=end)}
        assert by_tenant == {"__all__": 10, "dormant": 0, "hooli": 10}
        (workers,) = server.query('tenant_id:worker_active_count:sum_avg{tenant_id="__all__"}', at=end)
        assert float(workers["value"][1]) == 4


@pytest.mark.e2e
def test_backfill_from_an_unreachable_prometheus_fails_clearly(tmp_path):
    prerequisite("promtool")
    url = f"http://127.0.0.1:{free_loopback_port()}"
    result = agentmon("backfill", "--url", url, "--start", "1700000000", "--end", "1700003600",
                      "--output-dir", str(tmp_path / "blocks"))
    assert result.returncode == 1
    assert result.stderr.startswith("backfill failed: promtool tsdb create-blocks-from rules failed: ")
    assert "connection refused" in result.stderr
    assert "Traceback" not in result.stderr


def test_backfill_without_promtool_says_what_to_install(tmp_path):
    result = agentmon("backfill", "--url", "http://127.0.0.1:9", "--start", "1", "--end", "2", "--output-dir",
                      str(tmp_path), env={"PATH": str(tmp_path)})
    assert result.returncode == 3
    assert "`promtool` not found on PATH: install the Debian package `prometheus`" in " ".join(result.stderr.split())
