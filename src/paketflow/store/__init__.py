"""Stores keep instances, their histories, idempotency keys and the deadline index.

:class:`Store` is the protocol every backend implements; :class:`MemoryStore` is the
in-process default.
"""

from paketflow.store.base import Store
from paketflow.store.memory import MemoryStore

__all__ = ["MemoryStore", "Store"]
