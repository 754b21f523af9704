"""What the preview draws for known values, without a Prometheus: the gauge's threshold markers and value colour at
each step's boundary (at, just below, just above), and text that stays readable on coloured table cells. Read from
the drawing's own artists (gids, wedge angles, cell colours), which the PNG is made of.

The main dashboard's success gauge (min 0, max 100): red below 90, yellow from 90, green from 95 (a value equal to
a step's value takes that step's colour, as Grafana's thresholds do). The arc runs clockwise over 240 degrees from
210 (lower left, the minimum) to -30 (lower right, the maximum): a value v is at 210 - 2.4 v degrees, so 90 is at
-6, 95 at -18, 98 at -25.2 and 100 at -30. The error table's cells: green below 1 %, yellow from 1 %, red from 5 %.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from agentmon_live.panelrun import Series, panel_by_title
from agentmon_live.preview.panels import Box, Span, gauge
from agentmon_live.preview.table import table

REPO = Path(__file__).resolve().parents[3]
MAIN = json.loads((REPO / "dashboards/agentmon-system-health.json").read_text())
# Grafana's named colours (public/app/core/utils/colors: the classic palette the dashboards name)
RED, YELLOW, GREEN = "#F2495C", "#FADE2A", "#73BF69"
WHITE, DARK = "#FFFFFF", "#24292E"  # the two text colours: white, and the preview's (Grafana's light theme) text


def drawn_gauge(value: float) -> Figure:
    figure = Figure(figsize=(4, 3))
    panel = panel_by_title(MAIN, "Enhancement Success Rate")
    gauge(figure, Box(0, 0, 1, 1, 4, 3), panel, [Series({}, [value], [0.0])], Span(0, 1))
    return figure


def artists(figure: Figure, gid: str) -> list:
    (ax,) = figure.axes
    return [p for p in [*ax.patches, *ax.texts] if p.get_gid() == gid]


def test_the_gauge_marks_each_threshold_band_on_its_outer_ring():
    markers = [(p.get_facecolor()[:3], p.theta1, p.theta2) for p in artists(drawn_gauge(98.0), "gauge-threshold")]
    assert markers == [(to_rgb(RED), pytest.approx(-6), pytest.approx(210)),
                       (to_rgb(YELLOW), pytest.approx(-18), pytest.approx(-6)),
                       (to_rgb(GREEN), pytest.approx(-30), pytest.approx(-18))]


@pytest.mark.parametrize(("value", "colour", "text"), [
    (89.99, RED, "89.99%"), (90.0, YELLOW, "90.00%"), (90.01, YELLOW, "90.01%"),
    (94.99, YELLOW, "94.99%"), (95.0, GREEN, "95.00%"), (95.01, GREEN, "95.01%"),
])
def test_the_gauge_takes_a_steps_colour_from_the_steps_value_on(value, colour, text):
    figure = drawn_gauge(value)
    (arc,) = artists(figure, "gauge-value")
    (label,) = artists(figure, "gauge-text")
    assert (arc.get_facecolor()[:3], label.get_text(), to_rgb(label.get_color())) == \
        (to_rgb(colour), text, to_rgb(colour))
    assert (arc.theta1, arc.theta2) == (pytest.approx(210 - 2.4 * value), 210)


def drawn_table(error_rates: dict[str, float]) -> dict[str, tuple[str, tuple, tuple]]:
    """tenant -> (cell text, cell colour, text colour) of the Error Rate % column."""
    figure = Figure(figsize=(6, 3))
    panel = panel_by_title(MAIN, "Error Rate by Tenant")
    series = [Series({"tenant_id": tenant}, [rate], [0.0]) for tenant, rate in error_rates.items()]
    table(figure, Box(0, 0, 1, 1, 6, 3), panel, series, Span(0, 1))
    cells = figure.axes[0].tables[0].get_celld()
    rows = 1 + max(r for r, _ in cells)
    return {cells[r, 0].get_text().get_text(): (cells[r, 1].get_text().get_text(), cells[r, 1].get_facecolor()[:3],
                                                to_rgb(cells[r, 1].get_text().get_color())) for r in range(1, rows)}


def test_error_cells_change_colour_at_each_steps_value():
    rows = drawn_table({"a": 0.99, "b": 1.0, "c": 4.99, "d": 5.0, "e": 5.01})
    assert {tenant: (text, colour) for tenant, (text, colour, _) in rows.items()} == {
        "a": ("0.99%", to_rgb(GREEN)), "b": ("1.00%", to_rgb(YELLOW)), "c": ("4.99%", to_rgb(YELLOW)),
        "d": ("5.00%", to_rgb(RED)), "e": ("5.01%", to_rgb(RED))}


def wcag_contrast(one: str, other: str) -> float:
    """WCAG 2's contrast ratio: (L1 + 0.05) / (L2 + 0.05) of the relative luminances, lighter first."""
    def luminance(colour: str) -> float:
        r, g, b = ((c / 12.92) if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(colour))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_cell_text_is_white_only_where_white_reaches_3_to_1():
    """WCAG 2 contrast ratios, worked by hand: white on red 3.6, on green 2.2, on yellow 1.4 (the dark text: 4.1,
    6.6, 10.9). Grafana's theme writes white text on a coloured background when white reaches 3:1 (WCAG's minimum
    for large and bold text) and its dark text otherwise: white on red, dark on green and on yellow."""
    assert [round(wcag_contrast(WHITE, c), 1) for c in (RED, GREEN, YELLOW)] == [3.6, 2.2, 1.4]
    rows = drawn_table({"green": 0.5, "yellow": 2.0, "red": 20.0})
    assert {tenant: text_colour for tenant, (_, _, text_colour) in rows.items()} == {
        "green": to_rgb(DARK), "yellow": to_rgb(DARK), "red": to_rgb(WHITE)}
