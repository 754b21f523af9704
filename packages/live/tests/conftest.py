"""Shared fixtures: real Prometheus servers on 127.0.0.1 holding days of known per-tenant traffic, with agentmon's
generated recording rules (rules/agentmon.rules.yml) backfilled over it by promtool, as an operator would.

The main history (`history`) has what a wrong query or rule would get wrong:
- acme is served by two scrape targets (instance api-0 and api-1) with different traffic, whose sums are acme's
  numbers: a rule or panel that forgets to sum shows two values instead of one;
- globex's traffic changed 30 minutes before "now" (GLOBEX_BEFORE until CHANGE_BEFORE_END seconds before the end,
  then its TRAFFIC entry): a window longer than the panel's shows a mix, so a wrong window gives a wrong number.
The rates are constant on each side of the change, so the expected values in the tests are plain arithmetic on the
tables below (derivations are in the tests).
"""

from __future__ import annotations

import json
import math
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from agentmon_live.prometheus import PrometheusServer
from agentmon_live.rules import backfill
from agentmon_testkit import Blocks, add_sample, import_openmetrics, prerequisite

REPO = Path(__file__).resolve().parents[3]
RULES = REPO / "rules" / "agentmon.rules.yml"
SCRAPE_SECONDS = 15
HEADROOM_SECONDS = 2 * 3600  # history before the widest range, for the widest rate window
HISTORY_SECONDS = 7 * 86400 + HEADROOM_SECONDS
BUCKETS = (1.0, 5.0, 10.0, 30.0, 60.0, 120.0, math.inf)
COUNTER_BASE = 1e6  # counters start high so rate() extrapolation never meets the counter's zero point


@dataclass(frozen=True)
class TenantTraffic:
    tenant: str
    requests_per_second: float
    failure_ratio: float
    latency_share: dict[float, float]  # bucket upper bound -> share of requests in that bucket
    queue_depth: int
    active_workers: int
    instance: str = "api-0"  # the scrape target serving this traffic


@dataclass(frozen=True)
class Incident:
    """During [start, end) the tenant's traffic is `traffic` instead of its usual one (times on the scrape grid)."""

    start: int
    end: int
    traffic: TenantTraffic


TRAFFIC = (
    # acme as a whole: 10 req/s, 2 % failures, half in (1, 5], half in (5, 10], 30 jobs, 4 workers.
    TenantTraffic("acme", 5.0, 0.04, {5.0: 1.0}, queue_depth=10, active_workers=3, instance="api-0"),
    TenantTraffic("acme", 5.0, 0.0, {10.0: 1.0}, queue_depth=20, active_workers=1, instance="api-1"),
    TenantTraffic("globex", 4.0, 0.20, {30.0: 0.25, 120.0: 0.75}, queue_depth=80, active_workers=2),
    # Never failed: it has no status="failure" series at all, as on a real platform.
    TenantTraffic("initech", 1.0, 0.0, {60.0: 1.0}, queue_depth=5, active_workers=0),
)


# globex before the change: twice the requests, 5 % failures, all in (10, 30], 20 jobs, 1 worker.
GLOBEX_BEFORE = TenantTraffic("globex", 8.0, 0.05, {30.0: 1.0}, queue_depth=20, active_workers=1)
CHANGE_BEFORE_END = 1800  # on every range's step grid (15, 20, 60 and 600 s)


def _le(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else f"{bound:g}"


def _cumulative(t: TenantTraffic, bound: float) -> float:
    return t.requests_per_second * sum(share for upper, share in t.latency_share.items() if upper <= bound)


def _series(usual: TenantTraffic, has_failures: bool) -> Iterator[tuple[str, str, str, object]]:
    """(family, sample line prefix, kind, value of a traffic) for every series the recording rules read: for
    counters the value is the increase per second, for gauges the value itself. (The contract's _sum, _count and
    enhancement_success_rate series are left out: nothing reads them, and promtool's import time grows with
    every series.)"""
    tenant = f'instance="{usual.instance}",tenant_id="{usual.tenant}"'
    yield ("enhancement_requests_total", f'enhancement_requests_total{{{tenant},status="success"}}', "counter",
           lambda t: t.requests_per_second * (1 - t.failure_ratio))
    if has_failures:
        yield ("enhancement_requests_total", f'enhancement_requests_total{{{tenant},status="failure"}}', "counter",
               lambda t: t.requests_per_second * t.failure_ratio)
    for bound in BUCKETS:
        yield ("enhancement_duration_seconds", f'enhancement_duration_seconds_bucket{{{tenant},le="{_le(bound)}"}}',
               "counter", lambda t, b=bound: _cumulative(t, b))
    yield "queue_depth", f"queue_depth{{{tenant}}}", "gauge", lambda t: float(t.queue_depth)
    yield "worker_active_count", f"worker_active_count{{{tenant}}}", "gauge", lambda t: float(t.active_workers)


FAMILIES = {
    "enhancement_requests_total": ("enhancement_requests", "counter"),
    "enhancement_duration_seconds": ("enhancement_duration_seconds", "histogram"),
    "queue_depth": ("queue_depth", "gauge"),
    "worker_active_count": ("worker_active_count", "gauge"),
}


def _overlap(incident: Incident, start: int, t: int) -> int:
    return max(0, min(incident.end, t) - max(incident.start, start))


Spans = tuple[tuple[int, int], ...]  # [start, end] periods holding samples, in order


def _samples(kind: str, value, usual: TenantTraffic, incidents: list[Incident], spans: Spans
             ) -> Iterator[tuple[int, float]]:
    """Counters in closed form (no accumulated rounding), gauges as the traffic in force at each scrape."""
    start = spans[0][0]
    for t in (t for first, last in spans for t in range(first, last + 1, SCRAPE_SECONDS)):
        if kind == "counter":
            extra = sum((value(i.traffic) - value(usual)) * _overlap(i, start, t) for i in incidents)
            yield t, COUNTER_BASE + value(usual) * (t - start) + extra
        else:
            now = next((i.traffic for i in incidents if i.start <= t < i.end), usual)
            yield t, value(now)


def _add_traffic(blocks: Blocks, traffic: tuple[TenantTraffic, ...], spans: Spans,
                 incidents: tuple[Incident, ...]) -> None:
    for usual in traffic:
        own = [i for i in incidents if (i.traffic.tenant, i.traffic.instance) == (usual.tenant, usual.instance)]
        has_failures = any(t.failure_ratio for t in (usual, *(i.traffic for i in own)))
        for family, prefix, kind, value in _series(usual, has_failures):
            header = "# TYPE {} {}\n".format(*FAMILIES[family])
            for t, v in _samples(kind, value, usual, own, spans):
                add_sample(blocks, header, f"{prefix} {v:.3f} {t}\n", t)


def _add_text(blocks: Blocks, text: str) -> None:
    """OpenMetrics text (families, each after its # lines; every sample with its timestamp) into `blocks`."""
    header, in_header = "", False
    for line in text.splitlines(keepends=True):
        if line.startswith("#"):
            header, in_header = (header if in_header else "") + line, True
            continue
        in_header = False
        add_sample(blocks, header, line, int(float(line.split()[-1])))


def openmetrics_blocks(traffic: tuple[TenantTraffic, ...], spans: Spans, incidents: tuple[Incident, ...] = (),
                       extra: str = "") -> Blocks:
    """Every series, one sample per scrape interval within the spans, grouped by metric family as OpenMetrics
    requires; then the families of `extra` (OpenMetrics text without # EOF). Split by promtool block
    (agentmon_testkit.import_openmetrics)."""
    blocks: Blocks = {}
    _add_traffic(blocks, traffic, spans, incidents)
    _add_text(blocks, extra)
    return blocks


@dataclass(frozen=True)
class History:
    server: PrometheusServer
    end: int  # time of the newest sample: "now" for every query
    raw_only: Path  # a copy of the data before the rules were backfilled: a Prometheus that lacks the rules


def _prometheus_config(work: Path) -> Path:
    config = work / "prometheus.yml"
    config.write_text(f"global:\n  scrape_interval: {SCRAPE_SECONDS}s\nscrape_configs: []\n")
    return config


def history_end() -> int:
    """"Now" for a history: on every Grafana step grid, so range points fall on known times."""
    return int(time.time()) // 600 * 600


def build_history(work: Path, traffic: tuple[TenantTraffic, ...], spans: Spans,
                  incidents: tuple[Incident, ...] = (), rules: Path = RULES, extra: str = "") -> Iterator[History]:
    """Raw history from OpenMetrics (with the families of `extra`), then the recording rules of `rules` (the
    generated ones) backfilled over it with promtool, the blocks moved into the data directory and Prometheus
    restarted: the operator's procedure, step by step."""
    promtool = prerequisite("promtool")
    prerequisite("prometheus")
    import_openmetrics(promtool, openmetrics_blocks(traffic, spans, incidents, extra), work / "openmetrics",
                       work / "raw")
    shutil.copytree(work / "raw", work / "data")
    config = _prometheus_config(work)
    with PrometheusServer(config_file=config, storage=work / "data") as source_server:
        # From an hour into each span: every rate window then holds a span's samples only.
        blocks = [block for start, end in spans for block in backfill(
            rules, source_server.url, str(start + HEADROOM_SECONDS // 2), str(end), work / "blocks")]
    assert blocks, "promtool created no blocks"
    for block in blocks:
        block.rename(work / "data" / block.name)
    with PrometheusServer(config_file=config, storage=work / "data") as server:
        yield History(server=server, end=spans[-1][1], raw_only=work / "raw")


# The dashboards whose panels the 7-day history's tests run: the main one and each tenant's.
DASHBOARDS_ON_HISTORY = ("agentmon-system-health.json", "*/tenant-*.json")


def _mentions(text: str, series: str) -> bool:
    return re.search(rf"(?<![\w:]){re.escape(series)}(?![\w:])", text) is not None


def rules_the_dashboards_read(work: Path, dashboards: tuple[str, ...] = DASHBOARDS_ON_HISTORY) -> Path:
    """The generated rule file cut to the rules whose series those dashboards read, and the rules those read, in
    their groups and order, under the same file name (promtool offsets evaluations by a hash of it).

    Why: backfilling all the generated rules over 7 days took 6 minutes of a loaded 2-core machine, 5 of them
    for the SLI rules, which no panel reads; their values are checked over the short `sli_history` instead."""
    doc = YAML(typ="safe").load(RULES.read_text())
    rules = [rule for group in doc["groups"] for rule in group["rules"] if "record" in rule]
    text = "".join(path.read_text() for pattern in dashboards for path in (REPO / "dashboards").glob(pattern))
    wanted = {rule["record"] for rule in rules if _mentions(text, rule["record"])}
    while more := {r["record"] for r in rules for w in rules if w["record"] in wanted
                   and _mentions(w["expr"], r["record"])} - wanted:
        wanted |= more
    read = [{**group, "rules": [r for r in group["rules"] if r.get("record") in wanted]} for group in doc["groups"]]
    cut = work / "dashboards-read" / RULES.name
    cut.parent.mkdir(parents=True)
    cut.write_text(json.dumps({"groups": [group for group in read if group["rules"]]}))
    return cut


@pytest.fixture(scope="session")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    end = history_end()
    start, change = end - HISTORY_SECONDS, end - CHANGE_BEFORE_END
    work = tmp_path_factory.mktemp("history")
    yield from build_history(work, TRAFFIC, ((start, end),), (Incident(start, change, GLOBEX_BEFORE),),
                             rules=rules_the_dashboards_read(work))


# The SLI history: every generated rule backfilled (all passes) over the last 6 hours and a quarter, just enough
# for the 6-hour window, with traffic that differs between the short and the long windows: globex changed 3 hours
# before "now" (GLOBEX_BEFORE, then its TRAFFIC entry), so the 5m to 2h windows read only the new traffic and
# the 6h window half of each.
SLI_CHANGE_BEFORE_END = 3 * 3600
SLI_HISTORY_SECONDS = 6 * 3600 + 900 + HEADROOM_SECONDS // 2  # build_history backfills from an hour in


@pytest.fixture(scope="session")
def sli_history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    end = history_end()
    start, change = end - SLI_HISTORY_SECONDS, end - SLI_CHANGE_BEFORE_END
    yield from build_history(tmp_path_factory.mktemp("sli"), TRAFFIC, ((start, end),),
                             (Incident(start, change, GLOBEX_BEFORE),))


# A second, smaller history for what constant traffic cannot show: a 5-minute incident in the middle of a 7-day
# range (hooli: failures, slow requests, a queue backlog and no workers), and a tenant without any requests.
# Samples only around the incident and before "now": all the tests read, and promtool's time grows with samples.
HOOLI = TenantTraffic("hooli", 2.0, 0.0, {5.0: 1.0}, queue_depth=10, active_workers=3)
HOOLI_INCIDENT = TenantTraffic("hooli", 2.0, 0.5, {120.0: 1.0}, queue_depth=400, active_workers=0)
DORMANT = TenantTraffic("dormant", 0.0, 0.0, {5.0: 1.0}, queue_depth=0, active_workers=1)


def incident_point(end: int) -> int:
    """The 7-day view's plotted point (10-minute steps) in the middle of the range, whose step holds the incident."""
    return (end - 7 * 86400 // 2) // 600 * 600


@dataclass(frozen=True)
class IncidentHistory(History):
    point: int  # the plotted point whose step holds the incident


@pytest.fixture(scope="session")
def incident_history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IncidentHistory]:
    end = history_end()
    point = incident_point(end)
    # 300 s, well inside the step's window, on the scrape grid.
    incident = Incident(point - 420, point - 120, HOOLI_INCIDENT)
    spans = ((point - HEADROOM_SECONDS - 3600, point + 3600), (end - HEADROOM_SECONDS - 3600, end))
    for history in build_history(tmp_path_factory.mktemp("incident"), (HOOLI, DORMANT), spans, (incident,)):
        yield IncidentHistory(history.server, history.end, history.raw_only, point)


@pytest.fixture(scope="session")
def raw_only(incident_history: IncidentHistory) -> Iterator[PrometheusServer]:
    """A Prometheus holding the same raw history without the recording rules."""
    work = incident_history.raw_only.parent
    with PrometheusServer(config_file=_prometheus_config(work), storage=incident_history.raw_only) as server:
        yield server
