"""The store protocol."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from paketflow._events import Event, Instance

__all__ = ["Store"]


class Store(Protocol):
    """What the engine needs from persistence.

    ``append`` is one transaction: the events, the new snapshot, the idempotency key
    and the deadline index commit together, or not at all. It raises
    :class:`~paketflow.ConcurrencyError` when the stored version is not
    ``expected_version`` or the idempotency key was recorded meanwhile, and
    :class:`~paketflow.DuplicateInstance` when ``expected_version`` is 0 and the
    instance exists. Every method must be safe to call from several threads.

    A store imports only the records (``paketflow._events``), the JSON utilities and
    the errors: it never decides anything.
    """

    def load(self, instance_id: str) -> Instance:
        """The latest snapshot; raises :class:`~paketflow._errors.UnknownInstance`."""
        ...

    def append(
        self,
        instance: Instance,
        events: Sequence[Event],
        *,
        expected_version: int,
        idempotency: tuple[str, str] | None = None,
    ) -> None:
        """Record ``events`` and the resulting ``instance``; ``idempotency`` is
        ``(key, fingerprint)``."""
        ...

    def history(self, instance_id: str) -> list[Event]:
        """Every event of the instance, in order."""
        ...

    def idempotent(self, key: str) -> tuple[str, str, int] | None:
        """``(instance_id, fingerprint, version)`` recorded under ``key``, if any."""
        ...

    def due(self, now: dt.datetime) -> list[str]:
        """Ids of instances with a deadline step due at or before ``now``, earliest
        first."""
        ...
