"""Durable stores (SQLite and PostgreSQL, one shared SQL layer): snapshots and events
survive reopening, one transaction per command, optimistic concurrency, idempotency
records, the indexed timer table and claims, migrations."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import attrs
import pytest

import paketflow
from conftest import at, start_mini
from paketflow import Actor, ConcurrencyError, DuplicateInstance, Engine, UnknownInstance
from paketflow._store import _codec
from paketflow._store._sql import GENESIS, SCHEMA_VERSION, SQLStore, chain_hash

HEAD = Actor("hadi", {"HEAD"}, None, "Hadi")
A1 = Actor("ani", {"MEMBER"}, "a", "Ani")
B1 = Actor("budi", {"MEMBER"}, "b", "Budi")


def sql_store(url: str) -> SQLStore:
    store = paketflow.open_store(url)
    assert isinstance(store, SQLStore)
    return store


def engine_on(url: str, doc: dict[str, Any]) -> Engine:
    return Engine([paketflow.load_definition(doc)], store=sql_store(url))


def submitted(engine: Engine, iid: str = "i1", key: str | None = None) -> None:
    """Start ``iid`` and bring it to CHECK (its TM-CHECK deadline armed)."""
    start_mini(engine, iid, key=key)
    for who in (A1, B1, HEAD):
        engine.sign(iid, actor=who, at=at("2012-03-06"))
    engine.fire(iid, "submit", actor=HEAD, at=at("2012-03-07"))


def test_round_trip_through_a_fresh_store_object(store_url: str, mini_doc: dict[str, Any]) -> None:
    """What one store object wrote, another opened on the same URL reads back equal:
    the snapshot, the history, and replay of that history."""
    engine = engine_on(store_url, mini_doc)
    submitted(engine)
    live = engine.get("i1")
    again = engine_on(store_url, mini_doc)
    assert again.get("i1") == live
    assert again.history("i1") == engine.history("i1")
    assert paketflow.replay(again.definition("mini"), again.history("i1")) == live


def test_schema_is_migrated_once(store_url: str) -> None:
    """Opening creates the schema at the current version; reopening applies nothing."""
    first = sql_store(store_url)
    assert first.schema_version() == SCHEMA_VERSION
    assert sql_store(store_url).migrate() == []


def test_newer_schema_is_refused(store_url: str) -> None:
    """A database migrated by a newer paketflow is refused with what to do."""
    store = sql_store(store_url)
    with store._write() as cur:
        store._x(cur, "INSERT INTO paketflow_schema (version) VALUES (?)", (SCHEMA_VERSION + 1,))
    with pytest.raises(paketflow.StoreError) as err:
        paketflow.open_store(store_url)
    assert str(err.value).endswith(
        f"store schema version {SCHEMA_VERSION + 1} is newer than this paketflow understands "
        f"({SCHEMA_VERSION}); upgrade paketflow"
    )


def test_losing_writer_gets_concurrency_error_and_nothing_changes(
    store_url: str, mini_doc: dict[str, Any]
) -> None:
    """An append at a stale version raises ConcurrencyError and writes nothing."""
    engine = engine_on(store_url, mini_doc)
    submitted(engine)
    store = engine.store
    inst = store.load("i1")
    history = store.history("i1")
    stale = attrs.evolve(inst, version=inst.version, state="DRAFT")
    with pytest.raises(ConcurrencyError, match="is at version 5, expected 4"):
        store.append(stale, [history[-1]], expected_version=4)
    assert store.load("i1") == inst
    assert store.history("i1") == history


def test_duplicate_and_unknown_instances(store_url: str, mini_doc: dict[str, Any]) -> None:
    """Starting an existing id raises DuplicateInstance; reading an unknown one
    raises UnknownInstance."""
    engine = engine_on(store_url, mini_doc)
    submitted(engine)
    first = engine.history("i1")[0]
    snapshot = _codec.snapshot_from_dict(_codec.snapshot_to_dict(engine.get("i1")))
    with pytest.raises(DuplicateInstance):
        engine.store.append(attrs.evolve(snapshot, version=1), [first], expected_version=0)
    with pytest.raises(UnknownInstance):
        engine.store.load("nope")
    with pytest.raises(UnknownInstance):
        engine.store.history("nope")


def test_idempotency_key_is_recorded_with_the_command(
    store_url: str, mini_doc: dict[str, Any]
) -> None:
    """The key, its instance, fingerprint and version commit with the events; the same
    key recorded by another writer makes the append fail and write nothing."""
    engine = engine_on(store_url, mini_doc)
    submitted(engine, key="k-start")
    hit = engine.store.idempotent("k-start")
    assert hit is not None and hit[0] == "i1" and hit[2] == 1
    assert engine.store.idempotent("other") is None
    other = engine_on(store_url, mini_doc)
    first = other.history("i1")[0]
    clone = attrs.evolve(first, instance_id="i2")
    inst2 = attrs.evolve(other.get("i1"), id="i2", version=1)
    with pytest.raises(ConcurrencyError):
        other.store.append(inst2, [clone], expected_version=0, idempotency=("k-start", "f"))
    with pytest.raises(UnknownInstance):
        other.store.load("i2")


def test_timer_index_due_and_claims(store_url: str, mini_doc: dict[str, Any]) -> None:
    """due() lists instances with a step due; claim_due() hands each due instance to
    one claimer until the lease ends; a command rewriting the timers releases it."""
    engine = engine_on(store_url, mini_doc)
    for iid in ("a", "b", "c"):
        submitted(engine, iid)
    store = engine.store
    assert isinstance(store, SQLStore)
    later = at("2012-04-30")
    assert store.due(at("2012-03-07")) == []
    assert store.due(later) == ["a", "b", "c"]
    other = sql_store(store_url)
    assert store.claim_due(later, limit=2) == ["a", "b"]
    assert other.claim_due(later) == ["c"]
    assert other.claim_due(later) == []
    assert store.due(later) == ["a", "b", "c"]  # due() does not claim
    assert engine.tick(later) == []  # every due instance is claimed by a worker
    other.claim_lease = 0.0
    submitted(engine, "d")
    assert other.claim_due(later) == ["d"]
    assert other.claim_due(later) == ["d"]  # the lease (0 s) ran out


def test_tick_claims_so_workers_share_due_work(store_url: str, mini_doc: dict[str, Any]) -> None:
    """tick() on a durable store claims the due instances: one another worker holds is
    left to it, and two engines ticking the same store fire each step once."""
    engine = engine_on(store_url, mini_doc)
    for iid in ("a", "b", "c"):
        submitted(engine, iid)
    later = at("2012-04-30")
    assert sql_store(store_url).claim_due(later, limit=1) == ["a"]
    second = engine_on(store_url, mini_doc)
    fired = engine.tick(later) + second.tick(later)
    assert {e.instance_id for e in fired} == {"b", "c"}
    assert len(fired) == len({(e.instance_id, e.seq) for e in fired})
    assert engine.get("a").state == "CHECK"
    assert engine.tick(later) == [] and second.tick(later) == []


def test_events_are_chained(store_url: str, mini_doc: dict[str, Any]) -> None:
    """Each stored event carries the previous event's hash; the hash covers the
    canonical JSON body."""
    engine = engine_on(store_url, mini_doc)
    submitted(engine)
    store = engine.store
    assert isinstance(store, SQLStore)
    rows = store.event_rows("i1")
    prev = GENESIS
    for (seq, body, prev_hash, digest), event in zip(rows, engine.history("i1"), strict=True):
        assert seq == event.seq
        assert body.encode() == _codec.canonical(_codec.event_to_dict(event))
        assert prev_hash == prev
        assert digest == chain_hash(prev, body.encode())
        prev = digest
    assert store.heads() == {"i1": (rows[-1][0], prev)}


def test_batch_must_continue_the_version(store_url: str, mini_doc: dict[str, Any]) -> None:
    """An append whose events do not continue the expected version is a programming
    error (StoreError), not a silent gap."""
    engine = engine_on(store_url, mini_doc)
    submitted(engine)
    inst = engine.get("i1")
    last = engine.history("i1")[-1]
    with pytest.raises(paketflow.StoreError, match=r"do not continue version 5 to 6"):
        engine.store.append(attrs.evolve(inst, version=6), [last], expected_version=5)


def test_timestamps_keep_the_instant(store_url: str, mini_doc: dict[str, Any]) -> None:
    """Times read back are the same instants (the offset is kept)."""
    engine = engine_on(store_url, mini_doc)
    submitted(engine)
    reread = sql_store(store_url).load("i1")
    assert reread.entered_at == at("2012-03-07")
    assert reread.entered_at.utcoffset() == dt.timedelta(hours=7)


def test_storage_doc_names_every_table_column_and_format(tmp_path: Any) -> None:
    """docs/storage.md lists every table of a new store with its columns (in order)
    and the current format numbers."""
    from pathlib import Path

    from paketflow import _audit

    page = (Path(__file__).resolve().parent.parent / "docs" / "storage.md").read_text()
    store = sql_store(f"sqlite:///{tmp_path / 'doc.db'}")
    with store._read() as cur:
        tables = [r[0] for r in cur.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            columns = [r[1] for r in cur.execute(f"PRAGMA table_info({table})").fetchall()]
            row = f"| `{table}` | " + ", ".join(f"`{c}`" for c in columns) + " |"
            assert row in page, row
    assert len(tables) == 7
    assert f"## Tables (schema version {SCHEMA_VERSION})" in page
    assert f"| event | {_codec.EVENT_FORMAT} |" in page
    assert f"| snapshot | {_codec.SNAPSHOT_FORMAT} |" in page
    assert f"| checkpoint | {_audit.CHECKPOINT_FORMAT} |" in page
    assert f"| audit bundle | {_audit.BUNDLE_FORMAT} |" in page


def test_snapshot_text_is_sorted_compact_json(store_url: str, mini_doc: dict[str, Any]) -> None:
    """The stored snapshot is compact JSON with sorted keys that decodes to the
    snapshot the engine returned (events stay RFC 8785: they are hashed)."""
    engine = engine_on(store_url, mini_doc)
    started = start_mini(engine, "s")
    store = engine.store
    assert isinstance(store, SQLStore)
    row = store.snapshot_row("s")
    assert row is not None
    assert row[1] == _codec.snapshot_text(started)
    assert _codec.snapshot_from_dict(json.loads(row[1])) == started
    body = store.event_rows("s")[0][1]
    assert body == _codec.canonical(_codec.event_to_dict(store.history("s")[0])).decode()


def test_loads_reuse_the_kept_snapshot_only_while_the_stored_text_is_the_same(
    store_url: str, mini_doc: dict[str, Any]
) -> None:
    """A load after this store's own write returns the snapshot it wrote without
    decoding; once another store object writes, the next load decodes the new one;
    the kept snapshots are bounded by ``snapshot_cache``."""
    engine = engine_on(store_url, mini_doc)
    started = start_mini(engine, "k")
    assert engine.store.load("k") is started
    other = engine_on(store_url, mini_doc)
    signed = other.sign("k", actor=A1, at=at("2012-03-06"))
    again = engine.store.load("k")
    assert again == signed and again is not started
    assert engine.store.load("k") is again
    store = engine.store
    assert isinstance(store, SQLStore)
    store.snapshot_cache = 2
    for iid in ("k2", "k3", "k4"):
        start_mini(engine, iid)
    assert list(store._cache) == ["k3", "k4"]


def test_a_rolled_back_batch_leaves_no_kept_snapshot_behind(
    store_url: str, mini_doc: dict[str, Any]
) -> None:
    """A write undone with its batch is not returned by a later load: the load sees
    the committed text differ from the kept one."""
    engine = engine_on(store_url, mini_doc)
    start_mini(engine, "r")
    with pytest.raises(RuntimeError), engine.store.batch():  # type: ignore[attr-defined]
        engine.sign("r", actor=A1, at=at("2012-03-06"))
        raise RuntimeError("abandon")
    assert engine.store.load("r").version == 1
    assert engine.sign("r", actor=A1, at=at("2012-03-06")).version == 2
