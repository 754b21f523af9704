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

from cookiecutter.exceptions import FailedHookException, OutputDirExistsException
from cookiecutter.main import cookiecutter
from rich.console import Console

TEMPLATE = Path("templates/tenant-dashboard")
TENANTS = Path("tenants")
EXIT_REFUSED = 2  # a bad answer is bad usage
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def add_tenant_parser(commands: Any) -> None:
    p = commands.add_parser("tenant", help=f"add a tenant: bake {TEMPLATE} into {TENANTS}/<tenant_id>/")
    p.add_argument("answers", nargs="*", type=answer, metavar="KEY=VALUE",
                   help="answers, e.g. tenant_id=zeta display_name=Zeta; the others take their defaults. "
                        "Without any, every question is asked.")
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
    answers = _checked_answers(args.answers, _questions(template))
    try:
        with _without_cookiecutter_tracebacks():
            created = Path(cookiecutter(str(template), no_input=bool(answers), output_dir=str(args.root / TENANTS),
                                        extra_context={key: _literal(value) for key, value in answers.items()}))
    except FailedHookException:
        return EXIT_REFUSED  # the template's hook has printed why, one line per problem
    except (EOFError, KeyboardInterrupt):  # a question met the end of the input, or Ctrl-C
        err.print("\nERROR: tenant not created: a question got no answer; give the answers as KEY=VALUE, "
                  "e.g. tenant_id=zeta display_name=Zeta", markup=False, soft_wrap=True)
        return EXIT_REFUSED
    except OutputDirExistsException:
        err.print(f"ERROR: tenant not created: {TENANTS / answers.get('tenant_id', '?')} already exists",
                  markup=False, soft_wrap=True)
        return EXIT_REFUSED
    out.print(f"created {TENANTS / created.name / 'tenant.yaml'}; next: nox -s build validate", markup=False,
              soft_wrap=True)
    return 0


def _questions(template: Path) -> list[str]:
    return [key for key in json.loads((template / "cookiecutter.json").read_text()) if not key.startswith("_")]


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
