"""``retry_on_conflict``: re-run a command that lost an optimistic-concurrency race."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from paketflow._errors import ConcurrencyError

__all__ = ["retry_on_conflict"]

T = TypeVar("T")


def retry_on_conflict(command: Callable[[], T], *, attempts: int = 5) -> T:
    """Call ``command`` until it does not raise :class:`~paketflow.ConcurrencyError`,
    at most ``attempts`` times (at least once); the last error propagates.

    Safe because every engine command re-reads the instance and decides again: a retry
    is a new decision on the state the other writer left (it may now be
    :class:`~paketflow.Refused`). Give the command an ``idempotency_key`` when the
    first attempt may have committed before the error reached you (a lost
    connection): the retry then returns the first result and adds nothing.
    """
    for _ in range(int(attempts) - 1):
        try:
            return command()
        except ConcurrencyError:
            continue
    return command()
