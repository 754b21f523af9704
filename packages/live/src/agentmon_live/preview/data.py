"""The numbers a preview shows: each panel's queries run as Grafana runs them (the panel runner), against a
Prometheus at a URL, or the simulator with a local Prometheus, live (scraping in real time) or backfilled
(the whole range simulated at once and loaded with promtool: same seed and time, same numbers). Either way the
local Prometheus records the recording rules the dashboards read."""

from __future__ import annotations

import json
import math
import re
import subprocess
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from agentmon_config import PlatformConfig
from agentmon_live.demo import COMPOSE_PROMETHEUS, Traffic, local_stack, simulation_from
from agentmon_live.grafana import ALL, QueryWindow, seconds
from agentmon_live.owned import die_with_parent, scratch_dir
from agentmon_live.panelrun import run_panel
from agentmon_live.preview.panels import PanelResult
from agentmon_live.prometheus import PrometheusClient, PrometheusServer, QueryError, find_binary
from agentmon_live.rules import backfill, local_rule_file, longest_window, rule_levels
from agentmon_simulator import Simulation, parse_incident
from agentmon_simulator.server import TICK_SECONDS

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
def live_simulator(root: Path, traffic: Traffic, config: PlatformConfig) -> Iterator[PrometheusServer]:
    """The simulator and a local Prometheus scraping it with the compose stack's prometheus.yml and the
    recording rules, as `agentmon demo` runs them; stopped on exit."""
    find_binary("prometheus")
    scrape_config = (root / COMPOSE_PROMETHEUS).read_text()
    rule_doc = local_rule_file(config, LIVE_SCRAPE)
    with local_stack(simulation_from(traffic), scrape_config, LIVE_SCRAPE, rule_doc, "preview") as stack:
        yield stack.prometheus


def backfill_warmup(range_seconds: float, scrape_interval: str, rule_window: float) -> int:
    """Seconds of raw history before the range: the recording rules' own window (`rule_window`, raw samples
    before their first evaluation), then the panels' rate window over the recorded series, twice over."""
    window = QueryWindow.for_range(range_seconds, scrape_interval)
    return int(rule_window + max(300.0, 2 * window.rate_interval_seconds))


def levels_read(dashboards: Sequence[dict[str, Any]], config: PlatformConfig, scrape_interval: str) -> int:
    """How many backfill passes the dashboards' panels need: the deepest level of a recorded series they read (1 for
    the main and tenant dashboards; the Tenant SLOs dashboard reads the SLO metadata, recorded in the last)."""
    exprs = " ".join(t.get("expr", "") for board in dashboards for p in board.get("panels", [])
                     for t in p.get("targets", []))
    needed = 1
    for n, level in enumerate(rule_levels(local_rule_file(config, scrape_interval)), start=1):
        names = {r["record"] for group in level["groups"] for r in group["rules"]}
        if any(re.search(f"{re.escape(name)}(?![\\w:])", exprs) for name in names):
            needed = n
    return needed


@contextmanager
def backfilled(traffic: Traffic, config: PlatformConfig, range_seconds: float, end: float,
               scrape_interval: str, levels: int = 1) -> Iterator[PrometheusServer]:
    """A local Prometheus holding the simulated traffic of the whole range ending at `end`, one sample per
    scrape interval, written with promtool, and the recording rules evaluated over it, as an operator
    backfills them (docs/operations/recording-rules.md): no waiting, and the same inputs give the same numbers.
    An incident's @Ns counts from the start of the range."""
    find_binary("prometheus")  # the first prerequisite named, as in every mode
    promtool, step = find_binary("promtool"), int(seconds(scrape_interval))
    # The rules the panels read: those of the first `levels` backfill passes (levels_read). The warm-up covers the
    # first pass' windows only: the SLI and SLO rules read recorded series over days, and over a picture's hour they
    # count what the hour holds.
    passes = rule_levels(local_rule_file(config, scrape_interval))
    rule_doc = _merged(passes[:levels])
    rule_window = longest_window(passes[0])
    last = int(end) // step * step
    first = (last - int(range_seconds) - backfill_warmup(range_seconds, scrape_interval, rule_window)) // step * step
    with scratch_dir("preview") as work:
        storage = Path(work) / "data"
        import_openmetrics(shifted(traffic, shift=last - int(range_seconds) - first), first, last, step, storage,
                           promtool)
        config_file = Path(work) / "prometheus.yml"
        config_file.write_text(f"global:\n  scrape_interval: {scrape_interval}\nscrape_configs: []\n")
        rules = Path(work) / "agentmon.rules.yml"
        rules.write_text(json.dumps(rule_doc))
        # The rules' first evaluation once their window holds raw samples; blocks move in while Prometheus is
        # stopped, and the restarted one serves raw and recorded series together.
        with PrometheusServer(config_file=config_file, storage=storage) as raw:
            blocks = backfill(rules, raw.url, str(first + math.ceil(rule_window)), str(last), Path(work) / "blocks")
        for block in blocks:
            block.rename(storage / block.name)
        with PrometheusServer(config_file=config_file, storage=storage) as server:
            yield server


def _merged(passes: list[dict[str, Any]]) -> dict[str, Any]:
    """The rule files of several passes as one: each group once, in first-seen order, its rules in pass order."""
    groups: dict[str, dict[str, Any]] = {}
    for level in passes:
        for group in level["groups"]:
            groups.setdefault(group["name"], {**group, "rules": []})["rules"] += group["rules"]
    return {"groups": list(groups.values())}


def shifted(traffic: Traffic, shift: float) -> Simulation:
    """The traffic's simulation with each incident delayed by `shift` seconds (the warm-up)."""
    plain = simulation_from(replace(traffic, incidents=()))
    incidents = tuple(replace(i, after_seconds=i.after_seconds + shift)
                      for i in (parse_incident(text, traffic.limits) for text in traffic.incidents))
    return Simulation(plain.profiles, incidents, noise=traffic.noise, seed=traffic.seed)


# promtool writes a TSDB block per 2 hours of history, and Debian's promtool 2.42 reads its whole input file once for
# every block: a simulated month in one file was read about 360 times. One file per block is read once.
BLOCK_SECONDS = 2 * 3600


# A block's samples: the family's `# TYPE` line(s) -> its sample lines, in time order.
Families = dict[str, list[str]]


def import_openmetrics(simulation: Simulation, first: int, last: int, step: int, storage: Path, promtool: str,
                       tick_seconds: float = TICK_SECONDS) -> None:
    """The simulation's samples from `first` to `last` imported into `storage` block by block (import_blocks), so
    only a block's samples are ever held at once."""
    import_blocks(_blocks(simulation, first, last, step, tick_seconds), storage, promtool)


def import_blocks(blocks: Iterable[tuple[int, Families]], storage: Path, promtool: str,
                  work: Path | None = None) -> None:
    """Each (block number, families) as an OpenMetrics file of its own (in `work`, default beside `storage`),
    imported with `promtool tsdb create-blocks-from openmetrics` into `storage`, then removed."""
    work = work or storage.parent / f"{storage.name}-openmetrics"
    work.mkdir(parents=True)
    for number, families in blocks:
        source = work / f"block-{number}.om"
        with source.open("w") as out:
            for header, lines in families.items():
                out.write(header)
                out.writelines(lines)
            out.write("# EOF\n")
        subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet", str(source), str(storage)],
                       check=True, capture_output=True, preexec_fn=die_with_parent())
        source.unlink()
    work.rmdir()


def _blocks(simulation: Simulation, first: int, last: int, step: int,
            tick_seconds: float) -> Iterator[tuple[int, Families]]:
    """(block number, its samples by metric family) for each 2-hour block the range touches, in time order."""
    families: Families = {}
    ticks = round(step / tick_seconds)
    block = first // BLOCK_SECONDS
    for at in range(first, last + 1, step):
        if at // BLOCK_SECONDS != block:
            yield block, families
            families, block = {}, at // BLOCK_SECONDS
        for _ in range(ticks if at > first else 0):
            simulation.tick(tick_seconds)
        for metric in simulation.metrics.collect():
            lines = families.setdefault(f"# TYPE {metric.name} {metric.type}\n", [])
            lines += [f"{s.name}{_labels(s.labels)} {s.value!r} {at}\n" for s in metric.samples]
    yield block, families


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    escaped = (f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
               for k, v in labels.items())
    return "{" + ",".join(escaped) + "}"
