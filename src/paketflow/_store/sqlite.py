"""The SQLite store: the embedded default, one file, many processes on one machine.

stdlib :mod:`sqlite3`. The database is put in WAL mode once, when it is created (the
mode is persistent); every connection uses ``synchronous=FULL`` (a commit is on disk
when ``append`` returns) and a busy timeout; every write is one ``BEGIN IMMEDIATE``
transaction, so writers queue on the database lock instead of failing halfway.
:meth:`SQLiteStore.batch` groups many writes into one transaction (one commit, one
sync to disk), each write still all-or-nothing within it (a savepoint).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from paketflow._errors import ConcurrencyError, StoreError
from paketflow._store._sql import Cursor, SQLStore

__all__ = ["SQLiteStore"]


class SQLiteStore(SQLStore):
    """A store in the SQLite file ``path`` (created, and migrated, on open).

    ``busy_timeout`` is how long (seconds) a writer waits for another process's
    transaction before :class:`~paketflow.ConcurrencyError`. One connection per store
    object, shared by its threads under a lock; open one store per process.
    """

    _lock_clause = ""
    _now_us_sql = "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)"
    _integrity_errors = (sqlite3.IntegrityError,)

    def __init__(self, path: str | Path, *, busy_timeout: float = 30.0) -> None:
        self._init_cache()
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        if not self.path.parent.is_dir():
            raise StoreError(
                f"{self.url}: directory {str(self.path.parent)!r} does not exist; create it first"
            )
        self._lock = threading.RLock()
        self._batching = False  # read and written only by the holder of self._lock
        self._pid = os.getpid()
        try:
            self._conn = sqlite3.connect(
                self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
            # A row edited by hand may hold bytes that are not UTF-8: read them anyway
            # (verify reports the row) instead of failing the whole read.
            self._conn.text_factory = _tolerant_text
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            self._conn.execute("PRAGMA synchronous = FULL")
            if not self._has_schema():
                # WAL is a property of the file: set once, at creation.
                self._conn.execute("PRAGMA journal_mode = WAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.url}: cannot open the SQLite store: {exc}") from None

    def _has_schema(self) -> bool:
        row = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'paketflow_schema'"
        ).fetchone()
        return row is not None

    def _same_process(self) -> None:
        if os.getpid() != self._pid:
            raise StoreError(
                f"{self.url}: this store was opened in process {self._pid}, before a fork; "
                "open the store in each process after forking (an SQLite connection must "
                "not cross a fork)"
            )

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Record every write made in the block (by this thread) in one transaction:
        one commit, one sync to disk, for all of them.

        Each write stays all-or-nothing (a savepoint): a command refused or losing a
        race inside the block leaves the others in it. Nothing of the block is durable,
        or visible to other connections, before the block ends; if the block raises,
        none of it is recorded, so results returned inside it (snapshots, events) hold
        only once it has exited normally. Other threads using this store object wait
        until the block ends; other processes' writers wait for the database lock (the
        busy timeout). Nested blocks join the outermost one."""
        self._same_process()
        with self._lock:
            if self._batching:
                yield
                return
            cur = self._conn.cursor()
            try:
                cur.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:  # busy beyond the timeout
                cur.close()
                raise ConcurrencyError(
                    f"{self.url}: the database stayed locked by another writer ({exc}); retry"
                ) from None
            self._batching = True
            try:
                yield
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            else:
                cur.execute("COMMIT")
            finally:
                self._batching = False
                cur.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[Cursor]:
        self._same_process()
        with self._lock:
            cur = self._conn.cursor()
            if self._batching:  # inside batch(): this write is a savepoint of its transaction
                cur.execute("SAVEPOINT paketflow_write")
                try:
                    yield cur
                except BaseException:
                    cur.execute("ROLLBACK TO paketflow_write")
                    cur.execute("RELEASE paketflow_write")
                    raise
                else:
                    cur.execute("RELEASE paketflow_write")
                finally:
                    cur.close()
                return
            try:
                cur.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:  # busy beyond the timeout
                raise ConcurrencyError(
                    f"{self.url}: the database stayed locked by another writer ({exc}); retry"
                ) from None
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            else:
                cur.execute("COMMIT")
            finally:
                cur.close()

    @contextlib.contextmanager
    def _read(self) -> Iterator[Cursor]:
        self._same_process()
        with self._lock:
            cur = self._conn.cursor()
            try:
                yield cur
            finally:
                cur.close()

    def journal_mode(self) -> str:
        """The database's journal mode (``wal`` for stores this module created)."""
        with self._read() as cur:
            return str(cur.execute("PRAGMA journal_mode").fetchone()[0])

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()


def _tolerant_text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")
