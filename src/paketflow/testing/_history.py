"""The one place that reads events: what a command or a tick did, from its events.

Events are typed (one frozen class per kind); everything in
:mod:`paketflow.testing` that needs to know "a deadline step fired" or "a transition
was taken" asks these functions, so only this module follows the event format.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs

from paketflow import Escalated, Event, Fired, TimedOut

__all__ = ["DeadlineStep", "Taken", "deadline_steps", "transitions_taken"]


@attrs.frozen
class DeadlineStep:
    """A deadline step that fired: an escalation tier (``deadline``/``tier``; no move,
    so ``source``/``target`` are ``None``) or a timeout (``tier is None``, ``name``
    the timeout event), at ``at`` for a step scheduled at ``scheduled``."""

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


def deadline_steps(events: Iterable[Event]) -> list[DeadlineStep]:
    """The deadline steps among ``events``, in order."""
    out: list[DeadlineStep] = []
    for ev in events:
        if isinstance(ev, Escalated):
            out.append(DeadlineStep(ev.name, ev.deadline, ev.step, ev.at, ev.step_at, None, None))
        elif isinstance(ev, TimedOut):
            out.append(
                DeadlineStep(ev.name, ev.deadline, None, ev.at, ev.step_at, ev.source, ev.target)
            )
    return out


def transitions_taken(events: Iterable[Event]) -> list[Taken]:
    """The accepted ``fire`` commands among ``events``."""
    return [Taken(ev.name, ev.source, ev.target, ev.at) for ev in events if isinstance(ev, Fired)]
