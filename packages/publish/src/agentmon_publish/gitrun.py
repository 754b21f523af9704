"""Run git for publish: bounded in time, its helpers (ssh, git-remote-http) killed with it, every failure one
line quoting git's own reason, with an exit status per kind of failure (`agentmon publish --help` lists them)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
from pathlib import Path

# Exit statuses of `agentmon publish`; 1 to 3 are the agentmon command's own (see agentmon_cli.main).
EXIT_REFUSED = 1  # nothing sent: the bundle fails validate, or the source tree has uncommitted changes
EXIT_TARGET_FOLDER = 4  # the target folder holds what publish will not overwrite (files it did not write, links)
EXIT_PUSH_REFUSED = 5  # the target refused the push for a reason other than a race (hook, permissions, ...)
EXIT_GIT_FAILED = 6  # git failed or timed out: clone, fetch, commit (e.g. signing), network
EXIT_RACE_LOST = 7  # someone else pushed first, every attempt

DEFAULT_TIMEOUT = 300.0
# Never ask a question on the terminal: publish runs in CI as often as by hand, and a prompt hangs it.
QUIET_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "SSH_ASKPASS": "true", "LC_ALL": "C"}


class PublishError(RuntimeError):
    """A publish that cannot go on; `exit_code` says which kind of failure it is."""

    exit_code = EXIT_REFUSED

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


def git(*args: str, cwd: Path, timeout: float = DEFAULT_TIMEOUT, check: bool = True,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """git in its own process group, so a timeout kills the helpers it started too (an ssh waiting on a server
    that never answers would otherwise outlive us)."""
    process = subprocess.Popen(["git", *args], cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True,
                               env={**os.environ, **QUIET_ENV})
    try:
        stdout, stderr = process.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise PublishError(f"git {args[0]} gave no answer within {timeout:g} s (a server that does not respond, "
                           f"or a network that drops the connection); check the --repo address, or raise "
                           f"--timeout", EXIT_GIT_FAILED) from None
    except BaseException:
        _kill_group(process)
        raise
    result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    if check and result.returncode != 0:
        raise PublishError(f"git {args[0]} failed: {one_line(stderr or stdout)}", EXIT_GIT_FAILED)
    return result


def _kill_group(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


_REJECTED = re.compile(r"^\s*! \[(?:remote )?rejected\][^(]*\((?P<why>[^)]*)\)", re.MULTILINE)
_NOISE = re.compile(r"^(hint:|error: failed to push some refs|To |\s*! \[)")


def one_line(output: str) -> str:
    """git's reason in one line: its first message (a hook's or the server's own words come first), plus the
    short reason of a rejected ref; hints and the generic "failed to push" line left out."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    first = next((_plain(line) for line in lines if not _NOISE.match(line)), "")
    rejected = _REJECTED.search(output)
    reason = rejected.group("why") if rejected else ""
    if first and reason and reason not in first:
        return f"{first} ({reason})"
    return first or reason or (lines[-1] if lines else "no message")


def _plain(line: str) -> str:
    for prefix in ("remote:", "error:", "fatal:"):
        if line.startswith(prefix):
            line = line[len(prefix):].strip()
    return line
