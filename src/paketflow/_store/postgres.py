"""The PostgreSQL store: many application processes (and machines) on one database.

psycopg 3 with a :class:`psycopg_pool.ConnectionPool` (install ``paketflow[postgres]``).
Every write is one transaction at READ COMMITTED; the conditional ``UPDATE`` on the
expected version and the unique keys (``(instance, seq)``, idempotency key) make a
losing writer fail with :class:`~paketflow.ConcurrencyError`; due timers are claimed
with ``FOR UPDATE SKIP LOCKED`` so workers never wait for each other's claims.
:meth:`PostgresStore.batch` groups a thread's writes into one transaction (one commit).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from paketflow._errors import StoreError
from paketflow._store._sql import Cursor, SQLStore

__all__ = ["PostgresStore"]

# An arbitrary constant: the advisory lock that serialises concurrent migrations.
_MIGRATION_LOCK = 0x70616B6574


def _driver() -> Any:
    try:
        import psycopg
        import psycopg_pool
    except ImportError:
        raise StoreError(
            "postgresql:// stores need psycopg 3 and psycopg_pool: "
            "pip install 'paketflow[postgres]'"
        ) from None
    return psycopg, psycopg_pool


class PostgresStore(SQLStore):
    """A store in the PostgreSQL database at ``url`` (a libpq URL,
    ``postgresql://user:password@host:port/dbname``), migrated on open.

    ``max_connections`` bounds the pool of this store object (one pool per process).
    """

    _lock_clause = "FOR UPDATE SKIP LOCKED"
    _now_us_sql = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT)"

    def __init__(self, url: str, *, max_connections: int = 8) -> None:
        self._init_cache()
        psycopg, psycopg_pool = _driver()
        self.url = _redact(url)
        self._integrity_errors = (psycopg.errors.UniqueViolation,)
        self._psycopg = psycopg
        self._batch = threading.local()  # .conn: this thread's batch connection
        self._pool_timeout = psycopg_pool.PoolTimeout
        try:  # fail fast, with the server's own words, when it cannot be reached
            psycopg.connect(url, connect_timeout=10).close()
        except psycopg.Error as exc:
            raise StoreError(
                f"{self.url}: cannot open the PostgreSQL store: {str(exc).strip()}"
            ) from None
        try:
            self._pool = psycopg_pool.ConnectionPool(
                url,
                min_size=1,
                max_size=max_connections,
                kwargs={"autocommit": True},
                # After a server restart pooled connections are dead: test each one
                # before handing it out (one round trip) instead of failing a command.
                check=psycopg_pool.ConnectionPool.check_connection,
                open=True,
                timeout=30,
            )
            self._pool.wait(timeout=30)
            self._migrate()
        except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
            with contextlib.suppress(Exception):
                self._pool.close()
            raise StoreError(f"{self.url}: cannot open the PostgreSQL store: {exc}") from None

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s")

    def _lock_schema(self, cur: Cursor) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Record every write this thread makes in the block in one transaction on one
        pooled connection: one commit for all of them.

        Each write stays all-or-nothing (a savepoint): a command refused or losing a
        race inside the block leaves the others in it. Nothing of the block is durable,
        or visible to other connections, before the block ends; if the block raises,
        none of it is recorded, so results returned inside it hold only once it has
        exited normally. Rows the block writes stay locked until it ends (keep blocks
        short). Other threads keep their own connections; nested blocks join the
        outermost one."""
        if getattr(self._batch, "conn", None) is not None:
            yield
            return
        with self._lost(), self._pool.connection() as conn, conn.transaction():
            self._batch.conn = conn
            try:
                yield
            finally:
                self._batch.conn = None

    @contextlib.contextmanager
    def _write(self) -> Iterator[Cursor]:
        batch = getattr(self._batch, "conn", None)
        if batch is not None:  # inside batch(): a savepoint of its transaction
            with self._lost(), batch.transaction(), batch.cursor() as cur:
                yield cur
            return
        with (
            self._lost(),
            self._pool.connection() as conn,
            conn.transaction(),
            conn.cursor() as cur,
        ):
            yield cur

    @contextlib.contextmanager
    def _read(self) -> Iterator[Cursor]:
        batch = getattr(self._batch, "conn", None)
        if batch is not None:  # inside batch(): read what the block wrote
            with self._lost(), batch.cursor() as cur:
                yield cur
            return
        with self._lost(), self._pool.connection() as conn, conn.cursor() as cur:
            yield cur

    @contextlib.contextmanager
    def _lost(self) -> Iterator[None]:
        """Turn a lost server or connection into :class:`StoreError` (a write in
        flight may or may not have committed: resend it with its idempotency key)."""
        try:
            yield
        except (
            self._psycopg.OperationalError,
            self._psycopg.InterfaceError,
            self._pool_timeout,
        ) as exc:
            raise StoreError(
                f"{self.url}: the database connection failed ({str(exc).strip()}); a command "
                "in flight may or may not be recorded: resend it with the same idempotency key"
            ) from None

    def close(self) -> None:
        """Close every pooled connection."""
        self._pool.close()


def _redact(url: str) -> str:
    """``url`` without its password (for messages)."""
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not at or ":" not in creds:
        return url
    return f"{scheme}{sep}{creds.split(':', 1)[0]}:***@{host}"
