"""Validate the answers before cookiecutter writes anything (this hook only validates, it never edits).

Checks the would-be tenant.yaml against the same JSON Schema `agentmon build` uses, and refuses a tenant
that already exists. A failure exits non-zero; cookiecutter then removes the empty folder it made.
"""

import json
import sys
from pathlib import Path

ANSWERS = json.loads(r"""{{ cookiecutter | jsonify }}""")
TEMPLATE_DIR = Path(ANSWERS["_repo_dir"]).resolve()
REPO = TEMPLATE_DIR.parents[1]
UNANSWERED = "CHANGE-ME"  # cookiecutter.json's default for tenant_id: forces an answer
FIELDS = ("tenant_id", "display_name", "success_rate_slo", "p95_latency_sla_seconds", "queue_alert_threshold",
          "owner_contact")


def fail(message: str) -> None:
    print(f"ERROR: tenant not created: {message}", file=sys.stderr)
    sys.exit(1)


def import_checker():
    try:
        from agentmon_config import check_tenant_answers
    except ImportError:
        sys.path.insert(0, str(REPO / "packages" / "config" / "src"))
        try:
            from agentmon_config import check_tenant_answers
        except ImportError as exc:
            fail(f"cannot load agentmon's tenant schema ({exc}); run cookiecutter from agentmon's environment "
                 "(`pip install -e .`, or `nox -s tenant -- tenant_id=... display_name=...`)")
    return check_tenant_answers


def as_yaml_value(text: str):
    """What the YAML file will hold for a numeric answer: a number when it reads as one."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def main() -> None:
    answers = {field: ANSWERS[field] for field in FIELDS}
    if answers["tenant_id"] == UNANSWERED:
        fail("tenant_id is required, e.g. `cookiecutter templates/tenant-dashboard -o tenants tenant_id=zeta`")
    for field in ("success_rate_slo", "p95_latency_sla_seconds", "queue_alert_threshold"):
        answers[field] = as_yaml_value(str(answers[field]))
    try:
        import_checker()(answers, "tenant answers")
    except Exception as exc:  # ConfigError(s): one line per problem, naming the field
        fail(f"invalid answers\n{exc}")
    tenant_id = answers["tenant_id"]
    existing = [p for p in (Path.cwd() / "tenant.yaml", REPO / "tenants" / tenant_id / "tenant.yaml") if p.exists()]
    if existing:
        fail(f"tenant {tenant_id!r} already exists ({existing[0]})")


main()
