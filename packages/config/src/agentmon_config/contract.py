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
