"""The one place that reads events: what a command or a tick did, from its events.

The event classes are being reworked (typed, frozen events per kind); everything in
:mod:`paketflow.testing` that needs to know "a deadline step fired" or "a transition
was taken" asks these functions, so only this module follows the event format.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs

from paketflow import Event

__all__ = ["DeadlineStep", "Taken", "deadline_steps", "transitions_taken"]


@attrs.frozen
class DeadlineStep:
    """A deadline step that fired: an escalation tier (``deadline``/``tier``) or a
    timeout (``tier is None``, ``event`` the timeout event), at ``at`` for a step
    scheduled at ``scheduled``."""

    name: str
    deadline: str | None
    tier: str | None
    at: dt.datetime
    scheduled: dt.datetime | None
    source: str | None
    target: str | None


@attrs.frozen
class Taken:
    """An accepted ``fire``: ``event`` taken from ``source`` to ``target``."""

    event: str
    source: str | None
    target: str | None
    at: dt.datetime


def _when(value: object) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def deadline_steps(events: Iterable[Event]) -> list[DeadlineStep]:
    """The deadline steps among ``events``, in order."""
    out: list[DeadlineStep] = []
    for ev in events:
        if ev.type not in ("escalated", "timed_out"):
            continue
        name = str(ev.name)
        scheduled = _when(ev.inputs.get("step_at"))
        if ev.type == "escalated":
            deadline, _, tier = name.partition("/")
            out.append(DeadlineStep(name, deadline, tier, ev.at, scheduled, ev.source, ev.target))
        else:
            out.append(DeadlineStep(name, None, None, ev.at, scheduled, ev.source, ev.target))
    return out


def transitions_taken(events: Iterable[Event]) -> list[Taken]:
    """The accepted ``fire`` commands among ``events``."""
    return [Taken(str(ev.name), ev.source, ev.target, ev.at) for ev in events if ev.type == "fired"]
