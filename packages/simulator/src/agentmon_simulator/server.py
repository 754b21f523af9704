"""Serve the simulation on /metrics and advance it on a fixed cadence until SIGINT/SIGTERM."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable

from prometheus_client import start_http_server

from agentmon_simulator.traffic import Simulation

TICK_SECONDS = 1.0


def serve(simulation: Simulation, host: str, port: int, stop: threading.Event | None = None,
          on_ready: Callable[[int], None] | None = None, tick_seconds: float = TICK_SECONDS) -> None:
    """Block until `stop` is set (or SIGINT/SIGTERM arrives when running in the main thread)."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    server, thread = start_http_server(port, addr=host, registry=simulation.registry)
    try:
        if on_ready:
            on_ready(server.server_port)
        start = time.monotonic()
        ticks = 0
        # Absolute deadlines: ticks never drift, so the served rates are the configured ones.
        while not stop.wait(max(0.0, start + (ticks + 1) * tick_seconds - time.monotonic())):
            ticks += 1
            simulation.tick(tick_seconds)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
