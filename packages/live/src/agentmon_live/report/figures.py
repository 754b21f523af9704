"""A tenant's month from its per-minute counts: the numbers of the report, the daily series, the incidents.

Pure: counts in, numbers out. Ratios are exact fractions (counts are whole requests, the error budget a decimal),
so "at the SLO" is at the SLO, not a rounding away from it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction

from agentmon_config import Tenant
from agentmon_config.slo import error_budget
from agentmon_live.report.history import Counts

DAY = 86400
MINUTE = 60
WORST_INCIDENTS = 3
MONTH_PATTERN = re.compile(r"(?P<year>[1-9][0-9]{3})-(?P<month>0[1-9]|1[0-2])")


@dataclass(frozen=True)
class Month:
    """A calendar month in UTC: the increases whose later sample lies in (start, end] count in it."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        match = MONTH_PATTERN.fullmatch(text)
        if match is None:
            raise ValueError(f"--month {text!r}: expected a calendar month as YYYY-MM, e.g. 2026-11")
        return cls(int(match["year"]), int(match["month"]))

    @classmethod
    def before(cls, moment: datetime) -> Month:
        """The last full month before `moment` (UTC)."""
        return cls(moment.year - 1, 12) if moment.month == 1 else cls(moment.year, moment.month - 1)

    def next(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    @property
    def start(self) -> int:
        return int(datetime(self.year, self.month, 1, tzinfo=UTC).timestamp())

    @property
    def end(self) -> int:
        return self.next().start

    @property
    def days(self) -> int:
        return (self.end - self.start) // DAY

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def title(self) -> str:
        return datetime(self.year, self.month, 1, tzinfo=UTC).strftime("%B %Y")


@dataclass(frozen=True)
class Incident:
    """A maximal run of consecutive minutes in which the tenant's failed share of requests exceeded its error
    budget (1 - SLO): [start, end), unix seconds, and the failed requests in it."""

    start: int
    end: int
    failures: Fraction
    requests: Fraction

    @property
    def minutes(self) -> int:
        return (self.end - self.start) // MINUTE


@dataclass(frozen=True)
class Day:
    start: int
    requests: Fraction
    failures: Fraction

    @property
    def success_ratio(self) -> Fraction | None:
        return (self.requests - self.failures) / self.requests if self.requests else None


@dataclass(frozen=True)
class TenantMonth:
    tenant: Tenant
    month: Month
    requests: Fraction
    failures: Fraction
    within_sla: Fraction
    observed: Fraction  # latencies observed (the histogram's +Inf bucket): the within-SLA share's denominator
    days: tuple[Day, ...]
    incidents: tuple[Incident, ...]  # every incident window, worst (most failures) first

    @property
    def budget(self) -> Fraction:
        """The share of requests that may fail (SLO 99.9 % -> 0.001)."""
        return Fraction(error_budget(self.tenant.success_rate_slo))

    @property
    def objective(self) -> Fraction:
        return 1 - self.budget

    @property
    def success_ratio(self) -> Fraction | None:
        return (self.requests - self.failures) / self.requests if self.requests else None

    @property
    def allowed_failures(self) -> Fraction:
        return self.requests * self.budget

    @property
    def budget_used(self) -> Fraction | None:
        """Failed requests / the failures the SLO allows (requests x budget): 1 is the whole budget."""
        return self.failures / self.allowed_failures if self.requests else None

    @property
    def met(self) -> bool | None:
        ratio = self.success_ratio
        return None if ratio is None else ratio >= self.objective

    @property
    def within_sla_share(self) -> Fraction | None:
        return self.within_sla / self.observed if self.observed else None

    def daily_budget_burn(self) -> list[Fraction | None]:
        """Each day's failed requests as a share of the month's allowed failures: they add up to budget_used."""
        allowed = self.allowed_failures
        return [day.failures / allowed if allowed else None for day in self.days]

    @property
    def worst_incidents(self) -> tuple[Incident, ...]:
        return self.incidents[:WORST_INCIDENTS]


def tenant_month(tenant: Tenant, month: Month, counts: Counts) -> TenantMonth:
    return TenantMonth(
        tenant=tenant, month=month, requests=_total(counts.requests), failures=_total(counts.failures),
        within_sla=_total(counts.within_sla), observed=_total(counts.observed),
        days=tuple(_day(counts, start) for start in range(month.start, month.end, DAY)),
        incidents=incidents(counts, Fraction(error_budget(tenant.success_rate_slo))))


def _total(table: dict[int, float]) -> Fraction:
    return Fraction(math.fsum(table.values()))


def _day(counts: Counts, start: int) -> Day:
    def within(table: dict[int, float]) -> Fraction:
        return Fraction(math.fsum(v for minute, v in table.items() if start <= minute < start + DAY))

    return Day(start, within(counts.requests), within(counts.failures))


def incidents(counts: Counts, budget: Fraction) -> tuple[Incident, ...]:
    """Every run of consecutive burning minutes (failures / requests > budget; a minute without requests burns
    nothing and ends a run), most failures first, then earliest first."""
    burning = sorted(m for m, requests in counts.requests.items()
                     if requests and Fraction(counts.failures.get(m, 0.0)) / Fraction(requests) > budget)
    runs: list[list[int]] = []
    for minute in burning:
        if runs and runs[-1][-1] == minute - MINUTE:
            runs[-1].append(minute)
        else:
            runs.append([minute])
    found = [Incident(run[0], run[-1] + MINUTE, Fraction(math.fsum(counts.failures.get(m, 0.0) for m in run)),
                      Fraction(math.fsum(counts.requests[m] for m in run))) for run in runs]
    return tuple(sorted(found, key=lambda i: (-i.failures, i.start)))
