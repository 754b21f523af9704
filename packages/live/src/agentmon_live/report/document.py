"""The report as Markdown: one page per tenant (for its customer), one fleet summary (for operations)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from fractions import Fraction

from agentmon_live.report.figures import Incident, TenantMonth

NO_DATA = "no requests"


def percent(value: Fraction | None, decimals: int = 3) -> str:
    return NO_DATA if value is None else f"{float(value * 100):.{decimals}f} %"


def count(value: Fraction) -> str:
    """Whole requests with thousands separators (a counter that is not whole: two decimals)."""
    return f"{int(value):,}" if value.denominator == 1 else f"{float(value):,.2f}"


def minute(unix: int) -> str:
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%d %H:%M")


def slo_text(report: TenantMonth) -> str:
    return f"{report.tenant.success_rate_slo:g} %"


def budget_percent(report: TenantMonth) -> str:
    return f"{float(report.budget * 100):g} %"


def cell(text: str) -> str:
    """Text inside a Markdown table cell: a display name may hold a pipe."""
    return text.replace("|", "\\|")


def verdict(report: TenantMonth) -> str:
    return {None: NO_DATA, True: "met", False: "missed"}[report.met]


def budget_text(report: TenantMonth) -> str:
    if report.budget_used is None:
        return NO_DATA
    return (f"{percent(report.budget_used, 2)} ({count(report.failures)} of {count(report.allowed_failures)} "
            f"failed requests allowed: {budget_percent(report)} of "
            f"{count(report.requests)} requests)")


def tenant_page(report: TenantMonth, source: str, chart: str) -> str:
    """`source`: where the numbers come from and which command made the page, as a clause."""
    tenant, month = report.tenant, report.month
    lines = [
        f"# SLO report {month.title}: {tenant.display_name} ({tenant.tenant_id})", "",
        f"Calendar month {minute(month.start)} to {minute(month.end)} UTC; {source}.", "",
        "| measure | value |", "|---|---|",
        f"| Success ratio | {percent(report.success_ratio)} |",
        f"| Objective (SLO) | {slo_text(report)}: {verdict(report)} |",
        f"| Error budget used | {budget_text(report)} |",
        f"| Requests | {count(report.requests)} |",
        f"| Failed requests | {count(report.failures)} |",
        f"| Requests within the latency SLA ({tenant.p95_latency_sla_seconds:g} s) | "
        f"{percent(report.within_sla_share)} |", "",
        "## Worst incident windows", "",
        f"Runs of consecutive minutes in which more than {budget_percent(report)} of the requests failed (the "
        f"error budget), the {len(report.worst_incidents) or 'three'} with the most failed requests "
        f"({len(report.incidents):,} such run(s) in the month).", "",
        *_incident_table(report.worst_incidents), "",
        "## Daily success ratio and error budget burn", "",
        f"![Daily success ratio and error budget burn of {tenant.tenant_id}, {month.title}]({chart})", "",
        "Budget burn: each day's failed requests as a share of the failures the month allows; the days add up to "
        "the error budget used.", "",
        *_daily_table(report)]
    return "\n".join(lines)


def _daily_table(report: TenantMonth) -> list[str]:
    """The chart's numbers, for the days that had requests."""
    rows = [f"| {minute(day.start)[:10]} | {count(day.requests)} | {count(day.failures)} | "
            f"{percent(day.success_ratio)} | {percent(burn, 2)} |"
            for day, burn in zip(report.days, report.daily_budget_burn(), strict=True) if day.requests]
    if not rows:
        return []
    return ["| day (UTC) | requests | failed | success ratio | budget burn |", "|---|---|---|---|---|", *rows, ""]


def _incident_table(incidents: Sequence[Incident]) -> list[str]:
    if not incidents:
        return ["No minute of the month had more failed requests than the error budget allows."]
    rows = [f"| {rank} | {minute(i.start)} | {minute(i.end)} | {i.minutes} | {count(i.failures)} | "
            f"{percent(i.failures / i.requests)} |" for rank, i in enumerate(incidents, 1)]
    return ["| # | start (UTC) | end (UTC) | minutes | failed requests | failed share |",
            "|---|---|---|---|---|---|", *rows]


def worst_first(reports: Sequence[TenantMonth]) -> list[TenantMonth]:
    """Most budget used first; tenants without requests last; ties by tenant id."""
    return sorted(reports, key=lambda r: (r.budget_used is None, -(r.budget_used or 0), r.tenant.tenant_id))


def fleet_page(reports: Sequence[TenantMonth], source: str, pages: dict[str, str]) -> str:
    month = reports[0].month
    missed = sum(1 for r in reports if r.met is False)
    lines = [
        f"# SLO fleet summary {month.title}", "",
        f"{len(reports)} tenant(s), most error budget used first; {missed} missed the SLO. Calendar month "
        f"{minute(month.start)} to {minute(month.end)} UTC; {source}.", "",
        "| tenant | SLO | success ratio | SLO met | error budget used | requests | failed | within latency SLA | "
        "worst incident (start UTC, failed) | report |",
        "|---|---|---|---|---|---|---|---|---|---|"]
    for r in worst_first(reports):
        worst = r.worst_incidents[0] if r.incidents else None
        incident = f"{minute(worst.start)}, {count(worst.failures)}" if worst else "none"
        page = pages[r.tenant.tenant_id]
        lines.append(f"| {r.tenant.tenant_id} ({cell(r.tenant.display_name)}) | {slo_text(r)} | "
                     f"{percent(r.success_ratio)} | {verdict(r)} | {percent(r.budget_used, 2)} | "
                     f"{count(r.requests)} | {count(r.failures)} | {percent(r.within_sla_share)} | {incident} | "
                     f"[{page}]({page}) |")
    return "\n".join([*lines, ""])
