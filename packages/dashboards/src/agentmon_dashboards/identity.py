"""Stable identity of generated dashboards: uids derive from names, never random."""

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
