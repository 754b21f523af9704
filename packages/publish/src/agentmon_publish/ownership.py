"""What publish owns in the target folder: the files it wrote, listed in a record it keeps there.

publish replaces and removes only files its record lists. Any other file in the folder (another application's
manifests, a README) makes it refuse, writing nothing, unless --replace-unowned says to replace them.

The record is JSON without a .json suffix: Argo CD directory applications load every .yaml, .yml and .json
file of the folder as a Kubernetes manifest, and a record among them would fail the sync.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from agentmon_publish.gitrun import EXIT_TARGET_FOLDER, PublishError

RECORD = ".agentmon-published"
RECORD_LIMIT = 1 << 20  # bytes: a record holds a few dozen names; anything bigger is not ours


@dataclass(frozen=True)
class Plan:
    """What publishing `files` does to the folder, by name relative to it."""

    add: tuple[str, ...]
    change: tuple[str, ...]
    remove: tuple[str, ...]  # files publish wrote earlier that the render no longer holds
    unowned: tuple[str, ...]  # files publish did not write

    def lines(self) -> list[str]:
        """One line per file, for the dry run; a file publish did not write is marked as such."""
        def mark(name: str) -> str:
            return f"{name} (not written by publish)" if name in self.unowned else name

        return ([f"add file {mark(n)}" for n in self.add] + [f"change file {mark(n)}" for n in self.change]
                + [f"remove file {mark(n)}" for n in self.remove])


def record_bytes(files: Mapping[str, bytes], source_commit: str, overlay: str) -> bytes:
    record = {"files": sorted(files), "overlay": f"overlays/{overlay}", "source_commit": source_commit,
              "written_by": "agentmon publish"}
    return (json.dumps(record, indent=2, sort_keys=True) + "\n").encode()


def same_files(old: bytes | None, new: bytes) -> bool:
    """Whether two records list the same files of the same overlay (the source commit aside: a new source
    commit that renders the same manifests is no reason for a commit in the target)."""
    if old is None:
        return False
    try:
        before = json.loads(old)
    except ValueError:
        return False
    after = json.loads(new)
    return isinstance(before, dict) and all(before.get(k) == after[k] for k in ("files", "overlay"))


def owned(folder: Path, where: PurePosixPath) -> frozenset[str]:
    """The names the record in `folder` (`where` in the target) lists, none without a record; a record that is
    not ours is an error."""
    record = folder / RECORD
    if not record.exists() and not record.is_symlink():
        return frozenset()
    shown = where / RECORD
    try:
        if record.is_symlink() or not record.is_file() or record.stat().st_size > RECORD_LIMIT:
            raise ValueError("not a plain file of a few kilobytes")
        names = json.loads(record.read_text())["files"]
        if not isinstance(names, list) or not all(isinstance(n, str) and _plain_name(n) for n in names):
            raise ValueError("'files' is not a list of file names")
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise PublishError(f"{shown} in the target branch is not a record publish wrote ({exc}); delete it in the "
                           f"target repository, or pass --replace-unowned to take the folder over",
                           EXIT_TARGET_FOLDER) from None
    return frozenset(names)


def _plain_name(name: str) -> bool:
    """A file directly in the folder: the record can never point publish elsewhere."""
    path = PurePosixPath(name)
    return len(path.parts) == 1 and name not in (".", "..", RECORD)


def present(folder: Path) -> dict[str, Path]:
    """Every file (or link) under the folder, by name relative to it, the record left out."""
    if not folder.is_dir():
        return {}
    found = {p.relative_to(folder).as_posix(): p for p in folder.rglob("*") if p.is_symlink() or not p.is_dir()}
    found.pop(RECORD, None)
    return dict(sorted(found.items()))


def plan(folder: Path, where: PurePosixPath, files: Mapping[str, bytes], replace_unowned: bool) -> Plan:
    """What writing `files` into `folder` (`where` in the target) changes; refused while the folder holds files
    publish did not write, unless replace_unowned."""
    there = present(folder)
    mine = _taken_over(folder, where) if replace_unowned else owned(folder, where)
    unowned = tuple(n for n in there if n not in mine)
    add = tuple(n for n in files if n not in there)
    change = tuple(n for n in files if n in there and _differs(there[n], files[n]))
    remove = tuple(n for n in there if n not in files and (n in mine or replace_unowned))
    result = Plan(add, change, remove, unowned)
    if unowned and not replace_unowned:
        shown = ", ".join(unowned[:5]) + (f" and {len(unowned) - 5} more" if len(unowned) > 5 else "")
        raise PublishError(f"{where}/ holds {len(unowned)} file(s) publish did not write: {shown}; publish "
                           f"owns the whole folder it writes to: choose a folder of its own with --path, or pass "
                           f"--replace-unowned to remove them", EXIT_TARGET_FOLDER)
    return result


def _taken_over(folder: Path, where: PurePosixPath) -> frozenset[str]:
    """With --replace-unowned a record that is not ours only means that nothing in the folder is ours."""
    try:
        return owned(folder, where)
    except PublishError:
        return frozenset()


def _differs(path: Path, content: bytes) -> bool:
    return path.is_symlink() or not path.is_file() or path.read_bytes() != content
