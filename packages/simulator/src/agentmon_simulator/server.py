"""Serve the simulation on /metrics and advance it on a fixed cadence until SIGINT/SIGTERM."""

from __future__ import annotations

import errno
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import start_http_server

from agentmon_simulator.traffic import Simulation

TICK_SECONDS = 1.0


class AddressError(ValueError):
    """The simulator cannot listen on the --host/--port it was given (a usage error, not a crash)."""


def listen(simulation: Simulation, host: str, port: int) -> tuple[Any, threading.Thread]:
    """start_http_server, with its socket errors turned into one line naming the option to change."""
    try:
        return start_http_server(port, addr=host, registry=simulation.registry)
    except socket.gaierror as exc:
        raise AddressError(f"--host {host}: cannot resolve it ({exc.strerror})") from None
    except OverflowError:
        raise AddressError(f"--port {port}: expected a port number from 0 to 65535") from None
    except OSError as exc:
        option = "--host" if exc.errno == errno.EADDRNOTAVAIL else "--port"
        value = host if option == "--host" else port
        raise AddressError(f"{option} {value}: cannot listen on {host}:{port} ({exc.strerror})") from None


def serve(simulation: Simulation, host: str, port: int, stop: threading.Event | None = None,
          on_ready: Callable[[int], None] | None = None, tick_seconds: float = TICK_SECONDS) -> None:
    """Block until `stop` is set (or SIGINT/SIGTERM arrives when running in the main thread)."""
    stop = stop or threading.Event()
    server, thread = listen(simulation, host, port)
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
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
