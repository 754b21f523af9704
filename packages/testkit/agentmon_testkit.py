"""Helpers shared by the tests of every package (on the tests' path through pytest's `pythonpath`; not a package
of the product: nothing under src/ imports it).

Fault injection edits text; an edit whose old text is absent would leave the input unchanged and the test
proving nothing, so these fail loudly instead.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from agentmon_live.preview.data import BLOCK_SECONDS, import_blocks
from agentmon_live.prometheus import PrerequisiteMissing, find_binary

REPO = Path(__file__).resolve().parents[2]
HAND_WRITTEN = ("config", "base", "overlays", "components", "compose", "tenants")


def replace_once(text: str, old: str, new: str) -> str:
    """`text` with the one occurrence of `old` replaced; fails when `old` occurs zero or several times."""
    count = text.count(old)
    assert count == 1, f"expected the text to edit exactly once, found it {count} times: {old!r}"
    return text.replace(old, new)


def edit_file(path: Path, old: str, new: str) -> None:
    """Replace the one occurrence of `old` in the file at `path`."""
    path.write_text(replace_once(path.read_text(), old, new))


def prerequisite(name: str) -> str:
    """A binary the tests need (prometheus, promtool, amtool): a skip on a developer machine, a failure in CI."""
    try:
        return find_binary(name)
    except PrerequisiteMissing as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI: {exc}")
        pytest.skip(str(exc))


def built_copy(root: Path) -> Path:
    """The repository's hand-written files and what the real command builds from them, copied to `root`.

    The build runs once per test process (a second of every test that needs a built tree, some 30 of them), and
    each caller gets its own copy of that tree: generated files do not depend on the folder they are built in
    (validate, run on such copies by the tests, would name any that did)."""
    shutil.copytree(_built_once(), root, symlinks=True, dirs_exist_ok=True)
    return root


@functools.cache
def _built_once() -> Path:
    from agentmon_cli import main as cli  # here: importing the command is slow, and most helpers need none of it

    root = Path(tempfile.mkdtemp(prefix="built-repo-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    for name in HAND_WRITTEN:
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("generated"))
    assert cli.main(["--root", str(root), "build"]) == 0
    return root


# promtool cuts OpenMetrics input into blocks of 2 hours aligned to the epoch, and 2.42 reads its whole input file
# once for every block between the first and the last sample: one file of the 7-day live history was read 86 times
# (36 s of a quiet 2-core machine). Written one file per block (agentmon_live.preview.data.import_blocks), each is
# read once and the same blocks come out (6 s).
Blocks = dict[int, dict[str, list[str]]]  # block number -> family header -> sample lines, in order


def add_sample(blocks: Blocks, header: str, line: str, t: int) -> None:
    """The sample line (timestamp t, in seconds) of the family whose `# TYPE` line(s) are `header`."""
    blocks.setdefault(t // BLOCK_SECONDS, {}).setdefault(header, []).append(line)


def import_openmetrics(promtool: str, blocks: Blocks, work: Path, output: Path) -> None:
    """`promtool tsdb create-blocks-from openmetrics` into `output`, one OpenMetrics file per block (written to
    `work`, removed after): families grouped, as OpenMetrics requires, each series' samples in time order."""
    import_blocks(sorted(blocks.items()), output, promtool, work)
