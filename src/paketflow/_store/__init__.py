"""Stores keep instances, their histories, idempotency keys and the deadline index.

:class:`Store` is the protocol every backend implements; :class:`MemoryStore` is the
in-process default; :func:`open_store` opens
SQLite and PostgreSQL stores by URL.
"""

from paketflow._store._open import open_store
from paketflow._store._retry import retry_on_conflict
from paketflow._store.base import Store
from paketflow._store.memory import MemoryStore

__all__ = ["MemoryStore", "Store", "open_store", "retry_on_conflict"]
