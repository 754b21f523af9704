"""A real Alertmanager on 127.0.0.1 for the tests, webhook receivers on 127.0.0.1 that record every notification,
and Alertmanager's API v2 (post alerts, read them back with their inhibition status)."""

from __future__ import annotations

import contextlib
import json
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from agentmon_live.prometheus import free_loopback_port
from agentmon_testkit import prerequisite


class Received:
    """What each webhook path received: path -> list of (seconds since start, Alertmanager payload)."""

    def __init__(self) -> None:
        self.payloads: dict[str, list[tuple[float, dict]]] = {}
        self.lock = threading.Lock()
        self.started = time.monotonic()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        received = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with received.lock:
                    received.payloads.setdefault(self.path, []).append((time.monotonic() - received.started, body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        return Handler

    def alerts(self, path: str) -> list[dict]:
        with self.lock:
            return [alert for _, payload in self.payloads.get(path, []) for alert in payload["alerts"]]

    def notifications(self, until: float) -> dict[str, int]:
        """Path -> notifications received up to `until` seconds after start. A delivery Alertmanager retried (the
        same group, status and alerts again: our receiver answered too late under load) counts once."""
        return {path: len(set(got)) for path, got in self.deliveries(until).items()}

    def deliveries(self, until: float) -> dict[str, list[tuple[str, str, int]]]:
        """Path -> (group key, status, number of alerts) of each delivery up to `until` seconds, for messages."""
        with self.lock:
            return {path: [(p["groupKey"], p["status"] + json.dumps(p["alerts"], sort_keys=True), len(p["alerts"]))
                           for at, p in got if at <= until] for path, got in self.payloads.items()}


class _Server(ThreadingHTTPServer):
    # A storm sends Alertmanager's notifications all at once: the default listen backlog of 5 drops connections,
    # and the retried ones arrive seconds late (or time out), which would be this receiver's fault, not the routing's.
    request_queue_size = 4096
    daemon_threads = True


@contextlib.contextmanager
def webhooks() -> Iterator[tuple[Received, str]]:
    """(the recorder, its base URL)."""
    received = Received()
    server = _Server(("127.0.0.1", 0), received.handler())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield received, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


@contextlib.contextmanager
def alertmanager(work: Path, config: bytes) -> Iterator[str]:
    """A real Alertmanager with `config`, alone (no cluster), until the block ends; yields its URL."""
    binary = prerequisite("prometheus-alertmanager")
    (work / "alertmanager.yml").write_bytes(config)
    port = free_loopback_port()
    process = subprocess.Popen(
        [binary, f"--config.file={work / 'alertmanager.yml'}", f"--web.listen-address=127.0.0.1:{port}",
         "--cluster.listen-address=", f"--storage.path={work / 'alertmanager-data'}"],
        stdout=(work / "alertmanager.log").open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError):
                if urllib.request.urlopen(f"{url}/-/ready", timeout=2).status == 200:
                    break
            assert process.poll() is None and time.monotonic() < deadline, f"Alertmanager did not start: {work}"
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def post_alerts(url: str, alerts: list[dict[str, str]], lasting: timedelta = timedelta(hours=1)) -> None:
    """Fire alerts with these label sets, as Prometheus does (startsAt now, endsAt ahead)."""
    now = datetime.now(UTC)
    body = [{"labels": labels, "startsAt": now.isoformat(), "endsAt": (now + lasting).isoformat()}
            for labels in alerts]
    request = urllib.request.Request(f"{url}/api/v2/alerts", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    assert urllib.request.urlopen(request, timeout=30).status == 200


def inhibited_by(url: str) -> dict[tuple[str, str], list[str]]:
    """(alertname, tenant_id or severity) -> status.inhibitedBy, for every alert Alertmanager holds."""
    with urllib.request.urlopen(f"{url}/api/v2/alerts", timeout=30) as response:
        alerts = json.load(response)
    return {(a["labels"]["alertname"], a["labels"].get("tenant_id") or a["labels"].get("severity", "")):
            a["status"]["inhibitedBy"] for a in alerts}
