"""open_store(url): the store chosen by URL scheme, and clear errors for bad URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

import paketflow
from paketflow._store.sqlite import SQLiteStore


def test_memory_url_gives_a_fresh_memory_store() -> None:
    """memory:// opens a new, empty MemoryStore each time."""
    first = paketflow.open_store("memory://")
    assert isinstance(first, paketflow.MemoryStore)
    assert first is not paketflow.open_store("memory://")


def test_sqlite_urls_relative_and_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """sqlite:///name is relative to the working directory, sqlite:////abs absolute."""
    monkeypatch.chdir(tmp_path)
    rel = paketflow.open_store("sqlite:///rel.db")
    assert isinstance(rel, SQLiteStore) and (tmp_path / "rel.db").is_file()
    absolute = paketflow.open_store(f"sqlite:///{tmp_path / 'abs.db'}")
    assert isinstance(absolute, SQLiteStore) and (tmp_path / "abs.db").is_file()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "mysql://x/y",
            "store URL 'mysql://x/y' has an unknown scheme; use memory://, sqlite:///FILE or "
            "postgresql://USER@HOST/DB",
        ),
        (
            "paket.db",
            "store URL 'paket.db' has an unknown scheme; use memory://, sqlite:///FILE or "
            "postgresql://USER@HOST/DB",
        ),
        (
            "sqlite:///",
            "store URL 'sqlite:///' names no file; write sqlite:///paket.db (relative) or "
            "sqlite:////var/lib/paket.db (absolute)",
        ),
    ],
)
def test_bad_urls_are_refused_with_the_fix(url: str, message: str) -> None:
    """A URL paketflow cannot open raises StoreError naming it and the accepted forms."""
    with pytest.raises(paketflow.StoreError) as err:
        paketflow.open_store(url)
    assert str(err.value) == message


def test_non_string_url_is_refused() -> None:
    """A URL that is not a string raises StoreError showing the value."""
    with pytest.raises(paketflow.StoreError) as err:
        paketflow.open_store(42)  # type: ignore[arg-type]
    assert str(err.value) == "store URL must be a string, got 42; e.g. 'sqlite:///paket.db'"
