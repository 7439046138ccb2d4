"""The one adapter between runtime records and what durable stores persist.

Every durable store (SQLite, PostgreSQL) and the audit chain serialise through these
functions only, so a change of the record layer touches this file alone. Nothing is
pickled: events and snapshots are JSON documents with a format number.

- :func:`event_to_dict` / :func:`event_from_dict`: the event format
  (:data:`EVENT_FORMAT`), one JSON object per event.
- :func:`snapshot_to_dict` / :func:`snapshot_from_dict`: the snapshot format
  (:data:`SNAPSHOT_FORMAT`), one JSON object per instance.
- :func:`canonical`: RFC 8785 canonical JSON bytes, what hashes are computed over.
- :func:`due_us`: a deadline time as integer microseconds since the Unix epoch (UTC),
  the sortable form stored in the timer index.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import rfc8785

from paketflow._errors import StoreError
from paketflow._runtime.model import EVENT_FORMAT, ArmedDeadline, Event, Instance, Signature

__all__ = [
    "EVENT_FORMAT",
    "SNAPSHOT_FORMAT",
    "Event",
    "Instance",
    "canonical",
    "due_us",
    "event_from_dict",
    "event_to_dict",
    "snapshot_from_dict",
    "snapshot_to_dict",
    "timer_rows",
]

#: Version of the persisted snapshot format. Bump with a documented migration.
SNAPSHOT_FORMAT = 1

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def canonical(value: Any) -> bytes:
    """RFC 8785 canonical JSON bytes of ``value`` (a JSON value)."""
    return rfc8785.dumps(value)


def due_us(when: dt.datetime) -> int:
    """``when`` as whole microseconds since 1970-01-01T00:00Z (sortable across
    offsets)."""
    return (when - _EPOCH) // dt.timedelta(microseconds=1)


def event_to_dict(event: Event) -> dict[str, Any]:
    """The persisted JSON form of ``event``."""
    return event.as_dict()


def event_from_dict(d: Mapping[str, Any]) -> Event:
    """Rebuild an event from :func:`event_to_dict`; a format this version cannot read
    raises :class:`~paketflow.StoreError`."""
    try:
        return Event.from_dict(d)
    except (ValueError, KeyError, TypeError) as exc:
        raise StoreError(
            f"stored event {d.get('instance')!r} #{d.get('seq')!r} cannot be read: {exc}"
        ) from None


def snapshot_to_dict(instance: Instance) -> dict[str, Any]:
    """The persisted JSON form of an instance snapshot (format
    :data:`SNAPSHOT_FORMAT`)."""
    return {
        "format": SNAPSHOT_FORMAT,
        "id": instance.id,
        "definition": {
            "id": instance.definition,
            "version": instance.definition_version,
            "hash": instance.definition_hash,
        },
        "state": instance.state,
        "data": instance.data,
        "version": instance.version,
        "entered_at": instance.entered_at.isoformat(),
        "signatures": [
            {
                "slot": s.slot,
                "actor": s.actor,
                "at": s.at.isoformat(),
                "element": s.element,
                "name": s.name,
            }
            for s in instance.signatures
        ],
        "deadlines": [a.as_dict() for a in instance.deadlines],
        "flags": sorted(instance.flags),
        "sets": {name: sorted(ids) for name, ids in sorted(instance.sets.items())},
    }


def snapshot_from_dict(d: Mapping[str, Any]) -> Instance:
    """Rebuild a snapshot from :func:`snapshot_to_dict`; a format this version cannot
    read raises :class:`~paketflow.StoreError`."""
    if d.get("format") != SNAPSHOT_FORMAT:
        raise StoreError(
            f"stored snapshot {d.get('id')!r} has format {d.get('format')!r}; this paketflow "
            f"reads format {SNAPSHOT_FORMAT}: upgrade paketflow or run 'paketflow store migrate'"
        )
    defn = d["definition"]
    return Instance(
        id=d["id"],
        definition=defn["id"],
        definition_version=defn["version"],
        definition_hash=defn["hash"],
        state=d["state"],
        data=d["data"],
        version=int(d["version"]),
        entered_at=dt.datetime.fromisoformat(d["entered_at"]),
        signatures=tuple(
            Signature(
                s["slot"], s["actor"], dt.datetime.fromisoformat(s["at"]), s["element"], s["name"]
            )
            for s in d["signatures"]
        ),
        deadlines=tuple(ArmedDeadline.from_dict(a) for a in d["deadlines"]),
        flags=frozenset(d["flags"]),
        sets={name: frozenset(ids) for name, ids in d["sets"].items()},
    )


def timer_rows(instance: Instance) -> list[tuple[str, int, int]]:
    """``(deadline id, step index, due time in µs)`` of each armed deadline's next
    step: the rows of the timer index for ``instance``."""
    rows: list[tuple[str, int, int]] = []
    for armed in instance.deadlines:
        nxt = armed.next_at
        if nxt is not None:
            rows.append((armed.id, armed.fired, due_us(nxt)))
    return rows
