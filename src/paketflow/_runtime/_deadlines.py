"""Deadlines: armed on state entry (the due instant and the times of its tiers and
timeout computed once), disarmed outside their scope, offsets in working days."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs

from paketflow._calendar import to_local_date
from paketflow._compile import CompiledProcess
from paketflow._definition.model import Deadline, Offset, State
from paketflow._errors import Reason
from paketflow._runtime._rules import evaluate
from paketflow._runtime.model import ArmedDeadline, Instance


def transition_deadlines(
    cp: CompiledProcess,
    inst: Instance,
    target: State,
    data: Mapping[str, Any],
    when: dt.datetime,
) -> tuple[tuple[ArmedDeadline, ...], tuple[str, ...]]:
    """``(arm, disarm)``: the deadlines entering ``target`` arms (its own, unless still
    armed) and the ids it disarms (those whose scope it is not in)."""
    disarm = tuple(a.id for a in inst.deadlines if target.id not in cp.deadlines[a.id].scope)
    kept = tuple(a.id for a in inst.deadlines if a.id not in disarm)
    return arm_deadlines(cp, target, data, when, kept), disarm


def arm_deadlines(
    cp: CompiledProcess,
    state: State,
    data: Mapping[str, Any],
    when: dt.datetime,
    armed: tuple[str, ...],
) -> tuple[ArmedDeadline, ...]:
    """The deadlines of ``state`` to arm on entry at ``when``."""
    out = []
    for dl in state.deadlines:
        if dl.id in armed:
            continue
        due = due_at(cp, dl, data, when)
        if due is None:
            continue  # a date deadline whose date is not in the data yet
        steps = [(offset_at(cp, due, esc.after), esc.id) for esc in dl.escalations]
        if dl.timeout is not None:
            steps.append((offset_at(cp, due, dl.timeout.after), "!timeout"))
        steps.sort(key=lambda s: s[0])
        out.append(ArmedDeadline(dl.id, due, tuple(steps)))
    return tuple(out)


def arm_late(
    cp: CompiledProcess,
    inst: Instance,
    state: State,
    data: Mapping[str, Any],
    when: dt.datetime,
) -> tuple[ArmedDeadline, ...]:
    """The date deadlines of ``state`` not armed on entry (their date was not in the
    data yet) that ``data`` now dates: armed at ``when`` by a transition within the
    state, e.g. a due date derived from the request date."""
    armed = tuple(a.id for a in inst.deadlines)
    late = [
        dl
        for dl in state.deadlines
        if dl.due.kind == "date" and not dl.met_by and dl.id not in armed
    ]  # a deadline that can be met is armed on entry only: once met, it stays met
    if not late:
        return ()
    return arm_deadlines(cp, attrs.evolve(state, deadlines=tuple(late)), data, when, armed)


def due_at(
    cp: CompiledProcess, dl: Deadline, data: Mapping[str, Any], when: dt.datetime
) -> dt.datetime | None:
    due = dl.due
    tz = cp.tz
    if due.kind == "duration":
        assert due.duration is not None
        return due.duration.add_to(when, tz)
    if due.kind == "workingDays":
        assert due.working_days is not None and due.calendar is not None
        day = cp.calendars[due.calendar].add_working_days(to_local_date(when, tz), due.working_days)
        return dt.datetime.combine(day, dt.time(0), tz)
    assert due.date is not None
    errors: list[Reason] = []
    value = evaluate(cp, due.date, {"data": data, "at": when.isoformat(), "_tz": tz}, errors)
    if value is None or errors:
        return None
    try:
        if isinstance(value, str) and len(value) > 10:
            moment = dt.datetime.fromisoformat(value)
            return moment if moment.tzinfo else moment.replace(tzinfo=tz)
        return dt.datetime.combine(dt.date.fromisoformat(str(value)), dt.time(0), tz)
    except ValueError:
        return None


def offset_at(cp: CompiledProcess, due: dt.datetime, off: Offset) -> dt.datetime:
    if off.duration is not None:
        return off.duration.add_to(due, cp.tz)
    assert off.working_days is not None and off.calendar is not None
    day = cp.calendars[off.calendar].add_working_days(to_local_date(due, cp.tz), off.working_days)
    return dt.datetime.combine(day, dt.time(0), cp.tz)
