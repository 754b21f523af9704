"""Run a real checker binary (promtool, amtool) on a rendered file, reporting its complaint as a Finding."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path

from agentmon_checks.findings import Finding
from agentmon_live.owned import scratch_dir
from agentmon_live.prometheus import PrerequisiteMissing, find_binary


def tool_check(file: str, content: bytes, binary: str, *args: str) -> Iterator[Finding]:
    """`binary *args FILE` on the rendered content of `file`; skipped (no finding) when the binary is not on PATH:
    validate then relies on its own checks, and the tests, which always have the binaries, run it."""
    try:
        executable = find_binary(binary)
    except PrerequisiteMissing:
        return
    with scratch_dir(binary) as scratch:
        path = Path(scratch) / Path(file).name
        path.write_bytes(content)
        result = subprocess.run([executable, *args, str(path)], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        output = " ".join((result.stdout + result.stderr).replace(str(path), file).split())
        yield Finding(file, " ".join((binary, *args)), output)


def tool_check_all(files: Mapping[str, bytes], binary: str, *args: str) -> Iterator[Finding]:
    """tool_check of every file in one run of the binary (one start-up for dozens of rule shards); when it
    complains, each file again on its own, so every finding names its file."""
    try:
        executable = find_binary(binary)
    except PrerequisiteMissing:
        return
    with scratch_dir(binary) as scratch:
        paths = [Path(scratch) / str(n) / Path(file).name for n, file in enumerate(files)]
        for path, content in zip(paths, files.values(), strict=True):
            path.parent.mkdir()
            path.write_bytes(content)
        result = subprocess.run([executable, *args, *map(str, paths)], capture_output=True, timeout=120)
    if result.returncode != 0:
        for file, content in files.items():
            yield from tool_check(file, content, binary, *args)
