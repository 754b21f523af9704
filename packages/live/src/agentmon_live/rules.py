"""agentmon's recording rules where a Prometheus runs: the demo's rule file, and history backfill with promtool.

Recording rules only exist from the moment Prometheus loads them. `backfill` evaluates them over history the
Prometheus already holds (`promtool tsdb create-blocks-from rules`) and writes TSDB blocks, which the operator
moves into Prometheus' data directory (docs/operations/recording-rules.md).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import promql_parser
from ruamel.yaml import YAML

from agentmon_config import PlatformConfig
from agentmon_live.owned import die_with_parent, scratch_dir
from agentmon_live.prometheus import PrometheusServer, find_binary
from agentmon_rules import recording_groups, rule_file

SERVING_RETENTION = "100y"


class BackfillError(RuntimeError):
    pass


def local_rule_file(config: PlatformConfig, scrape_interval: str) -> dict[str, Any]:
    """The rules for a local Prometheus scraping every `scrape_interval` and evaluating at the same pace: the
    generated groups, with windows and intervals scaled so the demo shows numbers within seconds."""
    local = dataclasses.replace(
        config, datasource=dataclasses.replace(config.datasource, scrape_interval=scrape_interval),
        rules=dataclasses.replace(config.rules, evaluation_interval=scrape_interval))
    return rule_file(recording_groups(local))


def rule_levels(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The recording rules of `doc` split into backfill passes: pass 1 holds the rules that read raw series only,
    pass n those that read a series recorded in pass n-1. Each pass is a rule file with the original groups
    (name, interval) holding only that pass' rules, in their original order."""
    rules = [rule for group in doc["groups"] for rule in group["rules"] if "record" in rule]
    reads: dict[str, set[str]] = {}
    for rule in rules:
        reads.setdefault(rule["record"], set()).update(_series_names(rule["expr"]))
    level: dict[str, int] = {}

    def visit(name: str, path: tuple[str, ...]) -> int:
        if name in path:
            raise BackfillError(f"rules that read each other cannot be backfilled: {' -> '.join((*path, name))}")
        if name not in level:
            level[name] = 1 + max((visit(read, (*path, name)) for read in reads[name] & reads.keys()), default=0)
        return level[name]

    for name in reads:
        visit(name, ())
    return [{"groups": [{**group, "rules": [r for r in group["rules"] if level.get(r.get("record")) == n]}
                        for group in doc["groups"] if any(level.get(r.get("record")) == n for r in group["rules"])]}
            for n in range(1, max(level.values(), default=0) + 1)]


def longest_window(doc: dict[str, Any]) -> float:
    """Seconds of raw history the rules read before an evaluation: their widest range selector."""
    widest = 0.0

    def visit(node: Any) -> None:
        nonlocal widest
        if isinstance(node, promql_parser.MatrixSelector):
            widest = max(widest, node.range.total_seconds())

    for rule in (rule for group in doc["groups"] for rule in group["rules"]):
        promql_parser.walk(promql_parser.parse(rule["expr"]), visit)
    return widest


def _series_names(expr: str) -> set[str]:
    names: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            names.add(node.name)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return names


def backfill(rules_path: Path, url: str, start: str, end: str, output_dir: Path,
             on_pass: Callable[[int, int], None] = lambda n, total: None) -> list[Path]:
    """Evaluate every recording rule of `rules_path` over [start, end] against the Prometheus at `url`; write
    TSDB blocks into output_dir and return them. start/end: RFC 3339 or Unix seconds, as promtool takes them.

    Rules that read recorded series need those series' history, which the Prometheus at `url` does not hold yet:
    pass 1 records the rules that read raw series from `url`, and every later pass evaluates the next level
    against a Prometheus on loopback that serves the blocks of the passes before it (rule_levels)."""
    passes = rule_levels(_load(rules_path))
    find_binary("promtool"), len(passes) > 1 and find_binary("prometheus")  # missing: before any pass, not midway
    output_dir.mkdir(parents=True, exist_ok=True)
    blocks: list[Path] = []
    n = 0
    try:
        with scratch_dir("backfill") as work:
            for n, level in enumerate(passes, start=1):
                on_pass(n, len(passes))
                # The same file name as the original: promtool offsets each group's evaluations by a hash of the
                # rule file's path as given, so the timestamps (and the numbers) are the same wherever it runs.
                level_file = Path(work) / f"pass-{n}" / rules_path.name
                level_file.parent.mkdir()
                level_file.write_text(json.dumps(level))
                if n == 1:
                    blocks += _promtool_backfill(level_file, url, start, end, output_dir)
                    continue
                with _serving(blocks, Path(work) / f"serve-{n}") as server:
                    blocks += _promtool_backfill(level_file, server.url, start, end, output_dir)
    except (BackfillError, RuntimeError, TimeoutError) as exc:
        # Blocks of the earlier passes alone would look complete and record only part of the rules.
        for block in blocks:
            shutil.rmtree(block, ignore_errors=True)
        raise exc if isinstance(exc, BackfillError) else BackfillError(f"pass {n} of {len(passes)}: {exc}") from None
    return sorted(blocks)


@contextlib.contextmanager
def _serving(blocks: list[Path], work: Path) -> Iterator[PrometheusServer]:
    """A Prometheus on loopback serving copies of `blocks` (hard links: blocks are immutable on disk) and nothing
    else; retention long enough that no backfilled block is old enough to be deleted on start."""
    data = work / "data"
    data.mkdir(parents=True)
    for block in blocks:
        shutil.copytree(block, data / block.name, copy_function=os.link)
    config = work / "prometheus.yml"
    config.write_text("scrape_configs: []\n")
    with PrometheusServer(config_file=config, storage=data, retention=SERVING_RETENTION) as server:
        yield server


def _promtool_backfill(rules_path: Path, url: str, start: str, end: str, output_dir: Path) -> list[Path]:
    before = set(output_dir.iterdir())
    result = subprocess.run(
        [find_binary("promtool"), "tsdb", "create-blocks-from", "rules", "--quiet", f"--url={url}",
         f"--start={start}", f"--end={end}", f"--output-dir={output_dir.resolve()}", rules_path.name],
        capture_output=True, text=True, timeout=3600, cwd=rules_path.parent, preexec_fn=die_with_parent())
    if result.returncode != 0:
        raise BackfillError(f"promtool tsdb create-blocks-from rules failed: "
                            f"{' '.join((result.stderr or result.stdout).split())}")
    return sorted(p for p in set(output_dir.iterdir()) - before if p.is_dir())


def _load(path: Path) -> dict[str, Any]:
    try:
        return YAML(typ="safe", pure=True).load(path.read_text())
    except OSError as exc:
        raise BackfillError(f"{path}: cannot read: {exc}") from None
