"""What a command owns: its Prometheus dies with it (even on SIGKILL), its temporary folders are swept by the next
command, and a Prometheus that fails to start is reported with the end of its log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agentmon_live.owned import scratch_dir, sweep_scratch
from agentmon_live.prometheus import PrometheusFailed, PrometheusServer
from agentmon_testkit import built_copy, edit_file

from .conftest import prerequisite
from .test_demo import wait_for_line

BAD_TIMEOUT = "global scrape timeout greater than scrape interval"


def dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def test_the_sweep_removes_folders_of_dead_owners_only(tmp_path):
    dead, alive = dead_pid(), os.getpid()
    for name in (f"agentmon-demo-{dead}-abc_123", f"agentmon-bench-50-{dead}-x1y2z3", f"agentmon-demo-{alive}-k9",
                 "agentmon-demo-old", f"other-{dead}-abc"):
        (tmp_path / name).mkdir()
    (tmp_path / f"agentmon-kustomize-{dead}-link").symlink_to(tmp_path / "agentmon-demo-old")
    (tmp_path / f"agentmon-promtool-{dead}-file").write_text("a file\n")
    removed = sweep_scratch(tmp_path)
    assert sorted(p.name for p in removed) == [f"agentmon-bench-50-{dead}-x1y2z3", f"agentmon-demo-{dead}-abc_123"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([
        f"agentmon-demo-{alive}-k9", "agentmon-demo-old", f"other-{dead}-abc", f"agentmon-kustomize-{dead}-link",
        f"agentmon-promtool-{dead}-file"])


def test_scratch_folders_name_their_owner(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    with scratch_dir("publish") as folder:
        assert Path(folder).parent == tmp_path
        assert Path(folder).name.startswith(f"agentmon-publish-{os.getpid()}-")
        assert sweep_scratch(tmp_path) == []  # its owner is alive


def bad_prometheus_config(tmp_path: Path) -> Path:
    config = tmp_path / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 5s\n  scrape_timeout: 1m\n")
    return config


def test_a_prometheus_that_exits_is_reported_with_the_end_of_its_log(tmp_path):
    prerequisite("prometheus")
    server = PrometheusServer(config_file=bad_prometheus_config(tmp_path), storage=tmp_path / "data")
    with pytest.raises(PrometheusFailed) as failed:
        server.start()
    message = str(failed.value)
    assert message.startswith("prometheus exited with status 2 before it was ready; the end of its log:\n  ")
    assert BAD_TIMEOUT in message


def test_a_prometheus_never_ready_is_stopped_and_reported(tmp_path):
    prerequisite("prometheus")
    config = tmp_path / "prometheus.yml"
    config.write_text("scrape_configs: []\n")
    server = PrometheusServer(config_file=config, storage=tmp_path / "data")
    with pytest.raises(PrometheusFailed) as failed:
        server.start(timeout=0.001)
    assert str(failed.value).startswith(f"prometheus not ready on {server.url} after 0.001 s; ")
    assert server.process is not None and server.process.poll() is not None  # stopped, not left running


def demo(root: Path, temp: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "TMPDIR": str(temp), "PYTHONUNBUFFERED": "1", "COLUMNS": "120"}
    return subprocess.Popen([sys.executable, "-m", "agentmon_cli", "--root", str(root), "demo", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


@pytest.mark.e2e
def test_demo_with_a_prometheus_that_exits_names_the_reason_and_leaves_nothing(tmp_path):
    prerequisite("prometheus")
    root, temp = built_copy(tmp_path / "repo"), tmp_path / "tmp"
    temp.mkdir()
    edit_file(root / "compose/prometheus.yml", "  scrape_interval: 15s\n",
              "  scrape_interval: 15s\n  scrape_timeout: 1m\n")
    process = demo(root, temp, "--once")
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 3
    assert stderr.startswith("prometheus failed: prometheus exited with status 2 before it was ready; the end of its "
                             "log:\n  ")
    assert BAD_TIMEOUT in stderr and "Traceback" not in stderr
    assert list(temp.iterdir()) == []


def prometheus_on(port: str) -> list[int]:
    """Process ids whose command line listens on 127.0.0.1:port."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"--web.listen-address=127.0.0.1:{port}".encode() in cmdline:
            found.append(int(proc.name))
    return found


@pytest.mark.e2e
def test_a_killed_demo_takes_its_prometheus_along_and_the_next_command_sweeps_its_folder(tmp_path):
    prerequisite("prometheus")
    temp = tmp_path / "tmp"
    temp.mkdir()
    repo = Path(__file__).resolve().parents[3]
    process = demo(repo, temp, "--scrape-interval", "1s", "--refresh", "1")
    try:
        seen = wait_for_line(process, "prometheus on http://127.0.0.1:", timeout=60)
        port = seen.split("prometheus on http://127.0.0.1:")[1].split(";")[0].strip()
        assert len(prometheus_on(port)) == 1
        (work,) = temp.iterdir()
        assert work.name.startswith(f"agentmon-demo-{process.pid}-")
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    deadline = time.monotonic() + 10
    while prometheus_on(port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert prometheus_on(port) == []  # killed by the kernel with its parent (parent-death signal)
    assert [p.name for p in temp.iterdir()] == [work.name]  # SIGKILL runs no clean-up ...
    env = {**os.environ, "TMPDIR": str(temp)}
    swept = subprocess.run([sys.executable, "-m", "agentmon_cli", "--root", str(repo), "demo", "--tenant", "zeta"],
                           capture_output=True, text=True, env=env, timeout=120)
    assert swept.returncode == 2  # a refused command still sweeps first
    assert list(temp.iterdir()) == []  # ... the next command does
