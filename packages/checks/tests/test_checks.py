from __future__ import annotations

import copy
import json
from pathlib import Path

import promql_parser
import pytest
from ruamel.yaml import YAML

from agentmon_checks import dashboards as checks
from agentmon_checks.rules import recorded_series

REPO = Path(__file__).resolve().parents[3]
BOARD = json.loads((REPO / "dashboards/agentmon-system-health.json").read_text())


@pytest.mark.parametrize(("expr", "problem"), [
    ('sum(queue_dept{tenant_id="a"})', "unknown metric 'queue_dept' (not in the metrics contract)"),
    ('sum(queue_depth{tenant="a"})', "metric 'queue_depth' has no label 'tenant'"),
    ("sum by (tenant) (queue_depth)", "groups by unknown label 'tenant'"),
    ('rate(enhancement_requests_total{statuss="failure"}[1m])',
     "metric 'enhancement_requests_total' has no label 'statuss'"),
])
def test_contract_violations_are_named(expr, problem):
    assert checks.contract_violations(promql_parser.parse(expr)) == [problem]


def test_histogram_base_name_is_not_a_series_so_le_is_unknown_too():
    expr = "histogram_quantile(0.9, sum by (le) (rate(enhancement_duration_seconds[1m])))"
    assert checks.contract_violations(promql_parser.parse(expr)) == [
        "unknown metric 'enhancement_duration_seconds' (not in the metrics contract)",
        "groups by unknown label 'le'",
    ]


def test_contract_accepts_every_shipped_query_given_the_recorded_series():
    recorded = recorded_series(YAML(typ="safe").load((REPO / "rules/agentmon.rules.yml").read_text()))
    assert list(checks.promql("main.json", BOARD, "15s", recorded)) == []
    # Without the rules, the recorded names the panels read are unknown.
    flagged = {f.where.split(" panel ")[1].split(" query ")[0] for f in checks.promql("main.json", BOARD, "15s")}
    assert flagged == {repr(p["title"]) for p in BOARD["panels"]}


def test_duplicate_uid_is_reported_with_both_files():
    findings = list(checks.unique_uids({"a.json": BOARD, "b.json": copy.deepcopy(BOARD)}))
    assert [str(f) for f in findings] == [
        "b.json: uid: duplicate dashboard uid 'agentmon-system-health', also used by a.json"]


def test_unprovisioned_datasource_uid_is_reported_per_panel():
    board = copy.deepcopy(BOARD)
    board["panels"][2]["targets"][0]["datasource"]["uid"] = "prometheus-old"
    findings = [str(f) for f in checks.datasource_refs("main.json", board, {"agentmon-prometheus"})]
    assert findings == ["main.json: panel 'Pending Enhancement Jobs in Queue' query A: datasource uid "
                        "'prometheus-old' is not provisioned (provisioned: agentmon-prometheus)"]


def test_dashboard_loads_through_the_sdk_model():
    assert list(checks.sdk_model("main.json", BOARD)) == []
    broken = {**BOARD, "panels": "not a list"}
    assert len(list(checks.sdk_model("main.json", broken))) == 1
