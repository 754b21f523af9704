from __future__ import annotations

import json
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from agentmon_config import ConfigError, load_platform
from agentmon_config.errors import ConfigErrors
from agentmon_config.loader import load_schema
from agentmon_testkit import replace_once

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
    path = write(tmp_path, replace_once(MINIMAL, "  uid: prom\n", ""))
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
    path = write(tmp_path, replace_once(MINIMAL, "  uid: prom\n", "  uid: prom\n  ulr: http://x:9090\n"))
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


def load_error(tmp_path: Path, text: str) -> ConfigError:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_platform(path)
    return info.value


def test_inverted_thresholds_name_their_line(tmp_path):
    error = load_error(tmp_path, MINIMAL + "thresholds:\n  success_rate_critical: 96\n  success_rate_warning: 95\n")
    assert str(error) == (f"{tmp_path / 'platform.yaml'}:8: thresholds.success_rate_critical: "
                          "must be below thresholds.success_rate_warning")


@pytest.mark.parametrize(("value", "got"), [(".nan", "NaN"), (".inf", "infinity"), ("-.inf", "infinity"),
                                            ("1e999", "infinity")])
def test_non_finite_numbers_are_refused(tmp_path, value, got):
    error = load_error(tmp_path, MINIMAL + f"thresholds:\n  p95_latency_sla_seconds: {value}\n")
    assert (error.field, error.line) == ("thresholds.p95_latency_sla_seconds", 8)
    assert error.message == f"must be a finite number, not {got}"


def test_a_nan_threshold_is_one_error_not_two(tmp_path):
    error = load_error(tmp_path, MINIMAL + "thresholds:\n  success_rate_critical: .nan\n  error_rate_warning: .inf\n")
    assert isinstance(error, ConfigErrors)
    assert [(e.field, e.line) for e in error.errors] == [("thresholds.success_rate_critical", 8),
                                                          ("thresholds.error_rate_warning", 9)]


def test_integers_beyond_what_json_readers_keep_are_refused(tmp_path):
    error = load_error(tmp_path, MINIMAL + "thresholds:\n  queue_depth_reference: 9007199254740993\n")
    assert error.field == "thresholds.queue_depth_reference"
    assert error.message.startswith("9007199254740993 is too large (at most 9007199254740991")


def test_an_alias_bomb_fails_fast_before_expansion(tmp_path, deadline):
    levels = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    path = write(tmp_path, MINIMAL + "\n".join(levels) + "\n")  # 9 levels: 9**9 = 387,420,489 strings
    with deadline(2), pytest.raises(ConfigError) as info:
        load_platform(path)
    assert str(info.value) == (f"{path}:7: <document>: YAML anchors and aliases (&a0, *a0) are not supported: "
                               "write the values out")


def test_a_merge_key_alias_is_refused_too(tmp_path):
    text = replace_once(MINIMAL, "datasource:\n", "datasource: &ds\n") + "x: {<<: *ds}\n"
    error = load_error(tmp_path, text)
    assert (error.line, error.message) == (1, "YAML anchors and aliases (&ds, *ds) are not supported: "
                                              "write the values out")


# Every name-like field, with a valid value: the value plus a trailing newline must be refused.
NAME_FIELDS = [
    ("datasource", "name", "Prometheus"), ("datasource", "uid", "prom"), ("datasource", "url", "http://p:9090"),
    ("datasource", "scrape_interval", "15s"), ("main_dashboard", "name", "system-health"),
    ("main_dashboard", "title", "Health"), ("main_dashboard", "refresh", "30s"),
    ("main_dashboard", "time_from", "now-1h"), ("provisioning", "provider_name", "agentmon"),
    ("provisioning", "dashboards_path", "/var/lib/grafana/dashboards"),
    ("kubernetes", "grafana_image", "grafana/grafana:13.2.0"), ("kubernetes", "admin_secret", "grafana-admin"),
    ("kubernetes", "ingress_namespace", "ingress-nginx"), ("kubernetes", "cpu_request", "100m"),
    ("kubernetes", "memory_limit", "512Mi"),
]


def with_field(section: str, field: str, value: object) -> str:
    """MINIMAL with section.field set (JSON is YAML: the value is written with its escapes)."""
    doc = YAML(typ="safe", pure=True).load(MINIMAL)
    doc.setdefault(section, {})[field] = value
    return json.dumps(doc, indent=1)


@pytest.mark.parametrize(("section", "field", "value"), NAME_FIELDS, ids=lambda v: str(v))
def test_a_trailing_newline_is_refused_in_every_name(tmp_path, section, field, value):
    load_platform(write(tmp_path, with_field(section, field, value)))  # the value itself is fine
    error = load_error(tmp_path, with_field(section, field, value + "\n"))
    assert error.field == f"{section}.{field}"
    assert error.message.startswith(f"{value + chr(10)!r} does not match the expected format")


@pytest.mark.parametrize("field", ["tags", "refresh_intervals", "quick_ranges"])
def test_a_trailing_newline_is_refused_in_list_items(tmp_path, field):
    error = load_error(tmp_path, with_field("main_dashboard", field, ["1h\n"]))
    assert error.field == f"main_dashboard.{field}.0"


def test_every_schema_pattern_is_anchored_at_both_ends():
    """Python's `$` also matches before a final newline, and JSON Schema patterns are searched, not matched:
    `^...$(?!\\n)` is the spelling that means the whole value in both Python and ECMA-262 regexes."""
    def patterns(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "pattern":
                    yield value
                else:
                    yield from patterns(value)
        elif isinstance(node, list):
            for value in node:
                yield from patterns(value)
    found = [p for name in ("platform", "tenant", "simulator") for p in patterns(load_schema(name))]
    assert len(found) == 27
    assert [p for p in found if not (p.startswith("^") and p.endswith("$(?!\\n)"))] == []


@pytest.mark.parametrize(("request_", "limit", "resource"), [
    ("4000m", "200m", "cpu"), ("'3'", "2000m", "cpu"), ("1Gi", "512Mi", "memory"),
    ("600Mi", "'629145599'", "memory")])
def test_a_request_above_its_limit_is_refused(tmp_path, request_, limit, resource):
    text = MINIMAL + f"kubernetes:\n  {resource}_limit: {limit}\n  {resource}_request: {request_}\n"
    error = load_error(tmp_path, text)
    request_, limit = request_.strip("'"), limit.strip("'")
    assert str(error) == (f"{tmp_path / 'platform.yaml'}:9: kubernetes.{resource}_request: {request_} is above "
                          f"kubernetes.{resource}_limit ({limit}); a request may not exceed its limit")


@pytest.mark.parametrize(("resource", "request_", "limit"), [("cpu", "200m", "200m"), ("cpu", "1", "1001m"),
                                                             ("memory", "512Mi", "1Gi")])
def test_a_request_up_to_its_limit_is_accepted(tmp_path, resource, request_, limit):
    text = MINIMAL + f"kubernetes:\n  {resource}_request: '{request_}'\n  {resource}_limit: '{limit}'\n"
    kubernetes = load_platform(write(tmp_path, text)).kubernetes
    assert (getattr(kubernetes, f"{resource}_request"), getattr(kubernetes, f"{resource}_limit")) == (request_, limit)


@pytest.mark.parametrize(("field", "value"), [("cpu_request", "256Mi"), ("memory_limit", "100m"),
                                              ("cpu_limit", "'0'"), ("memory_request", "0Mi")])
def test_quantities_have_their_resource_unit_and_are_positive(tmp_path, field, value):
    error = load_error(tmp_path, MINIMAL + f"kubernetes:\n  {field}: {value}\n")
    assert error.field == f"kubernetes.{field}"
    assert "does not match the expected format" in error.message


@pytest.mark.parametrize("url", ["http://admin:secret@prometheus:9090", "https://token@prom.example.com/prom"])
def test_credentials_in_the_datasource_url_are_refused(tmp_path, url):
    error = load_error(tmp_path, replace_once(MINIMAL, "  uid: prom\n", f"  uid: prom\n  url: {url}\n"))
    assert (error.field, error.line) == ("datasource.url", 4)
    assert error.message.startswith("must not contain credentials (user:password@): they would be committed")
    assert "docs/operations/grafana-setup.md" in error.message


@pytest.mark.parametrize(("url", "message"), [
    ("http://prometheus:99999", "'http://prometheus:99999': the port must be a number from 1 to 65535"),
    ("http://prometheus:0", "'http://prometheus:0': the port must be a number from 1 to 65535"),
    ("http://:9090", "'http://:9090' names no host"),
])
def test_datasource_url_needs_a_host_and_a_real_port(tmp_path, url, message):
    error = load_error(tmp_path, replace_once(MINIMAL, "  uid: prom\n", f"  uid: prom\n  url: {url}\n"))
    assert (error.field, error.message) == ("datasource.url", message)


@pytest.mark.parametrize("name", ["Prom url: http://evil", "Prom\nurl", "Prometheus:", "-Prom", "Prom ",
                                  "P" * 65, "Prom#1", "Prom 'x'"])
def test_datasource_names_that_would_break_the_overlays_are_refused(tmp_path, name):
    error = load_error(tmp_path, with_field("datasource", "name", name))
    assert error.field == "datasource.name"


@pytest.mark.parametrize("timezone", ["Mars/Olympus_Mons", "UTC+2", "europe/berlin", "Europe/Berlin\n"])
def test_unknown_time_zones_are_refused(tmp_path, timezone):
    error = load_error(tmp_path, with_field("main_dashboard", "timezone", timezone))
    assert (error.field, error.line) == ("main_dashboard.timezone", 9)
    assert error.message == (f"{timezone!r} is not a time zone Grafana knows: use utc, browser, \"\" (the "
                             "viewer's default) or an IANA name such as Europe/Berlin")


@pytest.mark.parametrize("timezone", ["utc", "browser", "", "Europe/Berlin", "America/Argentina/Buenos_Aires"])
def test_grafana_time_zones_are_accepted(tmp_path, timezone):
    assert load_platform(write(tmp_path, with_field("main_dashboard", "timezone", timezone))).main_dashboard.timezone \
        == timezone


@pytest.mark.parametrize(("path", "message"), [
    ("/etc/grafana/provisioning/datasources/x", "lies inside Grafana's provisioning folder /etc/grafana/provisioning"),
    ("/etc/grafana/provisioning", "lies inside Grafana's provisioning folder /etc/grafana/provisioning"),
    ("/var/lib/grafana/../../etc/grafana/provisioning", "must be a plain absolute path, without . or .. segments"),
    ("/var/lib/grafana/./dashboards", "must be a plain absolute path, without . or .. segments"),
    ("/var/lib/grafana", "would hold Grafana's own files"),
    ("/etc", "would hold Grafana's own files"),
])
def test_dashboards_path_outside_grafanas_own_folders(tmp_path, path, message):
    error = load_error(tmp_path, with_field("provisioning", "dashboards_path", path))
    assert error.field == "provisioning.dashboards_path"
    assert error.message.startswith(f"{path!r} {message}")


@pytest.mark.parametrize("path", ["dashboards", "../dashboards", "/var/lib/grafana/dashboards/", "/",
                                  "/var//dashboards", "/var/lib/my dashboards"])
def test_dashboards_path_is_an_absolute_normal_path(tmp_path, path):
    error = load_error(tmp_path, with_field("provisioning", "dashboards_path", path))
    assert error.field == "provisioning.dashboards_path"
    assert "does not match the expected format" in error.message


@pytest.mark.parametrize(("value", "tag"), [("!foo utc", "!foo"), ("!!binary dXRj", "tag:yaml.org,2002:binary"),
                                            ("!!str utc", "tag:yaml.org,2002:str")])
def test_yaml_tags_are_refused(tmp_path, value, tag):
    error = load_error(tmp_path, MINIMAL + f"  timezone: {value}\n")
    assert (error.line, error.message) == (7, f"YAML tag {tag} is not supported: write a plain value (quoted for "
                                              "text)")


@pytest.mark.parametrize("title", ["AI\x85Agents", "AI\u2028Agents", "AI\tAgents", "Health\n"])
def test_titles_are_one_line_of_printable_text(tmp_path, title):
    error = load_error(tmp_path, with_field("main_dashboard", "title", title))
    assert error.field == "main_dashboard.title"


@pytest.mark.parametrize(("field", "value"), [("cpu_limit", "1234567890m"), ("memory_limit", "1234567890Gi")])
def test_quantities_are_bounded(tmp_path, field, value):
    error = load_error(tmp_path, MINIMAL + f"kubernetes:\n  {field}: {value}\n")
    assert error.field == f"kubernetes.{field}"
    assert "does not match the expected format" in error.message
