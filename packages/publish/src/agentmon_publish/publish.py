"""Publish: render one overlay to plain YAML and commit it to a GitOps ("rendered manifests") repo.

Never force-pushes. When someone else pushed first (the target branch moved since the clone), it fetches,
writes the render again on top of their commit and retries, so no commit on either side is lost; any other
refusal of the push is reported at once, in git's own words. A bundle that fails validate is never published.
publish replaces only the files it wrote (listed in a record in the target folder, see `ownership`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from rich.console import Console

from agentmon_bundle.pipeline import check_bundle
from agentmon_bundle.serialize import yaml_bytes
from agentmon_bundle.writer import recover
from agentmon_checks.kustomize import overlay_names, render_overlays, stable_name
from agentmon_config import PlatformConfig
from agentmon_live.owned import scratch_dir
from agentmon_publish import ownership
from agentmon_publish.diff import load_resources, summarize
from agentmon_publish.gitrun import (
    DEFAULT_TIMEOUT,
    EXIT_GIT_FAILED,
    EXIT_PUSH_REFUSED,
    EXIT_RACE_LOST,
    EXIT_REFUSED,
    EXIT_TARGET_FOLDER,
    PublishError,
    git,
    one_line,
)
from agentmon_publish.ownership import RECORD

MAX_ATTEMPTS = 5
FALLBACK_IDENTITY = ("-c", "user.name=agentmon publish", "-c", "user.email=agentmon-publish@localhost")
out = Console(highlight=False)

__all__ = ["DEFAULT_TIMEOUT", "EXIT_GIT_FAILED", "EXIT_PUSH_REFUSED", "EXIT_RACE_LOST", "EXIT_REFUSED",
           "EXIT_TARGET_FOLDER", "MAX_ATTEMPTS", "RECORD", "BadRequest", "PublishError", "Request", "publish"]


class BadRequest(PublishError):
    """An option that can never work (exit 2): the message names the option and what to change."""

    exit_code = 2


@dataclass(frozen=True)
class Request:
    """Where to publish what: `target` is a git URL or local path, `path` a folder inside it."""

    target: str
    branch: str
    path: str
    overlay: str = "prod"
    dry_run: bool = False
    allow_dirty: bool = False
    replace_unowned: bool = False
    timeout: float = DEFAULT_TIMEOUT  # seconds, for each git command that talks to the target


def manifest_files(objects: list[dict[str, Any]]) -> dict[str, bytes]:
    """One file per resource, named <kind>-<name>.yaml without kustomize's hash, so names stay stable."""
    files = {f"{stable_name(obj).replace('/', '-').lower()}.yaml": yaml_bytes(obj) for obj in objects}
    return dict(sorted(files.items()))


def source_commit(root: Path, allow_dirty: bool) -> str:
    head = git("rev-parse", "HEAD", cwd=root).stdout.strip()
    dirty = git("status", "--porcelain", cwd=root).stdout.rstrip()
    if dirty and not allow_dirty:
        raise PublishError(f"source tree has uncommitted changes (commit them, or pass --allow-dirty):\n{dirty}")
    return head + ("-dirty" if dirty else "")


def target_path(path: str) -> PurePosixPath:
    """A folder of the target's work tree that GitOps tools read: relative, no '..', no dot-folder (.git is
    git's own data; .github and the like hold CI workflows and settings, never manifests)."""
    target = PurePosixPath(path)
    if target.is_absolute() or ".." in target.parts or str(target) in ("", "."):
        raise BadRequest(f"--path {path!r} must be a folder inside the target repository (relative, no '..')")
    if any(part.casefold() == ".git" for part in target.parts):
        raise BadRequest(f"--path {path!r} is inside .git, git's own data: choose a folder of the work tree")
    hidden = next((part for part in target.parts if part.startswith(".")), None)
    if hidden is not None:
        raise BadRequest(f"--path {path!r} goes through the dot-folder {hidden!r} (tool settings such as "
                         f".github/workflows, never manifests): choose a folder whose names do not start with '.'")
    return target


def branch_name(branch: str, cwd: Path) -> str:
    """git's own rule for branch names; also keeps a name starting with '-' from reading as an option. git
    expands '@' and '@{-1}' to another branch's name: only a name it keeps as written is a branch name."""
    if branch in ("@", "HEAD"):  # git accepts refs/heads/@ and refs/heads/HEAD, then reads both as HEAD
        raise BadRequest(f"--branch {branch!r} is not a valid git branch name (git reads {branch!r} as the current "
                         f"commit)")
    checked = git("check-ref-format", "--branch", branch, cwd=cwd, check=False) if not branch.startswith("-") \
        else None
    if checked is None or checked.returncode or checked.stdout.strip() != branch:
        raise BadRequest(f"--branch {branch!r} is not a valid git branch name")
    return branch


def clone_source(target: str, cwd: Path) -> str:
    """What git clones: URLs and scp-like host:path as given; a local path relative to where the user ran
    the command (the clone itself runs elsewhere)."""
    if target.startswith("-"):
        raise BadRequest(f"--repo {target!r}: a repository, not an option, must not start with '-' "
                         f"(for a local folder of that name write ./{target})")
    if "://" in target or re.match(r"[^/]*:", target):  # git's own rule: a colon before any slash is host:path
        return target
    local = Path(target).expanduser()
    if not local.is_absolute():
        local = cwd / local
    if not local.exists():
        raise BadRequest(f"--repo {target!r}: no such folder ({local}); give a URL, host:path, or the path of "
                         f"an existing repository (relative to the current folder)")
    return str(local.resolve())


def publish(root: Path, config: PlatformConfig, args: Request,
            before_push: Callable[[], None] | None = None) -> int:
    """before_push runs between each commit and its push; tests use it to make another publisher win the race."""
    folder = target_path(args.path)
    source = clone_source(args.target, Path.cwd())
    branch_name(args.branch, root)
    if args.overlay not in overlay_names(root):
        raise BadRequest(f"--overlay {args.overlay!r}: no such overlay in overlays/ "
                         f"(have: {', '.join(overlay_names(root))})")
    for note in recover(root):
        out.print(f"interrupted build: {note}", markup=False, soft_wrap=True)
    commit = source_commit(root, args.allow_dirty)
    checked = check_bundle(root, config, against_disk=True)
    if checked.findings:
        lines = "\n".join(f"  {f}" for f in checked.findings)
        raise PublishError(f"refusing to publish: validate failed with {len(checked.findings)} problem(s):\n{lines}")
    (overlay,) = render_overlays(root, checked.rendered.files, with_components=(), only=(args.overlay,))
    files = manifest_files(overlay.objects)
    record = ownership.record_bytes(files, commit, args.overlay)
    with scratch_dir("publish") as scratch:
        clone = Path(scratch) / "target"
        base = _clone(source, args.branch, clone, args.timeout)
        if args.dry_run:
            return _dry_run(clone, folder, files, args)
        return _publish(clone, folder, files, record, base, args, commit, before_push)


def _publish(clone: Path, folder: PurePosixPath, files: Mapping[str, bytes], record: bytes, base: str | None,
             args: Request, commit: str, before_push: Callable[[], None] | None) -> int:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        if not _stage(clone, folder, files, record, args.replace_unowned):
            out.print(f"nothing changed: {args.target} {args.branch}:{folder} already holds this render",
                      markup=False, soft_wrap=True)
            return 0
        _commit(clone, f"agentmon: publish overlays/{args.overlay} from {commit[:12]}\n\n"
                       f"Source commit: {commit}\nOverlay: overlays/{args.overlay}\nFiles: {len(files)}\n")
        if before_push:
            before_push()
        pushed = git("push", "--quiet", "origin", f"HEAD:refs/heads/{args.branch}", cwd=clone, check=False,
                     timeout=args.timeout)
        if pushed.returncode == 0:
            sha = git("rev-parse", "--short", "HEAD", cwd=clone).stdout.strip()
            out.print(f"published overlays/{args.overlay} ({len(files)} files) to {args.target} "
                      f"{args.branch}:{folder} as {sha}", markup=False, soft_wrap=True)
            return 0
        moved_to = _remote_head(clone, args.branch, args.timeout)
        if moved_to == base:  # the branch did not move: no race, the target refused for its own reason
            raise PublishError(f"the target refused the push to {args.branch}: {one_line(pushed.stderr)}",
                               EXIT_PUSH_REFUSED)
        if attempt < MAX_ATTEMPTS:
            out.print(f"someone else pushed to {args.branch} first; fetching and re-applying the render "
                      f"(attempt {attempt + 1} of {MAX_ATTEMPTS})", markup=False, soft_wrap=True)
            _reset_to(clone, args.branch, moved_to)
            base = moved_to
    raise PublishError(f"gave up after {MAX_ATTEMPTS} attempts: someone else pushed to {args.branch} before each "
                       f"of them; publish again once the other publisher is done", EXIT_RACE_LOST)


def _clone(url: str, branch: str, clone: Path, timeout: float) -> str | None:
    """Clone and check out `branch`; its commit, or None for a branch that does not exist yet."""
    git("clone", "--quiet", "--no-checkout", "--", url, str(clone), cwd=clone.parent,  # "--": a URL, never an option
        timeout=timeout)
    base = _remote_head(clone, branch, timeout, fetch=False)
    if base is not None:
        git("checkout", "--quiet", "-B", branch, f"origin/{branch}", cwd=clone)
    else:  # a new branch holds only what we publish
        git("checkout", "--quiet", "--orphan", branch, cwd=clone)
        git("rm", "-r", "-q", "--cached", "--ignore-unmatch", ".", cwd=clone)
    return base


def _remote_head(clone: Path, branch: str, timeout: float, fetch: bool = True) -> str | None:
    """The target branch's commit as the target has it now (fetched again unless fetch=False); None if absent."""
    if fetch:
        git("fetch", "--quiet", "origin", f"+refs/heads/{branch}:refs/remotes/origin/{branch}", cwd=clone,
            timeout=timeout, check=False)  # a branch still missing is an answer too
    found = git("rev-parse", "--verify", "--quiet", f"refs/remotes/origin/{branch}", cwd=clone, check=False)
    return found.stdout.strip() or None


def _reset_to(clone: Path, branch: str, remote: str | None) -> None:
    if remote is None:
        raise PublishError(f"{branch} disappeared from the target while publishing; publish again",
                           EXIT_PUSH_REFUSED)
    git("reset", "--quiet", "--hard", remote, cwd=clone)


def _stage(clone: Path, folder: PurePosixPath, files: Mapping[str, bytes], record: bytes,
           replace_unowned: bool) -> bool:
    """Make folder hold `files` and the record, removing only files publish wrote (or, with replace_unowned,
    every other file); True when that changes anything besides the record's source commit."""
    target = _checked_folder(clone, folder, files)
    plan = ownership.plan(target, folder, files, replace_unowned)
    old_record = _record_text(target)
    stale = [str(folder / name) for name in plan.remove]
    if old_record is None and (target / ownership.RECORD).exists():
        stale.append(str(folder / ownership.RECORD))  # taken over (replace_unowned): whatever it was goes
    if stale:
        git("rm", "-r", "-q", "--ignore-unmatch", "--", *stale, cwd=clone)
    target.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        _write_no_follow(target / name, content)
    _write_no_follow(target / ownership.RECORD, record)
    git("add", "--", str(folder), cwd=clone)
    manifests_changed = git("diff", "--cached", "--quiet", "--", ".",
                            f":(exclude){folder / ownership.RECORD}", cwd=clone, check=False).returncode != 0
    return manifests_changed or not ownership.same_files(old_record, record)


def _record_text(folder: Path) -> bytes | None:
    record = folder / ownership.RECORD
    return record.read_bytes() if record.is_file() and not record.is_symlink() else None


def _write_no_follow(path: Path, content: bytes) -> None:
    """The folders on the way were checked; O_NOFOLLOW refuses a link in the last place too."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as manifest:
        manifest.write(content)


def _checked_folder(clone: Path, folder: PurePosixPath, files: Mapping[str, bytes]) -> Path:
    """clone/folder, once sure that writing there stays inside the clone: no symbolic link (the target branch
    decides what is committed there, and a link would take the writes anywhere), no file in place of a folder."""
    path = clone
    for part in folder.parts:
        path = path / part
        _refuse_link(clone, path, "--path")
        if path.exists() and not path.is_dir():
            raise PublishError(f"--path {folder}: {path.relative_to(clone)} is a file in the target branch, "
                               f"not a folder; choose another --path", EXIT_TARGET_FOLDER)
    for name in (*files, ownership.RECORD):
        _refuse_link(clone, path / name, "a manifest")
    if not path.resolve().is_relative_to(clone.resolve()):  # belt and braces: the checks above should ensure it
        raise PublishError(f"--path {folder} resolves outside the target repository", EXIT_TARGET_FOLDER)
    return path


def _refuse_link(clone: Path, path: Path, what: str) -> None:
    if path.is_symlink():
        rel = path.relative_to(clone)
        raise PublishError(f"{rel} is a symbolic link in the target branch (to {os.readlink(path)}); {what} must "
                           f"not go through links, which could write outside the repository: replace {rel} with a "
                           f"real folder or file in the target repository, or choose another --path",
                           EXIT_TARGET_FOLDER)


def _commit(clone: Path, message: str) -> None:
    has_identity = git("config", "user.email", cwd=clone, check=False).returncode == 0
    identity = () if has_identity else FALLBACK_IDENTITY
    result = git(*identity, "commit", "--quiet", "-F", "-", cwd=clone, check=False, stdin=message)
    if result.returncode != 0:
        raise PublishError(f"git commit failed in the clone of the target (nothing was pushed): "
                           f"{one_line(result.stderr or result.stdout)}", EXIT_GIT_FAILED)


def _dry_run(clone: Path, folder: PurePosixPath, files: Mapping[str, bytes], args: Request) -> int:
    """Every file publish would add, change or remove, then what that means for dashboards, panels, queries
    and resources; the same refusals as a real publish."""
    target = _checked_folder(clone, folder, files)
    plan = ownership.plan(target, folder, files, args.replace_unowned)
    # Every file of the render the target already holds (changed or not) and those to remove: a file compared
    # with nothing would be reported as an added resource.
    owned_before = sorted((set(files) - set(plan.add)) | set(plan.remove))
    old, unreadable = load_resources({name: target / name for name in owned_before})
    new, _ = load_resources(files)
    out.print(f"dry run: overlays/{args.overlay} -> {args.target} {args.branch}:{args.path} (nothing written)",
              markup=False, soft_wrap=True)
    lines = plan.lines() + [f"file {name}: {why}; compared as text only" for name, why in unreadable.items()]
    for line in lines + summarize(old, new) or ["no changes"]:
        out.print(f"  {line}", markup=False, soft_wrap=True)
    return 0
