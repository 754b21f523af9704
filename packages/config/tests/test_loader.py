from __future__ import annotations

from pathlib import Path

import pytest

from agentmon_config import ConfigError, load_platform
from agentmon_config.errors import ConfigErrors

REPO = Path(__file__).resolve().parents[3]
MINIMAL = """\
datasource:
  name: Prometheus
  uid: prom
main_dashboard:
  name: health
  title: Health
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "platform.yaml"
    path.write_text(text)
    return path


def test_repo_config_loads_into_typed_objects():
    config = load_platform(REPO / "config" / "platform.yaml")
    assert config.datasource.url == "http://prometheus:9090"
    assert config.datasource.scrape_interval == "15s"
    assert config.main_dashboard.title == "AI Agents - System Health & Performance"
    assert config.thresholds.success_rate_critical == 90
    assert config.main_dashboard.quick_ranges == ("1h", "6h", "24h", "7d")


def test_omitted_optional_fields_take_the_schema_defaults(tmp_path):
    config = load_platform(write(tmp_path, MINIMAL))
    assert config.datasource.url == "http://prometheus:9090"
    assert config.datasource.scrape_interval == "15s"
    assert config.main_dashboard.refresh == "30s"
    assert config.main_dashboard.refresh_intervals[:4] == ("10s", "30s", "1m", "5m")
    assert config.thresholds.p95_latency_sla_seconds == 120
    assert config.provisioning.dashboards_path == "/var/lib/grafana/dashboards"


def test_missing_required_field_names_file_field_and_line(tmp_path):
    path = write(tmp_path, MINIMAL.replace("  uid: prom\n", ""))
    with pytest.raises(ConfigError) as info:
        load_platform(path)
    assert (info.value.path, info.value.field, info.value.line) == (str(path), "datasource.uid", 1)
    assert str(info.value) == f"{path}:1: datasource.uid: missing required field"


def test_wrong_type_names_the_field_and_its_line(tmp_path):
    path = write(tmp_path, MINIMAL + "thresholds:\n  queue_depth_reference: lots\n")
    with pytest.raises(ConfigError) as info:
        load_platform(path)
    assert info.value.field == "thresholds.queue_depth_reference"
    assert info.value.line == 8
    assert "'lots' is not of type 'integer'" in info.value.message


def test_unknown_key_is_rejected_by_name(tmp_path):
    path = write(tmp_path, MINIMAL.replace("  uid: prom\n", "  uid: prom\n  ulr: http://x:9090\n"))
    with pytest.raises(ConfigError) as info:
        load_platform(path)
    assert info.value.field == "datasource.ulr"
    assert info.value.line == 4
    assert info.value.message.startswith("unknown field")


def test_several_problems_are_reported_together(tmp_path):
    path = write(tmp_path, "datasource:\n  name: 3\n  uid: prom\nmain_dashboard:\n  name: Bad Name\n  title: T\n")
    with pytest.raises(ConfigErrors) as info:
        load_platform(path)
    assert [e.field for e in info.value.errors] == ["datasource.name", "main_dashboard.name"]


def test_malformed_yaml_names_the_line(tmp_path):
    path = write(tmp_path, MINIMAL + "thresholds: [unclosed\n")
    with pytest.raises(ConfigError) as info:
        load_platform(path)
    assert info.value.message.startswith("malformed YAML")
    assert info.value.line == 8


def test_inverted_thresholds_are_rejected(tmp_path):
    path = write(tmp_path, MINIMAL + "thresholds:\n  error_rate_warning: 10\n  error_rate_critical: 5\n")
    with pytest.raises(ConfigError) as info:
        load_platform(path)
    assert info.value.field == "thresholds.error_rate_warning"
    assert info.value.message == "must be below thresholds.error_rate_critical"


@pytest.mark.parametrize(("text", "message"), [("", "file is empty"), (None, "file not found")])
def test_empty_or_missing_file(tmp_path, text, message):
    path = write(tmp_path, text) if text is not None else tmp_path / "absent.yaml"
    with pytest.raises(ConfigError) as info:
        load_platform(path)
    assert info.value.message == message
