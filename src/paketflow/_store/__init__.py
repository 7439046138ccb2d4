"""Stores keep instances, their histories, idempotency keys and the deadline index.

:class:`Store` is the protocol every backend implements; :class:`MemoryStore` is the
in-process default.
"""

from paketflow._store.base import Store
from paketflow._store.memory import MemoryStore

__all__ = ["MemoryStore", "Store"]
