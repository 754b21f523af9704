"""Helpers shared by the tests of every package (on the tests' path through pytest's `pythonpath`; not a package
of the product: nothing under src/ imports it).

Fault injection edits text; an edit whose old text is absent would leave the input unchanged and the test
proving nothing, so these fail loudly instead.
"""

from __future__ import annotations

from pathlib import Path


def replace_once(text: str, old: str, new: str) -> str:
    """`text` with the one occurrence of `old` replaced; fails when `old` occurs zero or several times."""
    count = text.count(old)
    assert count == 1, f"expected the text to edit exactly once, found it {count} times: {old!r}"
    return text.replace(old, new)


def edit_file(path: Path, old: str, new: str) -> None:
    """Replace the one occurrence of `old` in the file at `path`."""
    path.write_text(replace_once(path.read_text(), old, new))
