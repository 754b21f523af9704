"""`agentmon querybench`: what the main dashboard's panels cost Prometheus, raw queries vs recorded series.

Three measurements, each against a real Prometheus on 127.0.0.1 (the `prometheus` and `promtool` binaries):

1. growth: samples each panel reads, raw (the queries before recording rules) and recorded, at 10 and 100 tenants
   over 24 h, All and 3 tenants. Synthetic raw history (constant traffic, the simulator's 12 latency buckets,
   15 s scrapes) imported with promtool, the generated rules backfilled over it with promtool (`agentmon
   backfill`'s code). Generated once, cached outside the repository.
2. scale: samples and latency per panel at 1,000 tenants over 7 days, All and 3 tenants. Importing 1,000 tenants x
   7 days of raw samples takes hours here, so this history holds the recorded series only, written directly at
   the rules' 1-minute resolution: 7 days for the platform aggregate and the 3 selected tenants (all that these
   views read over 7 days), the last hour for every other tenant (all the error table reads under All, and every
   tenant is in the index). The raw queries are not run there: their cost is extrapolated from the growth runs.
3. rules: each rule group's evaluation time (prometheus_rule_group_last_duration_seconds, the maximum seen) with
   the simulator serving --rules-tenants tenants (2,000), scraped every 15 s by a Prometheus loading every generated
   rule file (recording rules, each tenant shard's limits, alerts) for a configuration where each of these tenants
   has its own SLO, latency SLA, queue threshold and contact (`agentmon bench --distinct`'s tenants).
4. sli: the SLI group (agentmon-sli), whose windows reach 3 days, which minutes of live scraping cannot fill:
   every rule's expression evaluated as an instant query at the end of 3 days + 1 hour of recorded request rates
   of 1,000 tenants (written directly at the rules' 1-minute resolution, like scale's), samples and median time
   per rule; Prometheus evaluates a group's rules one after the other, so the group costs their sum.
5. slo: the Tenant SLOs dashboard's panels over 30 days at 1,000 tenants, All and 3 tenants, and each rule of the
   SLO groups (agentmon-slo, agentmon-slo-hourly, agentmon-slo-period) as an instant query. The history holds only
   what they read: the hourly rates the 30-day rules sum, once an hour for 30 days + 1 hour (as agentmon-slo-hourly
   records them), the last hour of the 1-minute rates the hourly rules sum, and the SLO metadata the panels read
   (instant queries: the last minutes suffice at any range) every minute for the last 10 minutes.

Samples are Prometheus' own count (`stats=all`: totalQueryableSamples); latency is the wall time of the HTTP
query from this process, the median of several runs after one warm-up. A whole refresh runs every panel query
one after the other (Grafana runs them in parallel, so a refresh takes at most that long).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import hashlib
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from agentmon_bundle.serialize import yaml_bytes
from agentmon_cli import bench, traffic
from agentmon_config import Contact, PlatformConfig, Tenant
from agentmon_config.recorded import (
    ALL_TENANTS,
    BUCKET_RATE,
    BUDGET_REMAINING,
    BURN_RATE,
    ERROR_BUDGET,
    MEMBER_LABEL,
    PERIOD_ERROR_RATE,
    PERIOD_OBSERVATION_RATE,
    PERIOD_REQUEST_RATE,
    PERIOD_SUCCESS_RATIO,
    PERIOD_WITHIN_SLA_RATE,
    PERIOD_WITHIN_SLA_RATIO,
    RECORDED,
    REQUEST_RATE,
    SLO_INFO,
    SLO_OBJECTIVE,
    WITHIN_SLA_RATE,
    hourly,
    latency_observation_rate,
    sli_error_rate,
    sli_error_ratio,
    sli_request_rate,
    within_sla_rate,
)
from agentmon_config.slo import SLI_COARSE_STEP, SLI_WINDOWS
from agentmon_dashboards import main_dashboard, to_json_dict
from agentmon_dashboards.slo import slo_overview
from agentmon_live.demo import local_prometheus_config
from agentmon_live.grafana import QueryWindow, format_variable, interpolate
from agentmon_live.owned import die_with_parent, scratch_dir
from agentmon_live.prometheus import PrometheusServer, find_binary
from agentmon_live.rules import backfill
from agentmon_rules import ALERTS_FILE, RULE_FILE, recording_document, recording_files, render_rules
from agentmon_simulator import LATENCY_BUCKETS, Limits, Simulation, default_profiles
from agentmon_simulator.server import serve

SCRAPE = 15
DAY = 86400
CACHE_VERSION = "2"  # bump when the synthetic histories change
CACHED_HISTORY_RETENTION = "100y"
SLI_GROUP = "agentmon-sli"
SLI_HISTORY_SECONDS = 3 * DAY + 3600  # the longest SLI window, and an hour
PANEL_SAMPLES_MAX, PANEL_MEDIAN_MS_MAX, REFRESH_MS_MAX, RULE_GROUP_SECONDS_MAX = 500_000, 150.0, 300.0, 1.0
SELECTED = 3
# The main dashboard's queries before recording rules (commit b0f4ab7), for comparison; "All" sent `.+`.
RAW_QUERIES = {
    "Enhancement Success Rate": (True, '100 * (sum(rate(enhancement_requests_total{tenant_id=~"$tenant_id",status="success"}[$__rate_interval])) or 0 * sum(rate(enhancement_requests_total{tenant_id=~"$tenant_id"}[$__rate_interval]))) / sum(rate(enhancement_requests_total{tenant_id=~"$tenant_id"}[$__rate_interval]))'),  # noqa: E501
    "Active Celery Workers": (False, 'sum(worker_active_count{tenant_id=~"$tenant_id"})'),
    "Pending Enhancement Jobs in Queue": (False, 'sum(queue_depth{tenant_id=~"$tenant_id"})'),
    "p95 Enhancement Processing Latency": (False, 'histogram_quantile(0.95, sum by (le) (rate(enhancement_duration_seconds_bucket{tenant_id=~"$tenant_id"}[$__rate_interval])))'),  # noqa: E501
    "Error Rate by Tenant": (True, '100 * (sum by (tenant_id) (rate(enhancement_requests_total{tenant_id=~"$tenant_id",status="failure"}[$__rate_interval])) or 0 * sum by (tenant_id) (rate(enhancement_requests_total{tenant_id=~"$tenant_id"}[$__rate_interval]))) / sum by (tenant_id) (rate(enhancement_requests_total{tenant_id=~"$tenant_id"}[$__rate_interval]))'),  # noqa: E501
}
out = Console(highlight=False)


PARTS = ("growth", "scale", "rules", "sli", "slo")
SLO_GROUPS = ("agentmon-slo", "agentmon-slo-hourly", "agentmon-slo-period")
SLO_RANGE = 30 * DAY
SLO_RECENT_SECONDS = 600  # the SLO metadata's last minutes: all an instant query reads
FAST_BURNING_EVERY = 20  # every 20th tenant's fast-burn page fires
SLO_INPUTS_VERSION = "3"  # bump when write_slo_inputs changes
DOCS_OUTPUT = Path("docs/operations/query-cost.md")


def add_querybench_parser(commands: Any) -> None:
    p = commands.add_parser("querybench", help="measure the dashboard's query cost: raw vs recorded series")
    p.add_argument("--only", type=traffic.names_from(PARTS), default=PARTS,
                   help=f"comma-separated parts: {', '.join(PARTS)} (default: all)")
    p.add_argument("--runs", type=traffic.positive_count, default=7,
                   help="timed runs per query (median reported; default 7)")
    p.add_argument("--rules-seconds", type=traffic.positive_seconds, default=240.0,
                   help="how long the simulator is scraped for the rule timings (default 240)")
    p.add_argument("--rules-tenants", type=traffic.positive_count, default=2000,
                   help="tenants, each with its own limits and contact, for the rule timings (default 2000)")
    p.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "agentmon" / "querybench",
                   help="where generated histories are kept between runs (default ~/.cache/agentmon/querybench)")
    bench.add_output_options(p, DOCS_OUTPUT)
    p.set_defaults(run=run, needs_config=True)


# --- synthetic histories -------------------------------------------------------------------------------------

def tenant_names(count: int) -> list[str]:
    return [f"tenant-{i:04d}" for i in range(count)]


def _bucket_shares() -> list[float]:
    """Cumulative share of requests at or below each of the simulator's bucket bounds: a spread-out latency."""
    return [min(1.0, (i + 1) / (len(LATENCY_BUCKETS) - 2)) for i in range(len(LATENCY_BUCKETS))]


def _raw_series(tenant: str, index: int) -> Iterator[tuple[str, str, float, bool]]:
    """(family, series, value or slope per second, is_counter) of one tenant's raw contract series."""
    rate = 1.0 + index % 5
    for status, share in (("success", 0.98), ("failure", 0.02)):
        yield ("enhancement_requests", f'enhancement_requests_total{{tenant_id="{tenant}",status="{status}"}}',
               rate * share, True)
    for bound, share in zip(LATENCY_BUCKETS, _bucket_shares(), strict=True):
        le = "+Inf" if math.isinf(bound) else f"{bound:g}"
        yield ("enhancement_duration_seconds",
               f'enhancement_duration_seconds_bucket{{tenant_id="{tenant}",le="{le}"}}', rate * share, True)
    yield "queue_depth", f'queue_depth{{tenant_id="{tenant}"}}', float(10 + index % 20), False
    yield "worker_active_count", f'worker_active_count{{tenant_id="{tenant}"}}', float(index % 4), False


RAW_TYPES = {"enhancement_requests": "counter", "enhancement_duration_seconds": "histogram",
             "queue_depth": "gauge", "worker_active_count": "gauge"}


def write_raw(path: Path, tenants: int, start: int, end: int) -> None:
    families: dict[str, list[tuple[str, float, bool]]] = {}
    for index, tenant in enumerate(tenant_names(tenants)):
        for family, series, value, counter in _raw_series(tenant, index):
            families.setdefault(family, []).append((series, value, counter))
    times = range(start, end + 1, SCRAPE)
    with path.open("w") as out_file:
        for family, series_list in families.items():
            out_file.write(f"# TYPE {family} {RAW_TYPES[family]}\n")
            for series, value, counter in series_list:
                if counter:
                    out_file.writelines(f"{series} {1e6 + value * (t - start):.3f} {t}\n" for t in times)
                else:
                    out_file.writelines(f"{series} {value:g} {t}\n" for t in times)
        out_file.write("# EOF\n")


def _recorded_labels(name: str, tenant: str) -> Iterator[str]:
    if name == REQUEST_RATE.name:  # each tenant's series is a member of All, as the rule labels it
        member = "" if tenant == ALL_TENANTS else f',{MEMBER_LABEL}="{ALL_TENANTS}"'
        yield from (f'{{tenant_id="{tenant}",status="{s}"{member}}}' for s in ("success", "failure"))
    elif name.startswith("tenant_id_le:"):
        for bound in LATENCY_BUCKETS:
            yield f'{{tenant_id="{tenant}",le="{"+Inf" if math.isinf(bound) else f"{bound:g}"}"}}'
    else:
        yield f'{{tenant_id="{tenant}"}}'


def write_recorded(path: Path, tenants: list[str], full: set[str], start: int, recent: int, end: int) -> None:
    """Recorded series at 1-minute resolution: from `start` for the tenants in `full`, from `recent` for the rest."""
    with path.open("w") as out_file:
        for series in RECORDED:
            out_file.write(f"# TYPE {series.name} gauge\n")
            for tenant in tenants:
                first = start if tenant in full else recent
                for labels in _recorded_labels(series.name, tenant):
                    out_file.writelines(f"{series.name}{labels} 1 {t}\n" for t in range(first, end + 1, 60))
        out_file.write("# EOF\n")


def write_request_rates(path: Path, tenants: list[str], start: int, end: int) -> None:
    """What the SLI group reads, at the rules' 1-minute resolution for every tenant and the aggregate: the recorded
    request rates (both outcomes) and the SLI_COARSE_STEP rates (the 3-day rates sum them) from `start`; the other
    SLI rates (the ratios read them, as the group's rate rules write them just before) at `end`."""
    rates = {tenant: 1.0 + index % 5 for index, tenant in enumerate(tenants)}
    rates[ALL_TENANTS] = sum(rates.values())

    def family(name: str, series: dict[str, float], times: range) -> Iterator[str]:
        yield f"# TYPE {name} gauge\n"
        for labels, value in series.items():
            yield from (f"{name}{{{labels}}} {value:g} {t}\n" for t in times)

    every_minute, at_end = range(start, end + 1, 60), range(end, end + 1)
    with path.open("w") as out_file:
        out_file.writelines(family(REQUEST_RATE.name, {
            f'tenant_id="{tenant}",status="{status}"': rate * share
            for tenant, rate in rates.items() for status, share in (("success", 0.98), ("failure", 0.02))},
            every_minute))
        for window in SLI_WINDOWS:
            for series, share in ((sli_error_rate(window), 0.02), (sli_request_rate(window), 1.0)):
                out_file.writelines(family(series.name, {f'tenant_id="{t}"': r * share for t, r in rates.items()},
                                           every_minute if window == SLI_COARSE_STEP else at_end))
        out_file.write("# EOF\n")


def write_slo_inputs(path: Path, tenants: list[str], end: int) -> None:
    """What the Tenant SLOs dashboard and the SLO groups read (module docstring, part 5), for every tenant and the
    aggregate: 98 % success, 95 % within the SLA; SLO 99 %. The hourly rates once an hour for 30 days and an hour,
    as agentmon-slo-hourly records them; what the other rules and the panels read at the rules' 1-minute step, for
    the last hour (what the hourly rules sum) or the last minutes (what instant queries read)."""
    rates = {tenant: 1.0 + index % 5 for index, tenant in enumerate(tenants)}
    rates[ALL_TENANTS] = sum(rates.values())
    hours = range(end - SLO_RANGE - 3600, end + 1, 3600)
    recent = range(end - SLO_RECENT_SECONDS, end + 1, 60)
    every = {t: f'tenant_id="{t}"' for t in rates}
    own = {t: labels for t, labels in every.items() if t != ALL_TENANTS}

    def family(name: str, series: dict[str, float], times: Iterator[int] | range) -> Iterator[str]:
        times = list(times)
        yield f"# TYPE {name} gauge\n"
        for labels, value in series.items():
            yield from (f"{name}{{{labels}}} {value:g} {t}\n" for t in times)

    def per(labels: dict[str, str], value: Callable[[str], float]) -> dict[str, float]:
        return {text: value(t) for t, text in labels.items()}

    last_hour = range(end - 3600, end + 1, 60)
    with path.open("w") as out_file:
        for rate, share in ((sli_request_rate, 1.0), (sli_error_rate, 0.02), (within_sla_rate, 0.95),
                            (latency_observation_rate, 1.0)):
            out_file.writelines(family(hourly(rate("1h")).name, per(every, lambda t, v=share: rates[t] * v), hours))
        out_file.writelines(family(sli_request_rate("1h").name, per(every, rates.get), recent))
        out_file.writelines(family(REQUEST_RATE.name, {
            f'{labels},status="{status}"': rates[t] * share for t, labels in every.items()
            for status, share in (("success", 0.98), ("failure", 0.02))}, last_hour))
        out_file.writelines(family(WITHIN_SLA_RATE.name, per(every, lambda t: rates[t] * 0.95), last_hour))
        out_file.writelines(family(BUCKET_RATE.name, {f'{labels},le="+Inf"': rates[t] for t, labels in every.items()},
                                   last_hour))
        for series, value in ((PERIOD_REQUEST_RATE, 1.0), (PERIOD_ERROR_RATE, 0.02), (PERIOD_WITHIN_SLA_RATE, 0.95),
                              (PERIOD_OBSERVATION_RATE, 1.0)):
            out_file.writelines(family(series.name, per(every, lambda t, v=value: rates[t] * v), recent))
        for window in SLI_WINDOWS:
            out_file.writelines(family(sli_error_ratio(window).name, per(every, lambda t: 0.02), recent))
        for series, value in ((SLO_OBJECTIVE, 0.99), (ERROR_BUDGET, 0.01), (PERIOD_SUCCESS_RATIO, 0.98),
                              (BUDGET_REMAINING, -1.0), (PERIOD_WITHIN_SLA_RATIO, 0.95)):
            out_file.writelines(family(series.name, per(own, lambda t, v=value: v), recent))
        out_file.writelines(family(BURN_RATE.name, {f'{labels},window="{w}"': 2.0 for labels in own.values()
                                                    for w in SLI_WINDOWS}, recent))
        out_file.writelines(family(SLO_INFO.name, {f'{labels},display_name="{t}",slo="99",sla="120"': 1.0
                                                   for t, labels in own.items()}, recent))
        out_file.writelines(family("ALERTS", {
            f'alertname="AgentmonErrorBudgetBurnFast",alertstate="firing",severity="critical",{labels}': 1.0
            for i, labels in enumerate(own.values()) if i % FAST_BURNING_EVERY == 0}, recent))
        out_file.write("# EOF\n")


@dataclass(frozen=True)
class History:
    data: Path
    end: int
    tenants: list[str]


def _cached(cache: Path, name: str, build: Callable[[Path], int], tenants: list[str]) -> History:
    """A generated TSDB under the cache, built once; `build(work)` fills work/data and returns the end time."""
    folder = cache / f"v{CACHE_VERSION}-{name}"
    meta = folder / "history.json"
    if meta.exists():
        return History(folder / "data", json.loads(meta.read_text())["end"], tenants)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    end = build(folder)
    settle(folder, folder / "data")
    meta.write_text(json.dumps({"end": end}))
    return History(folder / "data", end, tenants)


def _import(promtool: str, source: Path, data: Path) -> None:
    subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet", str(source), str(data)],
                   check=True, preexec_fn=die_with_parent())
    source.unlink()


def raw_history(cache: Path, config: PlatformConfig, tenants: int, seconds: int, with_rules: bool = True) -> History:
    """Raw history, plus (with_rules) the generated rules backfilled over it exactly as an operator would. The cache
    is named by the rules' content: a history recorded by other rules is never measured as if recorded by these."""
    rule_text = yaml_bytes(recording_document(render_rules(config)))

    def build(work: Path) -> int:
        promtool = find_binary("promtool")
        end = int(time.time()) // 600 * 600
        start = end - seconds - 1800
        out.print(f"  generating {tenants} tenants x {seconds // 3600} h of raw samples (cached in {work})")
        write_raw(work / "raw.om", tenants, start, end)
        _import(promtool, work / "raw.om", work / "data")
        if not with_rules:
            return end
        rules = work / RULE_FILE
        rules.write_bytes(rule_text)
        with history_server(work, work / "data") as server:
            blocks = backfill(rules, server.url, str(start + 900), str(end), work / "blocks")
        for block in blocks:
            block.rename(work / "data" / block.name)
        return end

    rules_part = f"-rules-{hashlib.sha256(rule_text).hexdigest()[:12]}" if with_rules else ""
    name = f"raw-{tenants}-{seconds}{rules_part}"
    return _cached(cache, name, build, tenant_names(tenants))


def scale_history(cache: Path, tenants: int, seconds: int) -> History:
    names = [ALL_TENANTS, *tenant_names(tenants)]
    full = {ALL_TENANTS, *names[1:SELECTED + 1]}

    def build(work: Path) -> int:
        end = int(time.time()) // 600 * 600
        out.print(f"  generating recorded series for {tenants} tenants x {seconds // DAY} d (cached in {work})")
        write_recorded(work / "recorded.om", names, full, end - seconds - 3600, end - 3600, end)
        _import(find_binary("promtool"), work / "recorded.om", work / "data")
        return end

    return _cached(cache, f"recorded-{tenants}-{seconds}", build, names[1:])


def sli_history(cache: Path, tenants: int) -> History:
    names = tenant_names(tenants)

    def build(work: Path) -> int:
        end = int(time.time()) // 600 * 600
        out.print(f"  generating recorded request and SLI rates for {tenants} tenants x 3 d + 1 h (cached in {work})")
        write_request_rates(work / "rates.om", names, end - SLI_HISTORY_SECONDS, end)
        _import(find_binary("promtool"), work / "rates.om", work / "data")
        return end

    return _cached(cache, f"sli-{tenants}-{SLI_HISTORY_SECONDS}-{SLI_COARSE_STEP}-rates", build, names)


def slo_history(cache: Path, tenants: int) -> History:
    names = tenant_names(tenants)

    def build(work: Path) -> int:
        end = int(time.time()) // 3600 * 3600
        out.print(f"  generating the SLO inputs for {tenants} tenants x 30 d + 1 h, hourly (cached in {work})")
        write_slo_inputs(work / "slo.om", names, end)
        _import(find_binary("promtool"), work / "slo.om", work / "data")
        return end

    return _cached(cache, f"slo-{tenants}-{SLO_RANGE}-{SLO_INPUTS_VERSION}", build, names)


def history_server(work: Path, data: Path) -> PrometheusServer:
    """A Prometheus serving a cached history in place, never scraping."""
    config = work / "prometheus.yml"
    config.write_text(f"global:\n  scrape_interval: {SCRAPE}s\nscrape_configs: []\n")
    # Histories are cached for weeks: a retention longer than their age, or Prometheus deletes them on start.
    return PrometheusServer(config_file=config, storage=data, retention=CACHED_HISTORY_RETENTION)


def settle(work: Path, data: Path, timeout: float = 900) -> None:
    """Let Prometheus compact the imported blocks once (it compacts every minute), as a long-running server
    would have, so timed queries never meet a compaction or a pile of 2-hour blocks."""
    with history_server(work, data) as server, out.status("letting Prometheus compact the new history"):
        deadline, previous = time.monotonic() + timeout, -1.0
        while time.monotonic() < deadline:
            time.sleep(65)
            blocks = _metric(server.url, "prometheus_tsdb_blocks_loaded")
            if blocks == previous:
                return
            previous = blocks


def _metric(url: str, name: str) -> float:
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.rsplit(" ", 1)[1])
    return math.nan


# --- measuring ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cost:
    samples: int
    median_ms: float
    spread_ms: str = ""  # fastest-slowest of the timed runs: how far one run may stray from the median


def panel_queries(config: PlatformConfig) -> dict[str, tuple[bool, str]]:
    board = to_json_dict(main_dashboard(config))
    return {p["title"]: (bool(p["targets"][0].get("instant")), p["targets"][0]["expr"]) for p in board["panels"]}


def query_once(server: PrometheusServer, query: tuple[bool, str], variable: str, range_seconds: int,
               end: int) -> int:
    """Run one panel query as Grafana would send it; return the samples Prometheus read."""
    instant, expr = query
    window = QueryWindow.for_range(range_seconds, f"{SCRAPE}s")
    expr = interpolate(expr, window, {"tenant_id": variable})
    step = window.interval_seconds
    params = ({"query": expr, "time": end} if instant else
              {"query": expr, "start": math.floor((end - range_seconds) / step) * step,
               "end": math.floor(end / step) * step, "step": step})
    data = server.api("query" if instant else "query_range", stats="all", **params)
    return int(data["stats"]["samples"]["totalQueryableSamples"])


def measure(server: PrometheusServer, query: tuple[bool, str], variable: str, range_seconds: int, end: int,
            runs: int) -> Cost:
    """Samples read, and the median wall time of `runs` runs after one warm-up run."""
    samples = query_once(server, query, variable, range_seconds, end)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        query_once(server, query, variable, range_seconds, end)
        timings.append((time.perf_counter() - started) * 1000)
    if not timings:
        return Cost(samples, math.nan)
    return Cost(samples, statistics.median(timings), f"{min(timings):.1f}-{max(timings):.1f}")


def selections(tenants: list[str], raw: bool) -> dict[str, str]:
    return {"All": ".+" if raw else ALL_TENANTS,
            f"{SELECTED} tenants": format_variable(tenants[:SELECTED], None)}


# --- the three parts ------------------------------------------------------------------------------------------

def growth(root: Path, config: PlatformConfig, args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    recorded = panel_queries(config)
    for tenants in (10, 100):
        history = raw_history(args.cache, config, tenants, DAY)
        with scratch_dir("querybench") as work, \
                history_server(Path(work), history.data) as server:
            for title, query in recorded.items():
                for name, raw_variable in selections(history.tenants, raw=True).items():
                    variable = selections(history.tenants, raw=False)[name]
                    raw = (query_once(server, RAW_QUERIES[title], raw_variable, DAY, history.end)
                           if title in RAW_QUERIES else None)
                    rows.append({"tenants": tenants, "selection": name, "panel": title, "raw_samples": raw,
                                 "recorded_samples": query_once(server, query, variable, DAY, history.end)})
    return rows


def raw_week(config: PlatformConfig, args: argparse.Namespace) -> list[dict[str, Any]]:
    """The raw queries over 7 days at 10 tenants: the base of the 1,000-tenant raw estimate."""
    history = raw_history(args.cache, config, 10, 7 * DAY, with_rules=False)
    rows = []
    with scratch_dir("querybench") as work, \
            history_server(Path(work), history.data) as server:
        for title, query in RAW_QUERIES.items():
            for name, variable in selections(history.tenants, raw=True).items():
                rows.append({"tenants": 10, "selection": name, "panel": title,
                             "raw_samples": query_once(server, query, variable, 7 * DAY, history.end)})
    return rows


def scale(root: Path, config: PlatformConfig, args: argparse.Namespace) -> list[dict[str, Any]]:
    history = scale_history(args.cache, 1000, 7 * DAY)
    rows = []
    with scratch_dir("querybench") as work, \
            history_server(Path(work), history.data) as server:
        for name, variable in selections(history.tenants, raw=False).items():
            for title, query in panel_queries(config).items():
                cost = measure(server, query, variable, 7 * DAY, history.end, args.runs)
                rows.append({"selection": name, "panel": title, "samples": cost.samples,
                             "median_ms": round(cost.median_ms, 1), "spread_ms": cost.spread_ms})
            rows.append({"selection": name, "panel": "whole refresh (one query after another)",
                         "samples": sum(r["samples"] for r in rows if r["selection"] == name),
                         "median_ms": round(_refresh_ms(server, config, variable, history.end, args.runs), 1)})
    return rows


def _refresh_ms(server: PrometheusServer, config: PlatformConfig, variable: str, end: int, runs: int) -> float:
    queries = panel_queries(config).values()
    timings = []
    for i in range(runs + 1):
        started = time.perf_counter()
        for query in queries:
            query_once(server, query, variable, 7 * DAY, end)
        if i:
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def distinct_tenants(root: Path, count: int) -> tuple[Tenant, ...]:
    """`agentmon bench --distinct`'s tenants: each with its own SLO, SLA, queue threshold and contact."""
    tenants = []
    for i, tenant_id in enumerate(tenant_names(count)):
        limits = bench.distinct_limits(i)
        tenants.append(Tenant(source=root / "tenants" / tenant_id / "tenant.yaml", tenant_id=tenant_id,
                              display_name=f"Tenant {i}", success_rate_slo=float(limits["success_rate_slo"]),
                              p95_latency_sla_seconds=float(limits["p95_latency_sla_seconds"]),
                              queue_alert_threshold=int(limits["queue_alert_threshold"]),
                              owner_contact=Contact.of(str(limits["owner_contact"]))))
    return tuple(tenants)


def rule_timings(root: Path, config: PlatformConfig, args: argparse.Namespace) -> list[dict[str, Any]]:
    """The simulator serving --rules-tenants tenants, scraped by a Prometheus that loads every generated rule file
    for those tenants, each with its own limits."""
    config = dataclasses.replace(config, tenants=distinct_tenants(root, args.rules_tenants))
    limits = Limits(config.thresholds, config.tenants)
    simulation = Simulation(default_profiles(tuple(t.tenant_id for t in config.tenants), limits, seed=1), noise=0.1,
                            seed=1)
    stop, ready, port = threading.Event(), threading.Event(), []
    thread = threading.Thread(target=serve, daemon=True, kwargs=dict(
        simulation=simulation, host="127.0.0.1", port=0, stop=stop, on_ready=lambda p: (port.append(p), ready.set())))
    thread.start()
    ready.wait(30)
    worst: dict[str, dict[str, float]] = {}
    try:
        with scratch_dir("querybench") as work:
            rules = render_rules(config)
            for name in (*recording_files(rules), ALERTS_FILE):
                (Path(work) / name).write_bytes(yaml_bytes(rules[name]))
            prometheus_config = local_prometheus_config((root / "compose/prometheus.yml").read_text(),
                                                        f"127.0.0.1:{port[0]}", f"{SCRAPE}s",
                                                        Path(work) / "*.rules.yml")
            (Path(work) / "prometheus.yml").write_text(json.dumps(prometheus_config))
            with PrometheusServer(config_file=Path(work) / "prometheus.yml", storage=Path(work) / "data") as server:
                deadline = time.monotonic() + args.rules_seconds
                with out.status(f"scraping {args.rules_tenants:,} simulated tenants for {args.rules_seconds:.0f} s"):
                    while time.monotonic() < deadline:
                        time.sleep(SCRAPE)
                        for group, values in _rule_group_metrics(server.url).items():
                            previous = worst.setdefault(group, {})
                            for key, value in values.items():
                                previous[key] = max(previous.get(key, 0.0), value)
    finally:
        stop.set()
        thread.join(10)
    return [{"group": group, "max_seconds": round(v.get("duration", 0.0), 4), "samples": int(v.get("samples", 0))}
            for group, v in sorted(worst.items())]


def sli_costs(config: PlatformConfig, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Each rule of the SLI group, as an instant query at the end of 3 days of 1,000 tenants' request rates."""
    history = sli_history(args.cache, 1000)
    (group,) = (g for g in render_rules(config)[RULE_FILE]["groups"] if g["name"] == SLI_GROUP)
    rows = []
    with scratch_dir("querybench") as work, \
            history_server(Path(work), history.data) as server:
        for rule in group["rules"]:
            cost = measure(server, (True, rule["expr"]), "", 3600, history.end, args.runs)
            rows.append({"record": rule["record"], "samples": cost.samples, "median_ms": round(cost.median_ms, 1)})
    return rows


def slo_costs(config: PlatformConfig, args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    """The Tenant SLOs dashboard's panels (each target, one after another: Grafana runs them in parallel) over 30
    days, All and 3 tenants; then each rule of the SLO groups (but the per-tenant info rules: a constant each) as an
    instant query at the end."""
    history = slo_history(args.cache, 1000)
    board = to_json_dict(slo_overview(config))
    groups = [g for g in render_rules(config)[RULE_FILE]["groups"] if g["name"] in SLO_GROUPS]
    panels, rules = [], []
    with scratch_dir("querybench") as work, history_server(Path(work), history.data) as server:
        choices = {"All": ".+", f"{SELECTED} tenants": format_variable(history.tenants[:SELECTED], None)}
        for name, variable in choices.items():
            for panel in board["panels"]:
                costs = [measure(server, (True, t["expr"]), variable, SLO_RANGE, history.end, args.runs)
                         for t in panel["targets"]]
                panels.append({"selection": name, "panel": panel["title"], "queries": len(costs),
                               "samples": sum(c.samples for c in costs),
                               "median_ms": round(sum(c.median_ms for c in costs), 1)})
        for group in groups:
            for rule in group["rules"]:
                if rule["record"] == SLO_INFO.name:
                    continue
                cost = measure(server, (True, rule["expr"]), "", 3600, history.end, args.runs)
                rules.append({"group": group["name"], "record": rule["record"],
                              "labels": ",".join(f"{k}={v}" for k, v in (rule.get("labels") or {}).items()),
                              "samples": cost.samples, "median_ms": round(cost.median_ms, 1)})
    return {"panels": panels, "rules": rules}


def _rule_group_metrics(url: str) -> dict[str, dict[str, float]]:
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        text = response.read().decode()
    groups: dict[str, dict[str, float]] = {}
    for line in text.splitlines():
        for metric, key in (("prometheus_rule_group_last_duration_seconds", "duration"),
                            ("prometheus_rule_group_last_evaluation_samples", "samples")):
            if line.startswith(metric + "{"):
                group = line.split('rule_group="', 1)[1].split('"', 1)[0].rsplit(";", 1)[-1]
                groups.setdefault(group, {})[key] = float(line.rsplit(" ", 1)[1])
    return groups


# --- reporting ------------------------------------------------------------------------------------------------

def run(root: Path, config: PlatformConfig, args: argparse.Namespace) -> int:
    find_binary("prometheus")
    find_binary("promtool")
    parts = set(args.only)
    relative = bench.figures_file(args)
    results: dict[str, Any] = {"machine": _machine()}
    if "growth" in parts:
        out.print("[bold]growth[/]: samples per panel, raw vs recorded, 10 and 100 tenants over 24 h")
        results["growth"] = growth(root, config, args)
        bench.print_whole(out, growth_table(results["growth"]))
    if "scale" in parts:
        out.print("[bold]scale[/]: 1,000 tenants over 7 days (recorded series only; see the note)")
        results["scale"] = scale(root, config, args)
        out.print("[bold]raw reference[/]: the raw queries over 7 days at 10 tenants")
        results["raw_week"] = raw_week(config, args)
        bench.print_whole(out, scale_table(results["scale"], results["raw_week"]))
    if "rules" in parts:
        out.print(f"[bold]rules[/]: rule group evaluation with {args.rules_tenants:,} live tenants, each with its "
                  "own limits")
        results["rules"] = rule_timings(root, config, args)
        results["rules_tenants"] = args.rules_tenants
        bench.print_whole(out, rules_table(results["rules"], args.rules_tenants))
    if "sli" in parts:
        out.print("[bold]sli[/]: the SLI group's rules over 3 days of 1,000 tenants' recorded request rates")
        results["sli"] = sli_costs(config, args)
        bench.print_whole(out, sli_table(results["sli"]))
    if "slo" in parts:
        out.print("[bold]slo[/]: the Tenant SLOs dashboard and the SLO groups at 1,000 tenants over 30 days")
        results["slo"] = slo_costs(config, args)
        bench.print_whole(out, slo_panel_table(results["slo"]["panels"]))
        bench.print_whole(out, slo_rule_table(results["slo"]["rules"]))
    failed = verdicts(results)
    for line in failed:
        out.print(f"[red]over target[/]: {line}")
    results["machine"]["load_end"] = f"{bench.load_average():.1f}"
    write_report(root / relative, results, failed)
    out.print(f"figures written to {relative}", markup=False)
    out.print(f"histories cached in {args.cache}: {_megabytes(args.cache)} MB (kept for the next run; delete the "
              f"folder to free the space, the next run generates them again)", markup=False)
    return 1 if failed else 0


def _megabytes(folder: Path) -> int:
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6) if folder.is_dir() else 0


def _machine() -> dict[str, str]:
    version = subprocess.run([find_binary("prometheus"), "--version"], capture_output=True, text=True).stdout
    return {"date": datetime.date.today().isoformat(), "cores": str(os.cpu_count()),
            "load_start": f"{bench.load_average():.1f}",
            "python": platform.python_version(), "prometheus": version.split("\n", 1)[0].strip()}


def growth_table(rows: list[dict[str, Any]]) -> Table:
    t = Table(title="Samples read per panel over 24 h: raw queries vs recorded series")
    for column in ("tenants", "selection", "panel", "raw samples", "recorded samples"):
        t.add_column(column, justify="right" if "samples" in column or column == "tenants" else "left")
    for r in rows:
        t.add_row(str(r["tenants"]), r["selection"], r["panel"], _raw_cell(r), f"{r['recorded_samples']:,}")
    return t


def _raw_cell(row: dict[str, Any]) -> str:
    return "(new panel)" if row["raw_samples"] is None else f"{row['raw_samples']:,}"


def raw_estimate(week_rows: list[dict[str, Any]] | None, selection: str, panel: str) -> int | None:
    """Raw cost at 1,000 tenants x 7 days: measured at 10 tenants x 7 days, times 100 under All (raw cost grows
    linearly with tenants, as the growth table shows); 3 selected tenants read the same series at any count."""
    for r in week_rows or []:
        if (r["selection"], r["panel"]) == (selection, panel):
            return r["raw_samples"] * (100 if selection == "All" else 1)
    return None


def scale_table(rows: list[dict[str, Any]], week_rows: list[dict[str, Any]] | None) -> Table:
    t = Table(title="1,000 tenants over 7 days: recorded series (median of the timed runs)")
    for column in ("selection", "panel", "samples", "median ms", "fastest-slowest ms", "raw samples (extrapolated)"):
        t.add_column(column, justify="left" if column in ("selection", "panel") else "right")
    for r in rows:
        estimate = raw_estimate(week_rows, r["selection"], r["panel"])
        t.add_row(r["selection"], r["panel"], f"{r['samples']:,}", f"{r['median_ms']:.1f}", r.get("spread_ms", ""),
                  f"~{estimate:,}" if estimate else "")
    return t


def rules_table(rows: list[dict[str, Any]], tenants: int) -> Table:
    t = Table(title=f"Rule group evaluation, simulator serving {tenants:,} tenants, each with its own limits "
                    "(maximum seen)")
    for column in ("group", "last duration s (max)", "samples written"):
        t.add_column(column, justify="left" if column == "group" else "right")
    for r in rows:
        t.add_row(r["group"], f"{r['max_seconds']:.4f}", f"{r['samples']:,}")
    return t


def sli_table(rows: list[dict[str, Any]]) -> Table:
    t = Table(title=f"{SLI_GROUP}: each rule at the end of 3 days x 1,000 tenants (median of the timed runs)")
    for column in ("recorded series", "samples read", "median ms"):
        t.add_column(column, justify="left" if column == "recorded series" else "right")
    for r in [*rows, sli_total(rows)]:
        t.add_row(r["record"], f"{r['samples']:,}", f"{r['median_ms']:.1f}")
    return t


def slo_panel_table(rows: list[dict[str, Any]]) -> Table:
    t = Table(title="Tenant SLOs dashboard, 1,000 tenants over 30 days (median of the timed runs)")
    for column in ("selection", "panel", "queries", "samples", "median ms"):
        t.add_column(column, justify="left" if column in ("selection", "panel") else "right")
    for r in rows:
        t.add_row(r["selection"], r["panel"], str(r["queries"]), f"{r['samples']:,}", f"{r['median_ms']:.1f}")
    return t


def slo_rule_table(rows: list[dict[str, Any]]) -> Table:
    t = Table(title="SLO groups: each rule at the end of 30 days x 1,000 tenants (median of the timed runs)")
    for column in ("group", "recorded series", "samples read", "median ms"):
        t.add_column(column, justify="right" if column in ("samples read", "median ms") else "left")
    for r in [*rows, *slo_group_totals(rows)]:
        t.add_row(r["group"], _rule_name(r), f"{r['samples']:,}", f"{r['median_ms']:.1f}")
    return t


def _rule_name(row: dict[str, Any]) -> str:
    return f"{row['record']}{{{row['labels']}}}" if row.get("labels") else row["record"]


def slo_group_totals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"group": group, "record": "whole group (rule after rule)", "labels": "",
             "samples": sum(r["samples"] for r in rows if r["group"] == group),
             "median_ms": round(sum(r["median_ms"] for r in rows if r["group"] == group), 1)}
            for group in SLO_GROUPS if any(r["group"] == group for r in rows)]


def sli_total(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"record": "whole group (rule after rule)", "samples": sum(r["samples"] for r in rows),
            "median_ms": round(sum(r["median_ms"] for r in rows), 1)}


def verdicts(results: dict[str, Any]) -> list[str]:
    failed = []
    for r in results.get("scale", []):
        whole = r["panel"].startswith("whole refresh")
        if not whole and r["samples"] > PANEL_SAMPLES_MAX:
            failed.append(f"{r['selection']}: {r['panel']} reads {r['samples']:,} samples (> {PANEL_SAMPLES_MAX:,})")
        limit = REFRESH_MS_MAX if whole else PANEL_MEDIAN_MS_MAX
        if r["median_ms"] > limit:
            failed.append(f"{r['selection']}: {r['panel']} takes {r['median_ms']} ms (> {limit:g} ms)")
    for r in results.get("rules", []):
        if r["max_seconds"] > RULE_GROUP_SECONDS_MAX:
            failed.append(f"rule group {r['group']} evaluates in {r['max_seconds']} s (> {RULE_GROUP_SECONDS_MAX} s)")
    if "rules" in results and not results["rules"]:
        failed.append("no rule group was evaluated during the run")
    if "sli" in results and (total := sli_total(results["sli"]))["median_ms"] > RULE_GROUP_SECONDS_MAX * 1000:
        failed.append(f"rule group {SLI_GROUP} evaluates in {total['median_ms']} ms "
                      f"(> {RULE_GROUP_SECONDS_MAX * 1000:g} ms)")
    failed += slo_verdicts(results.get("slo"))
    return failed


def slo_verdicts(slo: dict[str, list[dict[str, Any]]] | None) -> list[str]:
    failed = []
    for r in (slo or {}).get("panels", []):
        if r["samples"] > PANEL_SAMPLES_MAX:
            failed.append(f"Tenant SLOs, {r['selection']}: {r['panel']} reads {r['samples']:,} samples "
                          f"(> {PANEL_SAMPLES_MAX:,})")
        if r["median_ms"] > PANEL_MEDIAN_MS_MAX:
            failed.append(f"Tenant SLOs, {r['selection']}: {r['panel']} takes {r['median_ms']} ms "
                          f"(> {PANEL_MEDIAN_MS_MAX:g} ms)")
    for total in slo_group_totals((slo or {}).get("rules", [])):
        if total["median_ms"] > RULE_GROUP_SECONDS_MAX * 1000:
            failed.append(f"rule group {total['group']} evaluates in {total['median_ms']} ms "
                          f"(> {RULE_GROUP_SECONDS_MAX * 1000:g} ms)")
    return failed


def write_report(path: Path, results: dict[str, Any], failed: list[str]) -> None:
    """The figures as the docs quote them: tables in Markdown, generated by this command, never edited."""
    m = results["machine"]
    lines = ["# Query cost: figures printed by `agentmon querybench`", "",
             f"Generated by `agentmon querybench` on {m['date']} ({m['cores']} cores, load average "
             f"{m.get('load_start', '?')} at start and {m.get('load_end', '?')} at the end, {m['prometheus']}, "
             f"Python {m['python']}); do not edit, run the bench again. How it measures: "
             "`packages/cli/src/agentmon_cli/querybench.py` and [recording-rules.md](recording-rules.md#cost).", ""]
    if "growth" in results:
        lines += ["## Samples per panel over 24 h, raw queries vs recorded series", "",
                  "| tenants | selection | panel | raw samples | recorded samples |", "|---:|---|---|---:|---:|"]
        lines += [f"| {r['tenants']} | {r['selection']} | {r['panel']} | {_raw_cell(r)} | {r['recorded_samples']:,} |"
                  for r in results["growth"]]
        lines.append("")
    if "scale" in results:
        lines += ["## 1,000 tenants over 7 days (recorded series only, synthetic; raw extrapolated)", "",
                  "| selection | panel | samples | median ms | fastest-slowest ms | raw samples (extrapolated) |",
                  "|---|---|---:|---:|---:|---:|"]
        for r in results["scale"]:
            estimate = raw_estimate(results.get("raw_week"), r["selection"], r["panel"])
            lines.append(f"| {r['selection']} | {r['panel']} | {r['samples']:,} | {r['median_ms']:.1f} | "
                         f"{r.get('spread_ms', '')} | {f'~{estimate:,}' if estimate else ''} |")
        lines.append("")
    if "rules" in results:
        lines += [f"## Rule group evaluation, simulator serving {results['rules_tenants']:,} tenants, each with its "
                  "own SLO, SLA, queue threshold and contact (every generated rule file loaded)", "",
                  "| group | last duration s (max seen) | samples written |", "|---|---:|---:|"]
        lines += [f"| {r['group']} | {r['max_seconds']:.4f} | {r['samples']:,} |" for r in results["rules"]]
        lines.append("")
    if "sli" in results:
        lines += [f"## The SLI group `{SLI_GROUP}` over 3 days, 1,000 tenants (recorded request rates, synthetic)",
                  "", "| recorded series | samples read | median ms |", "|---|---:|---:|"]
        lines += [f"| {r['record']} | {r['samples']:,} | {r['median_ms']:.1f} |"
                  for r in [*results["sli"], sli_total(results["sli"])]]
        lines.append("")
    if "slo" in results:
        lines += slo_report(results["slo"])
    lines += ["## Targets", "", "Every panel at most 500,000 samples and under 150 ms median, a whole refresh under "
              "300 ms, every rule group under 1 s: " + ("all met." if not failed else "NOT met: " + "; ".join(failed))]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def slo_report(slo: dict[str, list[dict[str, Any]]]) -> list[str]:
    lines = ["## The Tenant SLOs dashboard over 30 days, 1,000 tenants (SLO inputs only, synthetic)", "",
             "Every panel's queries are instant: the cost is one value per tenant and query at any range. A panel "
             "of several queries costs their sum here (Grafana sends them in parallel).", "",
             "| selection | panel | queries | samples | median ms |", "|---|---|---:|---:|---:|"]
    lines += [f"| {r['selection']} | {r['panel']} | {r['queries']} | {r['samples']:,} | {r['median_ms']:.1f} |"
              for r in slo["panels"]]
    lines += ["", "## The SLO groups over 30 days, 1,000 tenants (hourly rates, synthetic)", "",
              "| group | recorded series | samples read | median ms |", "|---|---|---:|---:|"]
    lines += [f"| {r['group']} | {_rule_name(r)} | {r['samples']:,} | {r['median_ms']:.1f} |"
              for r in [*slo["rules"], *slo_group_totals(slo["rules"])]]
    return [*lines, ""]
