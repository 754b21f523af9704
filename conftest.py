"""Suite-wide: the tests leave no agentmon temporary folder behind in the system temporary folder, and, under
pytest-xdist (`nox -s tests` runs two workers), the tests that share an expensive fixture run on one worker.

Every agentmon temporary folder is named `agentmon-<kind>-<pid>-...` (agentmon_live.owned.scratch_dir); one still
named for a test process when the session ends leaked from code that ran there (commands run in child processes
are checked by their own tests: a killed demo's folder is swept by the next command). Each xdist worker looks
for its own and hands them to the controller, which fails the run."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Fixtures that take seconds to minutes to build (a backfilled Prometheus history, a live simulator, a plain
# cookiecutter environment): each xdist worker would build its own copy, so every test using one is sent to the
# same worker (`--dist loadgroup`). Two fixtures over one history are one group.
SHARED_FIXTURE_GROUPS = {
    "history": "history",
    "incident_history": "incident-history",
    "raw_only": "incident-history",
    "sli_history": "sli-history",
    "slo_history": "slo-history",
    "live": "e2e-live",
    "plain_python": "plain-cookiecutter",
    "bench_run": "bench-run",
    "prometheus": "report-history",  # packages/cli/tests/test_report.py: two days imported with promtool
    "generated": "scale-2000-tenants",  # packages/bundle/tests/test_scale.py: rules and routing of 2,000 tenants
}
LEFTOVERS: list[str] = []


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which turns the marks into the groups it schedules
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        group = next((SHARED_FIXTURE_GROUPS[f] for f in getattr(item, "fixturenames", ())
                      if f in SHARED_FIXTURE_GROUPS), None)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
            if getattr(config.option, "loadgroup", False):  # set by xdist on its workers
                _group_in_node_id(item, group)


def _group_in_node_id(item: pytest.Item, group: str) -> None:
    """pytest-xdist 3.8 schedules a group by the "@group" it appends to `item._nodeid`, an attribute pytest 9 no
    longer reads (its node id is `item._id`): the groups were silently ignored and both workers built every
    history. This appends the group where pytest 9 keeps the id, as xdist means to."""
    if hasattr(item, "_id") and "@" not in item.nodeid:
        item._id = type(item._id).parse(f"{item.nodeid}@{group}")


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:  # the xdist controller: what a worker left behind
    LEFTOVERS.extend(getattr(node, "workeroutput", {}).get("agentmon_leftovers", []))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    leftovers = sorted(p.name for p in Path(tempfile.gettempdir()).glob(f"agentmon-*-{os.getpid()}-*"))
    worker_output = getattr(session.config, "workeroutput", None)
    if worker_output is not None:  # an xdist worker: the controller reports
        worker_output["agentmon_leftovers"] = leftovers
        return
    leftovers += LEFTOVERS
    if leftovers:
        print(f"\nagentmon temporary folders left behind by this test run: {', '.join(sorted(leftovers))}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# The kustomize render cache (agentmon_checks.kustomize.RenderCache) of a test run is its own, empty at the start, as
# on a CI machine: the suite's time does not depend on what earlier runs left in ~/.cache, and no test reads a render
# that this run did not make. Set in the controller before xdist starts its workers, which inherit it.
_OWN_CACHE = "AGENTMON_TEST_CACHE_OWNER"


def pytest_configure(config: pytest.Config) -> None:
    if "AGENTMON_CACHE_DIR" not in os.environ:
        os.environ["AGENTMON_CACHE_DIR"] = tempfile.mkdtemp(prefix="pytest-kustomize-cache-")
        os.environ[_OWN_CACHE] = str(os.getpid())


def pytest_unconfigure(config: pytest.Config) -> None:
    if os.environ.get(_OWN_CACHE) == str(os.getpid()):
        shutil.rmtree(os.environ.pop("AGENTMON_CACHE_DIR"), ignore_errors=True)
        del os.environ[_OWN_CACHE]
