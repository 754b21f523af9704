"""`agentmon report`: a tenant's SLO over a calendar month (UTC), from Prometheus, as Markdown with PNG charts.

`history` reads the raw counter samples of the month and turns them into exact per-minute counts (no
extrapolation, counter resets handled); `figures` computes the month's numbers, the daily series and the
incident windows from those counts (pure); `document` writes the Markdown; `command` ties them together and
writes the folder atomically. The charts are drawn by `agentmon_live.preview.chart`, in the previews' style.
"""

from __future__ import annotations

from pathlib import Path

DEFAULT_PROMETHEUS = "http://127.0.0.1:9090"  # the compose stack's Prometheus, where it publishes its port
DEFAULT_OUTPUT = Path("build/reports")
