"""The PostgreSQL store: claims skip rows other workers hold, concurrent opens
migrate once, clear errors without passwords, the missing-driver hint."""

from __future__ import annotations

import sys
import threading
from typing import Any

import psycopg
import pytest

import paketflow
from conftest import at, start_mini
from paketflow import Engine
from paketflow._store._sql import SCHEMA_VERSION
from paketflow._store.postgres import PostgresStore, _redact


def test_claims_skip_locked_rows(pg_url: str, mini_doc: dict[str, Any]) -> None:
    """A timer row locked by another transaction is skipped, not waited for: the
    claim returns the other due instances at once."""
    store = PostgresStore(pg_url)
    engine = Engine([paketflow.load_definition(mini_doc)], store=store)
    for iid in ("a", "b", "c"):
        start_mini(engine, iid)
    later = at("2012-04-30")
    with psycopg.connect(pg_url) as other:
        other.execute("SELECT 1 FROM timers WHERE instance = 'a' FOR UPDATE")
        assert store.claim_due(later) == ["b", "c"]
    assert store.claim_due(later) == ["a"]


def test_concurrent_opens_migrate_once(pg_url: str) -> None:
    """Four stores opened at the same moment on an empty database: all succeed and
    each migration is applied once (an advisory lock serialises them)."""
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            PostgresStore(pg_url).close()
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT version FROM paketflow_schema ORDER BY version").fetchall()
    assert [r[0] for r in rows] == list(range(1, SCHEMA_VERSION + 1))


def test_unreachable_server_names_the_store_without_password() -> None:
    """A server that does not answer raises StoreError at once; the password is not
    shown."""
    with pytest.raises(paketflow.StoreError) as err:
        paketflow.open_store("postgresql://u:secret@127.0.0.1:1/db")
    text = str(err.value)
    assert text.startswith("postgresql://u:***@127.0.0.1:1/db: cannot open the PostgreSQL store")
    assert "secret" not in text


def test_redact() -> None:
    """Only the password of a URL is hidden."""
    assert _redact("postgresql://u:pw@h:5432/d") == "postgresql://u:***@h:5432/d"
    assert _redact("postgresql://u@h/d") == "postgresql://u@h/d"
    assert _redact("postgresql:///d") == "postgresql:///d"


def test_missing_driver_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without psycopg installed, a postgresql:// URL says which extra to install."""
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(paketflow.StoreError) as err:
        paketflow.open_store("postgresql://u@h/d")
    assert str(err.value) == (
        "postgresql:// stores need psycopg 3 and psycopg_pool: pip install 'paketflow[postgres]'"
    )
