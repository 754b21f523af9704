"""The options of `simulate` and `demo`: argument types with one-line errors, and what the simulator takes
from the repository (the thresholds it stays inside or crosses, and the tenant ids; the simulator reads no
files itself).

Without a configuration file (the compose image holds no repository) the thresholds are the schema's
defaults and the tenants must be named with --tenants.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agentmon_config import ConfigError, Thresholds, load_platform
from agentmon_config.loader import WHOLE_VALUE_SUFFIX, fill_defaults, load_schema
from agentmon_live.grafana import seconds
from agentmon_simulator import INCIDENT_KINDS, Limits


@dataclass(frozen=True)
class Repository:
    """The simulator's view of the repository: thresholds, and the tenants of tenants/."""

    limits: Limits
    tenants: tuple[str, ...]


def schema_default_thresholds() -> Thresholds:
    schema = load_schema("platform")
    return Thresholds(**fill_defaults(schema["properties"]["thresholds"], {}, schema))


def repository(root: Path, config: Path | None, default_config: Path, tenants_dir: Path) -> Repository:
    """The thresholds and tenants of the configuration under root (config: the --config option); the schema's
    thresholds and no tenants when there is no configuration file and none was asked for."""
    path = root / (config or default_config)
    if config is None and not path.exists():
        return Repository(Limits(schema_default_thresholds()), ())
    platform = load_platform(path, root / tenants_dir)
    return Repository(Limits(platform.thresholds, platform.tenants), tuple(t.tenant_id for t in platform.tenants))


def incidents_help(limits: Limits) -> str:
    kinds = "; ".join(f"{name}: {kind.describe(limits)}" for name, kind in INCIDENT_KINDS.items())
    # argparse %-formats help texts: a literal percent sign must be doubled.
    return (f"scripted incident, repeatable: starting N seconds in (default 0), lasting M seconds (default: to the "
            f"end). {kinds}").replace("%", "%%")


def add_help_option(p: argparse.ArgumentParser) -> None:
    """-h/--help answered after parsing (see run_or_help): argparse's own would print before --root is known."""
    p.add_argument("-h", "--help", dest="show_help", action="store_true", help="show this help message and exit")


def run_or_help(parser: argparse.ArgumentParser, run: Callable[[argparse.Namespace], int], default_config: Path,
                tenants_dir: Path) -> Callable[[argparse.Namespace], int]:
    """`run`, or the help with the incidents described in the numbers of the configuration under --root
    (a missing or broken configuration: the schema's defaults)."""
    def run_or_print_help(args: argparse.Namespace) -> int:
        if not args.show_help:
            return run(args)
        try:
            limits = repository(args.root, args.config, default_config, tenants_dir).limits
        except ConfigError:
            limits = Limits(schema_default_thresholds())
        (incident,) = [a for a in parser._actions if a.dest == "incident"]
        incident.help = incidents_help(limits)
        parser.print_help()
        return 0

    return run_or_print_help


def noise(text: str) -> float:
    value = _number(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a number from 0 (exact traffic) to 1")
    return value


def port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a port number from 0 to 65535 (0: any free port)")
    return value


def positive_seconds(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a number of seconds above 0")
    return value


def seconds_or_zero(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a number of seconds, 0 or more")
    return value


def duration_above_zero(examples: str) -> Callable[[str], str]:
    """An argument type: a duration as Prometheus and Grafana write it (`examples`), above zero."""
    def check(text: str) -> str:
        try:
            valid = seconds(text) > 0
        except ValueError:
            valid = False
        if not valid:
            raise argparse.ArgumentTypeError(f"{text!r}: expected a duration above 0 such as {examples}")
        return text

    return check


scrape_interval = duration_above_zero("5s, 500ms or 1m")
time_range = duration_above_zero("15m, 1h, 6h or 7d")


def positive_count(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number of at least 1")
    return int(text)


def names_from(allowed: tuple[str, ...]) -> Callable[[str], tuple[str, ...]]:
    """An argument type: a comma-separated choice among `allowed`, each named at most once, none unknown."""
    def check(text: str) -> tuple[str, ...]:
        names = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
        unknown = [name for name in names if name not in allowed]
        if unknown or not names:
            what = f"unknown {', '.join(map(repr, unknown))}" if unknown else "nothing named"
            raise argparse.ArgumentTypeError(f"{text!r}: {what} (allowed, comma-separated: {', '.join(allowed)})")
        return names

    return check


def tenant_ids(text: str) -> tuple[str, ...]:
    """Comma-separated tenant ids, in the format tenant.yaml requires, each once."""
    pattern = load_schema("tenant")["properties"]["tenant_id"]["pattern"]
    names = tuple(name.strip() for name in text.split(","))
    if not any(names):
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated tenant ids, e.g. acme,globex")
    for name in names:
        if not re.fullmatch(pattern, name):
            shown = pattern.removesuffix(WHOLE_VALUE_SUFFIX)
            raise argparse.ArgumentTypeError(f"{name!r} is not a tenant id (expected format {shown})")
        if names.count(name) > 1:
            raise argparse.ArgumentTypeError(f"{name!r} is listed twice")
    return names


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r}: expected a finite number")
    return value
