"""Helpers of the alert tests: a configuration of our own (two tenants whose limits differ from the defaults and
from each other), per-minute traffic written out value by value, and a `promtool test rules` run of the generated
rule files with rule-group order pinned."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path

from agentmon_bundle.serialize import yaml_bytes
from agentmon_config import PlatformConfig, load_platform
from agentmon_rules import ALERTS_FILE, recording_files, render_rules

REPO = Path(__file__).resolve().parents[2]
JOB = 'job="agentmon", instance="app:8000"'

# north: SLO 99.9 % (budget 0.001), SLA 60 s, queue 30. south: SLO 97 % (budget 0.03), SLA 180 s, queue 400.
# Neither equals the platform's defaults (99 %, 120 s, 100) nor the other.
TENANTS = {
    "north": {"display_name": "North", "success_rate_slo": 99.9, "p95_latency_sla_seconds": 60,
              "queue_alert_threshold": 30, "owner_contact": "north-oncall@example.com"},
    "south": {"display_name": "South", "success_rate_slo": 97, "p95_latency_sla_seconds": 180,
              "queue_alert_threshold": 400, "owner_contact": "south-oncall@example.com"},
}


def make_config(tmp: Path, tenants: dict[str, dict[str, object]] | None = None,
                platform_edit: Callable[[str], str] = lambda text: text) -> PlatformConfig:
    """config/platform.yaml (optionally edited) and the given tenants, written under tmp and loaded."""
    (tmp / "config").mkdir(parents=True, exist_ok=True)
    platform = tmp / "config" / "platform.yaml"
    platform.write_text(platform_edit((REPO / "config" / "platform.yaml").read_text()))
    for tenant_id, fields in (TENANTS if tenants is None else tenants).items():
        folder = tmp / "tenants" / tenant_id
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "tenant.yaml").write_bytes(yaml_bytes({"tenant_id": tenant_id, **fields}))
    return load_platform(platform, tmp / "tenants")


def counter(per_minute: Iterable[float]) -> str:
    """A counter's values, one per minute, from the increase in each minute (the first value is 0)."""
    total, values = 0.0, ["0"]
    for increase in per_minute:
        total += increase
        values.append(repr(total))
    return " ".join(values)


def gauge(per_minute: Iterable[float | None]) -> str:
    """A gauge's values, one per minute; None is a missing sample (`_`)."""
    return " ".join("_" if v is None else repr(float(v)) for v in per_minute)


def requests(tenant: str, successes: Iterable[float], failures: Iterable[float]) -> list[dict[str, str]]:
    return [{"series": f'enhancement_requests_total{{tenant_id="{tenant}", status="success", {JOB}}}',
             "values": counter(successes)},
            {"series": f'enhancement_requests_total{{tenant_id="{tenant}", status="failure", {JOB}}}',
             "values": counter(failures)}]


def steady(tenant: str, per_minute: float, failed: float, minutes: int) -> list[dict[str, str]]:
    """`per_minute` requests a minute, `failed` of them failing, for `minutes` minutes."""
    return requests(tenant, [per_minute - failed] * minutes, [failed] * minutes)


def capacity(tenant: str, queue: float, workers: float, minutes: int) -> list[dict[str, str]]:
    return [{"series": f'queue_depth{{tenant_id="{tenant}", {JOB}}}', "values": gauge([queue] * (minutes + 1))},
            {"series": f'worker_active_count{{tenant_id="{tenant}", {JOB}}}',
             "values": gauge([workers] * (minutes + 1))}]


def buckets(tenant: str, per_minute: dict[str, float], minutes: int) -> list[dict[str, str]]:
    """Latency histogram: `per_minute` maps each bucket bound (le, as the exporter writes it) to the observations
    per minute at or below it (cumulative, as Prometheus buckets are)."""
    return [{"series": f'enhancement_duration_seconds_bucket{{tenant_id="{tenant}", le="{le}", {JOB}}}',
             "values": counter([count] * minutes)} for le, count in per_minute.items()]


def fast_latency(tenant: str, per_minute: float, minutes: int) -> list[dict[str, str]]:
    """Every request within 1 s: far inside every SLA."""
    return buckets(tenant, {"1": per_minute, "+Inf": per_minute}, minutes)


def group_order(config: PlatformConfig) -> list[str]:
    rules = render_rules(config)
    return [g["name"] for name in rule_files(rules) for g in rules[name]["groups"]]


def rule_files(rules: dict[str, object]) -> list[str]:
    """The recording-rule files (the main one, then the tenant shards' limits) and the alert rules."""
    return [*recording_files(rules), ALERTS_FILE]


def promtool_test(promtool: str, tmp: Path, config: PlatformConfig, series: list[dict[str, str]],
                  alerts: list[dict[str, object]] = (), exprs: list[dict[str, object]] = ()) -> None:
    """`promtool test rules` on the generated rule files, evaluated every minute in the generated group order."""
    rules = render_rules(config)
    for name in rule_files(rules):
        (tmp / name).write_bytes(yaml_bytes(rules[name]))
    test = {"rule_files": rule_files(rules), "evaluation_interval": "1m",
            "group_eval_order": group_order(config),
            "tests": [{"interval": "1m", "input_series": series, "alert_rule_test": list(alerts),
                       "promql_expr_test": list(exprs)}]}
    (tmp / "test.yml").write_bytes(yaml_bytes(test))
    result = subprocess.run([promtool, "test", "rules", "test.yml"], cwd=tmp, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]


def labels(severity: str, tenant: str | None = None, **extra: str) -> dict[str, str]:
    """An agentmon alert's labels: its severity, managed_by, its tenant when it has one, and any others."""
    return {"severity": severity, "managed_by": "agentmon", **({"tenant_id": tenant} if tenant else {}), **extra}


def firing(minute: int, alert: str, *label_sets: dict[str, str]) -> dict[str, object]:
    """At `minute`, exactly these alerts named `alert` fire (Prometheus' ALERTS series; annotations have their
    own test)."""
    return value(minute, f'ALERTS{{alertname="{alert}", alertstate="firing"}}',
                 *(({"__name__": "ALERTS", "alertname": alert, "alertstate": "firing", **ls}, 1) for ls in label_sets))


def value(minute: int, expr: str, *samples: tuple[dict[str, str], float]) -> dict[str, object]:
    return {"eval_time": f"{minute}m", "expr": expr,
            "exp_samples": [{"labels": _labels(labels), "value": v} for labels, v in samples]}


def _labels(labels: dict[str, str]) -> str:
    name = labels.get("__name__", "")
    rest = ", ".join(f'{k}="{v}"' for k, v in labels.items() if k != "__name__")
    return f"{name}{{{rest}}}"
