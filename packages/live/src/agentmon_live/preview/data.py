"""The numbers a preview shows: each panel's queries run as Grafana runs them (the panel runner), against a
Prometheus at a URL, or the simulator with a local Prometheus, live (scraping in real time) or backfilled
(the whole range simulated at once and loaded with promtool: same seed and time, same numbers)."""

from __future__ import annotations

import json
import math
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from agentmon_live.demo import COMPOSE_PROMETHEUS, Traffic, local_prometheus_config, simulation_from
from agentmon_live.grafana import ALL, QueryWindow, seconds
from agentmon_live.panelrun import run_panel
from agentmon_live.preview.panels import PanelResult
from agentmon_live.prometheus import PrometheusClient, PrometheusServer, QueryError, find_binary
from agentmon_simulator import Simulation, parse_incident
from agentmon_simulator.server import TICK_SECONDS, serve

LIVE_SCRAPE = "5s"  # the live simulator is scraped often, so the first numbers come sooner (as in the demo)


def selection(dashboard: dict[str, Any], chosen: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """Each variable the dashboard defines -> the chosen values, else the dashboard's current value."""
    picked = {}
    for variable in dashboard.get("templating", {}).get("list", []):
        current = variable.get("current", {}).get("value", ALL)
        values = chosen.get(variable["name"]) or ([current] if isinstance(current, str) else current)
        picked[variable["name"]] = tuple(values)
    return picked


def query_dashboard(client: PrometheusClient, dashboard: dict[str, Any], variables: Mapping[str, Sequence[str]],
                    range_seconds: float, end: float, scrape_interval: str) -> list[PanelResult]:
    """One result per panel (rows and panels without targets: empty); a query Prometheus rejects becomes the
    panel's error, as Grafana shows it in the panel."""
    results = []
    for panel in dashboard.get("panels", []):
        if not panel.get("targets"):
            results.append(PanelResult([]))
            continue
        try:
            results.append(PanelResult(run_panel(client, dashboard, panel, selection=variables,
                                                 range_seconds=range_seconds, end=end,
                                                 scrape_interval=scrape_interval)))
        except QueryError as exc:
            results.append(PanelResult([], error=str(exc)))
    return results


def complete(results: Sequence[PanelResult]) -> bool:
    """Every panel with queries has at least one number."""
    return all(any(not math.isnan(v) for s in r.series for v in s.values) or r.error for r in results)


@contextmanager
def live_simulator(root: Path, traffic: Traffic) -> Iterator[PrometheusServer]:
    """The simulator in a thread and a local Prometheus scraping it with the compose stack's prometheus.yml,
    as `agentmon demo` runs them; stopped on exit."""
    find_binary("prometheus")
    stop, ready, port = threading.Event(), threading.Event(), []
    thread = threading.Thread(target=serve, daemon=True, kwargs=dict(
        simulation=simulation_from(traffic), host="127.0.0.1", port=0, stop=stop,
        on_ready=lambda p: (port.append(p), ready.set())))
    thread.start()
    try:
        if not ready.wait(10):
            raise RuntimeError("the simulator did not start within 10 s")
        with tempfile.TemporaryDirectory(prefix="agentmon-preview-") as work:
            config = Path(work) / "prometheus.yml"
            config.write_text(json.dumps(local_prometheus_config(
                (root / COMPOSE_PROMETHEUS).read_text(), f"127.0.0.1:{port[0]}", LIVE_SCRAPE)))
            with PrometheusServer(config_file=config, storage=Path(work) / "data") as server:
                yield server
    finally:
        stop.set()
        thread.join(timeout=10)


def backfill_warmup(range_seconds: float, scrape_interval: str) -> int:
    """Seconds of history before the range, so the first points' rate windows are full."""
    window = QueryWindow.for_range(range_seconds, scrape_interval)
    return int(max(300.0, 2 * window.rate_interval_seconds))


@contextmanager
def backfilled(traffic: Traffic, range_seconds: float, end: float, scrape_interval: str) -> Iterator[PrometheusServer]:
    """A local Prometheus holding the simulated traffic of the whole range ending at `end`, one sample per
    scrape interval, written with promtool: no waiting, and the same inputs give the same numbers.
    An incident's @Ns counts from the start of the range."""
    promtool, step = find_binary("promtool"), int(seconds(scrape_interval))
    find_binary("prometheus")
    warmup = backfill_warmup(range_seconds, scrape_interval)
    last = int(end) // step * step
    first = (last - int(range_seconds) - warmup) // step * step
    with tempfile.TemporaryDirectory(prefix="agentmon-preview-") as work:
        source = Path(work) / "history.om"
        with source.open("w") as out:
            write_openmetrics(_simulation(traffic, shift=last - int(range_seconds) - first), first, last, step, out)
        subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet", str(source),
                        str(Path(work) / "data")], check=True, capture_output=True)
        config = Path(work) / "prometheus.yml"
        config.write_text(f"global:\n  scrape_interval: {scrape_interval}\nscrape_configs: []\n")
        with PrometheusServer(config_file=config, storage=Path(work) / "data") as server:
            yield server


def _simulation(traffic: Traffic, shift: float) -> Simulation:
    """The traffic's simulation with each incident delayed by `shift` seconds (the warm-up)."""
    plain = simulation_from(replace(traffic, incidents=()))
    incidents = tuple(replace(i, after_seconds=i.after_seconds + shift)
                      for i in (parse_incident(text, traffic.limits) for text in traffic.incidents))
    return Simulation(plain.profiles, incidents, noise=traffic.noise, seed=traffic.seed)


def write_openmetrics(simulation: Simulation, first: int, last: int, step: int, out: TextIO) -> None:
    """Advance the simulation in the live simulator's ticks, take every sample once per scrape interval,
    timestamped, and write them grouped by metric family as OpenMetrics requires."""
    families: dict[str, tuple[str, list[str]]] = {}
    ticks = round(step / TICK_SECONDS)
    for at in range(first, last + 1, step):
        for _ in range(ticks if at > first else 0):
            simulation.tick(TICK_SECONDS)
        for metric in simulation.metrics.collect():
            lines = families.setdefault(metric.name, (metric.type, []))[1]
            lines += [f"{s.name}{_labels(s.labels)} {s.value!r} {at}\n" for s in metric.samples]
    for name, (kind, lines) in families.items():
        out.write(f"# TYPE {name} {kind}\n")
        out.writelines(lines)
    out.write("# EOF\n")


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    escaped = (f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
               for k, v in labels.items())
    return "{" + ",".join(escaped) + "}"
