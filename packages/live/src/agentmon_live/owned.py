"""What a command owns and must not leave behind: its temporary folders and its child processes.

A command killed with SIGKILL runs no clean-up: its `with` blocks never exit. So
- every temporary folder is named `agentmon-<kind>-<pid>-<random>`, and the next agentmon command removes the
  folders whose owner process is gone (`sweep_scratch`);
- helpers that would outlive it (Prometheus, promtool) get a parent-death signal (Linux `prctl`), so the
  kernel kills them when the command dies, however it dies.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

SCRATCH = re.compile(r"agentmon-(?P<kind>.+)-(?P<pid>[0-9]+)-[a-z0-9_]+")  # tempfile's suffix has no '-'
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def scratch_dir(kind: str, folder: Path | None = None) -> tempfile.TemporaryDirectory[str]:
    """A temporary folder whose name says which process owns it, so a later run can tell a leftover; in `folder`
    (default: the system's), e.g. beside a folder that is then swapped in by rename (same file system)."""
    return tempfile.TemporaryDirectory(prefix=f"agentmon-{kind}-{os.getpid()}-", dir=folder)


def sweep_scratch(folder: Path | None = None) -> list[Path]:
    """Remove the agentmon temporary folders (in `folder`, default the system's) whose owner process is dead;
    the removed ones. Only our own user's folders, never through a link, never a live process' folder."""
    removed = []
    for path in sorted(Path(folder or tempfile.gettempdir()).glob("agentmon-*")):
        match = SCRATCH.fullmatch(path.name)
        if match is None or path.is_symlink() or not path.is_dir() or path.lstat().st_uid != os.getuid():
            continue
        if not _alive(int(match["pid"])):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn making the child get SIGKILL when this process dies (None where Linux prctl is missing).
    prctl is looked up here, before fork: the child only calls it, allocating nothing. The signal fires when
    the thread that started the child ends, so start long-lived children from the main thread."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True).prctl
    parent = os.getpid()

    def arm() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl took effect: nobody would signal us
            os._exit(1)

    return arm
