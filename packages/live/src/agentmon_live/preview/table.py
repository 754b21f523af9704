"""The table panel: its rows (Grafana's table frame, the panel's transformations and sortBy, shared with the demo
in agentmon_live.panelrun) drawn with its coloured cells."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agentmon_live.panelrun import Cell, Series, table_rows
from agentmon_live.panelstyle import NO_VALUE, field_style, format_value, rgb, threshold_colour
from agentmon_live.preview.panels import MUTED, PANEL_BG, TEXT, Box, Canvas, Span, contrast

ROW_IN = 0.27  # Grafana's "sm" cell height, in inches at the preview's scale


def table(canvas: Canvas, box: Box, panel: dict[str, Any], series: list[Series], span: Span) -> None:
    fields, rows = table_rows(panel, series)
    ax = canvas.add_axes(box.rect, label=f"content:{panel.get('id')}")
    ax.set_axis_off()
    if not rows:
        ax.text(0.5, 0.5, "No data", transform=ax.transAxes, ha="center", va="center", color=MUTED, fontsize=11)
        return
    styles = [field_style(panel, name) for name in fields]
    text = [[_text(value, name, style) for value, name, style in zip(row, fields, styles, strict=True)]
            for row in rows]
    colours = [[_background(value, style) for value, style in zip(row, styles, strict=True)] for row in rows]
    height = min(1.0, (len(rows) + 1) * ROW_IN / box.height_in)
    drawn = ax.table(cellText=text, colLabels=fields, cellColours=colours, colColours=["#F4F5F5"] * len(fields),
                     cellLoc="left", colLoc="left", bbox=(0, 1 - height, 1, height))
    drawn.auto_set_font_size(False)
    drawn.set_fontsize(9)
    for (row, column), cell in drawn.get_celld().items():
        cell.set_edgecolor("#D8D9DA")
        cell.PAD = 0.03
        if row == 0:
            cell.get_text().set_fontweight("bold")
        else:
            cell.get_text().set_color(_foreground(rows[row - 1][column], styles[column]))


def _text(value: Cell, name: str, style: Any) -> str:
    if name == "Time" and isinstance(value, float):
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float) or value is None:
        return format_value(value, style.unit, style.decimals)
    return str(value)


def _colour(value: Cell, style: Any) -> str:
    number = value if isinstance(value, float) else None
    return rgb(threshold_colour(number, style.steps, none=NO_VALUE))


def _background(value: Cell, style: Any) -> str:
    return _colour(value, style) if style.cell_type == "color-background" else PANEL_BG


def _foreground(value: Cell, style: Any) -> str:
    if style.cell_type == "color-background":
        return contrast(_colour(value, style))
    return _colour(value, style) if style.cell_type == "color-text" else TEXT
