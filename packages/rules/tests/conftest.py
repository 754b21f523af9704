"""Fixtures the promtool alert tests share: promtool itself, and the alert kit's two-tenant configuration."""

from __future__ import annotations

import pytest
from agentmon_alertkit import make_config

from agentmon_testkit import prerequisite


@pytest.fixture(scope="module")
def promtool():
    return prerequisite("promtool")


@pytest.fixture
def config(tmp_path):
    """north (99.9 %, 60 s, queue 30) and south (97 %, 180 s, 400): limits unlike the defaults and each other."""
    return make_config(tmp_path / "project")
