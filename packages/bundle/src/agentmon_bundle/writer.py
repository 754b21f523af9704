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

import dataclasses
import errno
import fcntl
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

STAGING_PREFIX = ".agentmon-staging-"
JOURNAL = "swap.json"
JOURNAL_LIMIT = 1 << 16  # bytes: a journal names a handful of folders


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


def check_roots(repo: Path, roots: Iterable[str]) -> None:
    """Each generated root, and each folder on the way to it, is a real folder of the project (or missing): a
    symbolic link would send validate's reads, and a build's files, somewhere else; a file is not a folder."""
    for root in roots:
        path = repo
        for part in PurePosixPath(root).parts:
            path = path / part
            rel = path.relative_to(repo).as_posix()
            if path.is_symlink():
                raise WriteError(f"{rel} is a symbolic link (to {os.readlink(path)}); generated folders are "
                                 f"written and checked in the project itself: replace {rel} with a real folder "
                                 f"(or remove it: build recreates it)")
            if path.exists() and not path.is_dir():
                raise WriteError(f"{rel} is a file, not the folder the generated files go to: move it away "
                                 f"(build recreates the folder)")


def write_roots(repo: Path, roots: Iterable[str], files: Mapping[str, bytes]) -> Changes:
    """Replace every root with exactly `files`; raise WriteError (tree as before) when the OS refuses."""
    with staged(repo, roots, files) as staging:
        return staging.swap()


class Staging:
    """The generated roots written in full beside the live ones (tree: staging/new/<root>), not yet swapped in.
    Build renders the overlays with kustomize in this tree, so each file is written once, and swaps only when
    every check passed."""

    def __init__(self, repo: Path, folder: Path, roots: list[str], changes: Changes) -> None:
        self.tree = folder / "new"
        self._repo, self._folder, self._roots, self._changes = repo, folder, roots, changes

    def swap(self) -> Changes:
        """Swap the staged roots in; raise WriteError (tree as before, or put back by the next run) on failure."""
        try:
            _swap(self._repo, self._folder, self._roots)
        except OSError as exc:
            raise WriteError(_explain(exc, self._repo, (self._folder / JOURNAL).exists())) from exc
        return self._changes


@contextmanager
def staged(repo: Path, roots: Iterable[str], files: Mapping[str, bytes]) -> Iterator[Staging]:
    """Stage `files` as the new generated roots under the repository lock; what is not swapped in when the block
    ends is removed. Raise WriteError (tree as before) when the OS refuses to stage."""
    roots = list(roots)
    check_roots(repo, roots)
    with ExitStack() as cleanup:
        try:
            cleanup.enter_context(_locked(repo))
            recovered = tuple(_recover(repo))
            changes = _changes(repo, roots, files)
            staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=repo))
            cleanup.callback(_remove_unswapped, staging)
            _stage(repo, staging / "new", roots, files, set(changes.unchanged))
        except OSError as exc:
            raise WriteError(_explain(exc, repo)) from exc
        yield Staging(repo, staging, roots, dataclasses.replace(changes, recovered=recovered))


def _remove_unswapped(staging: Path) -> None:
    if not (staging / JOURNAL).exists():  # a journal left behind holds the only copy of old folders
        shutil.rmtree(staging, ignore_errors=True)


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
    """Under the lock every staging folder belongs to a dead build (live ones hold the lock until cleaned up).
    Only ever restores from a saved copy: a staging folder that does not hold one for a root its journal names
    is an error, and every folder stays as it is."""
    for staging in sorted(p for p in repo.glob(f"{STAGING_PREFIX}*") if p.is_dir() and not p.is_symlink()):
        journal = staging / JOURNAL
        if journal.exists() or journal.is_symlink():
            roots, existed = _journal(journal)
            _check_restorable(repo, staging, roots, existed)
        else:
            roots = existed = ()
            _check_nothing_saved(staging)
        _roll_back(repo, staging, roots, existed, remove_created=False)
        journal.unlink(missing_ok=True)
        shutil.rmtree(staging)
        yield Recovered(staging.name, roots)


def _journal(journal: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The roots the dead build was swapping, and those that existed before it (older journals: all)."""
    try:
        if journal.is_symlink() or journal.stat().st_size > JOURNAL_LIMIT:
            raise ValueError("not a journal")
        content = json.loads(journal.read_text())
        roots, existed = content["roots"], content.get("existed", content["roots"])
        if all(isinstance(names, list) and all(isinstance(r, str) and _inside(r) for r in names)
               for names in (roots, existed)):
            return tuple(roots), tuple(existed)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        pass
    raise WriteError(_damaged(journal.parent, f"{JOURNAL} is not a journal this build wrote"))


def _check_restorable(repo: Path, staging: Path, roots: tuple[str, ...], existed: tuple[str, ...]) -> None:
    """Every root the journal names is in one of the states a swap goes through: not swapped yet (its new copy
    waits in staging), or moved aside (its saved copy is in staging/old), or created by the dead build. A root
    that existed, with neither copy, means the staging folder is not what the build left: touch nothing."""
    for root in roots:
        if root in existed and not _there(staging / "old" / root) and not _there(staging / "new" / root):
            raise WriteError(_damaged(staging, f"{JOURNAL} names {root}/ but {staging.name}/ holds no saved copy "
                                               f"of it"))


def _check_nothing_saved(staging: Path) -> None:
    """Without a journal the build died before its first rename, so old/ is empty; anything in it may be the only
    copy of a generated folder: keep it."""
    old = staging / "old"
    if old.is_dir() and any(old.iterdir()):
        raise WriteError(_damaged(staging, f"{staging.name}/old/ holds files but there is no {JOURNAL}"))


def _damaged(staging: Path, what: str) -> str:
    name = staging.name
    return (f"{name}/{what}, so the generated folders cannot be put back automatically: compare {name}/old/ with "
            f"the generated folders, restore what is missing, then delete {name}/ (nothing was changed)")


def _there(path: Path) -> bool:
    return path.exists() or path.is_symlink()


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


def _stage(repo: Path, new: Path, roots: list[str], files: Mapping[str, bytes], unchanged: set[str]) -> None:
    """Unchanged files are hard links to the live ones (the live folder is dropped after the swap): at 2,000
    tenants a build that changes one tenant would otherwise write 10,000 files again, and on some disks each new
    file with data costs a millisecond."""
    for root in roots:
        (new / root).mkdir(parents=True)
    for rel, content in files.items():
        target = new / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            if not (rel in unchanged and _linked(repo / rel, target)):
                target.write_bytes(content)
        except OSError as exc:  # write() errors (a full disk) name no file: name the one being written
            raise OSError(exc.errno, exc.strerror, exc.filename or str(target)) from exc


def _linked(live: Path, target: Path) -> bool:
    """Hard-link a regular file (never a symbolic link's target); False where links are refused."""
    try:
        if not stat.S_ISREG(live.lstat().st_mode):
            return False
        os.link(live, target, follow_symlinks=False)
    except OSError:
        return False
    return True


def _swap(repo: Path, staging: Path, roots: list[str]) -> None:
    (staging / "old").mkdir()
    existed = [root for root in roots if _there(repo / root)]
    _write_journal(staging, roots, existed)
    try:
        for root in roots:
            live, old = repo / root, staging / "old" / root
            old.parent.mkdir(parents=True, exist_ok=True)
            if _there(live):
                os.rename(live, old)
            live.parent.mkdir(parents=True, exist_ok=True)
            os.rename(staging / "new" / root, live)
    except BaseException:
        _roll_back(repo, staging, roots, existed, remove_created=True)
        (staging / JOURNAL).unlink()
        raise
    (staging / JOURNAL).unlink()


def _write_journal(staging: Path, roots: list[str], existed: list[str]) -> None:
    """Written whole, then renamed into place: a recovery never reads half a journal."""
    partial = staging / f"{JOURNAL}.partial"
    partial.write_text(json.dumps({"roots": roots, "existed": existed, "old": "old", "new": "new"}) + "\n")
    os.rename(partial, staging / JOURNAL)


def _roll_back(repo: Path, staging: Path, roots: Iterable[str], existed: Iterable[str], remove_created: bool) -> None:
    """Return each root to its state before the swap, whichever rename the swap stopped at. Idempotent, so an
    interrupted roll-back is finished by the next one. A live folder is only ever replaced by its saved copy;
    a root the build created is taken out only by the build itself (remove_created), never by a recovery."""
    existed = set(existed)
    for root in reversed(tuple(roots)):
        live, old, new = repo / root, staging / "old" / root, staging / "new" / root
        swapped_in = _there(live) and not _there(new)
        if _there(old):  # the previous folder was moved aside: put it back, in place of the new one if swapped in
            if swapped_in:
                new.parent.mkdir(parents=True, exist_ok=True)
                os.rename(live, new)
            os.rename(old, live)
        elif root not in existed and swapped_in and remove_created:
            new.parent.mkdir(parents=True, exist_ok=True)
            os.rename(live, new)


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
