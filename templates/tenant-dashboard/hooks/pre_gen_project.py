"""Check the answers before cookiecutter writes anything (this hook only validates, it never edits).

Run by the Python that runs cookiecutter. The answers are checked with the rules below (the schema's own,
standard library only, kept in agreement by packages/cli/tests/test_tenant_template.py) and, in agentmon's
environment (`nox -s tenant`, `agentmon tenant`, or cookiecutter installed with agentmon), also against the
JSON Schema `agentmon build` uses. A cookiecutter installed on its own (pipx, for example) cannot import
agentmon: the hook then says that the build checks the tenant against the full schema.
A refused answer prints one line per problem and exits 1: cookiecutter then writes nothing.
Standard library only, and Python 3.8 syntax: this runs on whatever Python the user's cookiecutter has.
"""

import json
import math
import re
import sys
from pathlib import Path

ANSWERS = json.loads(r"""{{ cookiecutter | jsonify }}""")
SOURCE = "tenant answers"
UNANSWERED = "CHANGE-ME"  # cookiecutter.json's default for tenant_id: forces an answer
NUMBERS = ("success_rate_slo", "p95_latency_sla_seconds", "queue_alert_threshold")
FIELDS = ("tenant_id", "display_name", *NUMBERS, "owner_contact")

# The standard-library rules: tenant.schema.json's, for when agentmon cannot be imported.
TENANT_ID_PATTERN = "^[a-z][a-z0-9-]{0,29}[a-z0-9]$"
ONE_LINE_PATTERN = "^[^\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029]+$"
RESERVED = ("all", "default", "general", "agentmon", "admin", "grafana", "system", "platform", "generated",
            "tenants", "shared", "monitoring", "__all__")
LENGTHS = {"display_name": (None, 60), "owner_contact": (3, None)}  # (minimum, maximum) characters
# field -> (lowest, lowest allowed?, highest, highest allowed?, whole number?)
RANGES = {
    "success_rate_slo": (0, False, 99.999, True, False),
    "p95_latency_sla_seconds": (0, False, None, False, False),
    "queue_alert_threshold": (1, True, None, False, True),
}


def fail(message):
    print("ERROR: tenant not created: " + message, file=sys.stderr)
    sys.exit(1)


def as_yaml_value(text):
    """What the YAML file will hold for a numeric answer: a number when it reads as one."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def schema_check():
    """agentmon's full check, or None when this cookiecutter cannot import agentmon."""
    try:
        from agentmon_config import check_tenant_answers
    except ImportError:
        return None
    return check_tenant_answers


def stdlib_problems(answers):
    """One message per rule broken, worded like the schema check's."""
    problems = []
    tenant_id = answers["tenant_id"]
    # fullmatch on the pattern's body: "$" alone would accept a trailing newline.
    if not re.fullmatch(TENANT_ID_PATTERN[1:-1], tenant_id):
        problems.append(f"tenant_id: {tenant_id!r} does not match the expected format {TENANT_ID_PATTERN}")
    elif tenant_id in RESERVED:
        problems.append(f"tenant_id: {tenant_id!r} is a reserved name ({', '.join(RESERVED)})")
    for field, (shortest, longest) in LENGTHS.items():
        text = answers[field]
        if shortest is not None and len(text) < shortest:
            problems.append(f"{field}: {text!r} is too short")
        if longest is not None and len(text) > longest:
            problems.append(f"{field}: {text!r} is too long")
        if not re.fullmatch(ONE_LINE_PATTERN[1:-1], text):
            problems.append(f"{field}: {text!r} does not match the expected format {ONE_LINE_PATTERN}")
    for field, rule in RANGES.items():
        problem = range_problem(answers[field], *rule)
        if problem:
            problems.append(f"{field}: {problem}")
    return [f"{SOURCE}: {problem}" for problem in problems]


def range_problem(value, low, low_allowed, high, high_allowed, whole):
    kind = "integer" if whole else "number"
    if isinstance(value, str) or (whole and not float(value).is_integer()):
        return f"{value!r} is not of type {kind!r}"
    if not math.isfinite(value):
        return f"{value!r} is not a finite number"
    if value < low or (value == low and not low_allowed):
        return f"{value!r} is less than {'' if low_allowed else 'or equal to '}the minimum of {low}"
    if high is not None and (value > high or (value == high and not high_allowed)):
        return f"{value!r} is greater than {'' if high_allowed else 'or equal to '}the maximum of {high}"
    return None


def main():
    answers = {field: ANSWERS[field] for field in FIELDS}
    if answers["tenant_id"] == UNANSWERED:
        fail("tenant_id is required, e.g. `nox -s tenant -- tenant_id=zeta display_name=Zeta`")
    for field in NUMBERS:
        answers[field] = as_yaml_value(str(answers[field]))
    check = schema_check()
    problems = []
    if check is not None:
        try:
            check(answers, SOURCE)
        except Exception as exc:  # ConfigError(s): one line per problem, naming the field
            problems = str(exc).splitlines()
    # The template's own rules apply in both cases (they also refuse what the schema's "$" lets through: a
    # trailing newline); a problem both report is said once.
    problems += [problem for problem in stdlib_problems(answers) if problem not in problems]
    if problems:
        fail("invalid answers\n" + "\n".join(problems))
    if Path("tenant.yaml").exists():  # cookiecutter runs the hook inside the tenant's folder
        fail(f"tenant {answers['tenant_id']!r} already exists ({Path.cwd() / 'tenant.yaml'})")
    if check is None:
        print("note: this cookiecutter cannot import agentmon, so the answers were checked with the template's "
              "own rules; `nox -s build validate` checks the tenant against the full schema", file=sys.stderr)


main()
