from __future__ import annotations

import pytest

from agentmon_live.grafana import QueryWindow, format_variable, interpolate


@pytest.mark.parametrize(("range_seconds", "interval", "rate_interval"), [
    (3600, 15, 60),          # 3.6 s rounds below the 15 s scrape floor; rate = 4 x scrape
    (21600, 20, 60),         # 21.6 s -> 20 s
    (86400, 60, 75),         # 86.4 s -> 1 m; rate = interval + scrape
    (604800, 600, 615),      # 604.8 s -> 10 m
])
def test_intervals_follow_grafana(range_seconds, interval, rate_interval):
    window = QueryWindow.for_range(range_seconds, "15s")
    assert (window.interval_seconds, window.rate_interval_seconds) == (interval, rate_interval)


def test_interpolation_of_builtins_and_variables():
    window = QueryWindow.for_range(86400, "15s")
    expr = 'rate(x{t=~"$tenant_id"}[$__rate_interval]) / ${tenant_id} $__interval $__range'
    assert interpolate(expr, window, {"tenant_id": "a"}) == 'rate(x{t=~"a"}[75s]) / a 60s 86400s'


def test_unknown_variable_is_an_error():
    with pytest.raises(KeyError, match="tenant"):
        interpolate("x{t=~\"$tenant\"}", QueryWindow.for_range(3600, "15s"), {})


@pytest.mark.parametrize(("values", "formatted"), [
    (["$__all"], ".+"), (["acme"], "acme"), (["acme", "globex"], "(acme|globex)"), (["a.b"], "a\\\\.b"),
])
def test_multi_value_regex_formatting(values, formatted):
    assert format_variable(values, ".+") == formatted
