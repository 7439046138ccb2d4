"""Runtime data: actors, instances (frozen snapshots), signatures, armed deadlines and
the events that record every accepted command."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

__all__ = [
    "EVENT_FORMAT",
    "Actor",
    "ArmedDeadline",
    "Event",
    "Instance",
    "Notice",
    "Permissions",
    "Signature",
    "canonical_json",
]

#: Version of the persisted event format. Bump with a documented migration.
EVENT_FORMAT = 1


def _frozen_roles(roles: Iterable[str] | str) -> frozenset[str]:
    if isinstance(roles, str):
        return frozenset((roles,))
    return frozenset(roles)


@attrs.frozen
class Actor:
    """Who issues a command: a person ``id`` holding ``roles``, optionally representing
    a PAKEM ``element``. Segregation of duties is checked on ``id`` (per person)."""

    id: str
    roles: frozenset[str] = attrs.field(converter=_frozen_roles)
    element: str | None = None
    name: str | None = None

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "roles": sorted(self.roles)}
        if self.element is not None:
            d["element"] = self.element
        if self.name is not None:
            d["name"] = self.name
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Actor:
        return cls(d["id"], d.get("roles", ()), d.get("element"), d.get("name"))


@attrs.frozen
class Signature:
    """One signature collected in the current visit of a state."""

    slot: str
    actor: str
    at: dt.datetime
    element: str | None = None
    name: str | None = None


@attrs.frozen
class ArmedDeadline:
    """A deadline armed on state entry. ``steps`` are the precomputed firing times
    (escalation tiers, then the timeout as ``"!timeout"``) in order; ``fired`` counts
    those already fired."""

    id: str
    due: dt.datetime
    steps: tuple[tuple[dt.datetime, str], ...]
    fired: int = 0

    @property
    def next_at(self) -> dt.datetime | None:
        return self.steps[self.fired][0] if self.fired < len(self.steps) else None

    def as_dict(self) -> dict[str, Any]:
        """JSON form, as recorded in ``arm`` deltas."""
        return {
            "id": self.id,
            "due": self.due.isoformat(),
            "steps": [[when.isoformat(), step] for when, step in self.steps],
            "fired": self.fired,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ArmedDeadline:
        return cls(
            d["id"],
            dt.datetime.fromisoformat(d["due"]),
            tuple((dt.datetime.fromisoformat(w), str(s)) for w, s in d["steps"]),
            int(d.get("fired", 0)),
        )


@attrs.frozen
class Notice:
    """A warning or note emitted by an accepted command or a deadline tier."""

    code: str
    message_id: str
    message_en: str
    notify: tuple[str, ...] = ()
    params: Mapping[str, Any] = attrs.field(factory=dict)

    def message(self, lang: str = "en") -> str:
        return self.message_id if lang == "id" else self.message_en

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": {"id": self.message_id, "en": self.message_en},
            "notify": list(self.notify),
            "params": dict(self.params),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Notice:
        return cls(
            d["code"],
            d["message"]["id"],
            d["message"]["en"],
            tuple(d.get("notify", ())),
            dict(d.get("params", {})),
        )


@attrs.frozen
class Instance:
    """A frozen snapshot of one process instance.

    ``data`` must be treated as read-only (the engine never mutates it in place: every
    change makes new containers along the changed path). ``version`` is the number of
    events recorded for the instance.
    """

    id: str
    definition: str
    definition_version: str
    definition_hash: str
    state: str
    data: Mapping[str, Any]
    version: int
    entered_at: dt.datetime
    signatures: tuple[Signature, ...] = ()
    deadlines: tuple[ArmedDeadline, ...] = ()
    flags: frozenset[str] = frozenset()
    sets: Mapping[str, frozenset[str]] = attrs.field(factory=dict)

    @property
    def next_deadline_at(self) -> dt.datetime | None:
        """The earliest time a deadline step of this instance is due."""
        times = [t for d in self.deadlines if (t := d.next_at) is not None]
        return min(times) if times else None


@attrs.frozen
class Event:
    """One recorded event: the decision itself, enough to replay it without
    re-evaluating any rule.

    ``type`` is ``started``, ``fired``, ``signed``, ``escalated`` or ``timed_out``.
    ``delta`` is what changed (applied by :func:`paketflow._runtime.fold.apply_event`);
    ``inputs`` are the guard inputs that mattered; ``format`` is
    :data:`EVENT_FORMAT`.
    """

    instance_id: str
    seq: int
    type: str
    at: dt.datetime
    actor: Actor | None
    name: str | None
    source: str | None
    target: str | None
    delta: Mapping[str, Any]
    inputs: Mapping[str, Any] = attrs.field(factory=dict)
    notices: tuple[Notice, ...] = ()
    format: int = EVENT_FORMAT

    def as_dict(self) -> dict[str, Any]:
        """The JSON form persisted by stores and hashed by audit chains."""
        return {
            "format": self.format,
            "instance": self.instance_id,
            "seq": self.seq,
            "type": self.type,
            "at": self.at.isoformat(),
            "actor": self.actor.as_dict() if self.actor else None,
            "name": self.name,
            "source": self.source,
            "target": self.target,
            "delta": _jsonify(self.delta),
            "inputs": _jsonify(self.inputs),
            "notices": [n.as_dict() for n in self.notices],
        }

    def canonical(self) -> bytes:
        """Canonical JSON bytes (sorted keys, no spaces, UTF-8)."""
        return canonical_json(self.as_dict())

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Event:
        """Rebuild an event from :meth:`as_dict` (what stores persist).

        Raises ``ValueError`` for a format this version cannot read."""
        if d.get("format") != EVENT_FORMAT:
            raise ValueError(
                f"event format {d.get('format')!r} is not supported (this paketflow reads "
                f"format {EVENT_FORMAT}); upgrade paketflow or migrate the store"
            )
        return cls(
            instance_id=d["instance"],
            seq=int(d["seq"]),
            type=d["type"],
            at=dt.datetime.fromisoformat(d["at"]),
            actor=Actor.from_dict(d["actor"]) if d.get("actor") else None,
            name=d.get("name"),
            source=d.get("source"),
            target=d.get("target"),
            delta=d.get("delta", {}),
            inputs=d.get("inputs", {}),
            notices=tuple(Notice.from_dict(n) for n in d.get("notices", ())),
            format=EVENT_FORMAT,
        )


def _jsonify(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonify(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        items = [_jsonify(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, frozenset | set) else items
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if attrs.has(type(value)):
        return _jsonify(attrs.asdict(value, recurse=False))
    return value


def canonical_json(value: Any) -> bytes:
    """Canonical JSON: sorted keys, compact separators, UTF-8, no NaN."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


@attrs.frozen
class Permissions:
    """What an actor may do now (:meth:`paketflow.Engine.allowed`).

    ``events``: events the actor may fire; ``refused``: for every other event of the
    current state, the reasons; ``sign``: the slot the actor would fill by signing, or
    ``None``; ``sign_refused``: why signing is refused.
    """

    state: str
    events: tuple[str, ...]
    refused: Mapping[str, tuple[Any, ...]]
    sign: str | None = None
    sign_refused: tuple[Any, ...] = ()
