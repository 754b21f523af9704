"""Check the answers before cookiecutter writes anything (this hook only validates, it never edits).

Run by the Python that runs cookiecutter, with the rules `agentmon build` applies: in agentmon's environment
(`nox -s tenant`, `agentmon tenant`, or cookiecutter installed with agentmon) agentmon's own check, against the
JSON Schema, the other tenants and config/platform.yaml. A cookiecutter installed on its own (pipx, for example)
cannot import agentmon: the hook then loads the same rules from the repository the template lies in
(packages/config/src/agentmon_config/fields.py and the tenant schema, standard library only) and says which
checks only the build makes (other tenants' names; e-mail addresses when email-validator is missing).
A refused answer prints one line per problem and exits 1: cookiecutter then writes nothing.
"""

import json
import sys
import types
from pathlib import Path

ANSWERS = json.loads(r"""{{ cookiecutter | jsonify }}""")
SOURCE = "tenant answers"
UNANSWERED = "CHANGE-ME"  # cookiecutter.json's default for tenant_id: forces an answer
NUMBERS = ("success_rate_slo", "p95_latency_sla_seconds", "queue_alert_threshold")
FIELDS = ("tenant_id", "display_name", *NUMBERS, "owner_contact")
CONFIG_SOURCE = Path("packages/config/src/agentmon_config")  # in the repository the template lies in


def fail(message):
    print("ERROR: tenant not created: " + message, file=sys.stderr)
    sys.exit(1)


def repository():
    """The repository the tenant is created in (the nearest folder above the output folder holding agentmon's
    configuration package), else the one holding this template. None when neither holds it."""
    starts = [Path(ANSWERS["_output_dir"])]
    if Path(ANSWERS.get("_repo_dir", "")).is_absolute():
        starts.append(Path(ANSWERS["_repo_dir"]))
    for start in starts:
        for folder in (start, *start.parents):
            if (folder / CONFIG_SOURCE / "fields.py").is_file():
                return folder
    return None


def shared_rules():
    """agentmon_config.fields: imported in agentmon's environment, else loaded from the repository without
    agentmon_config's __init__ (which needs agentmon's dependencies)."""
    try:
        from agentmon_config import fields
        return fields, True
    except ImportError:
        pass
    if repository() is None:
        fail(f"cannot check the answers: no {CONFIG_SOURCE / 'fields.py'} above {ANSWERS['_output_dir']} (create "
             "the tenant inside an agentmon repository: cookiecutter templates/tenant-dashboard -o tenants)")
    source = repository() / CONFIG_SOURCE
    package = types.ModuleType("agentmon_config")
    package.__path__ = [str(source)]
    sys.modules["agentmon_config"] = package
    from agentmon_config import fields
    return fields, False


def agentmon_problems(answers):
    """The build's own check (schema, rules, other tenants, platform.yaml), one line per problem."""
    from agentmon_config import check_tenant_answers
    try:
        check_tenant_answers(answers, SOURCE, tenants_dir=Path(ANSWERS["_output_dir"]))
    except Exception as exc:  # ConfigError(s): one line per problem, naming the field
        return str(exc).splitlines()
    return []


def standalone_problems(fields, answers):
    schema = json.loads((repository() / CONFIG_SOURCE / "schemas" / "tenant.schema.json").read_text())
    found = fields.schema_problems(answers, schema)
    if not found:
        found = fields.tenant_problems(dict(answers))
    return [f"{SOURCE}: {'.'.join(keys)}: {message}" for keys, message in found]


def main():
    answers = {field: ANSWERS[field] for field in FIELDS}
    if answers["tenant_id"] == UNANSWERED:
        fail("tenant_id is required, e.g. `nox -s tenant -- tenant_id=zeta display_name=Zeta`")
    fields, in_agentmon = shared_rules()
    for field in NUMBERS:
        answers[field] = fields.yaml_number(str(answers[field]))
    problems = agentmon_problems(answers) if in_agentmon else standalone_problems(fields, answers)
    if problems:
        fail("invalid answers\n" + "\n".join(problems))
    # cookiecutter runs the hook inside the tenant's folder; `agentmon tenant --overwrite` replaces on purpose.
    if Path("tenant.yaml").exists() and ANSWERS.get("_overwrite") != "yes":
        fail(f"tenant {answers['tenant_id']!r} already exists ({Path.cwd() / 'tenant.yaml'}): edit that file, or "
             "run `agentmon tenant --overwrite ...` to replace it")
    if not in_agentmon:
        unchecked = "display names of the other tenants"
        if not fields.email_checked():
            unchecked += " and e-mail addresses (email-validator is not installed here)"
        print(f"note: this cookiecutter cannot import agentmon, so the answers were checked with agentmon's rules "
              f"read from the repository, except the {unchecked}; `nox -s build validate` checks those",
              file=sys.stderr)


main()
