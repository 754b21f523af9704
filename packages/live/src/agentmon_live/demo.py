"""The metrics simulator as a server, and the terminal demo (the panels of the main dashboard).

The demo needs no Docker: it runs the simulator and a local `prometheus` binary on 127.0.0.1, scraping with
the compose stack's own prometheus.yml (target rewritten), and evaluates the main dashboard's own queries.
"""

from __future__ import annotations

import json
import math
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text
from ruamel.yaml import YAML

from agentmon_config import load_platform, load_simulator_profile
from agentmon_live.grafana import ALL
from agentmon_live.owned import scratch_dir
from agentmon_live.panelrun import Cell, Series, run_panel, table_rows
from agentmon_live.panelstyle import threshold_colour as _colour
from agentmon_live.panelstyle import thresholds_and_unit as _thresholds_and_unit
from agentmon_live.prometheus import PrerequisiteMissing, PrometheusServer, find_binary
from agentmon_live.rules import local_rule_file
from agentmon_simulator import Limits, Simulation, TenantProfile, default_profiles, parse_incident
from agentmon_simulator.server import serve

COMPOSE_PROMETHEUS = Path("compose/prometheus.yml")
PLATFORM_CONFIG = Path("config/platform.yaml")
MAIN_DASHBOARD = Path("dashboards/agentmon-system-health.json")
SIMULATOR_TARGET = "simulator:8000"
out = Console(highlight=False)


@dataclass(frozen=True)
class Traffic:
    """What the simulator serves: a profile file, or seeded healthy profiles for the named tenants, measured
    against `limits` (the configuration's thresholds), with incidents that cross them."""

    tenants: tuple[str, ...]
    limits: Limits
    profile: Path | None = None
    seed: int = 42
    noise: float = 0.1
    incidents: tuple[str, ...] = ()


def simulation_from(traffic: Traffic) -> Simulation:
    if traffic.profile:
        profiles = tuple(TenantProfile(tenant=name, **settings)
                         for name, settings in load_simulator_profile(traffic.profile).items())
    else:
        profiles = default_profiles(traffic.tenants, traffic.limits, traffic.seed)
    incidents = tuple(parse_incident(text, traffic.limits) for text in traffic.incidents)
    return Simulation(profiles, incidents, noise=traffic.noise, seed=traffic.seed)


def simulate(traffic: Traffic, host: str, port: int) -> int:
    """Serve the simulation on host:port until SIGINT/SIGTERM."""
    simulation = simulation_from(traffic)

    def ready(bound: int) -> None:
        tenants = ", ".join(p.tenant for p in simulation.profiles)
        out.print(f"simulator serving http://{host}:{bound}/metrics for {tenants} (Ctrl-C stops)", markup=False)

    serve(simulation, host, port, on_ready=ready)
    out.print("simulator stopped")
    return 0


def local_prometheus_config(compose_config: str, target: str, scrape_interval: str,
                            rule_file: Path | None = None) -> dict[str, Any]:
    """The compose stack's prometheus.yml, scraping `target` instead of the compose simulator service, and
    loading `rule_file` (the recording rules the dashboards read) instead of the compose mount."""
    config = YAML(typ="safe", pure=True).load(compose_config)
    config["global"]["scrape_interval"] = config["global"]["evaluation_interval"] = scrape_interval
    config["rule_files"] = [str(rule_file)] if rule_file else []
    config.pop("alerting", None)  # the local demo runs no Alertmanager
    for job in config["scrape_configs"]:
        for static in job.get("static_configs", []):
            static["targets"] = [target if t == SIMULATOR_TARGET else t for t in static["targets"]]
    return config


@dataclass(frozen=True)
class PanelValue:
    title: str
    rows: list[tuple[str, float | None, str]]  # (label, value, colour)
    unit: str


def panel_values(server: PrometheusServer, dashboard: dict[str, Any], tenants: Sequence[str],
                 scrape_interval: str, end: float) -> list[PanelValue]:
    values = []
    for panel in dashboard["panels"]:
        results = run_panel(server, dashboard, panel, selection={"tenant_id": list(tenants)},
                            range_seconds=3600, end=end, scrape_interval=scrape_interval)
        steps, unit = _thresholds_and_unit(panel)
        if panel["type"] == "table":  # the rows in the order the panel's sortBy gives them in Grafana
            rows = [_key_and_value(row) for row in table_rows(panel, results)[1]]
        else:
            rows = [("", _last(results[0]) if results else None)]
        values.append(PanelValue(panel["title"], [(label, v, _colour(v, steps)) for label, v in rows], unit))
    return values


def _key_and_value(row: list[Cell]) -> tuple[str, float | None]:
    """A table row as one demo line: its first column (the key, a tenant) and its last (the value), in the
    order the panel's organize transformation gives its columns; NaN (no traffic) as no value."""
    key, value = row[0], row[-1]
    return str(key), value if isinstance(value, float) and not math.isnan(value) else None


def _last(series: Series) -> float | None:
    finite = [v for v in series.values if v == v]  # drop NaN (no traffic in the window)
    return finite[-1] if finite else None


def _format(value: float | None, unit: str) -> str:
    if value is None:
        return "no data"
    return {"percent": f"{value:.2f} %", "s": f"{value:.1f} s"}.get(unit, f"{value:.0f}")


def render_table(values: list[PanelValue], tenants: Sequence[str], waited: float) -> Table:
    selection = "All tenants" if list(tenants) == [ALL] else ", ".join(tenants)
    # Text, not str: rich would read brackets in tenant names or panel titles as markup.
    table = Table(title=Text(f"AI Agents - System Health ({selection}; data for {waited:.0f} s)"),
                  title_justify="left")
    table.add_column("Panel")
    table.add_column("Value", justify="right")
    for panel in values:
        for i, (label, value, colour) in enumerate(panel.rows):
            name = Text(panel.title if i == 0 else "")
            cell = Text(f"{label + ': ' if label else ''}{_format(value, panel.unit)}", style=f"bold {colour}")
            table.add_row(name, cell)
    return table


@dataclass(frozen=True)
class Display:
    """What the demo shows and for how long."""

    tenants: tuple[str, ...] = (ALL,)
    scrape_interval: str = "5s"
    refresh: float = 5.0
    duration: float = 0.0  # 0: until Ctrl-C
    once: bool = False


class Stopped(Exception):
    """SIGTERM arrived: unwind through every cleanup (temporary folder, prometheus, simulator)."""


@contextmanager
def sigterm_unwinds() -> Iterator[None]:
    """SIGTERM's default action ends the process on the spot, skipping every `finally` and leaving the
    temporary folder and prometheus behind; raise Stopped instead. Once: a second SIGTERM acts as usual."""
    def stop(*_: object) -> None:
        signal.signal(signal.SIGTERM, previous)
        raise Stopped

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def demo(root: Path, traffic: Traffic, display: Display) -> int:
    """Run until Ctrl-C, SIGTERM, --duration or --once; every exit removes the temporary folder."""
    find_binary("prometheus")  # fail fast, with the install hint, before starting anything
    dashboard = json.loads(_repository_file(root, MAIN_DASHBOARD, "run `agentmon build` first"))
    scrape_config = _repository_file(root, COMPOSE_PROMETHEUS, "the demo scrapes as the compose stack does")
    simulation = simulation_from(traffic)
    simulated = [p.tenant for p in simulation.profiles]
    unknown = [t for t in display.tenants if t != ALL and t not in simulated]
    if unknown or not display.tenants:
        named = f" {unknown[0]}: not simulated" if unknown else ": no tenant named"
        raise ValueError(f"--tenant{named} (simulated: {', '.join(simulated)})")
    # The generated rules, paced to the demo's scrape interval so numbers appear within seconds.
    rule_doc = local_rule_file(load_platform(root / PLATFORM_CONFIG), display.scrape_interval)
    try:
        with sigterm_unwinds():
            return _demo(simulation, dashboard, scrape_config, rule_doc, display)
    except (Stopped, KeyboardInterrupt):
        out.print("demo stopped")
        return 0


def _repository_file(root: Path, path: Path, hint: str) -> str:
    try:
        return (root / path).read_text()
    except FileNotFoundError:
        raise PrerequisiteMissing(f"{root / path} not found: {hint}; run from the repository root or pass "
                                  "--root") from None


@dataclass(frozen=True)
class LocalStack:
    """The simulator and a local Prometheus scraping it (with the recording rules loaded)."""

    simulator_port: int
    prometheus: PrometheusServer


@contextmanager
def local_stack(simulation: Simulation, scrape_config: str, scrape_interval: str, rule_doc: dict[str, Any],
                kind: str) -> Iterator[LocalStack]:
    """The simulator in a thread and a local Prometheus scraping it with the compose stack's prometheus.yml
    (target and interval rewritten) and `rule_doc` as its rule file, in a temporary folder named for `kind` and
    this process (owned.scratch_dir). Every exit (Stopped and KeyboardInterrupt included) stops Prometheus and
    the simulator and removes the folder; a SIGKILL leaves the folder to the next command's sweep."""
    stop, port_ready = threading.Event(), threading.Event()
    port: list[int] = []
    simulator = threading.Thread(target=serve, daemon=True, kwargs=dict(
        simulation=simulation, host="127.0.0.1", port=0, stop=stop,
        on_ready=lambda p: (port.append(p), port_ready.set())))
    simulator.start()
    try:
        if not port_ready.wait(10):
            raise RuntimeError("the simulator did not start within 10 s")
        with scratch_dir(kind) as work:
            config, rules = Path(work) / "prometheus.yml", Path(work) / "agentmon.rules.yml"
            rules.write_text(json.dumps(rule_doc))
            config.write_text(json.dumps(local_prometheus_config(
                scrape_config, f"127.0.0.1:{port[0]}", scrape_interval, rules)))
            with PrometheusServer(config_file=config, storage=Path(work) / "data") as server:
                yield LocalStack(port[0], server)
    finally:
        stop.set()
        simulator.join(timeout=10)


def _demo(simulation: Simulation, dashboard: dict[str, Any], scrape_config: str, rule_doc: dict[str, Any],
          display: Display) -> int:
    out.print(f"starting the simulator and prometheus (scrape every {display.scrape_interval})", markup=False)
    with local_stack(simulation, scrape_config, display.scrape_interval, rule_doc, "demo") as stack:
        out.print(f"simulator on 127.0.0.1:{stack.simulator_port}; prometheus on {stack.prometheus.url}; "
                  "first numbers after two scrapes", markup=False)
        return _show(stack.prometheus, dashboard, list(display.tenants), display)


def _show(server: PrometheusServer, dashboard: dict[str, Any], tenants: list[str], display: Display) -> int:
    started = time.monotonic()

    def snapshot() -> tuple[list[PanelValue], Table]:
        values = panel_values(server, dashboard, tenants, display.scrape_interval, time.time())
        return values, render_table(values, tenants, time.monotonic() - started)

    if display.once:
        deadline = started + 120
        while True:
            values, table = snapshot()
            complete = all(v is not None for p in values for _, v, _ in p.rows)
            if complete or time.monotonic() > deadline:
                out.print(table)
                return 0 if complete else 1
            time.sleep(1)
    try:
        with Live(Group(snapshot()[1]), console=out, refresh_per_second=1) as live:
            while not display.duration or time.monotonic() - started < display.duration:
                time.sleep(display.refresh)
                live.update(Group(snapshot()[1]))
    except KeyboardInterrupt:
        pass
    return 0
