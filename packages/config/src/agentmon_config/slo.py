"""The SLO burn-rate scheme (the SRE workbook's multiwindow, multi-burn-rate alerts), shared by the config
checks (an SLO the scheme can never alert on is refused), the rules generator (SLI recording rules, burn-rate
alerts) and the dashboards (the error-budget panel).

A tier fires when the tenant's error ratio exceeds factor x budget over its long window, and over its short window
too unless the short window held no request (a quiet tenant's short window is mostly empty: emptiness does not
disprove a burn). The long window proves the burn is significant, the short one that it is still going on.
The SRE workbook's table (chapter 5, "Alerting on SLOs"), over an error-budget window of 30 days (720 h):

| severity | long | short | factor | budget spent when it fires: factor x long / 720 h |
|---|---|---|---|---|
| page   | 1 h  | 5 m  | 14.4 | 14.4 x 1 / 720 = 2 %   |
| page   | 6 h  | 30 m | 6    | 6 x 6 / 720 = 5 %      |
| ticket | 1 d  | 2 h  | 3    | 3 x 24 / 720 = 10 %    |
| ticket | 3 d  | 6 h  | 1    | 1 x 72 / 720 = 10 %    |

The two page tiers are one alert (the fast burn), the two ticket tiers another (the slow burn): one incident is one
page per tenant, and the page inhibits the ticket (agentmon_rules.routing).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

ERROR_BUDGET_WINDOW = "30d"


@dataclass(frozen=True)
class BurnTier:
    name: str  # the alert's `slo_tier` label: page or ticket
    severity: str
    factor: Decimal
    long_window: str
    short_window: str


BURN_TIERS: tuple[BurnTier, ...] = (
    BurnTier("page", "critical", Decimal("14.4"), "1h", "5m"),
    BurnTier("page", "critical", Decimal("6"), "6h", "30m"),
    BurnTier("ticket", "warning", Decimal("3"), "1d", "2h"),
    BurnTier("ticket", "warning", Decimal("1"), "3d", "6h"),
)
# The longest long window: a quiet tenant whose failures are too few in a tier's own long window still pages when
# this window holds alerts.minimum_failures failures and burns above the tier's threshold too.
QUIET_WINDOW = "3d"

# Every window an SLI (error ratio) is recorded over, shortest first.
SLI_WINDOWS: tuple[str, ...] = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
# Windows of a day or more sum the SLI rates of this window at steps of this window (72 values for 3 d instead of
# 4,320 per-minute ones): they then end at the last full step, at most one step late.
SLI_COARSE_STEP = "1h"
SLI_COARSE_FROM_SECONDS = 86400


def error_budget(slo_percent: float) -> Decimal:
    """The share of requests that may fail (99.5 -> 0.005), in decimal so an SLO close to 100 stays exact."""
    return (100 - Decimal(repr(slo_percent))) / 100


def unreachable_tiers(slo_percent: float) -> list[BurnTier]:
    """Tiers whose threshold (factor x budget) is above an error ratio of 100 %: they could never fire."""
    return [tier for tier in BURN_TIERS if tier.factor * error_budget(slo_percent) > 1]


def minimum_slo(factor: Decimal) -> float:
    """The lowest SLO (percent, rounded up to 4 decimals) at which a tier of this factor can still fire."""
    return float((100 - 100 / factor).quantize(Decimal("0.0001"), rounding=ROUND_CEILING))
