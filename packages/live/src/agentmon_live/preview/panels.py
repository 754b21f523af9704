"""Draw one panel, as its type, field config and options say, into a box of a matplotlib (sub)figure.

Every artist a test may look for is findable: a panel's axes are labelled `content:<id>` (what the panel
shows) and `sparkline:<id>`; gauge value arcs, threshold lines and reference bands carry a gid.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import matplotlib.dates as mdates
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure, SubFigure
from matplotlib.patches import Wedge
from matplotlib.ticker import FuncFormatter, MaxNLocator

from agentmon_live.panelrun import Series
from agentmon_live.panelstyle import NO_VALUE, field_style, format_value, rgb, threshold_colour

Canvas = Figure | SubFigure
PANEL_BG, TEXT, MUTED = "#FFFFFF", "#24292E", "#6E7781"
# Grafana's classic palette: the colours of a panel's series, in order (a series with a fixed colour override
# keeps its place in the order: the series after it get the same colours as without the override).
PALETTE = ("#73BF69", "#F2CC0C", "#8AB8FF", "#FF780A", "#F2495C", "#5794F2", "#B877D9", "#705DA0", "#37872D")
GAUGE_START, GAUGE_SWEEP = 210.0, 240.0  # degrees: the arc runs clockwise from lower left to lower right


@dataclass(frozen=True)
class Box:
    """A rectangle of the canvas in canvas fractions, and its size in inches (for font sizes and margins)."""

    left: float
    bottom: float
    width: float
    height: float
    width_in: float
    height_in: float

    def inset(self, left_in: float = 0, right_in: float = 0, top_in: float = 0, bottom_in: float = 0) -> Box:
        fx, fy = self.width / self.width_in, self.height / self.height_in
        return Box(self.left + left_in * fx, self.bottom + bottom_in * fy,
                   self.width - (left_in + right_in) * fx, self.height - (top_in + bottom_in) * fy,
                   self.width_in - left_in - right_in, self.height_in - top_in - bottom_in)

    def columns(self, count: int) -> list[Box]:
        w, w_in = self.width / count, self.width_in / count
        return [Box(self.left + i * w, self.bottom, w, self.height, w_in, self.height_in) for i in range(count)]

    @property
    def rect(self) -> tuple[float, float, float, float]:
        return self.left, self.bottom, self.width, self.height


@dataclass(frozen=True)
class PanelResult:
    """What a panel's queries returned, or the error Prometheus gave."""

    series: list[Series]
    error: str | None = None


@dataclass(frozen=True)
class Span:
    """The time range shown, unix seconds."""

    start: float
    end: float


def series_name(series: Series, panel: dict[str, Any]) -> str:
    """The series' legend name: its target's legendFormat with {{label}} replaced, else its labels."""
    target = next((t for t in panel.get("targets", []) if t.get("refId") == series.ref_id), {})
    legend = target.get("legendFormat") or ""
    if legend and legend != "__auto":
        return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: series.labels.get(m.group(1), ""), legend)
    labels = {k: v for k, v in series.labels.items() if k != "__name__"}
    name = series.labels.get("__name__", "")
    return name + "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}" if labels else \
        name or target.get("expr", "")


_REDUCERS: dict[str, Callable[[list[float]], float]] = {
    "lastNotNull": lambda v: v[-1], "last": lambda v: v[-1], "firstNotNull": lambda v: v[0],
    "first": lambda v: v[0], "mean": lambda v: sum(v) / len(v), "max": max, "min": min, "sum": sum,
}


def reduce(series: Series, panel: dict[str, Any]) -> float | None:
    """The one number a gauge or stat shows for a series (options.reduceOptions.calcs, Grafana's default
    lastNotNull); None without data."""
    finite = [v for v in series.values if not math.isnan(v)]
    calc = (panel.get("options", {}).get("reduceOptions", {}).get("calcs") or ["lastNotNull"])[0]
    return _REDUCERS.get(calc, _REDUCERS["lastNotNull"])(finite) if finite else None


def _values(panel: dict[str, Any], series: list[Series]) -> list[tuple[str, float | None, Series | None]]:
    """(name, reduced value, series) per series; one empty entry when the query returned nothing."""
    if not series:
        return [("", None, None)]
    return [(series_name(s, panel) if len(series) > 1 else "", reduce(s, panel), s) for s in series]


def _fontsize(box: Box, text: str, share: float = 0.45) -> float:
    """Points for `text` to fill about `share` of the box height, without overflowing its width."""
    by_height = box.height_in * 72 * share
    by_width = box.width_in * 72 * 0.9 / max(len(text) * 0.62, 1)
    return max(8.0, min(by_height, by_width, 48.0))


def contrast(colour: str) -> str:
    """Text on a coloured background as Grafana's theme picks it: white where white reaches a contrast ratio of
    3:1 (WCAG 2), the dark text colour otherwise (white on Grafana's green is 2.2:1: dark text there)."""
    white = (1 + 0.05) / (_luminance(colour) + 0.05)
    return "#FFFFFF" if white >= 3 else TEXT


def _luminance(colour: str) -> float:
    """WCAG 2's relative luminance of an sRGB colour."""
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def gauge(canvas: Canvas, box: Box, panel: dict[str, Any], series: list[Series], span: Span) -> None:
    style = field_style(panel)
    defaults = panel.get("fieldConfig", {}).get("defaults", {})
    low, high = defaults.get("min", 0), defaults.get("max", 100)
    for cell, (name, value, _) in zip(box.columns(len(series) or 1), _values(panel, series), strict=True):
        ax = canvas.add_axes(cell.rect, label=f"content:{panel.get('id')}")
        ax.set_axis_off()
        ax.set_xlim(-1.1, 1.1)
        ax.set_ylim(-0.75, 1.1)
        ax.set_aspect("equal", adjustable="box")
        _gauge_arcs(ax, value, low, high, style.steps, panel.get("options", {}).get("showThresholdMarkers", True))
        colour = rgb(threshold_colour(value, style.steps, none=NO_VALUE))
        text = format_value(value, style.unit, style.decimals)
        ax.text(0, 0.05, text, ha="center", va="center", color=colour, fontweight="bold",
                fontsize=_fontsize(_inner(cell), text, 0.5), gid="gauge-text")
        if name:
            ax.text(0, -0.55, name, ha="center", va="center", color=MUTED, fontsize=9)


def _inner(cell: Box) -> Box:
    """The box inside the gauge's arc (1.1 of the 2.2 x 1.85 data units the gauge spans)."""
    scale = min(cell.width_in / 2.2, cell.height_in / 1.85)
    return Box(0, 0, 0, 0, 1.1 * scale, 0.8 * scale)


def _angle(value: float, low: float, high: float) -> float:
    share = min(max((value - low) / (high - low), 0.0), 1.0) if high > low else 0.0
    return GAUGE_START - share * GAUGE_SWEEP


def _gauge_arcs(ax: Axes, value: float | None, low: float, high: float, steps: list[dict[str, Any]],
                markers: bool) -> None:
    end = GAUGE_START - GAUGE_SWEEP
    ax.add_patch(Wedge((0, 0), 0.86, end, GAUGE_START, width=0.24, facecolor="#E9EAEC", edgecolor="none"))
    if value is not None:
        colour = rgb(threshold_colour(value, steps, none=NO_VALUE))
        ax.add_patch(Wedge((0, 0), 0.86, _angle(value, low, high), GAUGE_START, width=0.24, facecolor=colour,
                           edgecolor="none", gid="gauge-value"))
    if not markers:
        return
    bounds = [low if s["value"] is None else s["value"] for s in steps] + [high]
    for step, lo, hi in zip(steps, bounds, bounds[1:], strict=False):
        if hi > lo:
            ax.add_patch(Wedge((0, 0), 0.98, _angle(hi, low, high), _angle(lo, low, high), width=0.07,
                               facecolor=rgb(step["color"]), edgecolor="none", gid="gauge-threshold"))


def stat(canvas: Canvas, box: Box, panel: dict[str, Any], series: list[Series], span: Span) -> None:
    style, options = field_style(panel), panel.get("options", {})
    mode = options.get("colorMode", "value")
    for cell, (name, value, one) in zip(box.columns(len(series) or 1), _values(panel, series), strict=True):
        colour = rgb(threshold_colour(value, style.steps, none=NO_VALUE))
        ax = canvas.add_axes(cell.rect, label=f"content:{panel.get('id')}")
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_facecolor(colour if mode == "background" and value is not None else PANEL_BG)
        text_colour = contrast(colour) if mode == "background" and value is not None else \
            colour if mode == "value" else TEXT
        text = format_value(value, style.unit, style.decimals)
        ax.text(0.5, 0.62, text, transform=ax.transAxes, ha="center", va="center", color=text_colour,
                fontweight="bold", fontsize=_fontsize(cell, text, 0.3), gid="stat-text")
        if name:
            ax.text(0.5, 0.9, name, transform=ax.transAxes, ha="center", va="center", color=text_colour, fontsize=9)
        if one is not None and options.get("graphMode") == "area" and len(one.values) > 1:
            _sparkline(canvas, cell, panel, one, span, text_colour if mode == "background" else colour)


def _sparkline(canvas: Canvas, box: Box, panel: dict[str, Any], series: Series, span: Span, colour: str) -> None:
    ax = canvas.add_axes(box.inset(top_in=box.height_in * 0.62).rect, label=f"sparkline:{panel.get('id')}")
    ax.set_axis_off()
    ax.patch.set_alpha(0)
    times = [_datetime(t) for t in series.times]
    ax.plot(times, series.values, color=colour, linewidth=1.2, alpha=0.8)
    ax.fill_between(times, series.values, min(_finite(series.values), default=0), color=colour, alpha=0.2,
                    linewidth=0)
    ax.set_xlim(_datetime(span.start), _datetime(span.end))
    finite = _finite(series.values)
    if finite:
        low, high = min(finite), max(finite)
        pad = (high - low) * 0.1 or max(abs(high) * 0.1, 1)
        ax.set_ylim(low - pad, high + pad)


def _finite(values: Sequence[float]) -> list[float]:
    return [v for v in values if not math.isnan(v)]


def _datetime(unix: float) -> datetime:
    return datetime.fromtimestamp(unix, UTC)


def _broken_at_gaps(series: Series) -> tuple[list[datetime], list[float]]:
    """The series with a NaN wherever steps without data were left out (a gap longer than its step): Grafana does
    not join values across missing steps (spanNulls off), so neither does the preview."""
    steps = [b - a for a, b in zip(series.times, series.times[1:], strict=False) if b > a]
    step = min(steps) if steps else 0
    times: list[datetime] = []
    values: list[float] = []
    for k, (t, v) in enumerate(zip(series.times, series.values, strict=True)):
        if k and step and t - series.times[k - 1] > 1.5 * step:
            times.append(_datetime((t + series.times[k - 1]) / 2))
            values.append(math.nan)
        times.append(_datetime(t))
        values.append(v)
    return times, values


def _isolated(values: Sequence[float]) -> list[int]:
    """Indexes of finite values whose neighbours are missing (NaN or none)."""
    def missing(k: int) -> bool:
        return k < 0 or k >= len(values) or math.isnan(values[k])
    return [k for k, v in enumerate(values) if not math.isnan(v) and missing(k - 1) and missing(k + 1)]


def timeseries(canvas: Canvas, box: Box, panel: dict[str, Any], series: list[Series], span: Span) -> None:
    style, custom = field_style(panel), panel.get("fieldConfig", {}).get("defaults", {}).get("custom", {})
    legend = panel.get("options", {}).get("legend", {})
    show_legend = legend.get("showLegend", True) and bool(series)
    plot = box.inset(0.62, 0.1, 0.02, 0.5 if show_legend else 0.28)
    ax = canvas.add_axes(plot.rect, label=f"content:{panel.get('id')}")
    for i, one in enumerate(series):
        name = series_name(one, panel)
        colour = series_colour(panel, name, i)
        times, values = _broken_at_gaps(one)
        ax.plot(times, values, color=colour, linewidth=custom.get("lineWidth", 1), label=name, gid="series")
        alone = _isolated(values)
        if alone:  # Grafana draws a value with no neighbour as a point; a line of one value would be invisible
            ax.plot([times[k] for k in alone], [values[k] for k in alone], linestyle="none", marker="o",
                    markersize=3, color=colour, gid="series-point")
        if custom.get("fillOpacity"):
            ax.fill_between(times, values, 0, color=colour, alpha=custom["fillOpacity"] / 100, linewidth=0)
    _thresholds(ax, style.steps, custom.get("thresholdsStyle", {}).get("mode", "off"))
    _axes_style(ax, panel, style.unit, span)
    if not series or not any(_finite(s.values) for s in series):
        ax.text(0.5, 0.5, "No data", transform=ax.transAxes, ha="center", va="center", color=MUTED, fontsize=11)
    if show_legend:
        ax.legend(loc="upper left", bbox_to_anchor=(0, -0.24 / plot.height_in), ncol=min(len(series), 6),
                  frameon=False, fontsize=8.5, handlelength=1.5, borderaxespad=0)


def series_colour(panel: dict[str, Any], name: str, index: int) -> str:
    """The colour of the series named `name` (its display name, which byName overrides match), the
    `index`-th of the panel: its fixed colour override, else the palette's colour for its place."""
    fixed = field_style(panel, name).fixed_colour
    return rgb(fixed) if fixed else PALETTE[index % len(PALETTE)]


def _thresholds(ax: Axes, steps: list[dict[str, Any]], mode: str) -> None:
    """Grafana's thresholdsStyle: a (dashed) line at each step's value, and/or a tinted band above it."""
    if mode == "off":
        return
    for step in steps:
        if step["value"] is None:
            continue
        colour = rgb(step["color"])
        if "line" in mode or "dashed" in mode:
            ax.axhline(step["value"], color=colour, linewidth=1.5, linestyle="--" if "dashed" in mode
                       else "-", gid="threshold")
        if "area" in mode:
            ax.axhspan(step["value"], 1e12, color=colour, alpha=0.08, linewidth=0, gid="threshold-area")


def _axes_style(ax: Axes, panel: dict[str, Any], unit: str, span: Span) -> None:
    defaults = panel.get("fieldConfig", {}).get("defaults", {})
    custom = defaults.get("custom", {})
    ax.set_xlim(_datetime(span.start), _datetime(span.end))
    locator = mdates.AutoDateLocator(tz=UTC, minticks=4, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M" if span.end - span.start <= 86400 else "%m-%d %H:%M",
                                                      tz=UTC))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}{_suffix(unit)}"))
    bottom, top = ax.get_ylim()
    low = defaults.get("min", custom.get("axisSoftMin", bottom))
    high = defaults.get("max", max(top, custom.get("axisSoftMax", top)))
    ax.set_ylim(min(low, bottom) if "min" not in defaults else low, high)
    ax.tick_params(labelsize=8, colors=MUTED, length=0)
    ax.grid(True, color="#EBEBEC", linewidth=0.8)
    ax.set_axisbelow(True)
    for spine in ax.spines.values():
        spine.set_visible(False)


def _suffix(unit: str) -> str:
    return format_value(0, unit, 0)[1:]
