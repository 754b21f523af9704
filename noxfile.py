"""agentmon sessions. Each is a thin call of the `agentmon` command or a tool, so everything runs without nox too.

Main job: `nox -s build validate`. Tests: `nox -s tests`.
"""

from __future__ import annotations

import nox

# Policy: the Python that runs nox (3.11+), reused virtualenvs,
# dependencies only from pyproject.toml (pinned there, once).
nox.options.default_venv_backend = "venv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["build", "validate"]
nox.options.error_on_missing_interpreters = True

PYPROJECT = nox.project.load_toml("pyproject.toml")


def install(session: nox.Session, *groups: str) -> None:
    requirements = [req for group in groups for req in nox.project.dependency_groups(PYPROJECT, group)]
    session.install("-e", ".", *requirements)


@nox.session
def build(session: nox.Session) -> None:
    """Render every generated file from the configuration."""
    install(session)
    session.run("agentmon", "build", *session.posargs)


@nox.session
def validate(session: nox.Session) -> None:
    """Check that committed generated files are fresh and correct."""
    install(session)
    session.run("agentmon", "validate", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """Run unit and end-to-end tests (end-to-end needs prometheus and promtool on PATH)."""
    install(session, "test")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Lint and check formatting-independent style with ruff."""
    install(session, "lint")
    session.run("ruff", "check", ".", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """Show the five panels live in the terminal (simulator + local prometheus, no Docker)."""
    install(session)
    session.run("agentmon", "demo", *session.posargs)


@nox.session
def tenant(session: nox.Session) -> None:
    """Add a tenant: bake templates/tenant-dashboard into tenants/ (pass answers as key=value)."""
    install(session)
    session.run("cookiecutter", "templates/tenant-dashboard", "-o", "tenants", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Measure build + validate time and peak memory for 1, 50 and 500 tenants."""
    install(session)
    session.run("agentmon", "bench", *session.posargs)


@nox.session
def publish(session: nox.Session) -> None:
    """Publish the rendered overlay to a GitOps repo (-- --repo URL --branch B --path DIR [--dry-run])."""
    install(session)
    session.run("agentmon", "publish", *session.posargs)


@nox.session
def querybench(session: nox.Session) -> None:
    """Measure what the dashboard's queries cost Prometheus: raw vs recorded series, up to 1,000 tenants."""
    install(session)
    session.run("agentmon", "querybench", *session.posargs)
