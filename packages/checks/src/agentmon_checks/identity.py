"""What the checks are, as one digest: the code and data of the agentmon packages, the installed libraries (schemas
come with kubernetes-validate, CRD models with cloudcoil), the interpreter, and the checker binaries they run.
A verdict kept in the render cache is reused only under the same digest."""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import pkgutil
import shutil
import sys
from functools import cache
from pathlib import Path

CHECKER_BINARIES = ("amtool", "promtool")


@cache
def checks_identity() -> str:
    digest = hashlib.sha256(sys.version.encode())
    for name in sorted(m.name for m in pkgutil.iter_modules() if m.name.startswith("agentmon_")):
        spec = importlib.util.find_spec(name)
        for location in (spec.submodule_search_locations or []) if spec else []:
            for path in sorted(p for p in Path(location).rglob("*") if p.is_file() and "__pycache__" not in p.parts):
                digest.update(f"\0{name}/{path.relative_to(location).as_posix()}\0".encode())
                digest.update(path.read_bytes())
    for installed in sorted(f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions()):
        digest.update(f"\0{installed}".encode())
    for binary in CHECKER_BINARIES:
        digest.update(f"\0{binary}={_file_identity(shutil.which(binary))}".encode())
    return digest.hexdigest()


def _file_identity(path: str | None) -> str:
    if path is None:
        return "absent"
    resolved = Path(path).resolve()
    return f"{resolved}:{resolved.stat().st_size}:{resolved.stat().st_mtime_ns}"
