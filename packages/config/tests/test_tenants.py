from __future__ import annotations

from pathlib import Path

import pytest

from agentmon_config import ConfigError, check_tenant_answers, load_tenants, loader
from agentmon_config.errors import ConfigErrors


def tenant_file(root: Path, folder: str, text: str) -> Path:
    path = root / folder / "tenant.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return path


def test_tenants_load_sorted_with_defaults(tmp_path):
    tenant_file(tmp_path, "zeta", "tenant_id: zeta\ndisplay_name: Zeta\n")
    tenant_file(tmp_path, "acme", "tenant_id: acme\ndisplay_name: Acme\nsuccess_rate_slo: 99.9\n")
    tenants = load_tenants(tmp_path)
    assert [(t.tenant_id, t.success_rate_slo, t.queue_alert_threshold) for t in tenants] == [
        ("acme", 99.9, 100), ("zeta", 99, 100)]


def test_folder_must_match_the_tenant_id(tmp_path):
    path = tenant_file(tmp_path, "zeta", "display_name: Zeta\ntenant_id: zed\n")
    with pytest.raises(ConfigError) as info:
        load_tenants(tmp_path)
    assert str(info.value) == f"{path}:2: tenant_id: 'zed' must equal its folder name 'zeta'"


def test_malformed_tenant_file_names_file_and_field(tmp_path):
    path = tenant_file(tmp_path, "acme", "tenant_id: acme\ndisplay_name: Acme\nsuccess_rate_slo: 120\n")
    with pytest.raises(ConfigError) as info:
        load_tenants(tmp_path)
    assert str(info.value) == f"{path}:3: success_rate_slo: 120 is greater than the maximum of 99.999"


@pytest.mark.parametrize(("tenant_id", "message"), [
    ("all", "tenant_id: 'all' is a reserved name"),
    ("9lives", "tenant_id: '9lives' does not match the expected format"),
    ("a", "tenant_id: 'a' does not match the expected format"),
    ("x" * 32, "does not match the expected format"),
])
def test_answers_are_checked_against_the_schema(tenant_id, message):
    with pytest.raises(ConfigError) as info:
        check_tenant_answers({"tenant_id": tenant_id, "display_name": "X"})
    assert message in str(info.value)



def answers(**fields: object) -> dict[str, object]:
    return {"tenant_id": "zeta", "display_name": "Zeta", **fields}


@pytest.mark.parametrize("tenant_id", ["zeta\n", "zeta-", "z-", "zeta-x-", "Zeta", "zeta.x", "-zeta"])
def test_tenant_ids_must_be_whole_valid_kubernetes_name_parts(tenant_id):
    with pytest.raises(ConfigError) as info:
        check_tenant_answers(answers(tenant_id=tenant_id))
    assert str(info.value) == (f"cookiecutter answers: tenant_id: {tenant_id!r} does not match the expected "
                               "format ^[a-z][a-z0-9-]{0,29}[a-z0-9]$")


@pytest.mark.parametrize("tenant_id", ["ze", "zeta", "ze--ta", "zeta-2", "z" * 31])
def test_valid_tenant_ids_are_accepted(tenant_id):
    assert check_tenant_answers(answers(tenant_id=tenant_id)) is None


@pytest.mark.parametrize(("field", "value"), [("display_name", "Zeta\n"), ("display_name", "Ze\nta"),
                                              ("owner_contact", "ops@example.com\n")])
def test_one_line_fields_refuse_a_newline(field, value):
    with pytest.raises(ConfigError) as info:
        check_tenant_answers(answers(**{field: value}))
    assert str(info.value) == (f"cookiecutter answers: {field}: {value!r} holds a control character (U+000A): "
                               "write plain text on one line")


@pytest.mark.parametrize(("value", "message"), [
    (float("nan"), "must be a finite number, not NaN"), (float("inf"), "must be a finite number, not infinity"),
    (99.99999999999, "99.99999999999 is greater than the maximum of 99.999"),
    (100, "100 is greater than the maximum of 99.999"),
])
def test_slo_must_be_finite_and_leave_an_error_budget(value, message):
    with pytest.raises(ConfigError) as info:
        check_tenant_answers(answers(success_rate_slo=value))
    assert str(info.value) == f"cookiecutter answers: success_rate_slo: {message}"


def test_a_nan_slo_in_a_tenant_file_names_file_and_line(tmp_path):
    path = tenant_file(tmp_path, "zeta", "tenant_id: zeta\ndisplay_name: Zeta\nsuccess_rate_slo: .nan\n")
    with pytest.raises(ConfigError) as info:
        load_tenants(tmp_path)
    assert str(info.value) == f"{path}:3: success_rate_slo: must be a finite number, not NaN"


def test_the_highest_slo_is_accepted(tmp_path):
    tenant_file(tmp_path, "zeta", "tenant_id: zeta\ndisplay_name: Zeta\nsuccess_rate_slo: 99.999\n")
    assert load_tenants(tmp_path)[0].success_rate_slo == 99.999


def test_a_misnamed_tenant_file_is_an_error_not_skipped(tmp_path):
    tenant_file(tmp_path, "acme", "tenant_id: acme\ndisplay_name: Acme\n")
    (tmp_path / "zeta").mkdir()
    (tmp_path / "zeta" / "tenant.yml").write_text("tenant_id: zeta\ndisplay_name: Zeta\n")
    with pytest.raises(ConfigErrors) as info:
        load_tenants(tmp_path)
    assert [str(e) for e in info.value.errors] == [
        f"{tmp_path}/zeta/tenant.yaml: <document>: file not found: every tenant folder needs its tenant.yaml "
        "(or remove the folder)",
        f"{tmp_path}/zeta/tenant.yml: <document>: unexpected in a tenant folder, which holds only tenant.yaml "
        f"(misnamed? a tenant is defined in {tmp_path.name}/<tenant_id>/tenant.yaml)",
    ]


@pytest.mark.parametrize("stray", ["zeta.yaml", "acme/notes.md", "acme/old/tenant.yaml"])
def test_anything_else_under_tenants_is_an_error(tmp_path, stray):
    tenant_file(tmp_path, "acme", "tenant_id: acme\ndisplay_name: Acme\n")
    (tmp_path / stray).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / stray).write_text("x: 1\n")
    with pytest.raises(ConfigError) as info:
        load_tenants(tmp_path)
    assert info.value.path == str(tmp_path / stray.removesuffix("/tenant.yaml"))


def test_hidden_files_are_ignored(tmp_path):
    tenant_file(tmp_path, "acme", "tenant_id: acme\ndisplay_name: Acme\n")
    (tmp_path / ".gitkeep").write_text("")
    (tmp_path / "acme" / ".tenant.yaml.swp").write_text("")
    assert [t.tenant_id for t in load_tenants(tmp_path)] == ["acme"]


REPO = Path(__file__).resolve().parents[3]
# Values whose type a YAML 1.1 reader would change (yes, 010, 1:30), written as a tenant could: the C parser and
# the round-trip reader must read the same values from a file both accept.
EDGE_VALUES = ('tenant_id: edge\ndisplay_name: "1:30 yes 010"\nsuccess_rate_slo: 99.50\n'
               "p95_latency_sla_seconds: 1.0e1\nqueue_alert_threshold: 0100\nowner_contact: edge-oncall@example.com\n")


def test_the_fast_reader_and_the_round_trip_reader_read_the_same_values(tmp_path):
    paths = [*sorted((REPO / "tenants").glob("*/tenant.yaml")), tenant_file(tmp_path, "edge", EDGE_VALUES)]
    for path in paths:
        fast, round_trip = loader._parse_yaml(path, fast=True), loader._parse_yaml(path)
        assert type(fast) is dict and hasattr(round_trip, "lc")  # each reader was used
        assert repr(fast) == repr(loader._plain(round_trip))
    (edge,) = load_tenants(tmp_path)
    assert (edge.display_name, edge.success_rate_slo, edge.p95_latency_sla_seconds, edge.queue_alert_threshold) == (
        "1:30 yes 010", 99.5, 10.0, 100)


def test_a_file_the_fast_reader_accepts_but_a_check_refuses_is_named_with_its_line(tmp_path):
    negative = EDGE_VALUES.replace("queue_alert_threshold: 0100", "queue_alert_threshold: -1")
    path = tenant_file(tmp_path, "edge", negative)
    with pytest.raises(ConfigError) as info:
        load_tenants(tmp_path)
    assert (info.value.path, info.value.field, info.value.line) == (str(path), "queue_alert_threshold", 5)
