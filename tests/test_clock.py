"""Clocks: the manual clock moves only when told; the system clock is aware UTC."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from conftest import WIB, at
from paketflow._clock import Clock, ManualClock, SystemClock


def test_manual_clock_starts_where_told() -> None:
    """now() returns the start moment until the clock is moved."""
    clock = ManualClock(at("2012-06-04"))
    assert clock.now() == at("2012-06-04")
    assert clock.now() == at("2012-06-04")


def test_manual_clock_set_moves_forwards_and_backwards() -> None:
    """set() moves the clock to any aware moment, backwards too."""
    clock = ManualClock(at("2012-06-04"))
    clock.set(at("2012-09-04", 15))
    assert clock.now() == at("2012-09-04", 15)
    clock.set(at("2012-01-01"))
    assert clock.now() == at("2012-01-01")


def test_manual_clock_advance() -> None:
    """advance() adds a timedelta to the current time; advances accumulate."""
    clock = ManualClock(at("2012-06-04"))
    clock.advance(dt.timedelta(days=1, hours=2))
    clock.advance(dt.timedelta(minutes=30))
    assert clock.now() == dt.datetime(2012, 6, 5, 11, 30, tzinfo=WIB)


def test_manual_clock_keeps_the_zone_given() -> None:
    """The clock returns moments in the zone it was given."""
    clock = ManualClock(dt.datetime(2012, 6, 4, tzinfo=dt.UTC))
    clock.advance(dt.timedelta(hours=1))
    assert clock.now().tzinfo is dt.UTC


def test_manual_clock_rejects_naive_start() -> None:
    """A naive start moment is refused with an exact message."""
    with pytest.raises(ValueError) as info:
        ManualClock(dt.datetime(2012, 6, 4, 9))
    assert str(info.value) == (
        "ManualClock needs an aware datetime, got naive datetime.datetime(2012, 6, 4, 9, 0)"
    )


def test_manual_clock_rejects_naive_set() -> None:
    """set() refuses a naive moment with the same message and keeps the old time."""
    clock = ManualClock(at("2012-06-04"))
    with pytest.raises(ValueError) as info:
        clock.set(dt.datetime(2012, 6, 5))
    assert str(info.value) == (
        "ManualClock needs an aware datetime, got naive datetime.datetime(2012, 6, 5, 0, 0)"
    )
    assert clock.now() == at("2012-06-04")


def test_system_clock_is_aware_utc() -> None:
    """SystemClock returns an aware datetime in UTC."""
    now = SystemClock().now()
    assert now.tzinfo is not None
    assert now.utcoffset() == dt.timedelta(0)
    assert now.tzinfo is dt.UTC


def test_system_clock_is_not_frozen_in_the_past() -> None:
    """SystemClock reads the wall clock: it is after the start of this project."""
    assert SystemClock().now() > dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def test_both_clocks_satisfy_the_protocol() -> None:
    """Both implementations are Clocks (runtime-checkable protocol)."""
    assert isinstance(SystemClock(), Clock)
    assert isinstance(ManualClock(at("2012-06-04")), Clock)
    assert not isinstance(object(), Clock)


def test_local_time_reads_dates_as_local_midnight() -> None:
    """A date (text or ``date``) is midnight starting that day in the process zone;
    the zone may be given by a definition, a name or a tzinfo."""
    import paketflow

    wib = ZoneInfo("Asia/Pontianak")
    want = dt.datetime(2012, 6, 4, tzinfo=wib)
    assert paketflow.local_time("2012-06-04", "Asia/Pontianak") == want
    assert paketflow.local_time(dt.date(2012, 6, 4), wib) == want
    definition = paketflow.load_definition("processes/paket.json")
    assert paketflow.local_time("2012-06-04", definition).tzinfo == ZoneInfo(definition.timezone)


def test_local_time_reads_wall_times_and_keeps_instants() -> None:
    """A naive date-time is local wall time; an offset or aware value keeps its
    instant and is expressed in the zone."""
    import paketflow

    wib = ZoneInfo("Asia/Pontianak")
    assert paketflow.local_time("2012-06-04 10:30", wib) == dt.datetime(
        2012, 6, 4, 10, 30, tzinfo=wib
    )
    assert paketflow.local_time(dt.datetime(2012, 6, 4, 10), wib).tzinfo is wib
    utc = paketflow.local_time("2012-06-04T03:00:00+00:00", wib)
    assert (utc.hour, utc.tzinfo) == (10, wib)


@pytest.mark.parametrize("bad", ["4 Juni 2012", "2012-13-01", "", 20120604, None, "x" * 100])
def test_local_time_refuses_what_it_cannot_read(bad: object) -> None:
    """Unreadable input raises InvalidTime (a ValueError) with bilingual end-user
    messages and a programmer message naming the accepted forms."""
    import paketflow

    with pytest.raises(paketflow.InvalidTime) as info:
        paketflow.local_time(bad, "Asia/Pontianak")  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError)
    assert info.value.message("id").startswith("Waktu ")
    assert info.value.message("en").startswith("The time ")
    assert "'YYYY-MM-DD' (local midnight in Asia/Pontianak)" in str(info.value)
