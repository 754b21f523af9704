"""Write generated roots atomically: stage every root in a temp dir, then swap them in with renames.

If rendering or staging fails, nothing in the work tree changes. Swapping is two renames per root (the live
folder out into the staging folder, the new one in). Before the first rename a journal naming the roots is
written into the staging folder; it is removed only once every root is swapped in, or every swapped root is
put back. Should one rename fail, the roots already swapped are rolled back at once. Should the process die
between two renames (SIGKILL, power to the process cut), the journal stays behind: `recover`, which the next
build and validate run first, finds it and puts the previous folders back.

Writers and recovery hold an exclusive lock on the repository folder, so a recovery never mistakes a build
that is still swapping for one that died.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

STAGING_PREFIX = ".agentmon-staging-"
JOURNAL = "swap.json"


class WriteError(RuntimeError):
    """The generated files could not be written; the message says what to change."""


@dataclass(frozen=True)
class Recovered:
    """A staging folder left by a build that died; `roots` were put back from it (empty: it had swapped none)."""

    staging: str
    roots: tuple[str, ...]

    def __str__(self) -> str:
        if not self.roots:
            return f"removed {self.staging}/, left by a build interrupted before it changed any generated folder"
        folders = ", ".join(f"{root}/" for root in self.roots)
        return (f"an earlier build was interrupted while swapping in the generated folders; restored the previous "
                f"{folders} from {self.staging}/")


@dataclass(frozen=True)
class Changes:
    """What a build did to the generated files, by repository-relative path."""

    written: tuple[str, ...]  # new, or different from what was there
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]  # stale: no longer generated
    recovered: tuple[Recovered, ...] = ()


def write_roots(repo: Path, roots: Iterable[str], files: Mapping[str, bytes]) -> Changes:
    """Replace every root with exactly `files`; raise WriteError (tree as before) when the OS refuses."""
    roots = list(roots)
    staging: Path | None = None
    try:
        with _locked(repo):
            recovered = tuple(_recover(repo))
            changes = _changes(repo, roots, files)
            staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=repo))
            try:
                _stage(staging / "new", roots, files)
                _swap(repo, staging, roots)
            finally:
                if not (staging / JOURNAL).exists():  # a journal left behind holds the only copy of old folders
                    shutil.rmtree(staging, ignore_errors=True)
    except OSError as exc:
        half_swapped = staging is not None and (staging / JOURNAL).exists()
        raise WriteError(_explain(exc, repo, half_swapped)) from exc
    return Changes(changes.written, changes.unchanged, changes.removed, recovered)


def recover(repo: Path) -> list[Recovered]:
    """Put back the generated folders of any build that died mid-swap, and remove its staging folder."""
    if not any(repo.glob(f"{STAGING_PREFIX}*")):
        return []
    try:
        with _locked(repo):
            return list(_recover(repo))
    except OSError as exc:
        raise WriteError(_explain(exc, repo, half_swapped=True)) from exc


@contextmanager
def _locked(repo: Path) -> Iterator[None]:
    """Exclusive lock on the repository folder itself: no lock file to leave behind, released by the kernel
    when the holder dies."""
    fd = os.open(repo, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _recover(repo: Path) -> Iterator[Recovered]:
    """Under the lock every staging folder belongs to a dead build (live ones hold the lock until cleaned up)."""
    for staging in sorted(p for p in repo.glob(f"{STAGING_PREFIX}*") if p.is_dir() and not p.is_symlink()):
        journal = staging / JOURNAL
        roots = _journal_roots(journal) if journal.exists() else ()
        _roll_back(repo, staging, roots)
        journal.unlink(missing_ok=True)
        shutil.rmtree(staging)
        yield Recovered(staging.name, roots)


def _journal_roots(journal: Path) -> tuple[str, ...]:
    try:
        roots = json.loads(journal.read_text())["roots"]
        if isinstance(roots, list) and all(isinstance(root, str) and _inside(root) for root in roots):
            return tuple(roots)
    except (ValueError, KeyError, TypeError):
        pass
    staging = journal.parent.name
    raise WriteError(f"{staging}/{JOURNAL} is not a journal this build wrote, so the generated folders cannot be "
                     f"put back automatically: compare {staging}/old/ with the generated folders, restore what is "
                     f"missing, then delete {staging}/")


def _inside(root: str) -> bool:
    path = PurePosixPath(root)
    return bool(root) and not path.is_absolute() and ".." not in path.parts


def _changes(repo: Path, roots: list[str], files: Mapping[str, bytes]) -> Changes:
    on_disk = {p.relative_to(repo).as_posix() for root in roots if (repo / root).is_dir()
               for p in (repo / root).rglob("*") if p.is_file()}
    written = tuple(rel for rel, content in files.items()
                    if rel not in on_disk or (repo / rel).read_bytes() != content)
    unchanged = tuple(rel for rel in files if rel not in written)
    return Changes(written, unchanged, tuple(sorted(on_disk - set(files))))


def _stage(new: Path, roots: list[str], files: Mapping[str, bytes]) -> None:
    for root in roots:
        (new / root).mkdir(parents=True)
    for rel, content in files.items():
        target = new / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            target.write_bytes(content)
        except OSError as exc:  # write() errors (a full disk) name no file: name the one being written
            raise OSError(exc.errno, exc.strerror, exc.filename or str(target)) from exc


def _swap(repo: Path, staging: Path, roots: list[str]) -> None:
    (staging / "old").mkdir()
    _write_journal(staging, roots)
    try:
        for root in roots:
            live, old = repo / root, staging / "old" / root
            old.parent.mkdir(parents=True, exist_ok=True)
            if live.exists():
                os.rename(live, old)
            live.parent.mkdir(parents=True, exist_ok=True)
            os.rename(staging / "new" / root, live)
    except BaseException:
        _roll_back(repo, staging, roots)
        (staging / JOURNAL).unlink()
        raise
    (staging / JOURNAL).unlink()


def _write_journal(staging: Path, roots: list[str]) -> None:
    """Written whole, then renamed into place: a recovery never reads half a journal."""
    partial = staging / f"{JOURNAL}.partial"
    partial.write_text(json.dumps({"roots": roots, "old": "old", "new": "new"}) + "\n")
    os.rename(partial, staging / JOURNAL)


def _roll_back(repo: Path, staging: Path, roots: Iterable[str]) -> None:
    """Return each root to its state before the swap, whichever rename the swap stopped at. Idempotent, so an
    interrupted roll-back is finished by the next one."""
    for root in reversed(tuple(roots)):
        live, old, new = repo / root, staging / "old" / root, staging / "new" / root
        if not new.exists() and live.exists():  # the new folder was swapped in: take it out again
            new.parent.mkdir(parents=True, exist_ok=True)
            os.rename(live, new)
        if old.exists():  # the previous folder was moved aside: put it back
            os.rename(old, live)


def _explain(exc: OSError, repo: Path, half_swapped: bool = False) -> str:
    where = _shown(exc.filename, repo)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        fix = f"free disk space on the file system holding {repo}"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = f"make {where} and the folder holding it writable"
    elif exc.errno == errno.EFBIG:
        fix = "raise the file size limit (ulimit -f)"
    else:
        fix = f"check {where} and the folder holding it"
    state = ("the generated folders are half swapped: the next build or validate puts the previous ones back"
             if half_swapped else "the generated folders were left as they were")
    return f"cannot write the generated files: {where}: {exc.strerror or exc}; {fix}, then build again ({state})"


def _shown(filename: str | bytes | None, repo: Path) -> str:
    """The path the OS named, relative to the repository, with the staging folder's internals hidden."""
    if not filename:
        return "the project folder"
    path = Path(os.fsdecode(filename)).absolute()
    try:
        parts = path.relative_to(repo.absolute()).parts
    except ValueError:
        return str(path)
    if parts and parts[0].startswith(STAGING_PREFIX):
        parts = parts[2:] if len(parts) > 2 else ()
    return "/".join(parts) or "the project folder"
