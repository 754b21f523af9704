"""The one error type for bad configuration: always names the file and the field."""

from __future__ import annotations

from pathlib import Path


class ConfigError(Exception):
    """A configuration problem, located by file, optional line, and dotted field path."""

    def __init__(self, path: Path | str, field: str, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.field = field
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{_printable(self.path)}:{self.line}" if self.line else _printable(self.path)
        return f"{where}: {_printable(self.field) or '<document>'}: {self.message}"


def _printable(text: str, limit: int = 120) -> str:
    """A path or field as one line that shows what it is: a file or key named with a newline, a bidi override
    or 10,000 characters cannot break the one-line error or disguise it."""
    shown = "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)
    return shown if len(shown) <= limit else shown[:limit - 3] + "..."


class ConfigErrors(ConfigError):
    """Several problems in one file, reported together so one run shows them all."""

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        first = errors[0]
        super().__init__(first.path, first.field, first.message, first.line)

    def __str__(self) -> str:
        return "\n".join(ConfigError.__str__(e) for e in self.errors)
