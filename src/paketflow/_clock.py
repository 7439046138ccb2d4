"""Clocks: the only place paketflow may read the wall clock.

The engine takes time from an explicit ``at`` argument or from an injected
:class:`Clock`. :class:`SystemClock` is the one implementation that reads the wall
clock; :class:`ManualClock` is for tests and simulations.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol, runtime_checkable

__all__ = ["Clock", "ManualClock", "SystemClock", "local_time"]


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


def local_time(value: str | dt.datetime | dt.date, zone: Any) -> dt.datetime:
    """An aware date-time in the process time zone ``zone``, read the way scenarios
    read times (docs/scenarios.md):

    - ``"2012-06-04"`` or a ``date``: local midnight starting that day;
    - ``"2012-06-04T10:00"`` / ``"2012-06-04 10:00"`` or a naive ``datetime``: that
      local wall time;
    - a string with an offset (``"2012-06-04T03:00:00Z"``) or an aware ``datetime``:
      the same instant, expressed in ``zone``.

    ``zone`` is a :class:`~paketflow.ProcessDefinition` (its ``timezone``), an IANA
    name (``"Asia/Pontianak"``) or a ``tzinfo``. Raises :class:`~paketflow.InvalidTime`
    (a ``ValueError`` with Indonesian and English end-user messages) for anything else.
    Reads no clock.
    """
    from paketflow._calendar import zone as named_zone
    from paketflow._errors import InvalidTime

    name = getattr(zone, "timezone", zone)
    tz = name if isinstance(name, dt.tzinfo) else named_zone(str(name))
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(0), tz)
    elif isinstance(value, str) and 10 <= len(value.strip()) <= 40:
        text = value.strip()
        try:
            if len(text) == 10:
                return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(0), tz)
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise InvalidTime(value, str(tz)) from None
    else:
        raise InvalidTime(value, str(tz))
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment.astimezone(tz)
