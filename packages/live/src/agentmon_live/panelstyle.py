"""How a panel's field config styles a value: its unit, decimals, thresholds and threshold colour, and a
series' fixed colour.

Shared by the terminal demo and the dashboard previews, so both colour a number the way the dashboard says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

# Grafana's named colours (its default theme's visualization palette) for the names dashboards use.
GRAFANA_COLOURS = {
    "green": "#73BF69", "dark-green": "#37872D", "semi-dark-green": "#56A64B", "light-green": "#96D98D",
    "yellow": "#FADE2A", "dark-yellow": "#E0B400", "semi-dark-yellow": "#F2CC0C", "light-yellow": "#FFEE52",
    "red": "#F2495C", "dark-red": "#C4162A", "semi-dark-red": "#E02F44", "light-red": "#FF7383",
    "orange": "#FF9830", "dark-orange": "#FA6400", "semi-dark-orange": "#FF780A", "light-orange": "#FFB357",
    "blue": "#5794F2", "dark-blue": "#1F60C4", "semi-dark-blue": "#3274D9", "light-blue": "#8AB8FF",
    "purple": "#B877D9", "dark-purple": "#8F3BB8", "semi-dark-purple": "#A352CC", "light-purple": "#CA95E5",
    "transparent": "#00000000", "text": "#24292E",
}
NO_VALUE = "#8E8E8E"  # Grafana greys out a value it has no colour for


@dataclass(frozen=True)
class FieldStyle:
    """A field's display settings after the panel's defaults and matching overrides."""

    steps: list[dict[str, Any]]
    unit: str = "none"
    decimals: int | None = None
    cell_type: str = "auto"  # table cells: auto, color-background, color-text
    fixed_colour: str | None = None  # color mode fixed: the field is drawn in this colour, not the palette's


def field_style(panel: dict[str, Any], field_name: str | None = None) -> FieldStyle:
    """The style of `field_name` (overrides matched by name), or of the panel's single value field when
    None (every override applies: the panel shows one value)."""
    defaults = panel.get("fieldConfig", {}).get("defaults", {})
    props = {"thresholds": defaults.get("thresholds", {}), "unit": defaults.get("unit", "none"),
             "decimals": defaults.get("decimals"), "custom.cellOptions": defaults.get("custom", {}).get("cellOptions"),
             "color": defaults.get("color")}
    for override in panel.get("fieldConfig", {}).get("overrides", []):
        matcher = override.get("matcher", {})
        if field_name is None or (matcher.get("id") == "byName" and matcher.get("options") == field_name):
            props.update({p["id"]: p["value"] for p in override.get("properties", [])})
    cell, colour = props["custom.cellOptions"] or {}, props["color"] or {}
    return FieldStyle(steps=props["thresholds"].get("steps", []), unit=props["unit"], decimals=props["decimals"],
                      cell_type=cell.get("type", "auto"),
                      fixed_colour=colour.get("fixedColor") if colour.get("mode") == "fixed" else None)


def thresholds_and_unit(panel: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    style = field_style(panel)
    return style.steps, style.unit


def threshold_colour(value: float | None, steps: list[dict[str, Any]], none: str = "grey50") -> str:
    """The colour name of the highest step at or below `value` (the first step's value is null: -inf)."""
    colour = none
    if value is None or math.isnan(value):
        return colour
    for step in steps:
        if step["value"] is None or value >= step["value"]:
            colour = step["color"]
    return colour


def rgb(colour: str) -> str:
    """A Grafana colour name (or a CSS colour / hex code, passed through) as something matplotlib draws."""
    return GRAFANA_COLOURS.get(colour, colour)


_SUFFIX = {"percent": "%", "s": " s", "ms": " ms", "reqps": " req/s", "ops": " ops/s", "bytes": " B"}


def format_value(value: float | None, unit: str, decimals: int | None = None) -> str:
    """The value as a panel shows it: `decimals` places (or a sensible default) and the unit's suffix."""
    if value is None or math.isnan(value):
        return "No data"
    if unit == "percentunit":  # a ratio: Grafana shows 0.02 as 2 %
        value, unit = value * 100, "percent"
    if decimals is None:
        decimals = 0 if float(value).is_integer() else 2 if abs(value) < 100 else 1
    return f"{value:.{decimals}f}{_SUFFIX.get(unit, '')}"
