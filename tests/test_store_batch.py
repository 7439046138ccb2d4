"""``batch()`` of the durable stores (SQLite, PostgreSQL): the writes of a block commit
together, each stays all-or-nothing, nothing is visible before the block ends, a raising
block records nothing, and the audit chain verifies afterwards."""

from __future__ import annotations

from typing import Any

import pytest

import paketflow
from conftest import at, start_mini
from paketflow import Actor, Engine

HEAD = Actor("hadi", {"HEAD"}, None, "Hadi")
MEMBER_A = Actor("ani", {"MEMBER"}, "a", "Ani")


@pytest.fixture
def url(store_url: str) -> str:
    """A fresh SQLite or PostgreSQL store URL (conftest's ``store_url``)."""
    return store_url


def _engine(url: str, mini_doc: dict[str, Any]) -> Engine:
    return Engine([paketflow.load_definition(mini_doc)], store=paketflow.open_store(url))


def test_a_batch_commits_its_writes_together(url: str, mini_doc: dict[str, Any]) -> None:
    """Inside the block the writer reads its own writes and another store object sees
    none of them; after the block every instance and event is there and verifies."""
    engine = _engine(url, mini_doc)
    other = paketflow.open_store(url)
    with engine.store.batch():  # type: ignore[attr-defined]
        for iid in ("a", "b", "c"):
            start_mini(engine, iid)
            engine.sign(iid, actor=MEMBER_A, at=at("2012-03-06"))
        assert engine.get("b").version == 2
        assert len(other) == 0  # type: ignore[arg-type]
    assert sorted(other.instance_ids()) == ["a", "b", "c"]  # type: ignore[attr-defined]
    assert [e.type for e in other.history("c")] == ["started", "signed"]
    assert paketflow.verify(other).ok


def test_a_raising_block_records_nothing(url: str, mini_doc: dict[str, Any]) -> None:
    """An exception leaving the block rolls back every write made in it, and the store
    keeps working afterwards."""
    engine = _engine(url, mini_doc)
    start_mini(engine, "kept")
    with pytest.raises(KeyError), engine.store.batch():  # type: ignore[attr-defined]
        start_mini(engine, "lost")
        engine.sign("kept", actor=MEMBER_A, at=at("2012-03-06"))
        raise KeyError("host failure")
    assert engine.store.instance_ids() == ["kept"]  # type: ignore[attr-defined]
    assert engine.get("kept").version == 1
    engine.sign("kept", actor=MEMBER_A, at=at("2012-03-06"))
    assert engine.get("kept").version == 2


def test_a_failed_write_inside_a_batch_leaves_the_others(
    url: str, mini_doc: dict[str, Any]
) -> None:
    """A write that fails inside the block (a duplicate start) is undone alone: the
    writes before and after it commit with the block."""
    engine = _engine(url, mini_doc)
    with engine.store.batch():  # type: ignore[attr-defined]
        start_mini(engine, "a")
        with pytest.raises(paketflow.DuplicateInstance):
            start_mini(engine, "a")
        engine.sign("a", actor=MEMBER_A, at=at("2012-03-06"))
        start_mini(engine, "b")
    store = paketflow.open_store(url)
    assert [e.seq for e in store.history("a")] == [1, 2]
    assert store.load("b").version == 1
    assert paketflow.verify(store).ok


def test_nested_batches_join_the_outermost(url: str, mini_doc: dict[str, Any]) -> None:
    """A block inside a block does not commit on its own: the outer block decides."""
    engine = _engine(url, mini_doc)
    other = paketflow.open_store(url)
    with engine.store.batch():  # type: ignore[attr-defined]
        with engine.store.batch():  # type: ignore[attr-defined]
            start_mini(engine, "a")
        assert len(other) == 0  # type: ignore[arg-type]
    assert len(other) == 1  # type: ignore[arg-type]
