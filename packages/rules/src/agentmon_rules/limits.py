"""Shared by the recording and alert rules: tenants grouped by a limit of theirs, the matcher naming them, and
numbers written exactly as configured."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

from agentmon_config import Tenant
from agentmon_config.contract import TENANT_LABEL

T = TypeVar("T")
# Tenants' limit rules are split into this many shards (rule groups, rule files, PrometheusRules), so that no
# object grows past Kubernetes' limits: at 2,000 tenants each with its own limits a shard holds about 40 KB
# (issue 25: under 250,000 bytes; room for about 10,000 such tenants). Fixed rather than derived from the tenant
# count: a count that grew with the tenants would move most tenants to another shard each time it changed.
TENANT_SHARDS = 32


def tenant_shard(tenant_id: str) -> int:
    """The shard of a tenant's limits: a hash of its id alone, so adding or removing a tenant moves no other."""
    return zlib.crc32(tenant_id.encode()) % TENANT_SHARDS


def by_shard(tenants: tuple[Tenant, ...]) -> dict[int, tuple[Tenant, ...]]:
    """The non-empty shards in shard order, each with its tenants in the configuration's order."""
    shards: dict[int, list[Tenant]] = {}
    for tenant in tenants:
        shards.setdefault(tenant_shard(tenant.tenant_id), []).append(tenant)
    return {shard: tuple(shards[shard]) for shard in sorted(shards)}


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
