"""What Grafana does to a panel query before Prometheus sees it: interval maths and variable interpolation.

Used by validate (to parse queries as Prometheus will receive them), by the terminal demo and by the
end-to-end tests, so all three run the dashboards' own queries the way Grafana would.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from agentmon_config.durations import duration_seconds as seconds

# Grafana's interval rounding table (pkg/gtime / rangeutil roundInterval): (upper bound ms, interval ms).
_ROUNDING = (
    (15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500), (1_500, 1_000), (3_500, 2_000),
    (7_500, 5_000), (12_500, 10_000), (17_500, 15_000), (25_000, 20_000), (45_000, 30_000),
    (90_000, 60_000), (210_000, 120_000), (450_000, 300_000), (750_000, 600_000), (1_050_000, 900_000),
    (1_500_000, 1_200_000), (2_700_000, 1_800_000), (5_400_000, 3_600_000), (9_000_000, 7_200_000),
    (16_200_000, 10_800_000), (24_300_000, 21_600_000), (64_800_000, 43_200_000),
    (604_800_000, 86_400_000), (1_814_400_000, 604_800_000), (3_628_800_000, 2_592_000_000),
)
# A typical panel is ~1000 px wide; Grafana asks for one point per pixel.
DEFAULT_MAX_DATA_POINTS = 1000
ALL = "$__all"



def round_interval_ms(interval_ms: float) -> int:
    for upper, rounded in _ROUNDING:
        if interval_ms < upper:
            return rounded
    return 31_536_000_000


def promql_duration(secs: float) -> str:
    ms = round(secs * 1000)
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


@dataclass(frozen=True)
class QueryWindow:
    """The intervals Grafana derives for one panel query over a time range."""

    range_seconds: float
    interval_seconds: float  # $__interval, also the range query step
    rate_interval_seconds: float  # $__rate_interval

    @classmethod
    def for_range(cls, range_seconds: float, scrape_interval: str,
                  max_data_points: int = DEFAULT_MAX_DATA_POINTS) -> QueryWindow:
        scrape = seconds(scrape_interval)
        # The datasource's timeInterval (scrape interval) is the floor for $__interval.
        interval = max(round_interval_ms(range_seconds * 1000 / max_data_points) / 1000, scrape)
        # Grafana: $__rate_interval = max($__interval + scrape interval, 4 * scrape interval).
        rate_interval = max(interval + scrape, 4 * scrape)
        return cls(range_seconds, interval, rate_interval)


def format_variable(values: Sequence[str], all_value: str | None) -> str:
    """Grafana's regex formatting of a multi-value variable used inside =~"..."."""
    if list(values) == [ALL] and all_value is not None:
        return all_value
    escaped = [re.sub(r"([\\^$.|?*+()\[\]{}])", r"\\\\\1", v) for v in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")


def interpolate(expr: str, window: QueryWindow, variables: Mapping[str, str]) -> str:
    """Replace Grafana built-ins and dashboard variables (already formatted) in a query."""
    builtins = {
        "__rate_interval": promql_duration(window.rate_interval_seconds),
        "__interval": promql_duration(window.interval_seconds),
        "__range": promql_duration(window.range_seconds),
    }
    values = {**builtins, **variables}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in values:
            raise KeyError(f"unknown variable ${name}")
        return values[name]

    return _VARIABLE.sub(replace, expr)
