"""The metrics contract of the platform (docs/architecture.md): the only metric and label names queries may use."""

from __future__ import annotations

from dataclasses import dataclass

TENANT_LABEL = "tenant_id"


@dataclass(frozen=True)
class Metric:
    name: str
    type: str  # counter | gauge | histogram
    labels: frozenset[str]
    help: str


CONTRACT: tuple[Metric, ...] = (
    Metric("enhancement_requests_total", "counter", frozenset({TENANT_LABEL, "status"}),
           "Webhook requests processed, by outcome (status=success|failure)."),
    Metric("enhancement_duration_seconds", "histogram", frozenset({TENANT_LABEL}),
           "End-to-end enhancement processing latency."),
    Metric("enhancement_success_rate", "gauge", frozenset({TENANT_LABEL}),
           "App-computed success percentage (0-100)."),
    Metric("queue_depth", "gauge", frozenset({TENANT_LABEL}), "Pending jobs in Redis."),
    Metric("worker_active_count", "gauge", frozenset({TENANT_LABEL}), "Active Celery workers."),
)

STATUS_VALUES = ("success", "failure")

# The upper bounds (le, seconds) of enhancement_duration_seconds' buckets, as the platform exposes them. A latency
# SLA must be one of them: "more than 5 % of requests slower than the SLA" is then read off one bucket exactly,
# where a bound between two buckets would be an interpolation (a 90 s SLA between buckets at 60 and 120 s reads
# requests of 61 s as a p95 of 117 s). The simulator exposes exactly these.
LATENCY_BUCKETS_SECONDS: tuple[float, ...] = (0.5, 1, 2.5, 5, 10, 20, 30, 60, 90, 120, 180, 300)


def le_spellings(bound: float) -> tuple[str, ...]:
    """How an `le` label may spell a bound: Go clients write 120, Python's and Prometheus 3's normalisation 120.0."""
    as_float = repr(float(bound))
    short = as_float[:-2] if as_float.endswith(".0") else as_float
    return tuple(dict.fromkeys((short, as_float)))

# Labels every Prometheus series carries after scraping, besides the contract's own.
SCRAPE_LABELS = frozenset({"job", "instance"})


def series_labels() -> dict[str, frozenset[str]]:
    """Every queryable series name mapped to the labels it carries (histograms expand to 3 series)."""
    series: dict[str, frozenset[str]] = {}
    for metric in CONTRACT:
        labels = metric.labels | SCRAPE_LABELS
        if metric.type == "histogram":
            series[f"{metric.name}_bucket"] = labels | {"le"}
            series[f"{metric.name}_sum"] = labels
            series[f"{metric.name}_count"] = labels
        else:
            series[metric.name] = labels
    return series
