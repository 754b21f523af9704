"""agentmon's recording rules where a Prometheus runs: the demo's rule file, and history backfill with promtool.

Recording rules only exist from the moment Prometheus loads them. `backfill` evaluates them over history the
Prometheus already holds (`promtool tsdb create-blocks-from rules`) and writes TSDB blocks, which the operator
moves into Prometheus' data directory (docs/operations/recording-rules.md).
"""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path
from typing import Any

import promql_parser
from ruamel.yaml import YAML

from agentmon_config import PlatformConfig
from agentmon_live.prometheus import find_binary
from agentmon_rules import recording_groups, rule_file


class BackfillError(RuntimeError):
    pass


def local_rule_file(config: PlatformConfig, scrape_interval: str) -> dict[str, Any]:
    """The rules for a local Prometheus scraping every `scrape_interval` and evaluating at the same pace: the
    generated groups, with windows and intervals scaled so the demo shows numbers within seconds."""
    local = dataclasses.replace(
        config, datasource=dataclasses.replace(config.datasource, scrape_interval=scrape_interval),
        rules=dataclasses.replace(config.rules, evaluation_interval=scrape_interval))
    return rule_file(recording_groups(local))


def reads_recorded_series(doc: dict[str, Any]) -> list[str]:
    """Rules that read a series another rule records: promtool evaluates those against the source Prometheus,
    which does not hold the other rule's backfilled output yet, so one pass would record nothing for them."""
    recorded = {rule["record"] for group in doc["groups"] for rule in group["rules"] if "record" in rule}
    return [rule.get("record") or rule.get("alert") for group in doc["groups"] for rule in group["rules"]
            if _series_names(rule["expr"]) & recorded]


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


def backfill(rules_path: Path, url: str, start: str, end: str, output_dir: Path) -> list[Path]:
    """Evaluate every recording rule of `rules_path` over [start, end] against the Prometheus at `url`; write
    TSDB blocks into output_dir and return them. start/end: RFC 3339 or Unix seconds, as promtool takes them."""
    promtool = find_binary("promtool")
    doc = _load(rules_path)
    if dependent := reads_recorded_series(doc):
        raise BackfillError(f"{rules_path}: {', '.join(dependent)} read recorded series; backfill them in a "
                            "second pass once the first pass's blocks are loaded")
    output_dir.mkdir(parents=True, exist_ok=True)
    before = set(output_dir.iterdir())
    # promtool offsets each group's evaluations by a hash of the rule file's path as given: the file's name,
    # from its folder, makes the timestamps (and so the numbers) the same wherever the file lives.
    result = subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "rules", "--quiet", f"--url={url}", f"--start={start}",
         f"--end={end}", f"--output-dir={output_dir.resolve()}", rules_path.name],
        capture_output=True, text=True, timeout=3600, cwd=rules_path.parent)
    if result.returncode != 0:
        raise BackfillError(f"promtool tsdb create-blocks-from rules failed: "
                            f"{' '.join((result.stderr or result.stdout).split())}")
    return sorted(p for p in set(output_dir.iterdir()) - before if p.is_dir())


def _load(path: Path) -> dict[str, Any]:
    try:
        return YAML(typ="safe", pure=True).load(path.read_text())
    except OSError as exc:
        raise BackfillError(f"{path}: cannot read: {exc}") from None
