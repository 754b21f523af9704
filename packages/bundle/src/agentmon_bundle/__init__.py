"""Render the whole bundle in memory, run every check on it, and write it atomically: the only package that
writes generated files."""
