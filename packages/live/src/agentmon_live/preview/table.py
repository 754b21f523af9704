"""The table panel: Prometheus's table frame, the panel's transformations, its sortBy, its coloured cells."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from agentmon_live.panelrun import Series
from agentmon_live.panelstyle import NO_VALUE, field_style, format_value, rgb, threshold_colour
from agentmon_live.preview.panels import MUTED, PANEL_BG, TEXT, Box, Canvas, Span, contrast

Cell = str | float | None
ROW_IN = 0.27  # Grafana's "sm" cell height, in inches at the preview's scale


def frame(panel: dict[str, Any], series: list[Series]) -> tuple[list[str], list[list[Cell]]]:
    """The fields and rows Grafana builds from an instant query with format table: Time, one field per
    label, Value. With several targets Grafana shows one frame at a time: options.frameIndex picks it."""
    refs = [t.get("refId", "") for t in panel.get("targets", [])]
    shown = refs[panel.get("options", {}).get("frameIndex", 0)] if refs else ""
    rows = [s for s in series if s.ref_id == shown] if len(refs) > 1 else series
    labels = sorted({name for s in rows for name in s.labels})
    fields = ["Time", *labels, "Value"]
    return fields, [[s.times[-1] if s.times else None, *(s.labels.get(n, "") for n in labels),
                     s.values[-1] if s.values else None] for s in rows]


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


def table(canvas: Canvas, box: Box, panel: dict[str, Any], series: list[Series], span: Span) -> None:
    fields, rows = organize(panel, *frame(panel, series))
    rows = sort_rows(panel, fields, rows)
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
