"""`agentmon backfill`: record agentmon's rules over history a Prometheus already holds, as TSDB blocks.

Recording rules only produce series from the moment Prometheus loads them; before that, panels show no data.
This evaluates the generated rules over [start, end] against the running Prometheus
(`promtool tsdb create-blocks-from rules`), one pass per level of rules that read recorded series, and leaves
blocks for the operator to move into its data directory (docs/operations/recording-rules.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from agentmon_bundle.serialize import yaml_bytes
from agentmon_config import PlatformConfig
from agentmon_live.owned import scratch_dir
from agentmon_live.rules import BackfillError, backfill
from agentmon_rules import RULE_FILE, recording_document, render_rules

EXIT_FAILED = 1
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def add_backfill_parser(commands: Any) -> None:
    p = commands.add_parser("backfill", help="record the generated rules over past data into TSDB blocks (promtool)")
    p.add_argument("--url", required=True, help="the Prometheus holding the raw history, e.g. http://127.0.0.1:9090")
    p.add_argument("--start", required=True, help="first time to record: RFC 3339 or Unix seconds")
    p.add_argument("--end", required=True,
                   help="last time to record: when Prometheus loaded the rules (RFC 3339 or Unix seconds)")
    p.add_argument("--output-dir", type=Path, required=True,
                   help="folder for the new blocks (created); not Prometheus' own data directory")
    p.set_defaults(run=run, needs_config=True)


def run(_root: Path, config: PlatformConfig, args: argparse.Namespace) -> int:
    with scratch_dir("backfill") as scratch:
        rules = Path(scratch) / RULE_FILE
        # Every recording-rule file as one: the tenant shards' limits too, which the SLO rules read.
        rules.write_bytes(yaml_bytes(recording_document(render_rules(config))))
        try:
            span = f"recording rules over {args.start} .. {args.end}"
            with out.status(f"{span} from {args.url}") as status:
                blocks = backfill(rules, args.url, args.start, args.end, args.output_dir,
                                  on_pass=lambda n, total: status.update(f"{span}: pass {n} of {total}"))
        except BackfillError as exc:
            err.print(f"[bold red]backfill failed[/]: {exc}", soft_wrap=True)
            return EXIT_FAILED
    out.print(f"[green]backfill ok[/]: {len(blocks)} blocks in {args.output_dir}/")
    out.print("Next: move them into Prometheus' data directory (its --storage.tsdb.path), e.g.\n"
              f"  mv {args.output_dir}/* /prometheus/\n"
              "then restart Prometheus. See docs/operations/recording-rules.md.")
    return 0
