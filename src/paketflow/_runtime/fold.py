"""The pure fold: applying a recorded event to an instance snapshot.

Both the live engine and :func:`paketflow.replay` build every new snapshot with
:func:`apply_event`, so replaying history yields the live instance by construction.
Nothing here evaluates a rule or reads a clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from paketflow._runtime.model import ArmedDeadline, Event, Instance, Signature

__all__ = ["apply_event", "apply_ops", "fold"]

_MISSING = object()


def _copy(container: Any) -> Any:
    if isinstance(container, Mapping):
        return dict(container)
    if isinstance(container, list | tuple):
        return list(container)
    return {}


def _set_in(root: Any, path: Sequence[Any], op: str, value: Any) -> Any:
    """Return a copy of ``root`` with ``op`` applied at ``path`` (copy-on-write along
    the path only)."""
    new = _copy(root)
    key = path[0]
    if isinstance(new, list):
        key = len(new) if key == "-" else int(key)
        if key < 0:  # JSON Pointer has no negative indices
            raise IndexError(f"list index {key} is out of range")
    if len(path) > 1:
        child = (
            new.get(key) if isinstance(new, dict) else (new[key] if 0 <= key < len(new) else None)
        )
        updated = _set_in(child if child is not None else {}, path[1:], op, value)
        _put(new, key, updated)
        return new
    if op == "unset":
        if isinstance(new, dict):
            new.pop(key, None)
        elif 0 <= key < len(new):
            del new[key]
        return new
    if op == "add":
        old = new.get(key) if isinstance(new, dict) else (new[key] if key < len(new) else None)
        value = (old or 0) + value
    elif op == "append":
        old = new.get(key) if isinstance(new, dict) else (new[key] if key < len(new) else None)
        if old is not None and not isinstance(old, list | tuple):
            raise TypeError(f"'append' needs a list, got {old!r}")
        value = [*(old or ()), value]
    _put(new, key, value)
    return new


def _put(container: Any, key: Any, value: Any) -> None:
    if isinstance(container, dict):
        container[key] = value
    elif key == len(container):
        container.append(value)
    else:
        container[key] = value


def apply_ops(data: Mapping[str, Any], ops: Iterable[Sequence[Any]]) -> Mapping[str, Any]:
    """Apply recorded data operations ``[op, path, value]`` (``op`` is ``set``,
    ``unset``, ``add`` or ``append``) to ``data``."""
    result: Any = data
    for op, path, value in ops:
        result = _set_in(result, path, op, value)
    return dict(result)


def apply_event(
    instance: Instance | None, event: Event, *, data: Mapping[str, Any] | None = None
) -> Instance:
    """The instance after ``event``. ``instance`` is ``None`` for a ``started`` event.

    ``data`` is the engine's shortcut: the data the event's operations produce, when
    it has just computed them. Replay never passes it (the property tests check that
    both ways agree)."""
    d = event.delta
    if instance is None:
        if event.type != "started":
            raise ValueError(f"history of {event.instance_id!r} must begin with 'started'")
        defn = d["definition"]
        instance = Instance(
            id=event.instance_id,
            definition=defn["id"],
            definition_version=defn["version"],
            definition_hash=defn["hash"],
            state=d["state"],
            data=d["data"],
            version=0,
            entered_at=event.at,
        )
    changes: dict[str, Any] = {"version": event.seq}
    if "ops" in d:
        changes["data"] = data if data is not None else apply_ops(instance.data, d["ops"])
    if "state" in d and event.type != "started":
        changes["state"] = d["state"]
    if d.get("entered"):
        changes["entered_at"] = event.at
        changes["signatures"] = ()
    if d.get("reset_signatures"):
        changes["signatures"] = ()
    if "signature" in d:
        s = d["signature"]
        sig = Signature(s["slot"], s["actor"], event.at, s.get("element"), s.get("name"))
        changes["signatures"] = (*changes.get("signatures", instance.signatures), sig)
    if "flags_on" in d or "flags_off" in d:
        flags = (instance.flags | frozenset(d.get("flags_on", ()))) - frozenset(
            d.get("flags_off", ())
        )
        changes["flags"] = flags
    if "sets" in d:
        sets = dict(instance.sets)
        for name, ids in d["sets"].items():
            sets[name] = sets.get(name, frozenset()) | frozenset(ids)
        changes["sets"] = sets
    if "disarm" in d or "arm" in d or "fired" in d:
        changes["deadlines"] = _deadlines(instance.deadlines, d)
    return attrs.evolve(instance, **changes)


def _deadlines(
    current: tuple[ArmedDeadline, ...], d: Mapping[str, Any]
) -> tuple[ArmedDeadline, ...]:
    gone = set(d.get("disarm", ()))
    fired: dict[str, int] = dict(d.get("fired", {}))
    out = [
        attrs.evolve(a, fired=fired[a.id]) if a.id in fired else a
        for a in current
        if a.id not in gone
    ]
    for a in d.get("arm", ()):
        out.append(ArmedDeadline.from_dict(a))
    return tuple(out)


def fold(events: Iterable[Event]) -> Instance:
    """Fold a whole history into the instance it produces."""
    instance: Instance | None = None
    for event in events:
        instance = apply_event(instance, event)
    if instance is None:
        raise ValueError("cannot replay an empty history")
    return instance
