"""Configuration text reaches Prometheus and Alertmanager as text, never as a template: {{ and }} are refused by
the build (packages/config/tests/test_untrusted_input.py), and every other character the rules allow renders
literally. Proved with the real `promtool test rules` (Prometheus' own annotation templating) and `amtool
template render` (Alertmanager's templating, which an e-mail receiver's `to` goes through)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from agentmon_alertkit import group_order

from agentmon_bundle.serialize import yaml_bytes
from agentmon_config import fields, load_platform
from agentmon_rules import ALERTS_FILE, RULE_FILE, render_rules
from agentmon_testkit import prerequisite

REPO = Path(__file__).resolve().parents[3]
# Every URL character the link rule allows that means something to a template, a shell or HTML ($ . ( ) ! * , ; &
# [ ] @ % ~ + =): Go templates read only what lies between {{ and }}.
GRAFANA = "https://grafana.example.com/a$b.c(1)!*,;[x]@~+=&d"
RUNBOOKS = "https://wiki.example.com/run$books;v=1?page=(runbooks)&x=%24labels"


@pytest.fixture
def config(tmp_path: Path):
    lines = (REPO / "config/platform.yaml").read_text().splitlines()
    for key, value in (("grafana_url", GRAFANA), ("runbooks_url", RUNBOOKS)):
        index = next(n for n, line in enumerate(lines) if line.startswith(f"  {key}: "))
        lines[index] = f"  {key}: '{value}'"
    (tmp_path / "platform.yaml").write_text("\n".join(lines) + "\n")
    return load_platform(tmp_path / "platform.yaml")  # the build's own checks accept both


def test_prometheus_fires_the_links_literally(config, tmp_path):
    promtool = prerequisite("promtool")
    for name, doc in render_rules(config).items():
        if name in (RULE_FILE, ALERTS_FILE):
            (tmp_path / name).write_bytes(yaml_bytes(doc))
    absent = [{"exp_labels": {"managed_by": "agentmon", "metric": metric, "severity": "critical"},
               "exp_annotations": {
                   "summary": f"No {metric} in Prometheus",
                   "description": f"Prometheus holds no {metric} series: the dashboards show No data, not a healthy "
                                  "platform.",
                   "panel_url": f"{GRAFANA}/d/agentmon-system-health?viewPanel=1",
                   "runbook_url": f"{RUNBOOKS}#metrics-absent"}}
              for metric in ("enhancement_requests_total", "enhancement_duration_seconds_bucket", "queue_depth",
                             "worker_active_count")]
    test = {"rule_files": [RULE_FILE, ALERTS_FILE], "evaluation_interval": "1m",
            "group_eval_order": group_order(config),  # promtool's order is random otherwise
            "tests": [{"interval": "1m", "input_series": [],
                       "alert_rule_test": [{"eval_time": "10m", "alertname": "AgentmonMetricsAbsent",
                                            "exp_alerts": absent}]}]}
    (tmp_path / "test.yml").write_bytes(yaml_bytes(test))
    result = subprocess.run([promtool, "test", "rules", "test.yml"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def render_in_alertmanager(text: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    amtool = prerequisite("amtool")
    (tmp_path / "none.tmpl").write_text("")
    return subprocess.run([amtool, "template", "render", f"--template.glob={tmp_path / 'none.tmpl'}",
                           f"--template.text={text}"], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("address", ["ops+a&b'c$d%{x}@example.com", "{#team#}@example.com", "o.brien-{}@example.com"])
def test_an_address_the_build_accepts_renders_literally_in_alertmanager(tmp_path, address):
    assert fields.contact_problem(address) is None
    result = render_in_alertmanager(address, tmp_path)
    assert (result.returncode, result.stdout) == (0, address)


def test_why_braces_are_refused_alertmanager_runs_them(tmp_path):
    """The issue's two addresses: one expands (a different recipient), the other breaks every notification."""
    expanded = render_in_alertmanager("{{ len .Alerts }}-{{ .CommonLabels.alertname }}@example.com", tmp_path)
    assert (expanded.returncode, expanded.stdout) == (0, "2-@example.com")  # amtool's example data: two alerts
    broken = render_in_alertmanager("{{ .Foo@example.com", tmp_path)
    assert broken.returncode == 1
    assert "bad character U+0040 '@'" in broken.stderr
