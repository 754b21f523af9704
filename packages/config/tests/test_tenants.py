from __future__ import annotations

from pathlib import Path

import pytest

from agentmon_config import ConfigError, check_tenant_answers, load_tenants


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
    assert str(info.value) == f"{path}:3: success_rate_slo: 120 is greater than or equal to the maximum of 100"


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
