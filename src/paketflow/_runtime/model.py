"""Runtime data: the records of :mod:`paketflow._events` (re-exported here for the
runtime) and :class:`Permissions`, the answer of :meth:`paketflow.Engine.allowed`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from paketflow._events import (
    EVENT_FORMAT,
    Actor,
    ArmedDeadline,
    DataOp,
    DefinitionRef,
    Escalated,
    Event,
    Fired,
    Instance,
    Notice,
    Signature,
    Signed,
    Started,
    TimedOut,
)
from paketflow._json import FrozenDict

__all__ = [
    "EVENT_FORMAT",
    "Actor",
    "ArmedDeadline",
    "DataOp",
    "DefinitionRef",
    "Escalated",
    "Event",
    "Fired",
    "Instance",
    "Notice",
    "Permissions",
    "Signature",
    "Signed",
    "Started",
    "TimedOut",
]


def _frozen_refused(refused: Mapping[str, Any]) -> Mapping[str, tuple[Any, ...]]:
    return FrozenDict({k: tuple(v) for k, v in refused.items()})


@attrs.frozen
class Permissions:
    """What an actor may do now (:meth:`paketflow.Engine.allowed`).

    ``events``: events the actor may fire; ``refused``: for every other event of the
    current state, the reasons; ``sign``: the slot the actor would fill by signing, or
    ``None``; ``sign_refused``: why signing is refused.
    """

    state: str
    events: tuple[str, ...]
    refused: Mapping[str, tuple[Any, ...]] = attrs.field(converter=_frozen_refused)
    sign: str | None = None
    sign_refused: tuple[Any, ...] = ()
