"""Suite-wide: the tests leave no agentmon temporary folder behind in the system temporary folder.

Every agentmon temporary folder is named `agentmon-<kind>-<pid>-...` (agentmon_live.owned.scratch_dir); one still
named for this test process when the session ends leaked from code that ran here (commands run in child
processes are checked by their own tests: a killed demo's folder is swept by the next command)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    leftovers = sorted(p.name for p in Path(tempfile.gettempdir()).glob(f"agentmon-*-{os.getpid()}-*"))
    if leftovers:
        print(f"\nagentmon temporary folders left behind by this test run: {', '.join(leftovers)}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
