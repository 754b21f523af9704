"""`agentmon querybench`: its parts run (a broken part went unnoticed until a bench run), and the SLI history
holds what the SLI group reads."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from agentmon_cli import main as cli
from agentmon_cli import querybench
from agentmon_config import load_platform
from agentmon_config.recorded import ALL_TENANTS
from agentmon_live.grafana import format_variable
from agentmon_testkit import prerequisite

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.e2e
def test_the_rules_part_times_every_generated_group_with_live_tenants_of_their_own_limits(tmp_path, capsys):
    """30 tenants (tenant-0000 to tenant-0029) each with its own limits: their limits groups are those of the
    shards crc32(id) mod 32 holds them in, beside the recording and alert groups. (Prometheus lists a group in its
    rule-group metrics from the moment it loads it: the part's first reading, one scrape interval (15 s) in, holds
    every group, so --rules-seconds 1 reads once instead of twice.)"""
    prerequisite("prometheus")
    prerequisite("promtool")
    figures = tmp_path / "cost.md"
    status = cli.main(["--root", str(REPO), "querybench", "--only", "rules", "--rules-seconds", "1",
                       "--rules-tenants", "30", "--output", str(figures)])
    rows = [line.split(" | ")[0].lstrip("| ") for line in figures.read_text().splitlines()
            if line.startswith("| agentmon-")]
    shards = sorted({f"agentmon-limits-{zlib.crc32(f'tenant-{i:04d}'.encode()) % 32:02d}" for i in range(30)})
    assert sorted(rows) == sorted([
        "agentmon-alerts-availability", "agentmon-alerts-capacity", "agentmon-alerts-health", "agentmon-alerts-slo",
        "agentmon-capacity", "agentmon-latency", "agentmon-limits", "agentmon-requests", "agentmon-sli",
        "agentmon-slo", "agentmon-slo-hourly", "agentmon-slo-period", *shards])
    assert status == 0, capsys.readouterr().out


def test_the_sli_history_holds_the_request_rates_and_the_hourly_sli_rates_every_minute(tmp_path):
    querybench.write_request_rates(tmp_path / "rates.om", ["a", "b"], 0, 120)
    lines = (tmp_path / "rates.om").read_text().splitlines()
    rates = [line for line in lines if line.startswith("tenant_id_status:enhancement_requests:sum_rate{")]
    # a (1 req/s) and b (2 req/s) and the aggregate (3 req/s), both outcomes, at 0, 60 and 120 s
    assert len(rates) == 3 * 2 * 3
    assert 'tenant_id_status:enhancement_requests:sum_rate{tenant_id="__all__",status="failure"} 0.06 120' in rates
    hourly = [line for line in lines if line.startswith("tenant_id:enhancement_requests:rate1h{")]
    assert hourly == [f'tenant_id:enhancement_requests:rate1h{{tenant_id="{t}"}} {v} {s}'
                      for t, v in (("a", 1), ("b", 2), ("__all__", 3)) for s in (0, 60, 120)]
    assert [line for line in lines if line.startswith("tenant_id:enhancement_requests:rate3d{")] == [
        f'tenant_id:enhancement_requests:rate3d{{tenant_id="{t}"}} {v} 120' for t, v in (("a", 1), ("b", 2),
                                                                                   ("__all__", 3))]
    assert lines[-1] == "# EOF"


@pytest.mark.e2e
def test_the_error_table_reads_only_the_selected_tenants_and_each_tenant_once_under_all(tmp_path):
    """6 tenants: a selection of 2 reads 2 tenants' series, All reads all 6 once (it read 2 + 6 before)."""
    promtool = prerequisite("promtool")
    prerequisite("prometheus")
    tenants = [f"t{n}" for n in range(6)]
    names = [ALL_TENANTS, *tenants]
    end = 7200
    querybench.write_recorded(tmp_path / "recorded.om", names, set(names), 0, 0, end)
    querybench._import(promtool, tmp_path / "recorded.om", tmp_path / "data")
    config = load_platform(REPO / "config/platform.yaml", REPO / "tenants")
    table = querybench.panel_queries(config)["Error Rate by Tenant"]
    one_series = (table[0], 'count_over_time(tenant_id_status:enhancement_requests:sum_rate'
                            '{tenant_id="t0",status="failure"}[$__rate_interval])')
    with querybench.history_server(tmp_path, tmp_path / "data") as server:
        def samples(query: tuple[bool, str], variable: str) -> int:
            return querybench.query_once(server, query, variable, 3600, end)

        per_series = samples(one_series, "")
        # Per tenant the ratio reads 5 series: failures once, and both outcomes twice (the `or 0 *` and the divisor).
        assert per_series > 0
        assert samples(table, format_variable(["t1", "t4"], None)) == 2 * 5 * per_series
        assert samples(table, ALL_TENANTS) == 6 * 5 * per_series


def test_the_slo_history_holds_hourly_rates_for_30_days_and_the_metadata_for_the_last_minutes(tmp_path):
    end = 40 * 86400
    querybench.write_slo_inputs(tmp_path / "slo.om", ["a", "b"], end)
    lines = (tmp_path / "slo.om").read_text().splitlines()
    name = "tenant_id:enhancement_requests_errors:rate1h_hourly"
    errors = [line for line in lines if line.startswith(f'{name}{{tenant_id="a"}}')]
    # once an hour for 30 days and an hour (what the 30-day rules sum): a at 1 req/s, 2 % failing
    assert len(errors) == 30 * 24 + 2
    assert errors[0] == f'{name}{{tenant_id="a"}} 0.02 {end - 31 * 86400 + 82800}'
    assert errors[-1] == f'{name}{{tenant_id="a"}} 0.02 {end}'
    # the 1h request rate every minute of the last 10 (the panel of tenants without traffic reads it)
    requests = [int(line.rsplit(" ", 1)[1]) for line in lines
                if line.startswith('tenant_id:enhancement_requests:rate1h{tenant_id="b"}')]
    assert requests == list(range(end - 600, end + 1, 60))
    remaining = [line for line in lines if line.startswith("tenant_id:agentmon_error_budget_remaining:ratio{")]
    assert remaining[-1] == f'tenant_id:agentmon_error_budget_remaining:ratio{{tenant_id="b"}} -1 {end}'
    assert not [line for line in lines if '"__all__"' in line and "remaining" in line]  # per tenant only
    assert [line for line in lines if line.startswith("ALERTS{") and line.endswith(f" {end}")] == [
        f'ALERTS{{alertname="AgentmonErrorBudgetBurnFast",alertstate="firing",severity="critical",tenant_id="a"}} '
        f'1 {end}']
    assert lines[-1] == "# EOF"
