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
from paketflow._json import FrozenDict, thaw

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

    ``events``: events the actor may fire now as they are; ``with_payload``: events the
    actor may fire with a payload, each with its JSON Schema (``schema``) and the
    fields it requires (``required``); ``refused``: for every other event of the
    current state, the reasons; ``sign``: the slot the actor would fill by signing, or
    ``None``; ``sign_refused``: why signing is refused; ``labels``: the Indonesian and
    English labels (``(id, en)``) of the state and of every event named here.
    """

    state: str
    events: tuple[str, ...]
    refused: Mapping[str, tuple[Any, ...]] = attrs.field(converter=_frozen_refused)
    sign: str | None = None
    sign_refused: tuple[Any, ...] = ()
    with_payload: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict, converter=FrozenDict)
    labels: Mapping[str, tuple[str, str]] = attrs.field(factory=dict, converter=FrozenDict)

    def label(self, name: str, lang: str | None = None) -> Any:
        """The label of the state or event ``name``: ``{"id", "en"}``, or the text in
        ``lang``; the id itself when unknown."""
        pair = self.labels.get(name, (name, name))
        if lang is None:
            return {"id": pair[0], "en": pair[1]}
        return pair[0] if lang == "id" else pair[1]

    def as_dict(self, lang: str | None = None) -> dict[str, Any]:
        """Plain JSON for an API answer; labels and messages in ``lang`` when given
        (``{"id", "en"}`` otherwise)."""
        return {
            "state": {"id": self.state, "label": self.label(self.state, lang)},
            "events": [{"event": e, "label": self.label(e, lang)} for e in self.events],
            "with_payload": [
                {
                    "event": e,
                    "label": self.label(e, lang),
                    "required": list(spec.get("required", ())),
                    "schema": thaw(spec.get("schema")),
                }
                for e, spec in self.with_payload.items()
            ],
            "refused": [
                {
                    "event": e,
                    "label": self.label(e, lang),
                    "reasons": [r.as_dict(lang) for r in reasons],
                }
                for e, reasons in self.refused.items()
            ],
            "sign": self.sign,
            "sign_refused": [r.as_dict(lang) for r in self.sign_refused],
        }
