"""The in-memory store: dictionaries and a heap of deadline times, behind one lock."""

from __future__ import annotations

import datetime as dt
import heapq
import threading
from collections.abc import Sequence

from paketflow._errors import ConcurrencyError, DuplicateInstance, HistoryError, UnknownInstance
from paketflow._events import Event, Instance

__all__ = ["MemoryStore"]


class MemoryStore:
    """Keeps everything in this process. Not shared between processes; not durable.

    Thread-safe: every method runs under one lock, and :meth:`append` checks the
    expected version and the idempotency key and records the events, the snapshot and
    the key together (all or nothing).

    The deadline index is a heap of ``(time, instance id)`` with lazy deletion, so
    :meth:`due` costs O(k log n) for k due instances, whatever n is.
    """

    def __init__(self) -> None:
        self._instances: dict[str, Instance] = {}
        self._events: dict[str, list[Event]] = {}
        self._keys: dict[str, tuple[str, str, int]] = {}
        self._heap: list[tuple[dt.datetime, str]] = []
        self._definitions: dict[str, str] = {}
        self._lock = threading.RLock()

    def save_definition(self, definition_hash: str, body: str) -> None:
        """Keep the resolved document ``body`` of ``definition_hash`` (first one wins)."""
        with self._lock:
            self._definitions.setdefault(definition_hash, body)

    def definition_body(self, definition_hash: str) -> str | None:
        """The resolved document kept for ``definition_hash``, or ``None``."""
        with self._lock:
            return self._definitions.get(definition_hash)

    def load(self, instance_id: str) -> Instance:
        with self._lock:
            try:
                return self._instances[instance_id]
            except (KeyError, TypeError):
                raise UnknownInstance(instance_id) from None

    def append(
        self,
        instance: Instance,
        events: Sequence[Event],
        *,
        expected_version: int,
        idempotency: tuple[str, str] | None = None,
    ) -> None:
        with self._lock:
            self._append(instance, events, expected_version, idempotency)

    def _append(
        self,
        instance: Instance,
        events: Sequence[Event],
        expected_version: int,
        idempotency: tuple[str, str] | None,
    ) -> None:
        current = self._instances.get(instance.id)
        if expected_version == 0 and current is not None:
            raise DuplicateInstance(
                f"instance {instance.id!r} already exists; choose another instance_id"
            )
        if current is not None and current.version != expected_version:
            raise ConcurrencyError(
                f"instance {instance.id!r} is at version {current.version}, expected "
                f"{expected_version}; reload it and retry the command"
            )
        seq = expected_version
        for event in events:
            seq += 1
            if event.seq != seq or event.instance_id != instance.id:
                seq = -1
                break
        if not events or seq != instance.version:
            raise HistoryError(
                f"events of {instance.id!r} must continue its history gaplessly from "
                f"version {expected_version} to the snapshot's version {instance.version} "
                "(at least one event); the store is unchanged"
            )
        if idempotency is not None and idempotency[0] in self._keys:
            raise ConcurrencyError(
                f"idempotency key {idempotency[0]!r} was recorded by another writer meanwhile; "
                "retry the command (it will return that writer's result)"
            )
        self._instances[instance.id] = instance
        self._events.setdefault(instance.id, []).extend(events)
        if idempotency is not None:
            self._keys[idempotency[0]] = (instance.id, idempotency[1], instance.version)
        nxt = instance.next_deadline_at
        if nxt is not None and (current is None or current.next_deadline_at != nxt):
            heapq.heappush(self._heap, (nxt, instance.id))

    def history(self, instance_id: str) -> list[Event]:
        with self._lock:
            try:
                return list(self._events[instance_id])
            except (KeyError, TypeError):
                raise UnknownInstance(instance_id) from None

    def idempotent(self, key: str) -> tuple[str, str, int] | None:
        with self._lock:
            return self._keys.get(key)

    def due(self, now: dt.datetime) -> list[str]:
        with self._lock:
            return self._due(now)

    def _due(self, now: dt.datetime) -> list[str]:
        out: list[str] = []
        seen: set[str] = set()
        heap = self._heap
        while heap and heap[0][0] <= now:
            when, iid = heapq.heappop(heap)
            inst = self._instances.get(iid)
            if inst is None or iid in seen or inst.next_deadline_at != when:
                continue  # stale entry: the instance moved on
            seen.add(iid)
            out.append(iid)
        for iid in out:  # still due until the instance moves on: keep it indexed
            nxt = self._instances[iid].next_deadline_at
            if nxt is not None:
                heapq.heappush(heap, (nxt, iid))
        return out

    def __len__(self) -> int:
        return len(self._instances)
