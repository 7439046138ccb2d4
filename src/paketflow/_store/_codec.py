"""The one adapter between runtime records and what durable stores persist.

Every durable store (SQLite, PostgreSQL) and the audit chain serialise through these
functions only, so a change of the record layer touches this file alone. Nothing is
pickled: events and snapshots are JSON documents with a format number.

- :func:`event_to_dict` / :func:`event_from_dict`: the event format
  (:data:`EVENT_FORMAT`), one JSON object per event.
- :func:`snapshot_to_dict` / :func:`snapshot_from_dict`: the snapshot format
  (:data:`SNAPSHOT_FORMAT`), one JSON object per instance; :func:`snapshot_text` its
  stored text (sorted keys, compact; not RFC 8785: a snapshot is a cache of the fold,
  compared by value, never hashed).
- :func:`canonical`: RFC 8785 canonical JSON bytes, what hashes are computed over.
- :func:`due_us`: a deadline time as integer microseconds since the Unix epoch (UTC),
  the sortable form stored in the timer index.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from paketflow._errors import FormatError, StoreError
from paketflow._events import EVENT_FORMAT, SNAPSHOT_FORMAT, Event, Instance
from paketflow._json import canonical

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
    "snapshot_text",
    "snapshot_to_dict",
    "timer_rows",
]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def due_us(when: dt.datetime) -> int:
    """``when`` as whole microseconds since 1970-01-01T00:00Z (sortable across
    offsets)."""
    return (when - _EPOCH) // dt.timedelta(microseconds=1)


def event_to_dict(event: Event) -> dict[str, Any]:
    """The persisted JSON form of ``event`` (:meth:`paketflow.Event.to_dict`)."""
    return event.to_dict()


def event_from_dict(d: Mapping[str, Any]) -> Event:
    """Rebuild an event from :func:`event_to_dict`; a format this version cannot read
    (or a malformed record) raises :class:`~paketflow.StoreError`."""
    try:
        return Event.from_dict(d)
    except FormatError as exc:
        where = f"{d.get('instance')!r} #{d.get('seq')!r}" if isinstance(d, Mapping) else "?"
        raise StoreError(f"stored event {where} cannot be read: {exc}") from None


def snapshot_to_dict(instance: Instance) -> dict[str, Any]:
    """The persisted JSON form of an instance snapshot
    (:meth:`paketflow.Instance.to_dict`, format :data:`SNAPSHOT_FORMAT`)."""
    return instance.to_dict()


def snapshot_text(instance: Instance) -> str:
    """The stored text of a snapshot: :func:`snapshot_to_dict` as compact JSON with
    sorted keys (the standard library's encoder: RFC 8785 is kept for what is hashed,
    the event bodies, and costs five times as much on a PAKET snapshot)."""
    return json.dumps(
        snapshot_to_dict(instance),
        ensure_ascii=False,
        allow_nan=False,
        sort_keys=True,
        separators=(",", ":"),
    )


def snapshot_from_dict(d: Mapping[str, Any]) -> Instance:
    """Rebuild a snapshot from :func:`snapshot_to_dict`; a format this version cannot
    read raises :class:`~paketflow.StoreError`."""
    try:
        return Instance.from_dict(d)
    except FormatError as exc:
        where = repr(d.get("id")) if isinstance(d, Mapping) else "?"
        raise StoreError(
            f"stored snapshot {where} cannot be read: {exc} (upgrade paketflow or run "
            "'paketflow store migrate')"
        ) from None


def timer_rows(instance: Instance) -> list[tuple[str, int, int]]:
    """``(deadline id, step index, due time in µs)`` of each armed deadline's next
    step: the rows of the timer index for ``instance``."""
    rows: list[tuple[str, int, int]] = []
    for armed in instance.deadlines:
        nxt = armed.next_at
        if nxt is not None:
            rows.append((armed.id, armed.fired, due_us(nxt)))
    return rows
