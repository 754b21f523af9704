"""Prometheus-style durations ("15s", "1m", "2h") as seconds, and back: shared by the loader and the generators."""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^(\d+)(ms|s|m|h|d|w)$")


def duration_seconds(text: str) -> float:
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r}")
    return int(match.group(1)) * _UNITS[match.group(2)]


def promql_duration(seconds: float) -> str:
    """The shortest single-unit PromQL duration: 60 -> '1m', 75 -> '75s', 0.5 -> '500ms'."""
    ms = round(seconds * 1000)
    if ms <= 0:
        raise ValueError(f"not a positive duration: {seconds!r} s")
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"
