"""Small typed panel factories. Layout (grid position) is decided at the call site, not here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from grafana_foundation_sdk.builders import common as common_b
from grafana_foundation_sdk.builders import dashboard as dashboard_b
from grafana_foundation_sdk.builders import gauge, prometheus, stat, table, timeseries
from grafana_foundation_sdk.models import common as common_m
from grafana_foundation_sdk.models import dashboard as dashboard_m
from grafana_foundation_sdk.models import prometheus as prometheus_m

# A threshold step: (lower bound or None for the base step, colour).
Step = tuple[float | None, str]

LAST_VALUE = ["lastNotNull"]
LINE_HEADROOM = 1.2  # the y axis reaches at least 20 % above a reference line
# The colour each request outcome (the contract's status values) is drawn in wherever a panel shows one series
# per outcome: Grafana's palette would pick them by series order (success yellow, failure green).
OUTCOME_COLOURS = {"success": "green", "failure": "red"}


def datasource_ref(uid: str) -> dashboard_m.DataSourceRef:
    return dashboard_m.DataSourceRef(type_val="prometheus", uid=uid)


def prom_query(ds: dashboard_m.DataSourceRef, expr: str, legend: str, *, instant: bool = False,
               as_table: bool = False, ref_id: str = "A") -> prometheus.Dataquery:
    query = prometheus.Dataquery().expr(expr).ref_id(ref_id).datasource(ds).legend_format(legend)
    query = query.instant() if instant else query.range()
    if as_table:
        query = query.format(prometheus_m.PromQueryFormat.TABLE)
    return query


def thresholds(steps: Sequence[Step]) -> dashboard_b.ThresholdsConfig:
    return dashboard_b.ThresholdsConfig().mode(dashboard_m.ThresholdsMode.ABSOLUTE).steps(
        [dashboard_m.Threshold(value=value, color=color) for value, color in steps]
    )


def percent_gauge(title: str, description: str, query: prometheus.Dataquery, steps: Sequence[Step]) -> gauge.Panel:
    """One percentage 0-100, coloured by steps."""
    return (
        gauge.Panel().title(title).description(description).with_target(query)
        .unit("percent").min(0).max(100).decimals(2)
        .thresholds(thresholds(steps)).show_threshold_markers(True)
        .reduce_options(common_b.ReduceDataOptions().calcs(LAST_VALUE).values(False))
    )


def number_stat(title: str, description: str, query: prometheus.Dataquery, steps: Sequence[Step], *,
                unit: str = "none", decimals: int = 0) -> stat.Panel:
    """One number with a sparkline, its background coloured by steps."""
    return (
        stat.Panel().title(title).description(description).with_target(query)
        .unit(unit).decimals(decimals).thresholds(thresholds(steps))
        .graph_mode(common_m.BigValueGraphMode.AREA).color_mode(common_m.BigValueColorMode.BACKGROUND)
        .reduce_options(common_b.ReduceDataOptions().calcs(LAST_VALUE).values(False))
    )


def fixed_colour(colour: str) -> dashboard_m.DynamicConfigValue:
    """An override property drawing the matched field in `colour` (a Grafana colour name or hex code)."""
    return dashboard_m.DynamicConfigValue(id_val="color", value=dashboard_b.FieldColor().mode(
        dashboard_m.FieldColorModeId.FIXED).fixed_color(colour).build())


def series_with_line(title: str, description: str, queries: Sequence[prometheus.Dataquery], *, unit: str,
                     decimals: int, line_at: float | None, fill_opacity: int = 0,
                     colours: Mapping[str, str] | None = None) -> timeseries.Panel:
    """A time series; with line_at, a visible reference line (a threshold drawn dashed) at that value; with
    colours, the series of each display name (legend) drawn in that fixed colour instead of the palette's."""
    panel = (
        timeseries.Panel().title(title).description(description).targets(list(queries))
        .unit(unit).decimals(decimals).min(0).fill_opacity(fill_opacity).line_width(2)
        .legend(common_b.VizLegendOptions().display_mode(common_m.LegendDisplayMode.LIST)
                .placement(common_m.LegendPlacement.BOTTOM).show_legend(True))
    )
    for name, colour in (colours or {}).items():
        panel = panel.override_by_name(name, [fixed_colour(colour)])
    if line_at is None:
        return panel
    # Grafana's auto-range ignores thresholds: without a soft maximum above the line, the line stays
    # off-screen until the data reaches it.
    return (panel.thresholds(thresholds([(None, "green"), (line_at, "red")])).axis_soft_max(line_at * LINE_HEADROOM)
            .thresholds_style(common_b.GraphThresholdsStyleConfig().mode(common_m.GraphThresholdsStyleMode.DASHED)))


def ranked_table(title: str, description: str, query: prometheus.Dataquery, *, key: tuple[str, str],
                 value: tuple[str, str], unit: str, steps: Sequence[Step]) -> table.Panel:
    """Two columns (key label, value) from an instant table query, sorted by value descending,
    value cells coloured by steps. key/value are (source field, column title)."""
    (key_field, key_title), (value_field, value_title) = key, value
    organize = dashboard_m.DataTransformerConfig(id_val="organize", options={
        "excludeByName": {"Time": True},
        "indexByName": {key_field: 0, value_field: 1},
        "renameByName": {key_field: key_title, value_field: value_title},
    })
    cell_colour = dashboard_m.DynamicConfigValue(
        id_val="custom.cellOptions", value={"type": "color-background", "mode": "basic"})
    return (
        table.Panel().title(title).description(description).with_target(query)
        .with_transformation(organize)
        .sort_by([common_b.TableSortByFieldState().display_name(value_title).desc(True)])
        .override_by_name(value_title, [
            cell_colour,
            dashboard_m.DynamicConfigValue(id_val="unit", value=unit),
            dashboard_m.DynamicConfigValue(id_val="decimals", value=2),
            dashboard_m.DynamicConfigValue(id_val="thresholds", value=thresholds(steps).build()),
        ])
    )


@dataclass(frozen=True)
class Column:
    """A value column of a merged table: its title, unit and decimals; cells coloured by `steps` (background) or
    shown as the text of `mappings` (value -> (text, colour))."""

    title: str
    unit: str
    decimals: int
    steps: Sequence[Step] = ()
    mappings: Mapping[int, tuple[str, str]] | None = None


def merged_table(title: str, description: str, queries: Sequence[prometheus.Dataquery], *, key: tuple[str, str],
                 columns: Sequence[Column], link: tuple[str, str], sort_by: str) -> table.Panel:
    """One row per `key` label value, one column per instant table query (Grafana's merge transformation joins
    their frames, whose values it names `Value #<refId>`), sorted ascending by the column titled `sort_by`. The
    key column (source field, title) links each cell to link = (title, url)."""
    (key_field, key_title), values = key, [f"Value #{q.build().ref_id}" for q in queries]
    organize = dashboard_m.DataTransformerConfig(id_val="organize", options={
        "excludeByName": {"Time": True},
        "indexByName": {key_field: 0, **{value: i for i, value in enumerate(values, start=1)}},
        "renameByName": {key_field: key_title, **{v: c.title for v, c in zip(values, columns, strict=True)}},
    })
    panel = (
        table.Panel().title(title).description(description).targets(list(queries))
        .with_transformation(dashboard_m.DataTransformerConfig(id_val="merge", options={}))
        .with_transformation(organize)
        .sort_by([common_b.TableSortByFieldState().display_name(sort_by).desc(False)])
        .override_by_name(key_title, [dashboard_m.DynamicConfigValue(
            id_val="links", value=[{"title": link[0], "url": link[1]}])])
    )
    for column in columns:
        panel = panel.override_by_name(column.title, _column_style(column))
    return panel


def _column_style(column: Column) -> list[dashboard_m.DynamicConfigValue]:
    style = [dashboard_m.DynamicConfigValue(id_val="unit", value=column.unit),
             dashboard_m.DynamicConfigValue(id_val="decimals", value=column.decimals)]
    if column.steps:
        style += [dashboard_m.DynamicConfigValue(id_val="custom.cellOptions",
                                                 value={"type": "color-background", "mode": "basic"}),
                  dashboard_m.DynamicConfigValue(id_val="thresholds", value=thresholds(column.steps).build())]
    if column.mappings:
        options = {str(value): {"text": text, "color": colour, "index": i}
                   for i, (value, (text, colour)) in enumerate(column.mappings.items())}
        style += [dashboard_m.DynamicConfigValue(id_val="custom.cellOptions", value={"type": "color-text"}),
                  dashboard_m.DynamicConfigValue(id_val="mappings", value=[{"type": "value", "options": options}])]
    return style


def firing_alerts(ds: dashboard_m.DataSourceRef, expr: str, panel_ids: Sequence[int]) -> dashboard_b.AnnotationQuery:
    """A dashboard annotation marking when agentmon's alerts fired (Prometheus' ALERTS series), shown on the
    time-series panels `panel_ids` only: stats and tables cannot draw annotations."""
    return (dashboard_b.AnnotationQuery().name("Firing alerts").datasource(ds).enable(True).icon_color("red")
            .expr(expr).filter(dashboard_b.AnnotationPanelFilter().exclude(False).ids(list(panel_ids))))
