"""Recording-rule generator: pure functions from typed configuration to Prometheus rule groups and files."""

from agentmon_rules.alerts import ALERTS_FILE, AlertGroup, AlertingRule, alert_groups
from agentmon_rules.recording import RecordingRule, RuleGroup, Windows, recording_groups
from agentmon_rules.render import (
    ALERTS_PROMETHEUS_RULE_PATH,
    PROMETHEUS_RULE_NAME,
    PROMETHEUS_RULE_PATH,
    RULE_FILE,
    RULES_CONFIGMAP,
    operator_path_of,
    prometheus_rule,
    recording_document,
    recording_files,
    render_rules,
    rule_file,
)
from agentmon_rules.routing import (
    ALERTMANAGER_CONFIG_PATH,
    ALERTMANAGER_FILE,
    alertmanager_config,
    config_parts,
    part_path,
    parts_files,
    render_alertmanager,
)

__all__ = [
    "ALERTMANAGER_CONFIG_PATH",
    "ALERTMANAGER_FILE",
    "ALERTS_FILE",
    "ALERTS_PROMETHEUS_RULE_PATH",
    "PROMETHEUS_RULE_NAME",
    "PROMETHEUS_RULE_PATH",
    "RULES_CONFIGMAP",
    "RULE_FILE",
    "AlertGroup",
    "AlertingRule",
    "RecordingRule",
    "RuleGroup",
    "Windows",
    "alert_groups",
    "alertmanager_config",
    "config_parts",
    "operator_path_of",
    "part_path",
    "parts_files",
    "prometheus_rule",
    "recording_document",
    "recording_files",
    "recording_groups",
    "render_alertmanager",
    "render_rules",
    "rule_file",
]
