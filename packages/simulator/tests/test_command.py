"""`agentmon simulate` and `agentmon demo` as a user runs them: bad options end in one line naming the option
(exit 2, no traceback), the tenants come from tenants/, the help's numbers from the configuration."""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[3]


def agentmon(*args: str, root: Path = REPO, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agentmon_cli", "--root", str(root), *args],
                          capture_output=True, text=True, timeout=timeout)


def refused(result: subprocess.CompletedProcess[str]) -> str:
    """The one line a refused command prints last, after checking it exited 2 without a traceback."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize(("args", "message"), [
    (["simulate", "--noise", "-5"], "argument --noise: '-5': expected a number from 0 (exact traffic) to 1"),
    (["simulate", "--noise", "nan"], "argument --noise: 'nan': expected a finite number"),
    (["simulate", "--tenants", ","], "argument --tenants: ',': expected comma-separated tenant ids, e.g. acme,globex"),
    (["simulate", "--tenants", "acme,Acme"],
     "argument --tenants: 'Acme' is not a tenant id (expected format ^[a-z][a-z0-9-]{0,29}[a-z0-9]$)"),
    (["simulate", "--tenants", "acme,acme"], "argument --tenants: 'acme' is listed twice"),
    (["simulate", "--port", "-1"], "argument --port: '-1': expected a port number from 0 to 65535 (0: any free port)"),
    (["simulate", "--port", "70000"],
     "argument --port: '70000': expected a port number from 0 to 65535 (0: any free port)"),
    (["demo", "--noise", "-5"], "argument --noise: '-5': expected a number from 0 (exact traffic) to 1"),
    (["demo", "--refresh", "0"], "argument --refresh: '0': expected a number of seconds above 0"),
    (["demo", "--duration", "-1"], "argument --duration: '-1': expected a number of seconds, 0 or more"),
    (["demo", "--scrape-interval", "0s"],
     "argument --scrape-interval: '0s': expected a duration above 0 such as 5s, 500ms or 1m"),
])
def test_bad_option_values_are_refused_in_one_line(args, message):
    assert refused(agentmon(*args)) == f"agentmon {args[0]}: error: {message}"


def test_a_port_in_use_is_named():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = refused(agentmon("simulate", "--port", str(port)))
    assert line == f"error: --port {port}: cannot listen on 127.0.0.1:{port} (Address already in use)"


def test_an_unresolvable_host_is_named():
    line = refused(agentmon("simulate", "--host", "nosuch.invalid", "--port", "0"))
    assert line.startswith("error: --host nosuch.invalid: cannot resolve it (")


def test_an_address_of_another_machine_is_named():
    line = refused(agentmon("simulate", "--host", "192.0.2.1", "--port", "0"))  # TEST-NET-1: never local
    assert line == "error: --host 192.0.2.1: cannot listen on 192.0.2.1:0 (Cannot assign requested address)"


def serve_once(*args: str, root: Path = REPO) -> tuple[str, str]:
    """Start `agentmon simulate`, read /metrics once, stop it with SIGTERM: (metrics, stdout)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "agentmon_cli", "--root", str(root), "simulate",
                                "--port", str(port), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    body = ""
    try:
        for _ in range(100):
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
                break
            except OSError:
                time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=15)
    assert process.returncode == 0, stderr
    return body, stdout


def served_tenants(metrics: str) -> set[str]:
    return set(re.findall(r'^worker_active_count\{tenant_id="([^"]+)"\}', metrics, re.M))


def test_by_default_the_tenants_of_the_repository_are_served():
    metrics, stdout = serve_once()
    assert served_tenants(metrics) == {p.name for p in (REPO / "tenants").iterdir()} == {"acme", "globex"}
    assert "for acme, globex" in stdout


def test_without_a_repository_the_tenants_must_be_named(tmp_path):
    line = refused(agentmon("simulate", "--port", "0", root=tmp_path))
    assert line == (f"error: no tenants to simulate: {tmp_path / 'tenants'} holds no tenant; pass --tenants a,b "
                    "or --profile FILE")
    metrics, _ = serve_once("--tenants", "acme,globex", root=tmp_path)  # as in the compose image
    assert served_tenants(metrics) == {"acme", "globex"}


def test_help_describes_the_incidents_with_the_configuration_numbers(tmp_path):
    shutil.copytree(REPO / "config", tmp_path / "config")
    config = tmp_path / "config/platform.yaml"
    yaml = YAML()
    doc = yaml.load(config)
    doc["thresholds"]["queue_depth_reference"] = 80
    doc["thresholds"]["p95_latency_sla_seconds"] = 60
    yaml.dump(doc, config)
    for command in ("simulate", "demo"):
        result = agentmon(command, "--help", root=tmp_path)
        assert result.returncode == 0, result.stderr
        text = " ".join(result.stdout.split())
        assert "queue-backlog: 120 jobs pile up in the tenant's queue (above the 80-job line)" in text
        assert "latency-spike: processing slows until p95 reaches 120 s (above the 60 s SLA)" in text
        assert "failure-spike: 25 % of the tenant's requests fail (error rate red from 5 %, success rate red " \
               "below 90 %)" in text


COMPOSE_COMMANDS = {
    "compose/docker-compose.yml": lambda text: YAML(typ="safe").load(text)["services"]["simulator"]["command"],
    "compose/simulator.Dockerfile": lambda text: YAML(typ="safe").load(
        re.search(r"^CMD (.+)$", text, re.M).group(1)),
    "components/demo-stack/simulator.yaml": lambda text: next(
        d for d in YAML(typ="safe").load_all(text) if d["kind"] == "Deployment")[
        "spec"]["template"]["spec"]["containers"][0]["args"],
}


def test_the_containers_serve_the_same_tenants_of_the_repository():
    """No repository in the simulator image: every container names its tenants, the same everywhere."""
    served = {}
    for path, command_of in COMPOSE_COMMANDS.items():
        args = command_of((REPO / path).read_text())
        served[path] = args[args.index("--tenants") + 1]
    assert set(served.values()) == {"acme,globex"}, served
    assert all((REPO / "tenants" / name / "tenant.yaml").is_file() for name in ["acme", "globex"])
