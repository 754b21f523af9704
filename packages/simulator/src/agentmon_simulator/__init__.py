"""A metrics simulator: a real Prometheus exporter serving exactly the platform's metrics contract."""

from agentmon_simulator.model import (
    INCIDENT_KINDS,
    Incident,
    Limits,
    TenantProfile,
    default_profiles,
    parse_incident,
)
from agentmon_simulator.traffic import LATENCY_BUCKETS, Simulation

__all__ = [
    "INCIDENT_KINDS",
    "LATENCY_BUCKETS",
    "Incident",
    "Limits",
    "Simulation",
    "TenantProfile",
    "default_profiles",
    "parse_incident",
]
