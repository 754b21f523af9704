"""A month of the simulator's traffic in a local Prometheus: a report without a platform (the docs' sample).

The simulation advances one step at a time (a sample per step: coarser than a real scrape, so a month takes a
minute, not an hour), from one step before the month (the first increase of the month needs a sample before it)
to its end, written as OpenMetrics and loaded with promtool. No recording rules: the report reads raw counters.
An incident's @Ns counts from the start of the month.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agentmon_live.demo import Traffic
from agentmon_live.owned import scratch_dir
from agentmon_live.preview.data import import_openmetrics, shifted
from agentmon_live.prometheus import PrometheusServer, find_binary
from agentmon_live.report.figures import Month

STEP_SECONDS = 60


def describe(traffic: Traffic) -> str:
    settings = [f"profile {traffic.profile}" if traffic.profile else f"tenants {', '.join(traffic.tenants)}",
                f"seed {traffic.seed}", f"noise {traffic.noise:g}", *(
                    [f"incidents {', '.join(traffic.incidents)}"] if traffic.incidents else [])]
    return f"the agentmon simulator ({'; '.join(settings)}; a sample every {STEP_SECONDS} s)"


@contextmanager
def simulated_month(traffic: Traffic, month: Month) -> Iterator[PrometheusServer]:
    find_binary("prometheus")
    promtool = find_binary("promtool")
    first = month.start - STEP_SECONDS
    with scratch_dir("report-simulated") as work:
        storage = Path(work) / "data"
        # A tick of the simulation advances the clock, then serves the step with the profile in force at its
        # end: an incident starting at @Ns changes the step ending at N + one step, counted from `first`.
        import_openmetrics(shifted(traffic, shift=2 * STEP_SECONDS), first, month.end, STEP_SECONDS, storage,
                           promtool, tick_seconds=STEP_SECONDS)
        config_file = Path(work) / "prometheus.yml"
        config_file.write_text(f"global:\n  scrape_interval: {STEP_SECONDS}s\nscrape_configs: []\n")
        # Retention counts back from the newest block: a month in the past stays whole.
        with PrometheusServer(config_file=config_file, storage=storage, retention="60d") as server:
            yield server
