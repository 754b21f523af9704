"""Write generated roots atomically: stage every root in a temp dir, then swap them in with renames.

If rendering or staging fails, nothing in the work tree changes. Swapping is a rename per root; should one
rename fail, the roots already swapped are rolled back, so the previous tree stays intact.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

STAGING_PREFIX = ".agentmon-staging-"


def write_roots(repo: Path, roots: Iterable[str], files: Mapping[str, bytes]) -> None:
    roots = list(roots)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=repo))
    try:
        for root in roots:
            (staging / "new" / root).mkdir(parents=True)
        for rel, content in files.items():
            target = staging / "new" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        _swap(repo, staging, roots)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _swap(repo: Path, staging: Path, roots: list[str]) -> None:
    (staging / "old").mkdir()
    swapped: list[str] = []
    try:
        for root in roots:
            live, old = repo / root, staging / "old" / root
            old.parent.mkdir(parents=True, exist_ok=True)
            if live.exists():
                os.rename(live, old)
            live.parent.mkdir(parents=True, exist_ok=True)
            os.rename(staging / "new" / root, live)
            swapped.append(root)
    except BaseException:
        for root in reversed(swapped):
            os.rename(repo / root, staging / "new" / root)
        for root in roots:
            if (staging / "old" / root).exists() and not (repo / root).exists():
                os.rename(staging / "old" / root, repo / root)
        raise
