"""Tamper evidence: hash chains, signed checkpoints and offline bundles.

The central property: every tampering of a checkpointed store (byte flips in payload,
actor or time; deletion; swap; insertion; tail truncation with a matching snapshot;
rewrite with recomputed hashes; forged or edited checkpoints) is detected, and an
untouched store always verifies."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paketflow
from conftest import at, start_mini
from paketflow import Actor, Engine, _audit
from paketflow._runtime.fold import fold
from paketflow._runtime.simulate import load_scenario, run_scenario
from paketflow._store import _codec
from paketflow._store._sql import GENESIS, chain_hash
from paketflow._store.sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parent.parent
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUBLIC = KEY.public_key()
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))

HEAD = Actor("hadi", {"HEAD"}, None, "Hadi")
A1 = Actor("ani", {"MEMBER"}, "a", "Ani")
B1 = Actor("budi", {"MEMBER"}, "b", "Budi")
C1 = Actor("citra", {"CHECKER"})


def build_store(path: Path, mini_doc: dict[str, Any]) -> None:
    """SC-1 (Saigon 2012) plus three small instances at different stages, then a
    checkpoint at the head of every instance."""
    store = SQLiteStore(path)
    paket = paketflow.load_definition(ROOT / "processes" / "paket-tahap-tunggal.json")
    scenario = load_scenario(ROOT / "processes" / "scenarios" / "sc-1-saigon-2012.json")
    mini = paketflow.load_definition(mini_doc)
    engine = Engine([paket, mini], store=store)
    assert run_scenario(paket, scenario, engine=engine).ok
    for n, iid in enumerate(("m1", "m2", "m3")):
        start_mini(engine, iid)
        for who in (A1, B1, HEAD)[: n + 1]:
            engine.sign(iid, actor=who, at=at("2012-03-06"))
    engine.tick(at("2012-03-20"))
    _audit.checkpoint(store, KEY)
    store.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import MINI

    path = tmp_path_factory.mktemp("audit") / "template.db"
    build_store(path, json.loads(json.dumps(MINI)))
    return path


def rows(conn: sqlite3.Connection) -> list[tuple[str, int, bytes]]:
    return conn.execute(
        "SELECT instance, seq, CAST(body AS BLOB) FROM events ORDER BY instance, seq"
    ).fetchall()


def rechain(conn: sqlite3.Connection, iid: str) -> None:
    """What a careful forger does after editing bodies: recompute every hash of the
    instance and a snapshot that matches the (edited) history."""
    prev = GENESIS
    bodies = conn.execute(
        "SELECT seq, body FROM events WHERE instance = ? ORDER BY seq", (iid,)
    ).fetchall()
    for seq, body in bodies:
        digest = chain_hash(prev, body.encode())
        conn.execute(
            "UPDATE events SET prev_hash = ?, hash = ? WHERE instance = ? AND seq = ?",
            (prev, digest, iid, seq),
        )
        prev = digest
    if bodies:
        try:
            inst = fold(_codec.event_from_dict(json.loads(b)) for _, b in bodies)
        except paketflow.HistoryError:
            return  # no snapshot can match this history: the forger keeps the old one
        snap = _codec.canonical(_codec.snapshot_to_dict(inst)).decode()
        conn.execute(
            "UPDATE instances SET version = ?, snapshot = ? WHERE id = ?",
            (inst.version, snap, iid),
        )
    else:
        conn.execute("DELETE FROM instances WHERE id = ?", (iid,))


# -- the tamperings: each edits a copy of the checkpointed template -----------------------

Draw = Callable[[st.SearchStrategy[Any]], Any]


def t_flip(conn: sqlite3.Connection, draw: Draw) -> str:
    """Flip bits of one byte inside the actor, the time or the payload of an event."""
    instance, seq, body = draw(st.sampled_from(rows(conn)))
    spans = []
    for key in ('"actor":', '"at":', '"delta":'):
        start = body.find(key.encode())
        if start >= 0:
            spans.append((start + len(key), start + len(key) + 12))
    lo, hi = draw(st.sampled_from(spans))
    pos = draw(st.integers(lo, min(hi, len(body)) - 1))
    mask = draw(st.integers(1, 255))
    edited = bytearray(body)
    edited[pos] ^= mask
    conn.execute(
        "UPDATE events SET body = CAST(? AS TEXT) WHERE instance = ? AND seq = ?",
        (bytes(edited), instance, seq),
    )
    return f"flip {instance}#{seq}@{pos}^{mask}"


def t_delete(conn: sqlite3.Connection, draw: Draw) -> str:
    """Delete one event row."""
    instance, seq, _ = draw(st.sampled_from(rows(conn)))
    conn.execute("DELETE FROM events WHERE instance = ? AND seq = ?", (instance, seq))
    return f"delete {instance}#{seq}"


def t_swap(conn: sqlite3.Connection, draw: Draw) -> str:
    """Swap the bodies (and hashes) of two different events."""
    all_rows = rows(conn)
    i, j = draw(st.lists(st.integers(0, len(all_rows) - 1), min_size=2, max_size=2, unique=True))
    (ia, sa, _), (ib, sb, _) = all_rows[i], all_rows[j]
    a = conn.execute(
        "SELECT body, prev_hash, hash FROM events WHERE instance = ? AND seq = ?", (ia, sa)
    ).fetchone()
    b = conn.execute(
        "SELECT body, prev_hash, hash FROM events WHERE instance = ? AND seq = ?", (ib, sb)
    ).fetchone()
    for (iid, seq), (body, prev, digest) in (((ia, sa), b), ((ib, sb), a)):
        conn.execute(
            "UPDATE events SET body = ?, prev_hash = ?, hash = ? WHERE instance = ? AND seq = ?",
            (body, prev, digest, iid, seq),
        )
    return f"swap {ia}#{sa} {ib}#{sb}"


def t_insert(conn: sqlite3.Connection, draw: Draw) -> str:
    """Insert a copy of an event at a position, renumbering the events after it."""
    instance, seq, _ = draw(st.sampled_from(rows(conn)))
    last = conn.execute("SELECT MAX(seq) FROM events WHERE instance = ?", (instance,)).fetchone()
    for s in range(last[0], seq - 1, -1):
        conn.execute(
            "UPDATE events SET seq = seq + 1 WHERE instance = ? AND seq = ?", (instance, s)
        )
    conn.execute(
        "INSERT INTO events (instance, seq, type, at_us, body, prev_hash, hash) "
        "SELECT instance, ?, type, at_us, body, prev_hash, hash FROM events "
        "WHERE instance = ? AND seq = ?",
        (seq, instance, seq + 1),
    )
    if draw(st.booleans()):
        rechain(conn, instance)
    return f"insert {instance}#{seq}"


def t_truncate(conn: sqlite3.Connection, draw: Draw) -> str:
    """Cut the tail of a history and write the snapshot that matches what is left."""
    instance, seq, _ = draw(st.sampled_from(rows(conn)))
    conn.execute("DELETE FROM events WHERE instance = ? AND seq >= ?", (instance, seq))
    rechain(conn, instance)
    return f"truncate {instance} from #{seq}"


def t_rewrite(conn: sqlite3.Connection, draw: Draw) -> str:
    """Change who did something (or when) and recompute every hash and the snapshot."""
    instance, seq, body = draw(st.sampled_from(rows(conn)))
    doc = json.loads(body)
    if doc.get("actor") and draw(st.booleans()):
        doc["actor"]["id"] = doc["actor"]["id"] + "-forged"
    else:
        shift = dt.timedelta(seconds=draw(st.integers(1, 86_400)))
        doc["at"] = (dt.datetime.fromisoformat(doc["at"]) - shift).isoformat()
    conn.execute(
        "UPDATE events SET body = ? WHERE instance = ? AND seq = ?",
        (_codec.canonical(doc).decode(), instance, seq),
    )
    rechain(conn, instance)
    return f"rewrite {instance}#{seq}"


def t_forge_checkpoint(conn: sqlite3.Connection, draw: Draw) -> str:
    """Rewrite a history (hashes recomputed), then cover it with a new checkpoint:
    signed by another key, or the old signature kept on edited heads."""
    what = t_rewrite(conn, draw) if draw(st.booleans()) else t_truncate(conn, draw)
    number, body, signature = conn.execute(
        "SELECT number, body, signature FROM checkpoints ORDER BY number DESC LIMIT 1"
    ).fetchone()
    doc = json.loads(body)
    for iid in list(doc["heads"]):
        row = conn.execute(
            "SELECT seq, hash FROM events WHERE instance = ? ORDER BY seq DESC LIMIT 1", (iid,)
        ).fetchone()
        doc["heads"][iid] = list(row) if row else [0, GENESIS]
    new = _codec.canonical(doc)
    if draw(st.booleans()):
        signature = OTHER_KEY.sign(new).hex()
    conn.execute(
        "UPDATE checkpoints SET body = ?, signature = ? WHERE number = ?",
        (new.decode(), signature, number),
    )
    return f"forged checkpoint after {what}"


def t_drop_instance(conn: sqlite3.Connection, draw: Draw) -> str:
    """Remove an instance altogether (events and snapshot)."""
    instance = draw(st.sampled_from(sorted({r[0] for r in rows(conn)})))
    conn.execute("DELETE FROM events WHERE instance = ?", (instance,))
    conn.execute("DELETE FROM instances WHERE id = ?", (instance,))
    return f"drop {instance}"


def t_edit_definition(conn: sqlite3.Connection, draw: Draw) -> str:
    """Edit the kept document of a definition (e.g. a guard's limit) in place."""
    kept = conn.execute("SELECT hash, body FROM definitions").fetchall()
    digest, body = draw(st.sampled_from(kept))
    pos = draw(st.integers(0, len(body) - 1))
    edited = body[:pos] + ("0" if body[pos] != "0" else "1") + body[pos + 1 :]
    conn.execute("UPDATE definitions SET body = ? WHERE hash = ?", (edited, digest))
    return f"definition {digest} char {pos}"


TAMPERINGS = [
    t_flip,
    t_delete,
    t_swap,
    t_insert,
    t_truncate,
    t_rewrite,
    t_forge_checkpoint,
    t_drop_instance,
    t_edit_definition,
]


def test_every_tampering_is_detected(template: Path, tmp_path: Path) -> None:
    """At least 500 generated tamperings of a checkpointed store: every one makes
    verify report a problem (with the public key)."""
    counter = itertools.count()
    seen: dict[str, int] = {}

    @settings(
        max_examples=520,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(st.sampled_from(TAMPERINGS), st.data())
    def check(tamper: Any, data: st.DataObject) -> None:
        path = tmp_path / f"t{next(counter)}.db"
        shutil.copyfile(template, path)
        conn = sqlite3.connect(path, isolation_level=None)
        what = tamper(conn, data.draw)
        conn.close()
        store = SQLiteStore(path)
        report = _audit.verify(store, public_key=PUBLIC)
        store.close()
        path.unlink()
        seen[tamper.__name__] = seen.get(tamper.__name__, 0) + 1
        assert not report.ok, f"not detected: {what}"

    check()
    assert sum(seen.values()) >= 500
    assert set(seen) == {t.__name__ for t in TAMPERINGS}


def test_untouched_template_verifies(template: Path) -> None:
    """The untouched store verifies, with and without the public key."""
    store = SQLiteStore(template)
    report = _audit.verify(store, public_key=PUBLIC)
    assert report.ok, report.problems
    assert (report.instances, report.checkpoints) == (4, 1)
    assert _audit.verify(store).notes == (
        "checkpoint signatures not checked (no public key given)",
    )


@settings(max_examples=25, deadline=None, database=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["m1", "m2", "m3"]), st.integers(0, 5)), min_size=1, max_size=12
    ),
    st.sets(st.integers(0, 11)),
)
def test_no_false_positives(steps: list[tuple[str, int]], marks: set[int]) -> None:
    """Random command sequences with checkpoints at random moments always verify."""
    import tempfile

    from conftest import MINI

    with tempfile.TemporaryDirectory() as folder:
        store = SQLiteStore(Path(folder) / "s.db")
        engine = Engine([paketflow.load_definition(json.loads(json.dumps(MINI)))], store=store)
        actors = [A1, B1, HEAD, C1]
        for n, (iid, choice) in enumerate(steps):
            try:
                if choice == 0 or iid not in store.instance_ids():
                    start_mini(engine, iid)
                elif choice == 5:
                    engine.tick(at("2012-04-20"))
                elif choice == 4:
                    engine.fire(iid, "submit", actor=HEAD, at=at("2012-03-07"))
                else:
                    engine.sign(iid, actor=actors[choice - 1], at=at("2012-03-06"))
            except (paketflow.Refused, paketflow.DuplicateInstance):
                pass
            if n in marks and store.instance_ids():
                _audit.checkpoint(store, KEY)
        report = _audit.verify(store, public_key=PUBLIC if marks & set(range(len(steps))) else None)
        store.close()
    assert report.ok, report.problems


def test_first_bad_event_is_named(template: Path, tmp_path: Path) -> None:
    """A changed amount is reported at its instance and sequence number, with what is
    wrong; the other instances stay clean."""
    path = tmp_path / "s.db"
    shutil.copyfile(template, path)
    conn = sqlite3.connect(path)
    conn.execute(
        'UPDATE events SET body = replace(body, \'"state":"DRAF"\', \'"state":"DRAX"\') '
        "WHERE instance = 'saigon-2012' AND seq = 1"
    )
    conn.commit()
    conn.close()
    report = _audit.verify(SQLiteStore(path), public_key=PUBLIC)
    assert [str(p) for p in report.problems] == [
        "saigon-2012 #1: hash does not match the body (content changed)",
    ]


def test_bundle_verifies_offline_and_detects_edits(template: Path, tmp_path: Path) -> None:
    """An exported bundle verifies with the public key alone; an edited bundle does
    not; a bundle checked with another key fails on the signature."""
    bundle = tmp_path / "b.json"
    count = _audit.export_bundle(SQLiteStore(template), bundle)
    assert count == _audit.verify(SQLiteStore(template)).events
    pem = PUBLIC.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert _audit.verify_bundle(bundle, public_key=pem).ok
    wrong = OTHER_KEY.public_key()
    assert [str(p) for p in _audit.verify_bundle(bundle, public_key=wrong).problems] == [
        "checkpoint #1: signature invalid for this public key"
    ]
    doc = json.loads(bundle.read_text())
    n = len(doc["instances"]["m1"]["events"])
    doc["instances"]["m1"]["events"].pop()
    bundle.write_text(json.dumps(doc))
    problems = [str(p) for p in _audit.verify_bundle(bundle, public_key=pem).problems]
    assert problems[-1] == (
        f"m1 #{n}: history ends at #{n - 1} but checkpoint #1 recorded #{n} (truncated)"
    )


def test_no_checkpoint_with_a_key_is_a_problem(tmp_path: Path) -> None:
    """Verifying with a public key a store that has no checkpoint reports that
    truncation cannot be ruled out."""
    store = SQLiteStore(tmp_path / "s.db")
    report = _audit.verify(store, public_key=PUBLIC)
    assert [str(p) for p in report.problems] == [
        "checkpoint #0: no signed checkpoint: truncation or rewrite cannot be ruled out"
    ]


def test_memory_store_has_no_chain() -> None:
    """Audit functions refuse a MemoryStore with what to use instead."""
    with pytest.raises(paketflow.StoreError) as err:
        _audit.verify(paketflow.MemoryStore())
    assert str(err.value) == (
        "MemoryStore keeps no hash chain: audit needs a durable store "
        "(open_store('sqlite:///…') or 'postgresql://…')"
    )


def test_bad_key_files(tmp_path: Path) -> None:
    """Unreadable or non-Ed25519 key files raise StoreError naming the file."""
    with pytest.raises(paketflow.StoreError, match="cannot read the public key file"):
        _audit.load_public_key(tmp_path / "missing.pub")
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key")
    with pytest.raises(paketflow.StoreError, match="not an unencrypted PEM private key"):
        _audit.load_private_key(junk)


def test_kept_definitions_are_checked_in_stores_and_bundles(template: Path, tmp_path: Path) -> None:
    """The store keeps the resolved document of each definition the engine ran on,
    under its hash; the bundle carries them; an edited document is reported by name."""
    store = SQLiteStore(template)
    kept = dict(store.definition_rows())
    paket = paketflow.load_definition(ROOT / "processes" / "paket-tahap-tunggal.json")
    assert paket.hash in kept and len(kept) == 2
    assert paketflow.load_definition(json.loads(kept[paket.hash])).hash == paket.hash
    bundle = tmp_path / "b.json"
    _audit.export_bundle(store, bundle)
    doc = json.loads(bundle.read_text())
    assert dict(map(tuple, doc["definitions"])) == kept
    doc["definitions"][0][1] = doc["definitions"][0][1].replace("PAKET", "PAKET!", 1)
    bundle.write_text(json.dumps(doc))
    problems = [str(p) for p in _audit.verify_bundle(bundle, public_key=PUBLIC).problems]
    assert problems == [
        f"definition {doc['definitions'][0][0]}: kept document does not hash to its key (edited?)"
    ]
