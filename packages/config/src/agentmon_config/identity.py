"""Stable identity of generated dashboards and their panels: uids derive from names, never random."""

GENERATED_TAG = "generated"
UID_PREFIX = "agentmon-"
# Grafana rejects dashboard uids longer than 40 characters.
MAX_UID_LENGTH = 40


def dashboard_uid(name: str) -> str:
    uid = f"{UID_PREFIX}{name}"
    if len(uid) > MAX_UID_LENGTH:
        raise ValueError(f"dashboard uid {uid!r} is longer than {MAX_UID_LENGTH} characters; shorten the name")
    return uid


def tenant_dashboard_uid(tenant_id: str) -> str:
    """'tenant-<id>': tenant ids are at most 31 characters, so this stays within Grafana's limit."""
    uid = f"tenant-{tenant_id}"
    if len(uid) > MAX_UID_LENGTH:
        raise ValueError(f"dashboard uid {uid!r} is longer than {MAX_UID_LENGTH} characters")
    return uid


# The fleet's SLO overview ("Tenant SLOs"): its uid is dashboard_uid(SLO_OVERVIEW_NAME).
SLO_OVERVIEW_NAME = "tenant-slos"

# Panel ids are the panels' order on their dashboard (agentmon_dashboards.main.place_panels); alert annotations
# link to them, and validate checks every link against the rendered dashboards.
MAIN_PANELS = {"success_rate": 1, "active_workers": 2, "queue_depth": 3, "p95_latency": 4, "error_rate": 5,
               "workerless_tenants": 6}
TENANT_PANELS = {"success_rate": 1, "error_budget": 2, "active_workers": 3, "queue_depth": 4, "request_rate": 5,
                 "latency": 6}
SLO_PANELS = {"breaching": 1, "burning_fast": 2, "without_traffic": 3, "tenants": 4}
