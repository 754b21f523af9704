"""`agentmon report`: which tenants and month, the numbers from Prometheus, the files, written atomically.

Everything is computed and drawn in memory first; the month's folder is then staged beside its destination and
renamed into place, so an error (an unreachable Prometheus, a month without data) or a kill leaves the previous
report as it was and nothing half-written.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure

from agentmon_config import PlatformConfig, Tenant
from agentmon_live.demo import Traffic
from agentmon_live.owned import scratch_dir, sweep_scratch
from agentmon_live.preview.chart import DailyPanel, daily_chart
from agentmon_live.preview.draw import png_bytes
from agentmon_live.preview.panels import PALETTE
from agentmon_live.prometheus import PrometheusClient, PrometheusUnreachable
from agentmon_live.report import DEFAULT_OUTPUT, DEFAULT_PROMETHEUS
from agentmon_live.report.document import fleet_page, minute, tenant_page
from agentmon_live.report.figures import Month, TenantMonth, tenant_month
from agentmon_live.report.history import REQUESTS, Progress, fetch_counts
from agentmon_live.report.simulated import describe, simulated_month

FLEET_PAGE = "fleet.md"


class ReportError(ValueError):
    """Bad input or an unusable Prometheus: one message naming the option or the month; the command exits 2."""


@dataclass(frozen=True)
class Request:
    config: PlatformConfig
    month: Month
    tenants: tuple[str, ...] = ()  # empty: every configured tenant
    prometheus: str = DEFAULT_PROMETHEUS
    output: Path = DEFAULT_OUTPUT  # the month's folder is created inside
    simulate: Traffic | None = None  # instead of --prometheus: this traffic, simulated over the month


def report(root: Path, request: Request, on_query: Progress = lambda done, total: None,
           on_step: Callable[[str], None] = lambda text: None) -> Path:
    """Write <output>/<month>/ (a page and a chart per tenant, fleet.md); return that folder."""
    tenants = selected(request.config, request.tenants)
    month = request.month
    with _source(request, on_step) as (client, source):
        on_step(f"reading {month} for {len(tenants)} tenant(s)")
        counts = fetch_counts(client, tenants, month.start, month.end, on_query)
    if not any(c.requests for c in counts.values()):
        raise ReportError(f"no data for {month} ({minute(month.start)} to {minute(month.end)} UTC): {client.url} "
                          f"holds no samples of {REQUESTS} in that month for {', '.join(t.tenant_id for t in tenants)}"
                          " (before the data began, or beyond the retention?)")
    reports = [tenant_month(t, month, counts[t.tenant_id]) for t in tenants]
    on_step(f"drawing {len(reports)} chart(s)")
    files = _files(reports, source)
    target = _output(root, request) / str(month)
    _write_folder(target, files)
    return target


@contextmanager
def _source(request: Request, on_step: Callable[[str], None]) -> Iterator[tuple[PrometheusClient, str]]:
    if request.simulate is None:
        client = _reachable(request.prometheus)
        yield client, f"numbers from the Prometheus at {client.url}, made by `agentmon report --month {request.month}`"
        return
    on_step(f"simulating {request.month} into a local Prometheus")
    try:
        with simulated_month(request.simulate, request.month) as server:
            yield server, (f"numbers from {describe(request.simulate)}, made by `agentmon report --month "
                           f"{request.month} --simulate`")
    except subprocess.CalledProcessError as exc:
        raise ReportError(f"--simulate: promtool failed: {exc.stderr.decode(errors='replace').strip()}") from None


def selected(config: PlatformConfig, wanted: tuple[str, ...]) -> list[Tenant]:
    """The configured tenants named in `wanted` (all of them when it is empty), in the configuration's order."""
    known = {t.tenant_id: t for t in config.tenants}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise ReportError(f"--tenant {', '.join(unknown)}: not a configured tenant (configured: "
                          f"{', '.join(known) or 'none'})")
    if not known:
        raise ReportError("no tenants configured: tenants/ holds no tenant to report on")
    return [t for t in config.tenants if not wanted or t.tenant_id in wanted]


def _reachable(url: str) -> PrometheusClient:
    if not re.match(r"^https?://[^/\s]+", url):
        raise ReportError(f"--prometheus {url!r}: expected a URL such as {DEFAULT_PROMETHEUS}")
    client = PrometheusClient(url)
    try:
        client.query("1")
    except PrometheusUnreachable as exc:
        raise ReportError(f"--prometheus: {exc}") from None
    return client


def _files(reports: list[TenantMonth], source: str) -> dict[str, bytes]:
    files = {}
    for r in reports:
        chart = f"{r.tenant.tenant_id}-daily.png"
        files[chart] = png_bytes(_chart(r))
        files[f"{r.tenant.tenant_id}.md"] = tenant_page(r, source, chart).encode()
    files[FLEET_PAGE] = fleet_page(reports, source, {r.tenant.tenant_id: f"{r.tenant.tenant_id}.md"
                                                     for r in reports}).encode()
    return files


def _chart(r: TenantMonth) -> Figure:
    success = [None if d.success_ratio is None else float(d.success_ratio * 100) for d in r.days]
    burn = [None if b is None else float(b * 100) for b in r.daily_budget_burn()]
    return daily_chart(
        f"{r.tenant.display_name} ({r.tenant.tenant_id}): {r.month.title}",
        "per UTC day; error budget burn: the day's failed requests as a share of the failures the month allows",
        r.month.start,
        (DailyPanel("Success ratio", success, reference=float(r.objective * 100),
                    reference_label=f"SLO {r.tenant.success_rate_slo:g} %"),
         DailyPanel("Error budget burn (share of the month's budget)", burn, kind="bars", colour=PALETTE[3],
                    running_total="month so far (right axis)")))


def _output(root: Path, request: Request) -> Path:
    return request.output if request.output.is_absolute() else root / request.output


def _write_folder(target: Path, files: dict[str, bytes]) -> None:
    """Stage the folder beside `target` (a scratch folder a later run sweeps if this one is killed), then rename
    it into place; the old report moves into the scratch folder and goes with it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_scratch(target.parent)
    with scratch_dir("report", target.parent) as staging:
        fresh = Path(staging) / target.name
        fresh.mkdir()
        for name, content in files.items():
            (fresh / name).write_bytes(content)
        if target.exists():
            if not target.is_dir() or target.is_symlink():
                raise ReportError(f"{target}: exists and is not a folder; remove it or choose another --out")
            os.replace(target, Path(staging) / "previous")
        os.replace(fresh, target)
