"""Durations and working-day calendars.

Working days come from the ``holidays`` package (Indonesian public holidays; *cuti
bersama* joint-leave days are its ``government`` category, optional), plus a
definition's own extra holidays. Calendars are pure functions of dates: no clock.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable
from zoneinfo import ZoneInfo

import attrs

__all__ = [
    "Duration",
    "WorkingCalendar",
    "parse_duration",
    "to_local_date",
    "zone",
]

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<y>\d{1,4})Y)?(?:(?P<mo>\d{1,4})M)?(?:(?P<w>\d{1,4})W)?(?:(?P<d>\d{1,5})D)?"
    r"(?:T(?=\d)(?:(?P<h>\d{1,6})H)?(?:(?P<mi>\d{1,6})M)?(?:(?P<s>\d{1,7})S)?)?$"
)


@attrs.frozen
class Duration:
    """An ISO 8601 duration of whole units (``P30D``, ``P1M``, ``PT48H``).

    Years and months are calendar months; days are calendar days; the time part is
    exact seconds.
    """

    months: int = 0
    days: int = 0
    seconds: int = 0
    text: str = attrs.field(default="P0D", eq=False)

    @property
    def date_based(self) -> bool:
        """True when the duration has no time part: it lands on local midnight."""
        return self.seconds == 0

    def add_to(self, moment: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
        """``moment`` plus this duration. Date-based durations return local midnight
        of the resulting date; others add exactly."""
        local = moment.astimezone(tz)
        day = _add_months(local.date(), self.months) + dt.timedelta(days=self.days)
        if self.date_based:
            return dt.datetime.combine(day, dt.time(0), tz)
        base = dt.datetime.combine(day, local.timetz())
        return base + dt.timedelta(seconds=self.seconds)


def _add_months(day: dt.date, months: int) -> dt.date:
    if not months:
        return day
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def parse_duration(text: str) -> Duration:
    """Parse an ISO 8601 duration; raise ``ValueError`` with the text when invalid."""
    m = _DURATION.match(text) if isinstance(text, str) else None
    if m is None:
        raise ValueError(f"not an ISO 8601 duration: {text!r} (use e.g. 'P30D', 'P2W', 'PT48H')")
    g = {k: int(v) if v else 0 for k, v in m.groupdict().items()}
    return Duration(
        months=g["y"] * 12 + g["mo"],
        days=g["w"] * 7 + g["d"],
        seconds=g["h"] * 3600 + g["mi"] * 60 + g["s"],
        text=text,
    )


@functools.lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` (cached)."""
    return ZoneInfo(name)


def to_local_date(moment: dt.datetime, tz: dt.tzinfo) -> dt.date:
    """The calendar date of ``moment`` in ``tz``."""
    return moment.astimezone(tz).date()


class WorkingCalendar:
    """Working days of one country: weekdays in ``workdays`` that are not holidays.

    >>> cal = WorkingCalendar("ID")
    >>> cal.working_days_between(dt.date(2012, 6, 4), dt.date(2012, 9, 4))
    64
    """

    def __init__(
        self,
        country: str = "ID",
        *,
        cuti_bersama: bool = False,
        extra_holidays: Iterable[dt.date] = (),
        workdays: Iterable[int] = (1, 2, 3, 4, 5),
    ) -> None:
        self.country = country
        self.cuti_bersama = cuti_bersama
        self.extra_holidays = frozenset(extra_holidays)
        self.workdays = frozenset(workdays)
        self._years: dict[int, frozenset[dt.date]] = {}

    def _holidays(self, year: int) -> frozenset[dt.date]:
        days = self._years.get(year)
        if days is None:
            import holidays  # imported lazily: loading country data costs ~50 ms

            categories: tuple[str, ...] = ("public",)
            if self.cuti_bersama:
                categories = ("public", "government")
            table = holidays.country_holidays(self.country, years=year, categories=categories)
            days = frozenset(table.keys()) | {d for d in self.extra_holidays if d.year == year}
            self._years[year] = days
        return days

    def is_working_day(self, day: dt.date) -> bool:
        """True when ``day`` is a working day."""
        return day.isoweekday() in self.workdays and day not in self._holidays(day.year)

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The date ``n`` working days after ``start`` (``start`` itself not counted)."""
        day = start
        while n > 0:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                n -= 1
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in ``(start, end]``; negative when ``end`` is before ``start``."""
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        day = start
        while day < end:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count
