"""Find the project root the way git finds its repository: from the current folder upwards."""

from __future__ import annotations

from pathlib import Path

DEFAULT_CONFIG = Path("config/platform.yaml")


class ProjectNotFound(ValueError):
    pass


def find_root(start: Path, config: Path | None = None) -> Path:
    """The nearest folder, from `start` upwards, that holds the configuration file."""
    marker = config or DEFAULT_CONFIG
    start = start.absolute()
    for folder in (start, *start.parents):
        if (folder / marker).is_file():
            return folder
    raise ProjectNotFound(f"no agentmon project here: neither {start} nor any folder above it holds {marker}; "
                          f"run agentmon inside the project, or pass --root PROJECT_FOLDER")
