"""What build and validate print about the generated files: what changed, and what an earlier build left."""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.text import Text

from agentmon_bundle.writer import Changes, Recovered

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def recovered(found: Iterable[Recovered]) -> None:
    for item in found:
        err.print(Text.assemble(("interrupted build", "bold yellow"), ": ", str(item)), soft_wrap=True)


def changes(done: Changes, roots: Iterable[str]) -> None:
    """One line per written or removed file (unchanged ones are only counted), then the counts."""
    recovered(done.recovered)
    for rel in done.written:
        out.print(f"  wrote {rel}", markup=False)
    for rel in done.removed:
        out.print(f"  removed {rel}", markup=False)
    total = len(done.written) + len(done.unchanged)
    folders = ", ".join(f"{root}/" for root in roots)
    out.print(Text.assemble(("build ok", "green"), f": {total} files in {folders}: {len(done.written)} written, "
                            f"{len(done.unchanged)} unchanged, {len(done.removed)} removed"), soft_wrap=True)
