"""A dashboard, its panels' results and the view shown -> a matplotlib Figure and deterministic PNG bytes.

The layout follows Grafana's grid: 24 columns across the width, gridPos.y and .h in rows of fixed height.
A banner across the top says what the picture is: an agentmon preview, not a Grafana screenshot.
Figures are built without pyplot (no display, no global state) under a fixed style, so the same inputs give
the same PNG bytes on every run.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.textpath import text_to_path

from agentmon_live.grafana import ALL
from agentmon_live.panelrun import Series
from agentmon_live.panelstyle import field_style, rgb
from agentmon_live.preview.data import selection
from agentmon_live.preview.panels import MUTED, TEXT, Box, Canvas, PanelResult, Span, gauge, stat, timeseries
from agentmon_live.preview.table import table

DPI = 100
WIDTH_IN = 16.0  # a 1600 px wide dashboard, as on a common screen
ROW_IN = 0.42  # one grid row (Grafana: 30 px plus margin)
MARGIN_IN, GAP_IN, BANNER_IN = 0.15, 0.08, 0.95
TITLE_BAR_IN = 0.34  # inches above a panel's content: its title, type and unit
TITLE_FONT: dict[str, Any] = {"fontsize": 10.5, "fontweight": "bold"}
KIND_FONT: dict[str, Any] = {"fontsize": 8}
PAGE_BG, PANEL_BG, PANEL_EDGE, BANNER_BG = "#F4F5F5", "#FFFFFF", "#D8D9DA", "#FFF4CC"
# Pinned style: a user's matplotlibrc must not change the picture; DejaVu Sans ships with matplotlib.
STYLE = {"font.family": "DejaVu Sans", "figure.dpi": DPI, "savefig.dpi": DPI, "axes.unicode_minus": True,
         "path.simplify": True, "text.hinting": "default", "svg.hashsalt": "agentmon"}

Drawer = Callable[[Canvas, Box, dict[str, Any], list[Series], Span], None]
DRAWERS: dict[str, Drawer] = {"gauge": gauge, "stat": stat, "timeseries": timeseries, "table": table}


@dataclass(frozen=True)
class View:
    """What a preview shows: `range_text` (e.g. 1h) ending at `end` (unix seconds), the variable selection,
    and where the numbers come from (for the banner)."""

    range_text: str
    range_seconds: float
    end: float
    selection: dict[str, tuple[str, ...]]  # variable name -> chosen values; unchosen ones: the dashboard's
    source: str

    @property
    def span(self) -> Span:
        return Span(self.end - self.range_seconds, self.end)


@dataclass(frozen=True)
class Side:
    """One dashboard to draw (None: it does not exist on this side of a comparison) and a caption."""

    dashboard: dict[str, Any] | None
    results: Sequence[PanelResult]
    caption: str = ""


@contextmanager
def style() -> Iterator[None]:
    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        matplotlib.rcParams.update(STYLE)
        yield


def height_in(dashboard: dict[str, Any] | None) -> float:
    rows = max((p.get("gridPos", {}).get("y", 0) + p.get("gridPos", {}).get("h", 8)
                for p in (dashboard or {}).get("panels", [])), default=4)
    return BANNER_IN + 2 * MARGIN_IN + rows * ROW_IN


def render(dashboard: dict[str, Any], results: Sequence[PanelResult], view: View, caption: str = "") -> Figure:
    """One dashboard as a figure (built under the pinned style)."""
    with style():
        figure = Figure(figsize=(WIDTH_IN, height_in(dashboard)), dpi=DPI, facecolor=PAGE_BG)
        FigureCanvasAgg(figure)
        draw_dashboard(figure, Side(dashboard, results, caption), view, height_in(dashboard))
    return figure


def render_pair(before: Side, after: Side, view: View) -> Figure:
    """Two versions of a dashboard side by side, before on the left."""
    height = max(height_in(before.dashboard), height_in(after.dashboard))
    with style():
        figure = Figure(figsize=(2 * WIDTH_IN, height), dpi=DPI, facecolor=PAGE_BG)
        FigureCanvasAgg(figure)
        for canvas, side in zip(figure.subfigures(1, 2, wspace=0), (before, after), strict=True):
            canvas.set_facecolor(PAGE_BG)
            draw_dashboard(canvas, side, view, height)
        figure.add_artist(Line2D([0.5, 0.5], [0, 1], transform=figure.transFigure, color=MUTED, linewidth=3))
    return figure


def png_bytes(figure: Figure) -> bytes:
    """The figure as PNG, with no software name or timestamp in its metadata: same figure, same bytes."""
    buffer = io.BytesIO()
    with style():
        figure.savefig(buffer, format="png", dpi=DPI, facecolor=figure.get_facecolor(), metadata={"Software": None})
    return buffer.getvalue()


def pixels(figure: Figure) -> np.ndarray:
    """The rendered RGBA pixels (row 0 at the top), for tests that look at colours at known places."""
    with style():
        figure.canvas.draw()
        return np.asarray(figure.canvas.buffer_rgba()).copy()


def draw_dashboard(canvas: Canvas, side: Side, view: View, total_in: float) -> None:
    _banner(canvas, side, view, total_in)
    if side.dashboard is None:
        canvas.text(0.5, 0.5, side.caption or "no such dashboard", ha="center", va="center", fontsize=14,
                    color=MUTED)
        return
    for panel, result in zip(side.dashboard.get("panels", []), side.results, strict=True):
        draw_panel(canvas, panel_box(panel.get("gridPos", {}), total_in), panel, result, view.span)


def panel_box(grid: dict[str, Any], total_in: float) -> Box:
    """gridPos -> the panel's box: x and w in 24ths of the width, y and h in rows below the banner."""
    column_in = (WIDTH_IN - 2 * MARGIN_IN) / 24
    left_in = MARGIN_IN + grid.get("x", 0) * column_in + GAP_IN / 2
    top_in = BANNER_IN + MARGIN_IN + grid.get("y", 0) * ROW_IN + GAP_IN / 2
    width_in, box_height_in = grid.get("w", 12) * column_in - GAP_IN, grid.get("h", 8) * ROW_IN - GAP_IN
    return Box(left_in / WIDTH_IN, 1 - (top_in + box_height_in) / total_in, width_in / WIDTH_IN,
               box_height_in / total_in, width_in, box_height_in)


def draw_panel(canvas: Canvas, box: Box, panel: dict[str, Any], result: PanelResult, span: Span) -> None:
    kind = panel.get("type", "?")
    if kind == "row":
        canvas.text(box.left, box.bottom + box.height / 2, panel.get("title", ""), fontsize=11,
                    fontweight="bold", color=TEXT, va="center")
        return
    frame = _frame(canvas, box, panel)
    if result.error:
        _message(frame, f"query error: {result.error}", colour=rgb("red"))
    elif kind not in DRAWERS:
        _message(frame, f"panel type {kind!r}: not drawn by agentmon preview")
    else:
        DRAWERS[kind](canvas, box.inset(0.1, 0.1, TITLE_BAR_IN, 0.08), panel, result.series, span)


def _frame(canvas: Canvas, box: Box, panel: dict[str, Any]) -> Axes:
    frame = canvas.add_axes(box.rect, label=f"panel:{panel.get('id')}")
    frame.set_axis_off()
    frame.add_patch(Rectangle((0, 0), 1, 1, transform=frame.transAxes, facecolor=PANEL_BG, edgecolor=PANEL_EDGE,
                              linewidth=1, clip_on=False))
    top = 1 - 0.17 / box.height_in
    unit = field_style(panel).unit if panel.get("type") != "table" else "none"
    kind = panel.get("type", "?") + (f" · unit {unit}" if unit != "none" else "")
    title, room = panel.get("title", ""), box.width_in * (0.988 - 0.012)
    # A narrow panel: the type label gives way, and a title still too wide is cut with an ellipsis, as in
    # Grafana; the artist's label keeps the whole title.
    show_kind = _width_in(title, TITLE_FONT) + 0.15 + _width_in(kind, KIND_FONT) <= room
    frame.text(0.012, top, _fit(title, room), transform=frame.transAxes, color=TEXT, va="center", ha="left",
               gid="panel-title", label=title, **TITLE_FONT)
    if show_kind:
        frame.text(0.988, top, kind, transform=frame.transAxes, color=MUTED, va="center", ha="right",
                   gid="panel-kind", **KIND_FONT)
    return frame


def _width_in(text: str, font: dict[str, Any]) -> float:
    width, _, _ = text_to_path.get_text_width_height_descent(
        text, FontProperties(family=STYLE["font.family"], size=font["fontsize"], weight=font.get("fontweight")),
        ismath=False)
    return width / 72


def _fit(title: str, room_in: float) -> str:
    if _width_in(title, TITLE_FONT) <= room_in:
        return title
    while title and _width_in(title + "…", TITLE_FONT) > room_in:
        title = title[:-1]
    return title.rstrip() + "…"


def _message(frame: Axes, text: str, colour: str = MUTED) -> None:
    frame.text(0.5, 0.45, text, transform=frame.transAxes, fontsize=10, color=colour, ha="center", va="center",
               wrap=True)


def _banner(canvas: Canvas, side: Side, view: View, total_in: float) -> None:
    ax = canvas.add_axes((0, 1 - BANNER_IN / total_in, 1, BANNER_IN / total_in), label="banner")
    ax.set_axis_off()
    ax.add_patch(Rectangle((0, 0), 1, 1, transform=ax.transAxes, facecolor=BANNER_BG, edgecolor="none"))
    title = (side.dashboard or {}).get("title", "")
    headline = f"agentmon preview of {title} (not a Grafana screenshot)" if title else "agentmon preview"
    if side.caption:
        headline += f"  |  {side.caption}"
    ax.text(0.01, 0.74, headline, transform=ax.transAxes, fontsize=13, fontweight="bold", color=TEXT, va="center")
    ax.text(0.01, 0.42, describe(view, side.dashboard), transform=ax.transAxes, fontsize=10, color=MUTED,
            va="center")
    ax.text(0.01, 0.16, f"data: {view.source}", transform=ax.transAxes, fontsize=9, color=MUTED, va="center")


def describe(view: View, dashboard: dict[str, Any] | None) -> str:
    """The banner's second line: range, end time, the dashboard's variable selection."""
    end = datetime.fromtimestamp(view.end, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    parts = [f"last {view.range_text} ending {end}"]
    variables = {v["name"]: v for v in (dashboard or {}).get("templating", {}).get("list", [])}
    for name, values in selection(dashboard or {}, view.selection).items():
        label = variables[name].get("label") or name
        parts.append(f"{label}: {'All' if list(values) == [ALL] else ', '.join(values)}")
    return "   ·   ".join(parts)
