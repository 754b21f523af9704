"""Run a dashboard panel's queries against Prometheus the way Grafana does.

Grafana interpolates template variables and $__interval/$__rate_interval, sends instant targets as
/api/v1/query at the range end and range targets as /api/v1/query_range with step = $__interval, aligned
to the step. Used by the terminal demo and the end-to-end tests.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from agentmon_live.grafana import QueryWindow, format_variable, interpolate
from agentmon_live.prometheus import PrometheusServer


@dataclass(frozen=True)
class Series:
    labels: dict[str, str]
    values: list[float]  # one value for instant targets, one per step for range targets
    times: list[float] = field(default_factory=list)  # the timestamp of each value (steps without data are absent)

    @property
    def last(self) -> float:
        return self.values[-1]


def panel_by_title(dashboard: dict[str, Any], title: str) -> dict[str, Any]:
    for panel in dashboard["panels"]:
        if panel.get("title") == title:
            return panel
    raise KeyError(f"no panel titled {title!r} in dashboard {dashboard.get('title')!r}")


def variable_values(dashboard: dict[str, Any], selection: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Format each selected variable value the way Grafana does inside a regex matcher."""
    defined = {v["name"]: v for v in dashboard.get("templating", {}).get("list", [])}
    return {name: format_variable(values, defined[name].get("allValue")) for name, values in selection.items()}


def run_panel(server: PrometheusServer, dashboard: dict[str, Any], panel: dict[str, Any], *,
              selection: Mapping[str, Sequence[str]], range_seconds: float, end: float,
              scrape_interval: str) -> list[Series]:
    window = QueryWindow.for_range(range_seconds, scrape_interval)
    variables = variable_values(dashboard, selection)
    results: list[Series] = []
    for target in panel["targets"]:
        expr = interpolate(target["expr"], window, variables)
        if target.get("instant"):
            vector = server.query(expr, at=end)
            results += [Series(r["metric"], [float(r["value"][1])], [float(r["value"][0])]) for r in vector]
        else:
            step = window.interval_seconds
            start = math.floor((end - range_seconds) / step) * step
            matrix = server.query_range(expr, start, math.floor(end / step) * step, step)
            results += [Series(r["metric"], [float(v) for _, v in r["values"]], [float(t) for t, _ in r["values"]])
                        for r in matrix]
    return results
