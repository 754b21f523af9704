"""Typed agentmon configuration: the only package that reads configuration files."""

from agentmon_config.errors import ConfigError
from agentmon_config.loader import load_platform, load_simulator_profile
from agentmon_config.model import Datasource, Kubernetes, MainDashboard, PlatformConfig, Provisioning, Thresholds

__all__ = [
    "ConfigError",
    "Datasource",
    "Kubernetes",
    "MainDashboard",
    "PlatformConfig",
    "Provisioning",
    "Thresholds",
    "load_platform",
    "load_simulator_profile",
]
