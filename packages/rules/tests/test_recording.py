from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from agentmon_alertkit import make_config

from agentmon_config import ConfigError, load_platform
from agentmon_config.recorded import RECORDED
from agentmon_dashboards import to_json_dict
from agentmon_dashboards.tenant import tenant_dashboard
from agentmon_rules import Windows, prometheus_rule, recording_groups, render_rules, rule_file
from agentmon_testkit import replace_once

REPO = Path(__file__).resolve().parents[3]
CONFIG = load_platform(REPO / "config" / "platform.yaml")
GROUPS = recording_groups(CONFIG)
RULES = {(r.record, r.labels): r.expr for g in GROUPS for r in g.rules}


def configured(scrape: str, evaluation: str):
    return dataclasses.replace(
        CONFIG, datasource=dataclasses.replace(CONFIG.datasource, scrape_interval=scrape),
        rules=dataclasses.replace(CONFIG.rules, evaluation_interval=evaluation))


def test_one_group_per_concern_at_the_configured_interval():
    assert [(g.name, g.interval, len(g.rules)) for g in GROUPS] == [
        ("agentmon-requests", "1m", 2), ("agentmon-latency", "1m", 3), ("agentmon-capacity", "1m", 6),
        ("agentmon-sli", "1m", 21), ("agentmon-limits", "1m", 1),  # without tenants: the platform's SLA
        ("agentmon-slo", "1m", 7), ("agentmon-slo-hourly", "1h", 4),  # without tenants: no info series
        ("agentmon-slo-period", "4m", 7)]


def test_requests_within_the_sla_read_each_tenants_own_sla_bucket_in_either_spelling():
    """acme's SLA is 120 s, globex's 90 s, the platform's 120 s: one rule, one term per distinct SLA."""
    bucket = "tenant_id_le:enhancement_duration_seconds_bucket:sum_rate"
    with_tenants = load_platform(REPO / "config" / "platform.yaml", REPO / "tenants")
    rules = {(r.record, r.labels): r.expr for g in recording_groups(with_tenants) for r in g.rules}
    assert rules[("tenant_id:enhancement_duration_within_sla:sum_rate", ())] == (
        f'sum by (tenant_id) ({bucket}{{tenant_id=~"acme",le=~"120|120\\\\.0"}}) or '
        f'sum by (tenant_id) ({bucket}{{tenant_id=~"globex",le=~"90|90\\\\.0"}}) or '
        f'sum by (tenant_id) ({bucket}{{tenant_id="__all__",le=~"120|120\\\\.0"}})')


def test_every_recorded_series_exists_per_tenant_and_as_the_platform_aggregate():
    member_of_all = (("member_of", "__all__"),)  # per-tenant request rates: what All selects in the error table
    for series in RECORDED[:-1]:  # the last, requests within the SLA, is one rule: its own test above
        assert (series.name, member_of_all if series.name.startswith("tenant_id_status:") else ()) in RULES
        assert (series.name, (("tenant_id", "__all__"),)) in RULES


def test_rates_are_per_tenant_and_status_over_one_evaluation_plus_one_scrape():
    assert RULES[("tenant_id_status:enhancement_requests:sum_rate", (("member_of", "__all__"),))] == (
        "sum by (tenant_id, status) (rate(enhancement_requests_total[75s]))")
    assert RULES[("tenant_id_status:enhancement_requests:sum_rate", (("tenant_id", "__all__"),))] == (
        "sum by (status) (rate(enhancement_requests_total[75s]))")
    assert RULES[("tenant_id_le:enhancement_duration_seconds_bucket:sum_rate", ())] == (
        "sum by (tenant_id, le) (rate(enhancement_duration_seconds_bucket[75s]))")


def test_a_tenant_reporting_a_queue_but_no_worker_counts_as_without_a_worker():
    workers = ("sum by (tenant_id) (avg_over_time(worker_active_count[1m])) "
               "or 0 * sum by (tenant_id) (avg_over_time(queue_depth[1m]))")
    assert RULES[("tenant_id:worker_active_count:sum_avg", ())] == workers
    assert RULES[("tenant_id:tenants_without_active_worker:count", ())] == f"({workers}) < bool 1"
    assert RULES[("tenant_id:tenants_without_active_worker:count", (("tenant_id", "__all__"),))] == (
        f"sum(({workers}) < bool 1)")


@pytest.mark.parametrize(("scrape", "evaluation", "rate", "gauge", "period"), [
    ("15s", "1m", "75s", "1m", "4m"),   # the default: evaluations tile the scrapes exactly
    ("30s", "1m", "2m", "2m", "4m"),    # never fewer than 4 scrapes
    ("5s", "5s", "20s", "20s", "20s"),  # the demo's pace
    ("15s", "30s", "1m", "1m", "2m"),
    ("1m", "4m", "5m", "4m", "4m"),     # the period group never waits longer than 4 minutes ...
    ("2m", "5m", "8m", "8m", "5m"),     # ... unless every group does
])
def test_windows_follow_the_evaluation_and_scrape_intervals(scrape, evaluation, rate, gauge, period):
    assert Windows.for_config(configured(scrape, evaluation)) == Windows(rate=rate, gauge=gauge)
    intervals = {g.name: g.interval for g in recording_groups(configured(scrape, evaluation))}
    assert intervals.pop("agentmon-slo-period") == period
    assert intervals.pop("agentmon-slo-hourly") == "1h"
    assert set(intervals.values()) == {evaluation}


def test_the_sli_reads_the_recorded_request_rates_the_error_budget_panel_reads():
    failed = ('sum by (tenant_id) (sum_over_time(tenant_id_status:enhancement_requests:sum_rate{status="failure"}'
              '[21599s])) * 60 / 21600')
    total = "sum by (tenant_id) (sum_over_time(tenant_id_status:enhancement_requests:sum_rate[21599s])) * 60 / 21600"
    assert RULES[("tenant_id:enhancement_requests_errors:rate6h", ())] == failed
    assert RULES[("tenant_id:enhancement_requests:rate6h", ())] == total
    assert RULES[("tenant_id:enhancement_requests_errors:ratio_rate6h", ())] == (
        "(tenant_id:enhancement_requests_errors:rate6h or 0 * tenant_id:enhancement_requests:rate6h) "
        "/ (tenant_id:enhancement_requests:rate6h > 0)")
    with_tenants = load_platform(REPO / "config" / "platform.yaml", REPO / "tenants")
    budget = next(p for p in to_json_dict(tenant_dashboard(with_tenants, with_tenants.tenants[0]))["panels"]
                  if p["title"] == "Error Budget Remaining (30 d)")
    assert "sum(sum_over_time(tenant_id_status:enhancement_requests:sum_rate{" in budget["targets"][0]["expr"]


def test_the_3_day_rates_sum_the_hourly_rates_at_hourly_steps():
    assert RULES[("tenant_id:enhancement_requests:rate3d", ())] == (
        "sum_over_time(tenant_id:enhancement_requests:rate1h[259199s:1h]) * 3600 / 259200")
    assert RULES[("tenant_id:enhancement_requests_errors:rate3d", ())] == (
        "sum_over_time(tenant_id:enhancement_requests_errors:rate1h[259199s:1h]) * 3600 / 259200")


def test_rates_per_second_scale_by_the_evaluation_interval():
    rules = {r.record: r.expr for g in recording_groups(configured("5s", "5s")) for r in g.rules}
    assert rules["tenant_id:enhancement_requests:rate5m"] == (
        "sum by (tenant_id) (sum_over_time(tenant_id_status:enhancement_requests:sum_rate[299s])) * 5 / 300")


def test_the_ratios_follow_their_rates_in_the_group_so_they_read_this_evaluations_values():
    sli = next(g for g in GROUPS if g.name == "agentmon-sli")
    order = [r.record for r in sli.rules]
    for window in ("5m", "30m", "1h", "2h", "6h", "1d", "3d"):
        ratio = order.index(f"tenant_id:enhancement_requests_errors:ratio_rate{window}")
        assert ratio > order.index(f"tenant_id:enhancement_requests_errors:rate{window}")
        assert ratio > order.index(f"tenant_id:enhancement_requests:rate{window}")


def test_prometheus_rule_carries_the_configured_selector_labels_and_the_same_groups():
    changed = dataclasses.replace(CONFIG, rules=dataclasses.replace(
        CONFIG.rules, prometheus_rule_labels=(("prometheus", "k8s"), ("role", "rules"))))
    rule = prometheus_rule(changed, GROUPS)
    assert (rule["apiVersion"], rule["kind"], rule["metadata"]["name"]) == (
        "monitoring.coreos.com/v1", "PrometheusRule", "agentmon-recording-rules")
    assert rule["metadata"]["labels"] == {"app.kubernetes.io/part-of": "agentmon", "prometheus": "k8s",
                                          "role": "rules"}
    assert rule["spec"] == rule_file(GROUPS)


def test_the_rules_folder_holds_the_rule_file_and_both_kustomizations():
    files = render_rules(CONFIG)
    assert sorted(files) == ["agentmon.alerts.rules.yml", "agentmon.rules.yml", "demo-prometheus/kustomization.yaml",
                             "demo-prometheus/rules-volume.yaml", "kustomization.yaml", "operator/alerts.yaml",
                             "operator/kustomization.yaml", "operator/prometheusrule.yaml"]
    assert files["kustomization.yaml"]["configMapGenerator"] == [
        {"name": "prometheus-rules", "files": ["agentmon.rules.yml", "agentmon.alerts.rules.yml"]}]
    assert files["operator/kustomization.yaml"]["resources"] == ["prometheusrule.yaml", "alerts.yaml"]
    assert CONFIG.rules.prometheus_rule_labels == (("release", "kube-prometheus-stack"),)


def test_each_tenant_shard_in_use_gets_its_limits_file_configmap_and_prometheus_rule():
    """acme and globex: crc32("acme") mod 32 = 30 and crc32("globex") mod 32 = 26 (zlib.crc32: 0x05c4ba3e and
    0x96b39afa), so two shards, each with its own file, ConfigMap and PrometheusRule, and the demo Prometheus mounts
    all three ConfigMaps."""
    files = render_rules(load_platform(REPO / "config" / "platform.yaml", REPO / "tenants"))
    assert [g["name"] for g in files["agentmon.limits-26.rules.yml"]["groups"]] == ["agentmon-limits-26"]
    assert [g["name"] for g in files["agentmon.limits-30.rules.yml"]["groups"]] == ["agentmon-limits-30"]
    assert files["kustomization.yaml"]["configMapGenerator"] == [
        {"name": "prometheus-rules", "files": ["agentmon.rules.yml", "agentmon.alerts.rules.yml"]},
        {"name": "prometheus-rules-limits-26", "files": ["agentmon.limits-26.rules.yml"]},
        {"name": "prometheus-rules-limits-30", "files": ["agentmon.limits-30.rules.yml"]}]
    assert files["operator/kustomization.yaml"]["resources"] == [
        "prometheusrule.yaml", "alerts.yaml", "limits-26.yaml", "limits-30.yaml"]
    assert files["operator/limits-26.yaml"]["metadata"]["name"] == "agentmon-limits-26"
    assert files["operator/limits-26.yaml"]["spec"] == files["agentmon.limits-26.rules.yml"]
    volume = files["demo-prometheus/rules-volume.yaml"]["spec"]["template"]["spec"]["volumes"]
    assert volume == [{"name": "rules", "projected": {"sources": [
        {"configMap": {"name": "prometheus-rules"}}, {"configMap": {"name": "prometheus-rules-limits-26"}},
        {"configMap": {"name": "prometheus-rules-limits-30"}}]}}]


def test_an_evaluation_interval_longer_than_four_scrapes_is_a_configuration_error(tmp_path):
    config = tmp_path / "platform.yaml"
    config.write_text(replace_once((REPO / "config/platform.yaml").read_text(),
                                   "evaluation_interval: 1m ", "evaluation_interval: 2m "))
    with pytest.raises(ConfigError) as info:
        load_platform(config)
    assert (info.value.field, info.value.message) == (
        "rules.evaluation_interval", "must be at most 4 x datasource.scrape_interval (15s), the shortest window "
                                     "the dashboards read recorded series over")


def test_rule_labels_must_be_valid_kubernetes_labels(tmp_path):
    config = tmp_path / "platform.yaml"
    config.write_text(replace_once((REPO / "config/platform.yaml").read_text(),
                                   "release: kube-prometheus-stack", "release: not a label value"))
    with pytest.raises(ConfigError) as info:
        load_platform(config)
    assert info.value.field == "rules.prometheus_rule_labels.release"


def test_the_30_day_success_and_sla_share_sum_the_rates_recorded_once_an_hour():
    """720 hourly values per series (30 x 24), each the rate over its own hour, recorded once an hour: a plain range
    selector sums them, exact over 30 days, ending at the last hourly evaluation."""
    for record, hourly in (("tenant_id:enhancement_requests:rate30d", "tenant_id:enhancement_requests:rate1h_hourly"),
                           ("tenant_id:enhancement_requests_errors:rate30d",
                            "tenant_id:enhancement_requests_errors:rate1h_hourly"),
                           ("tenant_id:enhancement_duration_within_sla:rate30d",
                            "tenant_id:enhancement_duration_within_sla:rate1h_hourly"),
                           ("tenant_id:enhancement_duration_seconds_count:rate30d",
                            "tenant_id:enhancement_duration_seconds_count:rate1h_hourly")):
        assert RULES[(record, ())] == f"sum_over_time({hourly}[2591999s]) * 3600 / 2592000"
    assert RULES[("tenant_id:enhancement_requests:rate1h_hourly", ())] == RULES[
        ("tenant_id:enhancement_requests:rate1h", ())]  # the SLI group's 1h rate, once an hour
    # the share within the SLA divides two rates of the same group's bucket rates, as the latency alerts do
    assert RULES[("tenant_id:enhancement_duration_within_sla:rate1h_hourly", ())] == (
        "sum by (tenant_id) (sum_over_time(tenant_id:enhancement_duration_within_sla:sum_rate[3599s])) * 60 / 3600")
    assert RULES[("tenant_id:enhancement_duration_seconds_count:rate1h_hourly", ())] == (
        'sum by (tenant_id) (sum_over_time(tenant_id_le:enhancement_duration_seconds_bucket:sum_rate{le="+Inf"}'
        '[3599s])) * 60 / 3600')
    failed_share = ("(tenant_id:enhancement_requests_errors:rate30d or 0 * tenant_id:enhancement_requests:rate30d) "
                    "/ (tenant_id:enhancement_requests:rate30d > 0)")
    assert RULES[("tenant_id:enhancement_requests_success:ratio_rate30d", ())] == f"1 - {failed_share}"
    assert RULES[("tenant_id:agentmon_error_budget_remaining:ratio", ())] == (
        f"1 - {failed_share} / on (tenant_id) tenant_id:agentmon_error_budget:ratio")
    assert RULES[("tenant_id:enhancement_duration_within_sla:ratio_rate30d", ())] == (
        "tenant_id:enhancement_duration_within_sla:rate30d / "
        "(tenant_id:enhancement_duration_seconds_count:rate30d > 0)")


def test_burn_rates_and_the_info_series_per_tenant(tmp_path):
    """north (99.9 %, 60 s) and south (97 %, 120 s): a burn rate per SLI window (the alerts' long and short ones),
    and one info series each whose labels hold the display name as written, quotes and all."""
    config = make_config(tmp_path, {
        "north": {"display_name": 'Nörth "Star" & Co', "success_rate_slo": 99.9, "p95_latency_sla_seconds": 60},
        "south": {"display_name": "South", "success_rate_slo": 97, "p95_latency_sla_seconds": 120}})
    groups = recording_groups(config)
    slo = next(g for g in groups if g.name == "agentmon-slo")
    # The info series grow with tenants: each in its tenant's shard (crc32 mod 32: north 02, south 20).
    info = {g.name: [dict(r.labels) for r in g.rules if r.record == "tenant_id:agentmon_slo:info"] for g in groups}
    assert {name: rules for name, rules in info.items() if rules} == {
        "agentmon-limits-02": [{"tenant_id": "north", "display_name": 'Nörth "Star" & Co', "slo": "99.9", "sla": "60"}],
        "agentmon-limits-20": [{"tenant_id": "south", "display_name": "South", "slo": "97", "sla": "120"}]}
    burn = {dict(r.labels)["window"]: r.expr for r in slo.rules
            if r.record == "tenant_id_window:agentmon_error_budget_burn_rate:ratio"}
    assert list(burn) == ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]
    assert burn["1h"] == ("tenant_id:enhancement_requests_errors:ratio_rate1h / on (tenant_id) "
                          "tenant_id:agentmon_error_budget:ratio")
