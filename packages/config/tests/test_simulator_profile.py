from __future__ import annotations

import pytest

from agentmon_config import ConfigError, load_simulator_profile


def profile(tmp_path, text: str):
    path = tmp_path / "profile.yaml"
    path.write_text(text)
    return path


def test_profile_loads_with_defaults(tmp_path):
    path = profile(tmp_path, "tenants:\n  acme: {requests_per_second: 5}\n  zeta: {}\n")
    loaded = load_simulator_profile(path)
    assert (loaded["acme"]["requests_per_second"], loaded["zeta"]["latency_median_seconds"]) == (5, 8)


@pytest.mark.parametrize(("value", "got"), [(".nan", "NaN"), (".inf", "infinity")])
def test_non_finite_traffic_settings_are_refused(tmp_path, value, got):
    path = profile(tmp_path, f"tenants:\n  acme:\n    latency_median_seconds: {value}\n")
    with pytest.raises(ConfigError) as info:
        load_simulator_profile(path)
    assert str(info.value) == f"{path}:3: tenants.acme.latency_median_seconds: must be a finite number, not {got}"


def test_tenant_names_with_a_trailing_newline_are_refused(tmp_path):
    path = profile(tmp_path, 'tenants:\n  "acme\\n": {}\n')
    with pytest.raises(ConfigError) as info:
        load_simulator_profile(path)
    assert info.value.message == "'acme\\n' does not match the expected format ^[a-z][a-z0-9-]{0,29}[a-z0-9]$"


def test_an_alias_bomb_in_a_profile_fails_fast(tmp_path, deadline):
    levels = ["x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    levels += [f"x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    path = profile(tmp_path, "\n".join(levels) + "\ntenants:\n  acme: {queue_depth: *a8}\n")
    with deadline(2), pytest.raises(ConfigError) as info:
        load_simulator_profile(path)
    assert (info.value.line, info.value.message) == (
        1, "YAML anchors and aliases (&a0, *a0) are not supported: write the values out")


def test_request_rate_is_bounded_so_the_simulator_cannot_hang(tmp_path):
    path = profile(tmp_path, "tenants:\n  acme: {requests_per_second: 1e9}\n")
    with pytest.raises(ConfigError) as info:
        load_simulator_profile(path)
    assert str(info.value) == (f"{path}:2: tenants.acme.requests_per_second: 1000000000.0 is greater than the "
                               "maximum of 1000")
