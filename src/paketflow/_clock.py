"""Clocks: the only place paketflow may read the wall clock.

The engine takes time from an explicit ``at`` argument or from an injected
:class:`Clock`. :class:`SystemClock` is the one implementation that reads the wall
clock; :class:`ManualClock` is for tests and simulations.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "ManualClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """Anything with ``now() -> aware datetime``."""

    def now(self) -> dt.datetime: ...


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class ManualClock:
    """A clock that only moves when told to."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError(f"ManualClock needs an aware datetime, got naive {start!r}")
        self._now = start

    def now(self) -> dt.datetime:
        return self._now

    def set(self, moment: dt.datetime) -> None:
        """Move the clock to ``moment`` (backwards too)."""
        if moment.tzinfo is None:
            raise ValueError(f"ManualClock needs an aware datetime, got naive {moment!r}")
        self._now = moment

    def advance(self, delta: dt.timedelta) -> None:
        """Move the clock forward by ``delta``."""
        self._now += delta
