"""The pure fold: applying a recorded event to an instance snapshot.

Both the live engine and :func:`paketflow.replay` build every new snapshot with
:func:`apply_event`, so replaying history yields the live instance by construction.
Nothing here evaluates a rule or reads a clock. A history that cannot have been
recorded (no ``started`` first, a sequence gap, another instance's event, a move from
a state the instance is not in) raises :class:`~paketflow.HistoryError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from paketflow._errors import HistoryError
from paketflow._json import FrozenDict, FrozenList, freeze
from paketflow._runtime.model import (
    DataOp,
    Escalated,
    Event,
    Fired,
    Instance,
    Signature,
    Signed,
    Started,
    TimedOut,
)

__all__ = ["apply_event", "apply_ops", "fold"]


def _copy(container: Any) -> Any:
    """A frozen shallow copy to fill in (through the unbound ``dict``/``list``
    methods: the copy is new, nobody else holds it yet)."""
    if isinstance(container, Mapping):
        return FrozenDict(container)
    if isinstance(container, list | tuple):
        return FrozenList(container)
    return FrozenDict()


def _index(container: list[Any], token: str | int, *, append: bool = False) -> int:
    if token == "-":
        return len(container)
    if isinstance(token, int):
        key = token
    elif token.isdigit() and (token == "0" or not token.startswith("0")):
        key = int(token)
    else:
        raise IndexError(f"{token!r} is not a list index")
    if key < 0 or key > len(container) or (key == len(container) and not append):
        raise IndexError(f"list index {key} is out of range")
    return key


def _set_in(root: Any, path: Sequence[Any], op: str, value: Any) -> Any:
    """Return a frozen copy of ``root`` with ``op`` applied at ``path`` (copy-on-write
    along the path only)."""
    new = _copy(root)
    key = path[0]
    is_dict = isinstance(new, dict)
    if not is_dict:
        if op == "unset" and len(path) == 1 and _absent(new, key):
            return new  # like a missing object member: nothing to remove
        key = _index(new, key, append=len(path) == 1 and op == "set")
    if len(path) > 1:
        child = new.get(key) if is_dict else (new[key] if key < len(new) else None)
        _put(new, key, _set_in(child if child is not None else {}, path[1:], op, value))
    elif op == "unset":
        if is_dict:
            if key in new:
                dict.__delitem__(new, key)
        elif key < len(new):
            list.__delitem__(new, key)
    else:
        if op == "append":
            old = new.get(key) if is_dict else (new[key] if key < len(new) else None)
            if old is not None and not isinstance(old, list | tuple):
                raise TypeError(f"'append' needs a list, got {old!r}")
            value = FrozenList([*(old or ()), value])
        _put(new, key, value)
    return new


def _absent(container: list[Any], token: Any) -> bool:
    return isinstance(token, str) and token.isdigit() and int(token) >= len(container)


def _put(container: Any, key: Any, value: Any) -> None:
    if isinstance(container, dict):
        dict.__setitem__(container, key, value)
    elif key == len(container):
        list.append(container, value)
    else:
        list.__setitem__(container, key, value)


def apply_ops(data: Mapping[str, Any], ops: Iterable[DataOp]) -> Mapping[str, Any]:
    """Apply recorded data operations to ``data`` (a new frozen mapping; ``data`` is
    not changed)."""
    result: Any = data
    for op in ops:
        result = _set_in(result, op.path, op.op, freeze(op.value))
    return result if isinstance(result, FrozenDict) else FrozenDict(result)


def apply_event(
    instance: Instance | None, event: Event, *, data: Mapping[str, Any] | None = None
) -> Instance:
    """The instance after ``event``. ``instance`` is ``None`` for a ``started`` event.

    ``data`` is the engine's shortcut: the data the event's operations produce, when
    it has just computed them. Replay never passes it (the property tests check that
    both ways agree)."""
    if instance is None:
        if not isinstance(event, Started) or event.seq != 1:
            raise HistoryError(
                f"history of {event.instance_id!r} must begin with a 'started' event "
                f"(seq 1), got {event.type!r} (seq {event.seq})"
            )
        ref = event.definition
        return Instance(
            id=event.instance_id,
            definition=ref.id,
            definition_version=ref.version,
            definition_hash=ref.hash,
            state=event.state,
            data=event.data,
            version=1,
            entered_at=event.at,
            deadlines=event.arm,
            sets={name: frozenset((event.actor.id,)) for name in event.record},
        )
    if event.instance_id != instance.id or event.seq != instance.version + 1:
        raise HistoryError(
            f"event {event.instance_id!r}#{event.seq} cannot follow {instance.id!r} at "
            f"version {instance.version} (expected {instance.id!r}#{instance.version + 1})"
        )
    changes: dict[str, Any] = {"version": event.seq}
    if isinstance(event, Signed):
        a = event.actor
        sig = Signature(event.slot, a.id, event.at, a.element, a.name)
        changes["signatures"] = (*instance.signatures, sig)
        if event.record:
            changes["sets"] = _add_to_sets(instance, (event.record,), a.id)
        return attrs.evolve(instance, **changes)
    if isinstance(event, Escalated):
        changes["deadlines"] = tuple(
            attrs.evolve(a, fired=a.fired + 1) if a.id == event.deadline else a
            for a in instance.deadlines
        )
        if event.flags_on:
            changes["flags"] = instance.flags | frozenset(event.flags_on)
        return attrs.evolve(instance, **changes)
    if not isinstance(event, Fired | TimedOut):
        raise HistoryError(f"event {event.instance_id!r}#{event.seq}: a second 'started'")
    if event.source != instance.state:
        raise HistoryError(
            f"event {event.instance_id!r}#{event.seq} moves from {event.source!r} but the "
            f"instance is in {instance.state!r}"
        )
    if event.ops:
        changes["data"] = data if data is not None else apply_ops(instance.data, event.ops)
    if event.entered:
        changes["state"] = event.target
        changes["entered_at"] = event.at
        changes["signatures"] = ()
    elif isinstance(event, Fired) and event.reset_signatures:
        changes["signatures"] = ()
    if event.flags_on or event.flags_off:
        changes["flags"] = (instance.flags | frozenset(event.flags_on)) - frozenset(event.flags_off)
    if isinstance(event, Fired) and event.record:
        changes["sets"] = _add_to_sets(instance, event.record, event.actor.id)
    if event.disarm or event.arm:
        gone = frozenset(event.disarm)
        changes["deadlines"] = (
            *(a for a in instance.deadlines if a.id not in gone),
            *event.arm,
        )
    return attrs.evolve(instance, **changes)


def _add_to_sets(
    instance: Instance, names: Iterable[str], person: str
) -> Mapping[str, frozenset[str]]:
    sets = dict(instance.sets)
    for name in names:
        sets[name] = sets.get(name, frozenset()) | {person}
    return FrozenDict(sets)


def fold(events: Iterable[Event]) -> Instance:
    """Fold a whole history into the instance it produces."""
    instance: Instance | None = None
    for event in events:
        instance = apply_event(instance, event)
    if instance is None:
        raise HistoryError("cannot replay an empty history")
    return instance
