"""The names and labels agentmon's alerts carry, shared by the alert rules (agentmon_rules.alerts) and the routing
(agentmon_rules.routing), which may not import each other.

Each tenant alert name has exactly ONE severity. kube-prometheus-stack's default inhibit rules (critical inhibits
warning|info when `namespace` and `alertname` are equal) do not look at tenant_id: two severities under one tenant
alert name would let one tenant's critical silence another tenant's warning, since every alert of the prod overlay
carries the same namespace. Platform alerts (no tenant_id) may have both severities (AgentmonSuccessRateLow).
"""

from __future__ import annotations

# Every agentmon alert carries managed_by="agentmon"; the routing's top route matches it, so the other alerts of
# the Alertmanager (kube-prometheus-stack's own, in the same namespace) never reach agentmon's receivers.
MANAGED_BY_LABEL = "managed_by"
MANAGED_BY_VALUE = "agentmon"

CRITICAL, WARNING, NONE = "critical", "warning", "none"

# Tenant alerts (label tenant_id) -> their one severity.
ERROR_BUDGET_BURN_FAST = "AgentmonErrorBudgetBurnFast"  # the page
ERROR_BUDGET_BURN_SLOW = "AgentmonErrorBudgetBurnSlow"  # the ticket
TENANT_LATENCY_HIGH = "AgentmonTenantLatencyHigh"
TENANT_QUEUE_DEPTH_HIGH = "AgentmonTenantQueueDepthHigh"
TENANT_NO_ACTIVE_WORKER = "AgentmonTenantNoActiveWorker"
TENANT_ABSENT = "AgentmonTenantAbsent"
TENANT_ALERTS: dict[str, str] = {
    ERROR_BUDGET_BURN_FAST: CRITICAL,
    ERROR_BUDGET_BURN_SLOW: WARNING,
    TENANT_LATENCY_HIGH: WARNING,
    TENANT_QUEUE_DEPTH_HIGH: WARNING,
    TENANT_NO_ACTIVE_WORKER: CRITICAL,
    TENANT_ABSENT: CRITICAL,
}

# Platform alerts (no tenant_id) -> their severities.
SUCCESS_RATE_LOW = "AgentmonSuccessRateLow"
LATENCY_HIGH = "AgentmonLatencyHigh"
QUEUE_DEPTH_HIGH = "AgentmonQueueDepthHigh"
METRICS_ABSENT = "AgentmonMetricsAbsent"  # label `metric`
TARGET_DOWN = "AgentmonTargetDown"  # labels job, instance
HEARTBEAT = "AgentmonHeartbeat"  # always firing: its silence means the rules or the Alertmanager path are broken
PLATFORM_ALERTS: dict[str, tuple[str, ...]] = {
    SUCCESS_RATE_LOW: (WARNING, CRITICAL),
    LATENCY_HIGH: (WARNING,),
    QUEUE_DEPTH_HIGH: (WARNING,),
    METRICS_ABSENT: (CRITICAL,),
    TARGET_DOWN: (CRITICAL,),
    HEARTBEAT: (NONE,),
}
