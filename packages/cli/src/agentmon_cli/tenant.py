"""`agentmon tenant KEY=VALUE ...`: bake templates/tenant-dashboard into tenants/<tenant_id>/ through
cookiecutter's API.

Two things the cookiecutter command does not do: answers land literally (cookiecutter evaluates Jinja in
answers given on its command line, so `{{ 7*7 }}` would become 49), and a refused answer ends with the
hook's own message only (cookiecutter's command adds a traceback of its FailedHookException).
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cookiecutter.environment import StrictEnvironment
from cookiecutter.exceptions import FailedHookException, OutputDirExistsException
from cookiecutter.main import cookiecutter
from rich.console import Console

from agentmon_config import ConfigError, check_tenant_answers, fields

TEMPLATE = Path("templates/tenant-dashboard")
TENANTS = Path("tenants")
EXIT_REFUSED = 2  # a bad answer is bad usage
NUMBERS = ("success_rate_slo", "p95_latency_sla_seconds", "queue_alert_threshold")  # written unquoted
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def add_tenant_parser(commands: Any) -> None:
    p = commands.add_parser("tenant", help=f"add a tenant: bake {TEMPLATE} into {TENANTS}/<tenant_id>/")
    p.add_argument("answers", nargs="*", type=answer, metavar="KEY=VALUE",
                   help="answers, e.g. tenant_id=zeta display_name=Zeta; the others take their defaults. "
                        "Without any, every question is asked, and an answer the build would refuse is asked again.")
    p.add_argument("--overwrite", action="store_true",
                   help=f"replace an existing {TENANTS}/<tenant_id>/tenant.yaml (without it, an existing tenant is "
                        "refused: edit its file instead)")
    p.set_defaults(run=create_tenant)


def answer(text: str) -> tuple[str, str]:
    key, equals, value = text.partition("=")
    if not equals or not key:
        raise argparse.ArgumentTypeError(f"{text!r}: expected KEY=VALUE, e.g. tenant_id=zeta")
    return key, value


def create_tenant(args: argparse.Namespace) -> int:
    template = args.root / TEMPLATE
    if not (template / "cookiecutter.json").is_file():
        raise ValueError(f"{template}: no cookiecutter template here; run from the repository root or pass --root")
    tenants = args.root / TENANTS
    try:
        answers = _checked_answers(args.answers, _questions(template))
        if not answers:
            answers = _asked_answers(template, tenants, args.overwrite)
        with _without_cookiecutter_tracebacks():
            created = Path(cookiecutter(str(template), no_input=True, output_dir=str(tenants),
                                        overwrite_if_exists=args.overwrite,
                                        extra_context={**{key: _literal(value) for key, value in answers.items()},
                                                       "_overwrite": "yes" if args.overwrite else "no"}))
    except FailedHookException:
        return EXIT_REFUSED  # the template's hook has printed why, one line per problem
    except (EOFError, KeyboardInterrupt):  # a question met the end of the input, or Ctrl-C
        err.print("\nERROR: tenant not created: a question got no answer; give the answers as KEY=VALUE, "
                  "e.g. tenant_id=zeta display_name=Zeta", markup=False, soft_wrap=True)
        return EXIT_REFUSED
    except OutputDirExistsException:
        err.print(f"ERROR: tenant not created: {_exists(answers.get('tenant_id', '?'))}", markup=False,
                  soft_wrap=True)
        return EXIT_REFUSED
    out.print(f"created {TENANTS / created.name / 'tenant.yaml'}; next: nox -s build validate", markup=False,
              soft_wrap=True)
    return 0


def _exists(tenant_id: str) -> str:
    folder = TENANTS / tenant_id
    return (f"{folder} already exists: edit {folder / 'tenant.yaml'} (then nox -s build validate), or run "
            "`agentmon tenant --overwrite ...` to replace it")


def _template_defaults(template: Path) -> dict[str, Any]:
    return json.loads((template / "cookiecutter.json").read_text())


def _questions(template: Path) -> list[str]:
    return _questions_of(_template_defaults(template))


def _asked_answers(template: Path, tenants: Path, overwrite: bool) -> dict[str, str]:
    """Ask every question; an answer the build would refuse is explained and asked again, so what is written
    builds (the same check as the build: agentmon_config.check_tenant_answers)."""
    defaults = _template_defaults(template)
    prompts = defaults.get("__prompts__", {})
    answers: dict[str, str] = {}
    for key in _questions_of(defaults):
        while True:
            default = _default(defaults[key], answers)
            given = input(f"{prompts.get(key, key)} [{default}]: ").strip() or default
            problems = _problems(key, {**answers, key: given}, defaults, tenants, overwrite)
            if not problems:
                answers[key] = given
                break
            for problem in problems:
                err.print(f"  refused: {problem}", markup=False, soft_wrap=True)
    return answers


def _default(default: str, answers: dict[str, str]) -> str:
    """cookiecutter.json's default, rendered as cookiecutter renders it (display_name derives from tenant_id)."""
    return StrictEnvironment().from_string(default).render(cookiecutter=answers) if "{{" in default else default


def _problems(key: str, answers: dict[str, str], defaults: dict[str, Any], tenants: Path,
              overwrite: bool) -> list[str]:
    """What the build would refuse in the answer to key (the unanswered questions taking their defaults)."""
    if key == "tenant_id" and (tenants / answers[key]).exists() and not overwrite:
        return [_exists(answers[key])]
    candidate = {k: _default(defaults[k], answers) for k in _questions_of(defaults)} | answers
    candidate = {k: fields.yaml_number(v) if k in NUMBERS else v for k, v in candidate.items()}
    try:
        check_tenant_answers(candidate, "tenant answers", tenants_dir=tenants)
    except ConfigError as exc:
        errors = getattr(exc, "errors", [exc])
        return [f"{e.field}: {e.message}" for e in errors if e.field.split(".")[0] == key]
    return []


def _questions_of(defaults: dict[str, Any]) -> list[str]:
    return [key for key in defaults if not key.startswith("_")]


def _checked_answers(pairs: list[tuple[str, str]], questions: list[str]) -> dict[str, str]:
    answers: dict[str, str] = {}
    for key, value in pairs:
        if key not in questions:
            raise ValueError(f"{key}={value}: the template has no question {key!r} (it asks {', '.join(questions)})")
        if key in answers:
            raise ValueError(f"{key}: answered twice")
        answers[key] = value
    return answers


def _literal(value: str) -> str:
    """The Jinja source that renders to `value` itself: every template tag starts with "{", so each "{" is
    written as an expression printing "{" and nothing the user typed is evaluated."""
    return value.replace("{", "{{ '{' }}")


@contextmanager
def _without_cookiecutter_tracebacks() -> Iterator[None]:
    """cookiecutter logs a failed hook with logger.exception: with no handler configured, Python's last-resort
    handler prints that traceback under the hook's own clear message. Keep cookiecutter's log to itself."""
    logger = logging.getLogger("cookiecutter")
    silent = logging.NullHandler()
    propagate = logger.propagate
    logger.addHandler(silent)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(silent)
        logger.propagate = propagate
