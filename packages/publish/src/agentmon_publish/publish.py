"""Publish: render one overlay to plain YAML and commit it to a GitOps ("rendered manifests") repo.

Never force-pushes. When someone else pushed first, it fetches, writes the render again on top of their
commit and retries, so no commit on either side is lost. A bundle that fails validate is never published.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from rich.console import Console
from ruamel.yaml import YAML

from agentmon_bundle.pipeline import check_bundle
from agentmon_bundle.serialize import yaml_bytes
from agentmon_bundle.writer import recover
from agentmon_checks.kustomize import overlay_names, render_overlays, stable_name
from agentmon_config import PlatformConfig
from agentmon_publish.diff import summarize

MAX_ATTEMPTS = 5
FALLBACK_IDENTITY = ("-c", "user.name=agentmon publish", "-c", "user.email=agentmon-publish@localhost")
out = Console(highlight=False)


class PublishError(RuntimeError):
    pass


class BadRequest(PublishError):
    """An option that can never work (exit 2): the message names the option and what to change."""


@dataclass(frozen=True)
class Request:
    """Where to publish what: `target` is a git URL or local path, `path` a folder inside it."""

    target: str
    branch: str
    path: str
    overlay: str = "prod"
    dry_run: bool = False
    allow_dirty: bool = False


def git(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    if check and result.returncode != 0:
        raise PublishError(f"git {' '.join(args)} failed: {result.stderr.strip() or result.stdout.strip()}")
    return result


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
    target = PurePosixPath(path)
    if target.is_absolute() or ".." in target.parts or str(target) in ("", "."):
        raise BadRequest(f"--path {path!r} must be a folder inside the target repository (relative, no '..')")
    if any(part.casefold() == ".git" for part in target.parts):
        raise BadRequest(f"--path {path!r} is inside .git, git's own data: choose a folder of the work tree")
    return target


def branch_name(branch: str, cwd: Path) -> str:
    """git's own rule for branch names; also keeps a name starting with '-' from reading as an option."""
    if branch.startswith("-") or git("check-ref-format", "--branch", branch, cwd=cwd, check=False).returncode:
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
    """before_push runs between commit and push; tests use it to make another publisher win the race."""
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
    with tempfile.TemporaryDirectory(prefix="agentmon-publish-") as scratch:
        clone = Path(scratch) / "target"
        _clone(source, args.branch, clone)
        if args.dry_run:
            return _dry_run(_checked_folder(clone, folder, files), files, args)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if not _stage(clone, folder, files):
                out.print(f"nothing changed: {args.target} {args.branch}:{folder} already holds this render",
                          markup=False, soft_wrap=True)
                return 0
            _commit(clone, f"agentmon: publish overlays/{args.overlay} from {commit[:12]}\n\n"
                           f"Source commit: {commit}\nOverlay: overlays/{args.overlay}\nFiles: {len(files)}\n")
            if before_push:
                before_push()
                before_push = None
            if _push(clone, args.branch):
                sha = git("rev-parse", "--short", "HEAD", cwd=clone).stdout.strip()
                out.print(f"published overlays/{args.overlay} ({len(files)} files) to {args.target} "
                          f"{args.branch}:{folder} as {sha}", markup=False, soft_wrap=True)
                return 0
            out.print(f"someone else pushed to {args.branch} first; fetching and re-applying the render "
                      f"(attempt {attempt + 1} of {MAX_ATTEMPTS})", markup=False, soft_wrap=True)
            _reset_to_remote(clone, args.branch)
    raise PublishError(f"gave up after {MAX_ATTEMPTS} attempts: {args.branch} keeps moving")


def _clone(url: str, branch: str, clone: Path) -> None:
    git("clone", "--quiet", "--no-checkout", "--", url, str(clone), cwd=clone.parent)  # "--": a URL, never an option
    if git("ls-remote", "--exit-code", "--heads", "origin", branch, cwd=clone, check=False).returncode == 0:
        git("checkout", "--quiet", "-B", branch, f"origin/{branch}", cwd=clone)
    else:  # a new branch holds only what we publish
        git("checkout", "--quiet", "--orphan", branch, cwd=clone)
        git("rm", "-r", "-q", "--cached", "--ignore-unmatch", ".", cwd=clone)


def _reset_to_remote(clone: Path, branch: str) -> None:
    git("fetch", "--quiet", "origin", branch, cwd=clone)
    git("reset", "--quiet", "--hard", f"origin/{branch}", cwd=clone)


def _stage(clone: Path, folder: PurePosixPath, files: Mapping[str, bytes]) -> bool:
    """Make folder hold exactly `files`; True when that changes anything."""
    target = _checked_folder(clone, folder, files)
    git("rm", "-r", "-q", "--ignore-unmatch", "--", str(folder), cwd=clone)
    target.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        _write_no_follow(target / name, content)
    git("add", "--", str(folder), cwd=clone)
    return git("diff", "--cached", "--quiet", cwd=clone, check=False).returncode != 0


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
                               f"not a folder; choose another --path")
    for name in files:
        _refuse_link(clone, path / name, "a manifest")
    if not path.resolve().is_relative_to(clone.resolve()):  # belt and braces: the checks above should ensure it
        raise PublishError(f"--path {folder} resolves outside the target repository")
    return path


def _refuse_link(clone: Path, path: Path, what: str) -> None:
    if path.is_symlink():
        rel = path.relative_to(clone)
        raise PublishError(f"{rel} is a symbolic link in the target branch (to {os.readlink(path)}); {what} must "
                           f"not go through links, which could write outside the repository: replace {rel} with a "
                           f"real folder or file in the target repository, or choose another --path")


def _commit(clone: Path, message: str) -> None:
    has_identity = git("config", "user.email", cwd=clone, check=False).returncode == 0
    identity = () if has_identity else FALLBACK_IDENTITY
    subprocess.run(["git", *identity, "commit", "--quiet", "-F", "-"], input=message, cwd=clone, text=True,
                   check=True, capture_output=True)


def _push(clone: Path, branch: str) -> bool:
    """Plain push (never --force). False when the remote moved on (non-fast-forward)."""
    result = git("push", "--quiet", "origin", f"HEAD:refs/heads/{branch}", cwd=clone, check=False)
    if result.returncode == 0:
        return True
    if re.search(r"non-fast-forward|fetch first|rejected", result.stderr):
        return False
    raise PublishError(f"git push failed: {result.stderr.strip()}")


def _dry_run(folder: Path, files: Mapping[str, bytes], args: Request) -> int:
    yaml = YAML(typ="safe")
    old = {p.name: yaml.load(p.read_text()) for p in sorted(folder.glob("*.yaml"))} if folder.is_dir() else {}
    new = {name: yaml.load(content.decode()) for name, content in files.items()}
    lines = summarize(old, new)
    out.print(f"dry run: overlays/{args.overlay} -> {args.target} {args.branch}:{args.path} (nothing written)",
              markup=False, soft_wrap=True)
    for line in lines or ["no changes"]:
        out.print(f"  {line}", markup=False, soft_wrap=True)
    return 0
