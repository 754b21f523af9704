"""Recording-rule generator: pure functions from typed configuration to Prometheus rule groups and files."""

from agentmon_rules.recording import RecordingRule, RuleGroup, Windows, recording_groups
from agentmon_rules.render import (
    PROMETHEUS_RULE_NAME,
    PROMETHEUS_RULE_PATH,
    RULE_FILE,
    RULES_CONFIGMAP,
    prometheus_rule,
    render_rules,
    rule_file,
)

__all__ = ["PROMETHEUS_RULE_NAME", "PROMETHEUS_RULE_PATH", "RULES_CONFIGMAP", "RULE_FILE", "RecordingRule",
           "RuleGroup", "Windows", "prometheus_rule", "recording_groups", "render_rules", "rule_file"]
