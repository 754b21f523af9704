"""Shared by the recording and alert rules: tenants grouped by a limit of theirs, the matcher naming them, and
numbers written exactly as configured."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

from agentmon_config import Tenant
from agentmon_config.contract import TENANT_LABEL

T = TypeVar("T")


def sharing(tenants: tuple[Tenant, ...], value: Callable[[Tenant], T]) -> list[tuple[T, tuple[Tenant, ...]]]:
    """Tenants grouped by a limit of theirs, in the configuration's order: one rule per distinct value, matching
    the tenants that share it (a rule per tenant and limit made the rule files 1.9 MB at 500 tenants)."""
    groups: dict[T, list[Tenant]] = {}
    for tenant in tenants:
        groups.setdefault(value(tenant), []).append(tenant)
    return [(threshold, tuple(members)) for threshold, members in groups.items()]


def one_of(tenants: tuple[Tenant, ...]) -> str:
    """Matcher for exactly these tenants (Prometheus anchors the regex; tenant ids hold no regex characters)."""
    return f'{TENANT_LABEL}=~"{"|".join(t.tenant_id for t in tenants)}"'


def exact(number: float | int | Decimal) -> str:
    """A number as PromQL reads it back to the same value: Decimals in plain notation, floats by repr (the shortest
    text that round-trips), never rounded the way :g rounds 120.0004 to 120."""
    if isinstance(number, Decimal):
        return f"{number.normalize():f}"
    if isinstance(number, int) or float(number).is_integer():
        return str(int(number))
    return repr(float(number))
