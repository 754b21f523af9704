"""The recorded-series contract: the series agentmon's recording rules write and its dashboards read.

Beside the metrics contract (contract.py) because two generators share it: `agentmon_rules` records these
names, `agentmon_dashboards` queries them, and neither may import the other. validate checks that every name a
panel reads is produced by a rule of the same bundle.

Names follow Prometheus' `level:metric:operations` convention. Each series exists once per tenant and once more
under the reserved tenant_id ALL_TENANTS, the platform aggregate that the tenant variable's "All" selects, so
"All" reads a handful of series whatever the tenant count.
"""

from __future__ import annotations

from dataclasses import dataclass

from agentmon_config.contract import TENANT_LABEL
from agentmon_config.slo import SLI_WINDOWS

# Reserved tenant_id of the platform aggregate; the tenant schema forbids it as a tenant name.
ALL_TENANTS = "__all__"


@dataclass(frozen=True)
class Recorded:
    name: str
    labels: frozenset[str]
    help: str


REQUEST_RATE = Recorded(
    "tenant_id_status:enhancement_requests:sum_rate", frozenset({TENANT_LABEL, "status"}),
    "Requests per second by outcome over one evaluation interval.")
BUCKET_RATE = Recorded(
    "tenant_id_le:enhancement_duration_seconds_bucket:sum_rate", frozenset({TENANT_LABEL, "le"}),
    "Latency histogram bucket rates (per second) over one evaluation interval.")
QUEUE_DEPTH = Recorded(
    "tenant_id:queue_depth:sum_avg", frozenset({TENANT_LABEL}),
    "Pending jobs, averaged over one evaluation interval.")
ACTIVE_WORKERS = Recorded(
    "tenant_id:worker_active_count:sum_avg", frozenset({TENANT_LABEL}),
    "Active workers averaged over one evaluation interval; 0 for a tenant that reports a queue but no workers.")
WORKERLESS_TENANTS = Recorded(
    "tenant_id:tenants_without_active_worker:count", frozenset({TENANT_LABEL}),
    "1 for a tenant with less than one active worker, else 0; the aggregate counts such tenants.")

RECORDED: tuple[Recorded, ...] = (REQUEST_RATE, BUCKET_RATE, QUEUE_DEPTH, ACTIVE_WORKERS, WORKERLESS_TENANTS)


def sli_error_ratio(window: str) -> Recorded:
    """The SLI of the burn-rate alerts and the error-budget panel: failed share of requests over `window`."""
    return Recorded(f"tenant_id:enhancement_requests_errors:ratio_rate{window}", frozenset({TENANT_LABEL}),
                    f"Failed share of requests (0-1) over {window}; no series while there were no requests.")


def sli_request_rate(window: str) -> Recorded:
    """Requests per second over `window`: the low-traffic guard of the error-rate and burn-rate alerts."""
    return Recorded(f"tenant_id:enhancement_requests:rate{window}", frozenset({TENANT_LABEL}),
                    f"Requests per second over {window}.")


# Apart from RECORDED: the dashboards' panels read RECORDED at every range, only the error-budget panel and the
# alerts read these.
SLI_SERIES: tuple[Recorded, ...] = tuple(r for w in SLI_WINDOWS for r in (sli_error_ratio(w), sli_request_rate(w)))
