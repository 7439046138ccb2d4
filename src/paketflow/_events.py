"""Records: the instance snapshot and its parts, and the typed events of a history.

This is the lowest layer of paketflow after the errors and the JSON utilities: the
stores import only this module, :mod:`paketflow._json` and :mod:`paketflow._errors`.

Every record is a frozen ``attrs`` class whose JSON containers are frozen
(:class:`~paketflow._json.FrozenDict`, :class:`~paketflow._json.FrozenList`, tuples,
frozensets), so nothing a caller does to a returned record reaches the store.

Events are one class per type: :class:`Started`, :class:`Signed`, :class:`Fired`,
:class:`Escalated` and :class:`TimedOut`, all :class:`Event`. Each records the decision
itself (what changed), never the rules that led to it, so replay is a pure fold.
``to_dict()`` is the persisted JSON form (format :data:`EVENT_FORMAT`, published as the
JSON Schema ``paketflow/_schemas/event-v2.json``); ``Event.from_dict`` reads it back;
``canonical()`` is its RFC 8785 bytes, which audit chains hash. Snapshots have their own
versioned form (:meth:`Instance.to_dict`, :data:`SNAPSHOT_FORMAT`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import attrs

from paketflow._errors import ArgumentTypeError, ArgumentValueError, FormatError
from paketflow._json import (
    EMPTY,
    FrozenDict,
    JSONValueError,
    canonical,
    check,
    freeze,
    parse_pointer,
    pointer,
)

__all__ = [
    "EVENT_FORMAT",
    "SNAPSHOT_FORMAT",
    "Actor",
    "ArmedDeadline",
    "DataOp",
    "DefinitionRef",
    "Escalated",
    "Event",
    "Fired",
    "Instance",
    "Notice",
    "Signature",
    "Signed",
    "Started",
    "TimedOut",
]

#: Version of the persisted event format (``Event.to_dict()["format"]``). Format 1 was
#: the generic ``delta`` event of paketflow 0.1, never persisted by a durable store.
EVENT_FORMAT = 2
#: Version of the persisted snapshot format (``Instance.to_dict()["format"]``).
SNAPSHOT_FORMAT = 1


def _roles(roles: Iterable[str] | str) -> frozenset[str]:
    if isinstance(roles, str):
        return frozenset((roles,))
    if isinstance(roles, frozenset):
        return roles
    try:
        out = frozenset(roles)
    except TypeError:
        raise ArgumentTypeError(
            f"Actor(roles=...) must be a role id or an iterable of role ids, got {roles!r}"
        ) from None
    return out


def _time(value: Any, field: str) -> dt.datetime:
    if not isinstance(value, str):
        raise FormatError(f"{field}: expected an ISO 8601 date-time string, got {value!r}")
    try:
        t = dt.datetime.fromisoformat(value)
    except ValueError:
        raise FormatError(f"{field}: {value!r} is not an ISO 8601 date-time") from None
    if t.tzinfo is None:
        raise FormatError(f"{field}: {value!r} has no UTC offset")
    return t


def _get(d: Mapping[str, Any], key: str, kind: Any, where: str) -> Any:
    try:
        v = d[key]
    except (KeyError, TypeError):
        raise FormatError(f"{where}: field {key!r} is missing") from None
    if not isinstance(v, kind) or (kind is int and isinstance(v, bool)):
        raise FormatError(f"{where}: field {key!r} has the wrong type ({v!r})")
    return v


#: Limits when reading stored JSON back: wider than those of caller data (effects may
#: build larger values, within the evaluation budget), still bounded.
_STORED = {"max_depth": 256, "max_nodes": 10_000_000, "max_string": 16 * 2**20}


def _json(value: Any, where: str) -> Any:
    """A stored JSON value, checked strictly and frozen (iteratively bounded)."""
    try:
        return check(value, **_STORED)
    except JSONValueError as exc:
        raise FormatError(f"{where}{exc.pointer}: {exc.problem}") from None


def _obj(d: Mapping[str, Any], key: str, where: str) -> Any:
    return _json(dict(_get(d, key, Mapping, where)), f"{where}.{key}")


def _strs(values: Any, where: str) -> tuple[str, ...]:
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise FormatError(f"{where}: expected a list of strings, got {values!r}")
    return tuple(values)


@attrs.frozen
class Actor:
    """Who issues a command: a person ``id`` holding ``roles``, optionally representing
    a PAKEM ``element``. Segregation of duties is checked on ``id`` (per person)."""

    id: str
    roles: frozenset[str] = attrs.field(converter=_roles)
    element: str | None = None
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form (roles sorted; ``element``/``name`` only when set)."""
        d: dict[str, Any] = {"id": self.id, "roles": sorted(self.roles)}
        if self.element is not None:
            d["element"] = self.element
        if self.name is not None:
            d["name"] = self.name
        return d

    as_dict = to_dict

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Actor:
        """Inverse of :meth:`to_dict`."""
        where = "actor"
        if not isinstance(d, Mapping):
            raise FormatError(f"{where}: expected an object, got {type(d).__name__}")
        roles = _strs(d.get("roles", ()), f"{where}.roles")
        element, name = d.get("element"), d.get("name")
        if not (element is None or isinstance(element, str)) or not (
            name is None or isinstance(name, str)
        ):
            raise FormatError(f"{where}: 'element' and 'name' must be strings or absent")
        return cls(_get(d, "id", str, where), roles, element, name)


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "due": self.due.isoformat(),
            "steps": [[when.isoformat(), step] for when, step in self.steps],
            "fired": self.fired,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ArmedDeadline:
        where = "deadline"
        steps = _get(d, "steps", list | tuple, where)
        try:
            parsed = tuple((_time(w, f"{where}.steps"), s) for w, s in steps)
        except (TypeError, ValueError):
            raise FormatError(f"{where}: 'steps' must be [[time, step], ...]") from None
        if not all(isinstance(s, str) for _, s in parsed):
            raise FormatError(f"{where}: every step must be [time, step id string]")
        fired = _get(d, "fired", int, where) if "fired" in d else 0
        if not 0 <= fired <= len(parsed):
            raise FormatError(f"{where}: 'fired' must be 0 to {len(parsed)}, got {fired}")
        return cls(_get(d, "id", str, where), _time(d.get("due"), f"{where}.due"), parsed, fired)


@attrs.frozen
class Notice:
    """A warning or note emitted by an accepted command or a deadline tier."""

    code: str
    message_id: str
    message_en: str
    notify: tuple[str, ...] = ()
    params: Mapping[str, Any] = attrs.field(default=EMPTY, converter=freeze)

    def message(self, lang: str = "en") -> str:
        return self.message_id if lang == "id" else self.message_en

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": {"id": self.message_id, "en": self.message_en},
            "notify": list(self.notify),
            "params": self.params,
        }

    as_dict = to_dict

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Notice:
        where = "notice"
        msg = _get(d, "message", Mapping, where)
        return cls(
            _get(d, "code", str, where),
            _get(msg, "id", str, f"{where}.message"),
            _get(msg, "en", str, f"{where}.message"),
            _strs(d.get("notify", ()), f"{where}.notify"),
            _obj(d, "params", where) if "params" in d else EMPTY,
        )


def _notice_dict(notice: Notice, lang: str | None) -> dict[str, Any]:
    d = notice.to_dict()
    if lang is not None:
        d["message"] = notice.message(lang)
    return d


@attrs.frozen
class DefinitionRef:
    """Which definition an instance runs: ``id``, ``version`` and content ``hash``."""

    id: str
    version: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "version": self.version, "hash": self.hash}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DefinitionRef:
        w = "definition"
        return cls(_get(d, "id", str, w), _get(d, "version", str, w), _get(d, "hash", str, w))


def _frozen_sets(sets: Mapping[str, Iterable[str]]) -> Mapping[str, frozenset[str]]:
    if isinstance(sets, FrozenDict):
        return sets
    return FrozenDict({k: frozenset(v) for k, v in sets.items()})


@attrs.frozen
class Instance:
    """A frozen snapshot of one process instance (deeply immutable: ``data`` is a
    :class:`~paketflow._json.FrozenDict`). ``version`` is the number of events recorded
    for the instance."""

    id: str
    definition: str
    definition_version: str
    definition_hash: str
    state: str
    data: Mapping[str, Any] = attrs.field(converter=freeze)
    version: int
    entered_at: dt.datetime
    signatures: tuple[Signature, ...] = ()
    deadlines: tuple[ArmedDeadline, ...] = ()
    flags: frozenset[str] = frozenset()
    sets: Mapping[str, frozenset[str]] = attrs.field(default=EMPTY, converter=_frozen_sets)
    #: The notices of the command that returned this snapshot (``Engine.start``,
    #: ``sign``, ``fire``), so a caller need not re-read the history; empty for a
    #: snapshot loaded, replayed or returned by an idempotent repeat. Not part of the
    #: snapshot's state: not compared, not persisted.
    notices: tuple[Notice, ...] = attrs.field(default=(), eq=False, repr=False)

    @property
    def next_deadline_at(self) -> dt.datetime | None:
        """The earliest time a deadline step of this instance is due."""
        times = [t for d in self.deadlines if (t := d.next_at) is not None]
        return min(times) if times else None

    def to_dict(self) -> dict[str, Any]:
        """The persisted snapshot form (format :data:`SNAPSHOT_FORMAT`)."""
        return {
            "format": SNAPSHOT_FORMAT,
            "id": self.id,
            "definition": {
                "id": self.definition,
                "version": self.definition_version,
                "hash": self.definition_hash,
            },
            "state": self.state,
            "data": self.data,
            "version": self.version,
            "entered_at": self.entered_at.isoformat(),
            "signatures": [
                {
                    "slot": s.slot,
                    "actor": s.actor,
                    "at": s.at.isoformat(),
                    "element": s.element,
                    "name": s.name,
                }
                for s in self.signatures
            ],
            "deadlines": [a.to_dict() for a in self.deadlines],
            "flags": sorted(self.flags),
            "sets": {k: sorted(v) for k, v in sorted(self.sets.items())},
        }

    def as_dict(self, lang: str | None = None) -> dict[str, Any]:
        """Plain JSON for an API answer: :meth:`to_dict` (the inverse is
        :meth:`from_dict`) plus the ``notices`` of the command that returned it, their
        ``message`` in ``lang`` when given (``{"id", "en"}`` otherwise)."""
        d = self.to_dict()
        d["notices"] = [_notice_dict(n, lang) for n in self.notices]
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Instance:
        """Inverse of :meth:`to_dict`; raises :class:`~paketflow.FormatError` for an
        unknown format or a malformed field."""
        w = "snapshot"
        if (
            not isinstance(d, Mapping)
            or type(d.get("format")) is not int
            or d.get("format") != SNAPSHOT_FORMAT
        ):
            fmt = d.get("format") if isinstance(d, Mapping) else d
            raise FormatError(
                f"{w}: format {fmt!r} is not supported (this paketflow reads format "
                f"{SNAPSHOT_FORMAT}); upgrade paketflow or migrate the store"
            )
        ref = DefinitionRef.from_dict(_get(d, "definition", Mapping, w))
        sigs = tuple(
            Signature(
                _get(s, "slot", str, f"{w}.signatures"),
                _get(s, "actor", str, f"{w}.signatures"),
                _time(s.get("at"), f"{w}.signatures.at"),
                s.get("element"),
                s.get("name"),
            )
            for s in _get(d, "signatures", list | tuple, w)
        )
        sets = _get(d, "sets", Mapping, w)
        return cls(
            id=_get(d, "id", str, w),
            definition=ref.id,
            definition_version=ref.version,
            definition_hash=ref.hash,
            state=_get(d, "state", str, w),
            data=_obj(d, "data", w),
            version=_get(d, "version", int, w),
            entered_at=_time(d.get("entered_at"), f"{w}.entered_at"),
            signatures=sigs,
            deadlines=tuple(
                ArmedDeadline.from_dict(a) for a in _get(d, "deadlines", list | tuple, w)
            ),
            flags=frozenset(_strs(d.get("flags", ()), f"{w}.flags")),
            sets={k: frozenset(_strs(v, f"{w}.sets")) for k, v in sets.items()},
        )


@attrs.frozen
class DataOp:
    """One change to instance data: ``set`` (a value at ``path``, creating missing
    objects on the way), ``unset`` (remove it) or ``append`` (to the list at ``path``).
    ``path`` holds the RFC 6901 reference tokens; JSON form
    ``{"op": "set", "path": "/dana/disalurkan", "value": 5000000}``."""

    op: str = attrs.field()
    path: tuple[str, ...]
    value: Any = attrs.field(default=None, converter=freeze)

    @op.validator
    def _known(self, attribute: Any, value: str) -> None:
        if value not in ("set", "unset", "append"):
            raise ArgumentValueError(f"DataOp(op=...) must be set, unset or append, got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"op": self.op, "path": pointer(self.path)}
        if self.op != "unset":
            d["value"] = self.value
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DataOp:
        w = "ops"
        op = _get(d, "op", str, w)
        if op not in ("set", "unset", "append"):
            raise FormatError(f"{w}: unknown operation {op!r} (set, unset or append)")
        try:
            path = tuple(parse_pointer(_get(d, "path", str, w)))
        except Exception as exc:  # jsonpointer's own error type
            raise FormatError(f"{w}: bad path {d.get('path')!r}: {exc}") from None
        if not path:
            raise FormatError(f"{w}: the path of {op!r} must not be empty")
        return cls(op, path, _json(d.get("value"), f"{w}.value"))


_TYPES: dict[str, type[Event]] = {}


@attrs.frozen(kw_only=True)
class Event:
    """Base of every recorded event: ``instance_id``, ``seq`` (1, 2, … gapless),
    ``at`` (when it was decided), ``actor`` (who; the system actor for deadline steps)
    and the ``notices`` it emitted. ``type`` names the subclass."""

    type: ClassVar[str] = ""

    instance_id: str
    seq: int
    at: dt.datetime
    actor: Actor
    notices: tuple[Notice, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.type:
            _TYPES[cls.type] = cls

    def _fields(self) -> dict[str, Any]:  # the type's own fields, JSON
        return {}

    def to_dict(self) -> dict[str, Any]:
        """The JSON form persisted by stores and hashed by audit chains (format
        :data:`EVENT_FORMAT`)."""
        d: dict[str, Any] = {
            "format": EVENT_FORMAT,
            "type": self.type,
            "instance": self.instance_id,
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor": self.actor.to_dict(),
            "notices": [n.to_dict() for n in self.notices],
        }
        d.update(self._fields())
        return d

    def as_dict(self, lang: str | None = None) -> dict[str, Any]:
        """Plain JSON for an API answer: :meth:`to_dict` (the inverse is
        :meth:`from_dict`), with each notice's ``message`` in ``lang`` when given."""
        d = self.to_dict()
        if lang is not None:
            d["notices"] = [_notice_dict(n, lang) for n in self.notices]
        return d

    def canonical(self) -> bytes:
        """RFC 8785 canonical JSON bytes of :meth:`to_dict`."""
        return canonical(self.to_dict())

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> Event:
        """Rebuild an event from :meth:`to_dict`. Raises
        :class:`~paketflow.FormatError` for a format this version cannot read or a
        malformed field."""
        if not isinstance(d, Mapping):
            raise FormatError(f"event: expected an object, got {type(d).__name__}")
        if type(d.get("format")) is not int or d.get("format") != EVENT_FORMAT:
            raise FormatError(
                f"event: format {d.get('format')!r} is not supported (this paketflow reads "
                f"format {EVENT_FORMAT}); upgrade paketflow or migrate the store"
            )
        kind = d.get("type")
        cls = _TYPES.get(kind) if isinstance(kind, str) else None
        if cls is None:
            raise FormatError(
                f"event: unknown type {d.get('type')!r} (one of {', '.join(sorted(_TYPES))})"
            )
        w = f"event {d.get('instance')!r}#{d.get('seq')!r}"
        common = {
            "instance_id": _get(d, "instance", str, w),
            "seq": _get(d, "seq", int, w),
            "at": _time(d.get("at"), f"{w}.at"),
            "actor": Actor.from_dict(_get(d, "actor", Mapping, w)),
            "notices": tuple(Notice.from_dict(n) for n in _get(d, "notices", list | tuple, w)),
        }
        try:
            return cls(**common, **cls._read(d, w))
        except FormatError:
            raise
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise FormatError(f"{w}: malformed {cls.type!r} event ({exc})") from None

    @classmethod
    def _read(cls, d: Mapping[str, Any], w: str) -> dict[str, Any]:
        return {}


def _ops(d: Mapping[str, Any], w: str) -> tuple[DataOp, ...]:
    return tuple(DataOp.from_dict(o) for o in _get(d, "ops", list | tuple, w))


def _arm(d: Mapping[str, Any], w: str) -> tuple[ArmedDeadline, ...]:
    return tuple(ArmedDeadline.from_dict(a) for a in _get(d, "arm", list | tuple, w))


@attrs.frozen(kw_only=True)
class Started(Event):
    """An instance started in ``state`` with ``data``, running ``definition``; the
    actor joins the person sets named in ``record`` (``starter``); ``arm`` are the
    deadlines armed on entry."""

    type: ClassVar[str] = "started"

    definition: DefinitionRef
    state: str
    data: Mapping[str, Any] = attrs.field(converter=freeze)
    arm: tuple[ArmedDeadline, ...] = ()
    record: tuple[str, ...] = ("starter",)

    def _fields(self) -> dict[str, Any]:
        return {
            "definition": self.definition.to_dict(),
            "state": self.state,
            "data": self.data,
            "arm": [a.to_dict() for a in self.arm],
            "record": list(self.record),
        }

    @classmethod
    def _read(cls, d: Mapping[str, Any], w: str) -> dict[str, Any]:
        return {
            "definition": DefinitionRef.from_dict(_get(d, "definition", Mapping, w)),
            "state": _get(d, "state", str, w),
            "data": _obj(d, "data", w),
            "arm": _arm(d, w),
            "record": _strs(d.get("record", ()), f"{w}.record"),
        }


@attrs.frozen(kw_only=True)
class Signed(Event):
    """The actor signed ``slot`` of the current state's signature rule; the actor
    joins the person set ``record`` when the rule names one."""

    type: ClassVar[str] = "signed"

    slot: str
    record: str | None = None

    @property
    def name(self) -> str:
        return self.slot

    def _fields(self) -> dict[str, Any]:
        return {"slot": self.slot, "record": self.record}

    @classmethod
    def _read(cls, d: Mapping[str, Any], w: str) -> dict[str, Any]:
        rec = d.get("record")
        if rec is not None and not isinstance(rec, str):
            raise FormatError(f"{w}: 'record' must be a string or null")
        return {"slot": _get(d, "slot", str, w), "record": rec}


@attrs.frozen(kw_only=True)
class _Move(Event):
    """Fields shared by the events that may change data, flags and state."""

    source: str
    target: str
    entered: bool = False
    ops: tuple[DataOp, ...] = ()
    flags_on: tuple[str, ...] = ()
    flags_off: tuple[str, ...] = ()
    arm: tuple[ArmedDeadline, ...] = ()
    disarm: tuple[str, ...] = ()

    def _move_fields(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "entered": self.entered,
            "ops": [o.to_dict() for o in self.ops],
            "flags_on": list(self.flags_on),
            "flags_off": list(self.flags_off),
            "arm": [a.to_dict() for a in self.arm],
            "disarm": list(self.disarm),
        }

    @classmethod
    def _read_move(cls, d: Mapping[str, Any], w: str) -> dict[str, Any]:
        return {
            "source": _get(d, "source", str, w),
            "target": _get(d, "target", str, w),
            "entered": _get(d, "entered", bool, w),
            "ops": _ops(d, w),
            "flags_on": _strs(d.get("flags_on", ()), f"{w}.flags_on"),
            "flags_off": _strs(d.get("flags_off", ()), f"{w}.flags_off"),
            "arm": _arm(d, w),
            "disarm": _strs(d.get("disarm", ()), f"{w}.disarm"),
        }


@attrs.frozen(kw_only=True)
class Fired(_Move):
    """The actor fired event ``name`` with ``payload`` in state ``source``; the
    process is now in ``target`` (``entered``: the state was entered, or re-entered,
    which resets its signatures and re-arms its deadlines). ``ops`` changed the data;
    ``inputs`` records each guard's outcome; the actor joins the sets in ``record``.
    ``reset_signatures`` clears the visit's signatures without a move."""

    type: ClassVar[str] = "fired"

    name: str
    payload: Mapping[str, Any] = attrs.field(default=EMPTY, converter=freeze)
    inputs: Mapping[str, Any] = attrs.field(default=EMPTY, converter=freeze)
    record: tuple[str, ...] = ()
    reset_signatures: bool = False

    def _fields(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "payload": self.payload,
            "inputs": self.inputs,
            "record": list(self.record),
            "reset_signatures": self.reset_signatures,
            **self._move_fields(),
        }

    @classmethod
    def _read(cls, d: Mapping[str, Any], w: str) -> dict[str, Any]:
        return {
            "name": _get(d, "name", str, w),
            "payload": _obj(d, "payload", w),
            "inputs": _obj(d, "inputs", w),
            "record": _strs(d.get("record", ()), f"{w}.record"),
            "reset_signatures": _get(d, "reset_signatures", bool, w),
            **cls._read_move(d, w),
        }


@attrs.frozen(kw_only=True)
class Escalated(Event):
    """Escalation tier ``step`` of deadline ``deadline`` (due ``due``) fired; it was
    scheduled for ``step_at``. ``flags_on`` are the flags it raised."""

    type: ClassVar[str] = "escalated"

    deadline: str
    step: str
    due: dt.datetime
    step_at: dt.datetime
    flags_on: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.deadline}/{self.step}"

    def _fields(self) -> dict[str, Any]:
        return {
            "deadline": self.deadline,
            "step": self.step,
            "due": self.due.isoformat(),
            "step_at": self.step_at.isoformat(),
            "flags_on": list(self.flags_on),
        }

    @classmethod
    def _read(cls, d: Mapping[str, Any], w: str) -> dict[str, Any]:
        return {
            "deadline": _get(d, "deadline", str, w),
            "step": _get(d, "step", str, w),
            "due": _time(d.get("due"), f"{w}.due"),
            "step_at": _time(d.get("step_at"), f"{w}.step_at"),
            "flags_on": _strs(d.get("flags_on", ()), f"{w}.flags_on"),
        }


@attrs.frozen(kw_only=True)
class TimedOut(_Move):
    """Deadline ``deadline`` (due ``due``) timed out at ``step_at``: its timeout event
    ``name`` moved the process from ``source`` to ``target``."""

    type: ClassVar[str] = "timed_out"

    deadline: str
    name: str
    due: dt.datetime
    step_at: dt.datetime

    def _fields(self) -> dict[str, Any]:
        return {
            "deadline": self.deadline,
            "name": self.name,
            "due": self.due.isoformat(),
            "step_at": self.step_at.isoformat(),
            **self._move_fields(),
        }

    @classmethod
    def _read(cls, d: Mapping[str, Any], w: str) -> dict[str, Any]:
        return {
            "deadline": _get(d, "deadline", str, w),
            "name": _get(d, "name", str, w),
            "due": _time(d.get("due"), f"{w}.due"),
            "step_at": _time(d.get("step_at"), f"{w}.step_at"),
            **cls._read_move(d, w),
        }
