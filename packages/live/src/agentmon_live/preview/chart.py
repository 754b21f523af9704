"""Daily values as a small chart (a line or bars per day, a dashed reference line), in the previews' style:
the same pinned matplotlib style, palette, colours and deterministic PNG bytes as the dashboard pictures. Used by
`agentmon report` for a month's daily success ratio and budget burn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate

import matplotlib.dates as mdates
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from agentmon_live.preview.draw import DPI, PAGE_BG, PANEL_BG, PANEL_EDGE, TITLE_FONT, style
from agentmon_live.preview.panels import MUTED, PALETTE, TEXT

DAY_SECONDS = 86400
WIDTH_IN, PANEL_IN, HEADER_IN = 10.0, 2.6, 0.7


@dataclass(frozen=True)
class DailyPanel:
    """One panel: a value per day (None: no data that day), drawn as a line with points or as bars, with an
    optional dashed reference line (an objective, a budget) and its label; values are in `unit` ("%": percent)."""

    title: str
    values: Sequence[float | None]
    kind: str = "line"  # line | bars
    reference: float | None = None
    reference_label: str = ""
    unit: str = "%"
    colour: str = PALETTE[0]
    running_total: str = ""  # a label: also draw the running sum of the values, on an axis of its own at the right


def daily_chart(title: str, subtitle: str, first_day: int, panels: Sequence[DailyPanel]) -> Figure:
    """The panels stacked under a title, one x position per day from `first_day` (unix seconds, UTC midnight)."""
    height = HEADER_IN + PANEL_IN * len(panels)
    with style():
        figure = Figure(figsize=(WIDTH_IN, height), dpi=DPI, facecolor=PAGE_BG)
        FigureCanvasAgg(figure)
        figure.text(0.015, 1 - 0.28 / height, title, color=TEXT, va="center", **TITLE_FONT)
        figure.text(0.015, 1 - 0.55 / height, subtitle, color=MUTED, va="center", fontsize=9)
        for index, panel in enumerate(panels):
            bottom = (len(panels) - 1 - index) * PANEL_IN / height
            ax = figure.add_axes((0.075, bottom + 0.45 / height, 0.85, (PANEL_IN - 0.8) / height),
                                 label=f"daily:{index}")
            _panel(ax, panel, first_day)
    return figure


def _panel(ax: Axes, panel: DailyPanel, first_day: int) -> None:
    days = [datetime.fromtimestamp(first_day + k * DAY_SECONDS, UTC) for k in range(len(panel.values))]
    values = [math.nan if v is None else v for v in panel.values]
    if panel.kind == "bars":
        ax.bar(days, values, width=0.7, color=panel.colour, gid="daily-bars", label="per day")
    else:
        ax.plot(days, values, color=panel.colour, linewidth=1.5, marker="o", markersize=3, gid="daily-line",
                label="per day")
    if panel.reference is not None:
        ax.axhline(panel.reference, color=PALETTE[4], linewidth=1.2, linestyle="--", gid="daily-reference",
                   label=panel.reference_label)
    handles = ax.get_legend_handles_labels()
    if panel.running_total:
        total = ax.twinx()
        total.plot(days, list(accumulate(0.0 if math.isnan(v) else v for v in values)), color=PALETTE[5],
                   linewidth=1.5, drawstyle="steps-mid", gid="daily-running-total", label=panel.running_total)
        total.set_ylim(bottom=0)
        _value_axis(total, panel.unit)
        handles = tuple(a + b for a, b in zip(handles, total.get_legend_handles_labels(), strict=True))
    if panel.reference is not None or panel.running_total:
        # Bars rise from 0 and leave the top left free; a ratio's line runs high and leaves the bottom free.
        ax.legend(*handles, loc="upper left" if panel.kind == "bars" else "lower left", frameon=False, fontsize=8)
    ax.set_title(panel.title, loc="left", color=TEXT, fontsize=10, fontweight="bold")
    ax.set_facecolor(PANEL_BG)
    half_day = timedelta(hours=12)
    ax.set_xlim(days[0] - half_day, days[-1] + half_day)
    ax.xaxis.set_major_locator(mdates.DayLocator(bymonthday=(1, 5, 10, 15, 20, 25), tz=UTC))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d", tz=UTC))
    _value_axis(ax, panel.unit)
    ax.grid(True, color="#EBEBEC", linewidth=0.8)
    ax.set_axisbelow(True)


def _value_axis(ax: Axes, unit: str) -> None:
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}{' %' if unit == '%' else ''}"))
    ax.tick_params(labelsize=8, colors=MUTED, length=0)
    for spine in ax.spines.values():
        spine.set_color(PANEL_EDGE)
