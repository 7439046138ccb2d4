"""Durations (ISO 8601) and working-day calendars (Indonesian holidays, cuti bersama,
extra holidays, custom working weeks)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import WIB
from paketflow._calendar import (
    Duration,
    WorkingCalendar,
    parse_duration,
    to_local_date,
    zone,
)

D = dt.date
PUBLIC = WorkingCalendar("ID")
WITH_CUTI = WorkingCalendar("ID", cuti_bersama=True)

# --------------------------------------------------------------------------- parse_duration


@pytest.mark.parametrize(
    ("text", "months", "days", "seconds"),
    [
        ("P30D", 0, 30, 0),
        ("P2W", 0, 14, 0),
        ("P1M", 1, 0, 0),
        ("P1Y", 12, 0, 0),
        ("P1Y2M", 14, 0, 0),
        ("PT48H", 0, 0, 48 * 3600),
        ("P1DT2H", 0, 1, 7200),
        ("PT1H30M15S", 0, 0, 5415),
        ("PT90M", 0, 0, 5400),
        ("P0D", 0, 0, 0),
        ("PT0S", 0, 0, 0),
        ("P1W3D", 0, 10, 0),
        ("P1Y1M1W1DT1H1M1S", 13, 8, 3661),
    ],
)
def test_parse_valid_durations(text: str, months: int, days: int, seconds: int) -> None:
    """Valid ISO 8601 durations parse into months, days and seconds; the text is kept."""
    d = parse_duration(text)
    assert (d.months, d.days, d.seconds, d.text) == (months, days, seconds, text)


@pytest.mark.parametrize(
    "text",
    ["", "P", "PT", "30D", "p30d", "P1.5D", "P-1D", "P1DT", "P1H", "PT1D", "P1D2M", " P1D", "P1D "],
)
def test_parse_invalid_durations(text: str) -> None:
    """Invalid texts raise ValueError quoting the text and giving examples."""
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    assert str(info.value) == (
        f"not an ISO 8601 duration: {text!r} (use e.g. 'P30D', 'P2W', 'PT48H')"
    )


@pytest.mark.parametrize("value", [30, None, ["P1D"]])
def test_parse_duration_of_non_text(value: Any) -> None:
    """A value that is not a string is refused with the same message."""
    with pytest.raises(ValueError) as info:
        parse_duration(value)
    assert str(info.value) == (
        f"not an ISO 8601 duration: {value!r} (use e.g. 'P30D', 'P2W', 'PT48H')"
    )


def test_duration_equality_ignores_the_text() -> None:
    """P2W and P14D are the same duration; P1M is not P30D."""
    assert parse_duration("P2W") == parse_duration("P14D")
    assert parse_duration("PT1H") == parse_duration("PT60M")
    assert parse_duration("P1M") != parse_duration("P30D")


def test_date_based() -> None:
    """A duration without a time part is date-based."""
    assert parse_duration("P1M").date_based
    assert parse_duration("P0D").date_based
    assert not parse_duration("PT48H").date_based
    assert not parse_duration("P1DT2H").date_based


# --------------------------------------------------------------------------- add_to


def test_date_based_duration_lands_on_local_midnight() -> None:
    """A date-based duration returns local midnight of the resulting date."""
    start = dt.datetime(2012, 6, 4, 15, 30, tzinfo=WIB)
    assert parse_duration("P10D").add_to(start, WIB) == dt.datetime(2012, 6, 14, tzinfo=WIB)
    assert parse_duration("P0D").add_to(start, WIB) == dt.datetime(2012, 6, 4, tzinfo=WIB)


def test_date_based_duration_uses_the_local_date() -> None:
    """The moment is converted to the zone first: 20:00 UTC is already the next day
    in Pontianak (UTC+7)."""
    start = dt.datetime(2012, 6, 4, 20, tzinfo=dt.UTC)
    got = parse_duration("P1D").add_to(start, WIB)
    assert got == dt.datetime(2012, 6, 6, tzinfo=WIB)
    assert got.tzinfo is WIB


@pytest.mark.parametrize(
    ("start", "text", "expected"),
    [
        (D(2012, 1, 31), "P1M", D(2012, 2, 29)),
        (D(2013, 1, 31), "P1M", D(2013, 2, 28)),
        (D(2012, 3, 31), "P1M", D(2012, 4, 30)),
        (D(2012, 1, 30), "P1M", D(2012, 2, 29)),
        (D(2012, 11, 15), "P2M", D(2013, 1, 15)),
        (D(2012, 2, 29), "P1Y", D(2013, 2, 28)),
        (D(2012, 1, 31), "P1M1D", D(2012, 3, 1)),
        (D(2012, 12, 31), "P12M", D(2013, 12, 31)),
    ],
)
def test_month_durations_clamp_to_month_end(start: dt.date, text: str, expected: dt.date) -> None:
    """Months are calendar months; a day missing in the target month clamps to its
    last day; days are added after the months."""
    moment = dt.datetime.combine(start, dt.time(9), WIB)
    assert parse_duration(text).add_to(moment, WIB) == dt.datetime.combine(
        expected, dt.time(0), WIB
    )


def test_hour_durations_are_exact() -> None:
    """A duration with a time part adds exactly, keeping the time of day."""
    start = dt.datetime(2012, 6, 4, 15, 30, tzinfo=WIB)
    assert parse_duration("PT48H").add_to(start, WIB) == start + dt.timedelta(hours=48)
    assert parse_duration("P1DT2H").add_to(start, WIB) == dt.datetime(
        2012, 6, 5, 17, 30, tzinfo=WIB
    )
    assert parse_duration("PT1S").add_to(start, WIB) == start + dt.timedelta(seconds=1)


def test_hour_duration_from_another_zone_is_the_same_instant() -> None:
    """Exact durations do not depend on the zone of the moment given."""
    start = dt.datetime(2012, 6, 4, 20, tzinfo=dt.UTC)
    assert parse_duration("PT30H").add_to(start, WIB) == start + dt.timedelta(hours=30)


def test_default_duration_is_zero() -> None:
    """Duration() is zero and date-based."""
    d = Duration()
    assert (d.months, d.days, d.seconds, d.text, d.date_based) == (0, 0, 0, "P0D", True)


# --------------------------------------------------------------------------- zones


def test_zone_is_cached() -> None:
    """zone() returns the same ZoneInfo object for the same name."""
    assert zone("Asia/Pontianak") is zone("Asia/Pontianak")
    assert zone("Asia/Jakarta") == ZoneInfo("Asia/Jakarta")


def test_to_local_date() -> None:
    """to_local_date takes the date in the given zone."""
    moment = dt.datetime(2012, 6, 4, 17, tzinfo=dt.UTC)
    assert to_local_date(moment, WIB) == D(2012, 6, 5)
    assert to_local_date(moment, dt.UTC) == D(2012, 6, 4)


# --------------------------------------------------------------------------- WorkingCalendar


def test_saigon_case_public_holidays_only() -> None:
    """From 4 June to 4 September 2012 there are 64 working days with public
    holidays only."""
    assert PUBLIC.working_days_between(D(2012, 6, 4), D(2012, 9, 4)) == 64


def test_saigon_case_with_cuti_bersama() -> None:
    """With cuti bersama (joint leave around Idul Fitri) the same range has 62."""
    assert WITH_CUTI.working_days_between(D(2012, 6, 4), D(2012, 9, 4)) == 62


def test_working_days_between_is_half_open() -> None:
    """The count covers (start, end]: the start day is not counted, the end day is."""
    assert PUBLIC.working_days_between(D(2012, 6, 4), D(2012, 6, 4)) == 0
    assert PUBLIC.working_days_between(D(2012, 6, 4), D(2012, 6, 5)) == 1
    assert PUBLIC.working_days_between(D(2012, 6, 8), D(2012, 6, 11)) == 1  # Fri → Mon


def test_negative_ranges() -> None:
    """A range whose end is before its start counts negatively."""
    assert PUBLIC.working_days_between(D(2012, 9, 4), D(2012, 6, 4)) == -64
    assert PUBLIC.working_days_between(D(2012, 6, 5), D(2012, 6, 4)) == -1


def test_weekends_and_holidays_are_not_working_days() -> None:
    """Saturdays, Sundays, 17 August and Idul Fitri are not working days."""
    assert PUBLIC.is_working_day(D(2012, 6, 4))  # Monday
    assert not PUBLIC.is_working_day(D(2012, 6, 9))  # Saturday
    assert not PUBLIC.is_working_day(D(2012, 6, 10))  # Sunday
    assert not PUBLIC.is_working_day(D(2012, 8, 17))  # Independence Day (Friday)
    assert not PUBLIC.is_working_day(D(2012, 8, 20))  # Idul Fitri, second day (Monday)
    assert PUBLIC.is_working_day(D(2012, 8, 21))  # joint leave: public only → working
    assert not WITH_CUTI.is_working_day(D(2012, 8, 21))
    assert not WITH_CUTI.is_working_day(D(2012, 8, 22))


def test_add_working_days_around_idul_fitri_2012() -> None:
    """From Thursday 16 August 2012 the next working day skips 17 August, the weekend
    and Idul Fitri (20 August): Tuesday 21st, or Thursday 23rd with cuti bersama."""
    start = D(2012, 8, 16)
    assert PUBLIC.add_working_days(start, 1) == D(2012, 8, 21)
    assert PUBLIC.add_working_days(start, 5) == D(2012, 8, 27)
    assert WITH_CUTI.add_working_days(start, 1) == D(2012, 8, 23)


def test_add_working_days_skips_weekends() -> None:
    """Five working days after a Monday is the next Monday; zero is the start itself."""
    assert PUBLIC.add_working_days(D(2012, 6, 4), 5) == D(2012, 6, 11)
    assert PUBLIC.add_working_days(D(2012, 6, 8), 1) == D(2012, 6, 11)
    assert PUBLIC.add_working_days(D(2012, 6, 9), 0) == D(2012, 6, 9)


def test_extra_holidays() -> None:
    """Extra holidays of the definition are not working days, in their year only."""
    cal = WorkingCalendar("ID", extra_holidays=[D(2012, 6, 5), D(2013, 6, 6)])
    assert not cal.is_working_day(D(2012, 6, 5))
    assert cal.is_working_day(D(2012, 6, 6))
    assert not cal.is_working_day(D(2013, 6, 6))
    assert cal.add_working_days(D(2012, 6, 4), 1) == D(2012, 6, 6)
    assert cal.working_days_between(D(2012, 6, 4), D(2012, 9, 4)) == 63


def test_custom_workdays() -> None:
    """A six-day week counts Saturdays; a Sunday-to-Thursday week skips Fri/Sat."""
    six = WorkingCalendar("ID", workdays=(1, 2, 3, 4, 5, 6))
    assert six.is_working_day(D(2012, 6, 9))
    assert six.add_working_days(D(2012, 6, 8), 1) == D(2012, 6, 9)
    sun_thu = WorkingCalendar("ID", workdays=[7, 1, 2, 3, 4])
    assert sun_thu.add_working_days(D(2012, 6, 7), 1) == D(2012, 6, 10)
    assert not sun_thu.is_working_day(D(2012, 6, 8))


def test_calendar_attributes() -> None:
    """Extra holidays and workdays are stored as frozensets."""
    cal = WorkingCalendar("ID", extra_holidays=[D(2012, 1, 2)], workdays=[1, 2])
    assert cal.extra_holidays == frozenset({D(2012, 1, 2)})
    assert cal.workdays == frozenset({1, 2})
    assert (cal.country, cal.cuti_bersama) == ("ID", False)


def test_range_across_years() -> None:
    """Counting across New Year uses both years' holidays: 1 January is a holiday;
    31 December 2012 is joint leave, off only with cuti bersama."""
    assert PUBLIC.working_days_between(D(2012, 12, 28), D(2013, 1, 2)) == 2  # 31 Dec, 2 Jan
    assert WITH_CUTI.working_days_between(D(2012, 12, 28), D(2013, 1, 2)) == 1  # 2 Jan


@settings(max_examples=60, deadline=None)
@given(
    st.dates(min_value=D(2011, 1, 1), max_value=D(2014, 12, 31)),
    st.integers(min_value=0, max_value=120),
    st.booleans(),
)
def test_add_then_count_round_trip(start: dt.date, n: int, cuti: bool) -> None:
    """Adding n working days and counting back gives n; the result is a working day
    (for n > 0)."""
    cal = WITH_CUTI if cuti else PUBLIC
    end = cal.add_working_days(start, n)
    assert cal.working_days_between(start, end) == n
    assert cal.working_days_between(end, start) == -n
    if n > 0:
        assert cal.is_working_day(end)
