"""`agentmon backfill` against a real Prometheus that holds only raw history (conftest.raw_only): the blocks it
writes hold the recorded series with the values the raw history implies."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from agentmon_live.prometheus import PrometheusServer, free_loopback_port
from agentmon_live.rules import BackfillError, backfill, rule_levels

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


# The SLI over windows that end "now" (sli_history.end), written out from conftest's traffic: acme 10 req/s,
# 0.2 failing (its two instances summed); initech 1 req/s and no failure series; globex 4 req/s, 0.8 failing for
# the last 3 hours and 8 req/s, 0.4 failing before. Windows up to 2h hold globex's new traffic only; the 6h window
# half of each: (3 x 8 + 3 x 4) / 6 = 6 req/s, (3 x 0.4 + 3 x 0.8) / 6 = 0.6 failing, a ratio of 0.1; the platform
# 10 + 6 + 1 = 17 req/s, 0.2 + 0.6 = 0.8 failing. A rule reading a shorter window gives globex 4 (a longer one, 8).
NEW = {"acme": (10, 0.02), "globex": (4, 0.2), "initech": (1, 0), "__all__": (15, 1 / 15)}
SLI_NOW = {
    "5m": NEW, "30m": NEW, "1h": NEW, "2h": NEW,
    "6h": {"acme": (10, 0.02), "globex": (6, 0.1), "initech": (1, 0), "__all__": (17, 0.8 / 17)},
}
# The evaluations whose 75 s rate window straddles globex's change (at most 2 of the 6h window's 360 one-minute
# evaluations, plus one for where the split falls) read between 8 and 4 req/s: up to 3 x 4 / 360 req/s off.
STRADDLE = 3 * 4 / 360


@pytest.mark.e2e
@pytest.mark.parametrize("window", list(SLI_NOW))
def test_the_sli_rules_read_recorded_series_and_are_backfilled_in_passes(sli_history, window):
    """conftest's SLI history was backfilled with agentmon_live.rules.backfill: the SLI rates read the recorded
    request rates (pass 2), the ratios their rates (pass 3)."""
    for tenant, (requests, failed_share) in SLI_NOW[window].items():
        rate, ratio = _sli(sli_history, window, tenant)
        tolerance = STRADDLE if window == "6h" else 1e-9 * requests
        assert rate == pytest.approx(requests, abs=tolerance), tenant
        assert ratio == pytest.approx(failed_share, abs=tolerance / requests + 1e-12), tenant


@pytest.mark.e2e
@pytest.mark.parametrize("window", ["1d", "3d"])
def test_the_day_windows_read_the_hourly_rates_of_an_earlier_pass(sli_history, window):
    """The 1d and 3d rates sum the hourly rates (pass 2) at hourly steps (pass 3), their ratios read those (pass 4).
    The history holds 6 of those hours: the rates are partial, but a tenant whose failing share never changed
    keeps it exactly: acme 0.02, initech 0 (no failure series)."""
    for tenant, failed_share in {"acme": 0.02, "initech": 0}.items():
        _, ratio = _sli(sli_history, window, tenant)
        assert ratio == pytest.approx(failed_share, rel=1e-9, abs=1e-12), tenant


def _sli(history, window: str, tenant: str) -> tuple[float, float]:
    scope = f'{{tenant_id="{tenant}"}}'
    (rate,) = history.server.query(f"tenant_id:enhancement_requests:rate{window}{scope}", at=history.end)
    (ratio,) = history.server.query(f"tenant_id:enhancement_requests_errors:ratio_rate{window}{scope}", at=history.end)
    return float(rate["value"][1]), float(ratio["value"][1])


def _group(name: str, *rules: tuple[str, str]) -> dict:
    return {"name": name, "interval": "1m", "rules": [{"record": r, "expr": e} for r, e in rules]}


def test_rule_levels_split_the_rules_into_passes_in_their_groups():
    doc = {"groups": [
        _group("ratios", ("c", "a / b")),
        _group("raw", ("a", "sum(rate(x[5m]))"), ("b", "sum(rate(y[5m]))")),
        _group("mixed", ("d", "c * 2"), ("e", "sum(x)")),
    ]}
    assert rule_levels(doc) == [
        {"groups": [_group("raw", ("a", "sum(rate(x[5m]))"), ("b", "sum(rate(y[5m]))")),
                    _group("mixed", ("e", "sum(x)"))]},
        {"groups": [_group("ratios", ("c", "a / b"))]},
        {"groups": [_group("mixed", ("d", "c * 2"))]},
    ]


def test_the_generated_rules_take_five_passes():
    # What a Prometheus loading every recording-rule file records: the main file and the tenant shards' limits.
    files = [REPO / "rules/agentmon.rules.yml", *sorted((REPO / "rules").glob("agentmon.limits-*.rules.yml"))]
    doc = {"groups": [g for f in files for g in YAML(typ="safe").load(f.read_text())["groups"]]}
    passes = [sorted({r["record"].split(":")[-1] for g in p["groups"] for r in g["rules"]}) for p in rule_levels(doc)]
    assert passes == [
        ["count", "info", "sum_avg", "sum_rate"],
        # the limits read the info series; requests within the SLA read the bucket rates (both end in sum_rate)
        # (and the hourly rates of the requests and of the histogram's count, once an hour)
        ["jobs", "rate1h", "rate1h_hourly", "rate2h", "rate30m", "rate5m", "rate6h", "ratio", "seconds", "sum_rate"],
        # the 1-day and 3-day rates sum the 1h ones, the 30-day ones the hourly ones; the hourly rate within the SLA
        # reads the within-SLA rates
        ["rate1d", "rate1h_hourly", "rate30d", "rate3d", "ratio_rate1h", "ratio_rate2h", "ratio_rate30m",
         "ratio_rate5m", "ratio_rate6h"],
        # the 30-day success and remaining budget read the 30-day rates
        ["rate30d", "ratio", "ratio_rate1d", "ratio_rate30d", "ratio_rate3d"],
        # the burn rates over 1d and 3d read those ratios; the 30-day share within the SLA its 30-day rate
        ["ratio", "ratio_rate30d"],
    ]


def test_rules_that_read_each_other_are_refused_with_the_cycle():
    doc = {"groups": [_group("g", ("a", "b + 1"), ("b", "a + 1"))]}
    with pytest.raises(BackfillError) as info:
        rule_levels(doc)
    assert str(info.value) == "rules that read each other cannot be backfilled: a -> b -> a"


@pytest.mark.e2e
def test_a_failing_later_pass_leaves_no_blocks_behind(raw_only, incident_history, tmp_path):
    """Pass 1 succeeds, pass 2 fails (Prometheus refuses the regular expression): pass 1's blocks alone would
    look like a finished backfill, so none stay."""
    rules = tmp_path / "rules.yml"
    rules.write_text(json.dumps({"groups": [_group("g", ("a", "sum by (tenant_id) (queue_depth)"),
                                                   ("b", 'label_replace(a, "x", "$1", "tenant_id", "(")'))]}))
    end = incident_history.end
    with pytest.raises(BackfillError) as info:
        backfill(rules, raw_only.url, str(end - 3600), str(end), tmp_path / "blocks")
    assert str(info.value).startswith("promtool tsdb create-blocks-from rules failed: ")
    assert "(" in str(info.value)
    assert list((tmp_path / "blocks").iterdir()) == []
