"""Run a dashboard panel's queries against Prometheus the way Grafana does.

Grafana interpolates template variables and $__interval/$__rate_interval, sends instant targets as
/api/v1/query at the range end and range targets as /api/v1/query_range with step = $__interval, aligned
to the step. A table panel's rows are then built as Grafana shows them (its table frame, organize
transformations and sortBy). Used by the terminal demo, the previews and the end-to-end tests.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from agentmon_live.grafana import QueryWindow, format_variable, interpolate
from agentmon_live.prometheus import PrometheusClient


@dataclass(frozen=True)
class Series:
    labels: dict[str, str]
    values: list[float]  # one value for instant targets, one per step for range targets
    times: list[float] = field(default_factory=list)  # unix seconds of each value (steps without data are absent)
    ref_id: str = ""  # the target (refId) that returned it

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


def run_panel(server: PrometheusClient, dashboard: dict[str, Any], panel: dict[str, Any], *,
              selection: Mapping[str, Sequence[str]], range_seconds: float, end: float,
              scrape_interval: str) -> list[Series]:
    window = QueryWindow.for_range(range_seconds, scrape_interval)
    variables = variable_values(dashboard, selection)
    results: list[Series] = []
    for target in panel["targets"]:
        expr, ref = interpolate(target["expr"], window, variables), target.get("refId", "")
        if target.get("instant"):
            vector = server.query(expr, at=end)
            results += [Series(r["metric"], [float(r["value"][1])], [float(r["value"][0])], ref)
                        for r in vector]
        else:
            step = window.interval_seconds
            start = math.floor((end - range_seconds) / step) * step
            matrix = server.query_range(expr, start, math.floor(end / step) * step, step)
            results += [Series(r["metric"], [float(v) for _, v in r["values"]], [float(t) for t, _ in r["values"]], ref)
                        for r in matrix]
    return results


Cell = str | float | None  # a table cell: a label's value, a number, or nothing


def table_rows(panel: dict[str, Any], series: list[Series]) -> tuple[list[str], list[list[Cell]]]:
    """A table panel's columns and rows as Grafana shows them: the table frame of its query's results
    through its organize transformations, in the order of its sortBy."""
    fields, rows = organize(panel, *frame(panel, series))
    return fields, sort_rows(panel, fields, rows)


def frame(panel: dict[str, Any], series: list[Series]) -> tuple[list[str], list[list[Cell]]]:
    """The fields and rows Grafana builds from an instant query with format table: Time, one field per
    label, Value. With several targets Grafana shows one frame at a time: options.frameIndex picks it, unless a
    merge transformation joins them (merged_frame)."""
    refs = [t.get("refId", "") for t in panel.get("targets", [])]
    if len(refs) > 1 and any(t.get("id") == "merge" for t in panel.get("transformations") or []):
        return merged_frame(refs, series)
    shown = refs[panel.get("options", {}).get("frameIndex", 0)] if refs else ""
    rows = [s for s in series if s.ref_id == shown] if len(refs) > 1 else series
    labels = sorted({name for s in rows for name in s.labels})
    fields = ["Time", *labels, "Value"]
    return fields, [[s.times[-1] if s.times else None, *(s.labels.get(n, "") for n in labels),
                     s.values[-1] if s.values else None] for s in rows]


def merged_frame(refs: list[str], series: list[Series]) -> tuple[list[str], list[list[Cell]]]:
    """Grafana's merge transformation over instant table queries: one row per label set, one value field per
    query, named `Value #<refId>` as Grafana names it when a panel has several queries; empty where that query
    returned no series for the row's labels."""
    labels = sorted({name for s in series for name in s.labels})
    rows: dict[tuple[str, ...], list[Cell]] = {}
    for s in series:
        key = tuple(s.labels.get(n, "") for n in labels)
        row = rows.setdefault(key, [None, *key, *[None] * len(refs)])
        row[0] = s.times[-1] if s.times else row[0]
        row[1 + len(labels) + refs.index(s.ref_id)] = s.values[-1] if s.values else None
    return ["Time", *labels, *(f"Value #{ref}" for ref in refs)], list(rows.values())


def organize(panel: dict[str, Any], fields: list[str], rows: list[list[Cell]]) -> tuple[list[str], list[list[Cell]]]:
    """Apply the panel's organize transformations: drop excludeByName, order by indexByName (fields without
    an index keep their order, after the indexed ones), rename by renameByName."""
    for transformation in panel.get("transformations") or []:
        if transformation.get("id") != "organize":
            continue
        options = transformation.get("options", {})
        excluded, index = options.get("excludeByName", {}), options.get("indexByName", {})
        kept = [i for i, name in enumerate(fields) if not excluded.get(name)]
        kept.sort(key=lambda i: index.get(fields[i], len(fields) + i))
        renames = options.get("renameByName", {})
        fields = [renames.get(fields[i]) or fields[i] for i in kept]
        rows = [[row[i] for i in kept] for row in rows]
    return fields, rows


def sort_rows(panel: dict[str, Any], fields: list[str], rows: list[list[Cell]]) -> list[list[Cell]]:
    """Order rows as options.sortBy says (the first entry; Grafana sorts by one column), missing values last."""
    for sort in (panel.get("options", {}).get("sortBy") or [])[:1]:
        if sort.get("displayName") not in fields:
            continue
        column, desc = fields.index(sort["displayName"]), bool(sort.get("desc"))
        present = [r for r in rows if not _missing(r[column])]
        missing = [r for r in rows if _missing(r[column])]
        rows = sorted(present, key=lambda r: (isinstance(r[column], str), r[column]), reverse=desc) + missing
    return rows


def _missing(value: Cell) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
