"""A cookiecutter that cannot import agentmon, as people have it who install cookiecutter on its own (pipx, for
example): a fresh virtual environment holding cookiecutter 2.7.1 and its dependencies, linked from this
environment (nothing downloaded), and nothing of agentmon."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

AGENTMON = ("agentmon", "_editable_impl_agentmon", "__editable__")


def make_plain_cookiecutter(folder: Path) -> Path:
    """Create the environment in folder; return its python (run cookiecutter as `python -m cookiecutter`)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    linked = folder / "linked"
    linked.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        # .pth files are where an editable agentmon lives; a folder added by a .pth line has its own ignored.
        if not entry.name.startswith(AGENTMON) and entry.suffix != ".pth":
            (linked / entry.name).symlink_to(entry)
    (site / "linked.pth").write_text(f"{linked}\n")
    probe = "import cookiecutter\ntry:\n import agentmon_config\nexcept ImportError:\n print(cookiecutter.__version__)"
    version = subprocess.run([str(python), "-c", probe], check=True, capture_output=True, text=True).stdout.strip()
    assert version == "2.7.1", f"expected cookiecutter 2.7.1 without agentmon, got {version!r}"
    return python
