"""retry_on_conflict: retries only ConcurrencyError, at most `attempts` times."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import paketflow


def flaky(failures: int) -> tuple[list[int], Callable[[], int]]:
    calls: list[int] = []

    def command() -> int:
        calls.append(1)
        if len(calls) <= failures:
            raise paketflow.ConcurrencyError("lost the race")
        return len(calls)

    return calls, command


def test_retries_until_the_command_wins() -> None:
    """Two lost races then a win: the win's result is returned after three calls."""
    calls, command = flaky(2)
    assert paketflow.retry_on_conflict(command) == 3
    assert len(calls) == 3


def test_gives_up_after_attempts() -> None:
    """When every attempt loses, the last ConcurrencyError propagates."""
    calls, command = flaky(10)
    with pytest.raises(paketflow.ConcurrencyError):
        paketflow.retry_on_conflict(command, attempts=3)
    assert len(calls) == 3


def test_other_errors_are_not_retried() -> None:
    """A refusal (or any other error) propagates at once."""
    calls: list[int] = []

    def command() -> None:
        calls.append(1)
        raise paketflow.UnknownInstance("x")

    with pytest.raises(paketflow.UnknownInstance):
        paketflow.retry_on_conflict(command)
    assert calls == [1]
