from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest


@pytest.fixture
def deadline() -> Callable[[int], AbstractContextManager[None]]:
    """`with deadline(2): ...` fails the test when the block runs longer, instead of letting it hang."""
    @contextmanager
    def limit(seconds: int) -> Iterator[None]:
        def expire(signum: int, frame: object) -> None:
            raise TimeoutError(f"still running after {seconds} s")
        previous = signal.signal(signal.SIGALRM, expire)
        signal.alarm(seconds)
        try:
            yield
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
    return limit
