"""The SLO burn-rate scheme (the SRE workbook's multiwindow, multi-burn-rate alerts), shared by the config
checks (an SLO the scheme can never alert on is refused), the rules generator (SLI recording rules, burn-rate
alerts) and the dashboards (the error-budget panel).

A tier fires when the tenant's error ratio exceeds factor x budget over both its long and its short window:
the long window proves the burn is significant, the short one that it is still going on. Over the error-budget
window of 30 days, factor 14.4 over 1 h spends 2 % of the budget, 6 over 6 h 5 %, 1 over 3 d 10 %.
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
    BurnTier("ticket", "warning", Decimal("1"), "3d", "6h"),
)

# Every window an SLI (error ratio) is recorded over, shortest first.
SLI_WINDOWS: tuple[str, ...] = ("5m", "30m", "1h", "6h", "3d")
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
