"""``open_store(url)``: a store chosen by URL."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from paketflow._errors import StoreError
from paketflow._store.base import Store
from paketflow._store.memory import MemoryStore

__all__ = ["open_store"]


def open_store(url: str) -> Store:
    """The store at ``url``, created and migrated to the current schema if needed.

    - ``memory://``: a new :class:`~paketflow.MemoryStore` (this process only);
    - ``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db``: an SQLite file;
    - ``postgresql://user:password@host:port/dbname`` (or ``postgres://``): a
      PostgreSQL database (needs ``paketflow[postgres]``).

    Raises :class:`~paketflow.StoreError` for any other URL or a store that cannot be
    opened.
    """
    if not isinstance(url, str):
        raise StoreError(f"store URL must be a string, got {url!r}; e.g. 'sqlite:///paket.db'")
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme == "memory":
        return MemoryStore()
    if scheme == "sqlite":
        from paketflow._store.sqlite import SQLiteStore

        path = unquote(urlsplit(url).path)
        path = path[1:] if path.startswith("/") else path
        if not path:
            raise StoreError(
                f"store URL {url!r} names no file; write sqlite:///paket.db (relative) or "
                "sqlite:////var/lib/paket.db (absolute)"
            )
        return SQLiteStore(path)
    if scheme in ("postgresql", "postgres"):
        from paketflow._store.postgres import PostgresStore

        return PostgresStore(url)
    raise StoreError(
        f"store URL {url!r} has an unknown scheme; use memory://, sqlite:///FILE or "
        "postgresql://USER@HOST/DB"
    )
