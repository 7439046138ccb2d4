"""The SQLite store: WAL set at creation, synchronous=FULL, the timer index used by
due(), and clear errors for files it cannot open."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

import paketflow
from paketflow._store.sqlite import SQLiteStore


def test_created_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    """A new database file is in WAL mode (persistent); connections use
    synchronous=FULL (2)."""
    store = SQLiteStore(tmp_path / "s.db")
    assert store.journal_mode() == "wal"
    with store._read() as cur:
        assert cur.execute("PRAGMA synchronous").fetchone()[0] == 2
    raw = sqlite3.connect(tmp_path / "s.db")
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    raw.close()


def test_existing_database_keeps_its_journal_mode(tmp_path: Path) -> None:
    """WAL is set only when the store creates the schema: an existing paketflow
    database is not switched on every open."""
    SQLiteStore(tmp_path / "s.db").close()
    raw = sqlite3.connect(tmp_path / "s.db")
    raw.execute("PRAGMA journal_mode = DELETE")
    raw.close()
    assert SQLiteStore(tmp_path / "s.db").journal_mode() == "delete"


def test_due_and_claims_use_the_timer_index(tmp_path: Path) -> None:
    """The due-timer query is answered from the due_us index (cost grows with the
    number due, not with the number of instances)."""
    store = SQLiteStore(tmp_path / "s.db")
    with store._read() as cur:
        plan = cur.execute(
            "EXPLAIN QUERY PLAN SELECT instance, due_us FROM timers WHERE due_us <= 5 "
            "ORDER BY due_us, instance"
        ).fetchall()
    assert any("timers_due" in str(row[-1]) for row in plan), plan


def test_missing_directory_and_garbage_file(tmp_path: Path) -> None:
    """A path in a missing directory, or a file that is not a database, raises
    StoreError naming the store."""
    with pytest.raises(paketflow.StoreError) as err:
        SQLiteStore(tmp_path / "no" / "s.db")
    assert str(err.value) == (
        f"sqlite:///{tmp_path / 'no' / 's.db'}: directory {str(tmp_path / 'no')!r} does not "
        "exist; create it first"
    )
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 100)
    with pytest.raises(paketflow.StoreError, match="cannot open the SQLite store"):
        SQLiteStore(junk)


def test_a_store_does_not_cross_a_fork(tmp_path: Path) -> None:
    """A store object used in a forked child raises StoreError saying to open the
    store after forking (SQLite connections must not cross a fork)."""
    import os

    store = SQLiteStore(tmp_path / "s.db")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report the error text through the pipe
        try:
            store.due(dt.datetime(2012, 1, 1, tzinfo=dt.UTC))
            message = "no error"
        except paketflow.StoreError as exc:
            message = str(exc)
        os.write(write, message.encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    message = os.read(read, 4096).decode()
    assert message == (
        f"sqlite:///{tmp_path / 's.db'}: this store was opened in process {os.getpid()}, "
        "before a fork; open the store in each process after forking (an SQLite connection "
        "must not cross a fork)"
    )
