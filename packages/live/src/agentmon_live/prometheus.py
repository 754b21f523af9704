"""Run and query a real Prometheus on loopback: used by the terminal demo and the end-to-end tests."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentmon_live.owned import die_with_parent

INSTALL_HINT = "install the Debian package `prometheus` (apt-get install prometheus), or put the binaries on PATH"


class PrerequisiteMissing(RuntimeError):
    pass


class QueryError(RuntimeError):
    pass


def find_binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise PrerequisiteMissing(f"`{name}` not found on PATH: {INSTALL_HINT}")
    return path


def free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrometheusUnreachable(RuntimeError):
    pass


class PrometheusFailed(RuntimeError):
    """The local Prometheus exited or never became ready; the message holds the end of its log, because the
    log lives in a temporary folder that is gone once the command has stopped."""


LOG_TAIL_LINES = 8


class PrometheusClient:
    """The HTTP query API of the Prometheus at `url`: what Grafana's datasource calls."""

    url: str

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def api(self, path: str, **params: Any) -> Any:
        data = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None}).encode()
        request = urllib.request.Request(f"{self.url}/api/v1/{path}", data=data, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                body = json.load(response)
        except urllib.error.HTTPError as exc:  # Prometheus answers bad queries with 400 and a JSON error
            body = self._json_error(exc)
        except (urllib.error.URLError, OSError) as exc:  # refused, unknown host, timeout
            reason = getattr(exc, "reason", exc)
            raise PrometheusUnreachable(f"cannot reach Prometheus at {self.url}: {reason}") from exc
        except ValueError as exc:
            raise PrometheusUnreachable(f"{self.url} does not answer like a Prometheus API") from exc
        if body.get("status") != "success":
            raise QueryError(f"{body.get('errorType')}: {body.get('error')} (query: {params.get('query')})")
        return body["data"]

    def _json_error(self, exc: urllib.error.HTTPError) -> Any:
        try:
            return json.load(exc)
        except ValueError:
            raise PrometheusUnreachable(f"{self.url} answered HTTP {exc.code}, not a Prometheus API") from exc

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        """Instant query: the vector Grafana gets for an instant target."""
        return self.api("query", query=expr, time=at)["result"]

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        return self.api("query_range", query=expr, start=start, end=end, step=step)["result"]


@dataclass
class PrometheusServer(PrometheusClient):
    """A Prometheus process bound to 127.0.0.1, started with `start()` and stopped with `stop()`; queried
    through PrometheusClient's methods at its loopback `url`."""

    config_file: Path
    storage: Path
    port: int = field(default_factory=free_loopback_port)
    extra_args: tuple[str, ...] = ()
    retention: str = "30d"
    process: subprocess.Popen[bytes] | None = None
    log: Any = None  # the process' output, kept beside the storage folder for diagnosis

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> PrometheusServer:
        self.log = log = (self.storage.parent / f"prometheus-{self.port}.log").open("wb")
        self.process = subprocess.Popen(
            [find_binary("prometheus"), f"--config.file={self.config_file}",
             f"--storage.tsdb.path={self.storage}", f"--web.listen-address=127.0.0.1:{self.port}",
             f"--storage.tsdb.retention.time={self.retention}", *self.extra_args],
            stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent())
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise PrometheusFailed(f"prometheus exited with status {self.process.returncode} before it was "
                                       f"ready{self._log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        raise PrometheusFailed(f"prometheus not ready on {self.url} after {timeout:g} s{self._log_tail()}")

    def _log_tail(self) -> str:
        """The last lines of the log, quoted into the message: the log's folder may be removed right after."""
        self.log.flush()
        lines = Path(self.log.name).read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
        return "; the end of its log:\n  " + "\n  ".join(lines) if lines else "; its log is empty"

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log:
            self.log.close()

    def __enter__(self) -> PrometheusServer:
        return self.start() if self.process is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()
