"""The in-memory store (paketflow._store.memory): append/load/history, gapless
histories, optimistic concurrency, idempotency records, atomic and thread-safe
appends, and the deadline index behind due()."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import attrs
import pytest

from conftest import at
from paketflow._errors import ConcurrencyError, DuplicateInstance, HistoryError, UnknownInstance
from paketflow._events import Actor, ArmedDeadline, DefinitionRef, Event, Fired, Instance, Started
from paketflow._store.memory import MemoryStore

ACTOR = Actor("hadi", {"HEAD"})


def inst(iid: str = "i1", version: int = 1, due: dt.datetime | None = None, **kw: Any) -> Instance:
    """An instance at ``version`` whose one deadline step (if any) is at ``due``."""
    deadlines = (ArmedDeadline("TM", due, ((due, "!timeout"),)),) if due else ()
    return Instance(
        id=iid,
        definition="mini",
        definition_version="1.0.0",
        definition_hash="h",
        state=kw.pop("state", "DRAFT"),
        data={},
        version=version,
        entered_at=at("2012-03-01"),
        deadlines=deadlines,
        **kw,
    )


def event(iid: str = "i1", seq: int = 1) -> Event:
    """The started event (seq 1) or an internal fired event of instance ``iid``."""
    if seq == 1:
        return Started(
            instance_id=iid,
            seq=1,
            at=at("2012-03-01"),
            actor=ACTOR,
            definition=DefinitionRef("mini", "1.0.0", "h"),
            state="DRAFT",
            data={},
        )
    return Fired(
        instance_id=iid,
        seq=seq,
        at=at("2012-03-01"),
        actor=ACTOR,
        name="ack",
        source="DRAFT",
        target="DRAFT",
    )


def started(store: MemoryStore, iid: str = "i1", due: dt.datetime | None = None) -> Instance:
    i = inst(iid, 1, due)
    store.append(i, [event(iid, 1)], expected_version=0)
    return i


def test_append_then_load_and_history() -> None:
    """The latest snapshot is loaded; history lists every event in order."""
    store = MemoryStore()
    started(store)
    second = inst("i1", 3, state="CHECK")
    store.append(second, [event("i1", 2), event("i1", 3)], expected_version=1)
    assert store.load("i1") is second
    assert [e.seq for e in store.history("i1")] == [1, 2, 3]
    assert len(store) == 1


def test_history_is_a_copy() -> None:
    """Mutating the returned history does not change the store."""
    store = MemoryStore()
    started(store)
    store.history("i1").clear()
    assert len(store.history("i1")) == 1


def test_duplicate_instance_on_version_zero() -> None:
    """Appending with expected version 0 when the instance exists raises
    DuplicateInstance with the id, and changes nothing."""
    store = MemoryStore()
    first = started(store)
    with pytest.raises(DuplicateInstance) as info:
        store.append(inst("i1", 1, state="OTHER"), [event()], expected_version=0)
    assert str(info.value) == "instance 'i1' already exists; choose another instance_id"
    assert isinstance(info.value, ValueError)
    assert store.load("i1") is first
    assert len(store.history("i1")) == 1


@pytest.mark.parametrize("expected", [0 + 2, 5])
def test_concurrency_error_on_wrong_version(expected: int) -> None:
    """A wrong expected version raises ConcurrencyError with an exact message and
    records nothing."""
    store = MemoryStore()
    first = started(store)
    with pytest.raises(ConcurrencyError) as info:
        store.append(
            inst("i1", expected + 1), [event("i1", expected + 1)], expected_version=expected
        )
    assert str(info.value) == (
        f"instance 'i1' is at version 1, expected {expected}; reload it and retry the command"
    )
    assert store.load("i1") is first
    assert len(store.history("i1")) == 1


def test_unknown_instance_messages() -> None:
    """load() and history() of an unknown id raise UnknownInstance (a KeyError) with
    a readable message."""
    store = MemoryStore()
    for call in (store.load, store.history):
        with pytest.raises(UnknownInstance) as info:
            call("nope")
        assert str(info.value) == (
            "no instance 'nope' in this store; start it with Engine.start() first"
        )
        assert info.value.instance_id == "nope"
        assert isinstance(info.value, KeyError)
        # the end-user texts give no programmer's advice, in either language
        assert info.value.message("id") == "Instans proses 'nope' tidak ditemukan."
        assert info.value.message("en") == "No process instance 'nope' was found."


def test_idempotency_records() -> None:
    """An idempotency key records (instance id, fingerprint, version after append)."""
    store = MemoryStore()
    store.append(inst("i1", 1), [event()], expected_version=0, idempotency=("k1", "fp1"))
    store.append(inst("i1", 2), [event("i1", 2)], expected_version=1, idempotency=("k2", "fp2"))
    assert store.idempotent("k1") == ("i1", "fp1", 1)
    assert store.idempotent("k2") == ("i1", "fp2", 2)
    assert store.idempotent("other") is None


def test_failed_append_records_no_idempotency_key() -> None:
    """A refused append does not record its idempotency key."""
    store = MemoryStore()
    started(store)
    with pytest.raises(ConcurrencyError):
        store.append(inst("i1", 8), [event("i1", 8)], expected_version=7, idempotency=("k", "fp"))
    assert store.idempotent("k") is None


def test_idempotency_key_recorded_meanwhile_is_a_concurrency_error() -> None:
    """An append whose idempotency key another writer has recorded meanwhile raises
    ConcurrencyError (retrying returns that writer's result) and writes nothing."""
    store = MemoryStore()
    store.append(inst("a", 1), [event("a")], expected_version=0, idempotency=("k", "fp-a"))
    first = started(store, "b")
    with pytest.raises(ConcurrencyError) as info:
        store.append(inst("b", 2), [event("b", 2)], expected_version=1, idempotency=("k", "fp-b"))
    assert str(info.value) == (
        "idempotency key 'k' was recorded by another writer meanwhile; retry the command "
        "(it will return that writer's result)"
    )
    assert store.idempotent("k") == ("a", "fp-a", 1)
    assert store.load("b") is first
    assert len(store.history("b")) == 1


@pytest.mark.parametrize(
    ("snapshot_version", "events", "expected"),
    [
        (2, [("i1", 3)], 1),  # the first event does not follow the stored version
        (3, [("i1", 2), ("i1", 4)], 1),  # a gap between the events
        (3, [("i1", 2), ("i1", 2)], 1),  # a repeated sequence number
        (3, [("i1", 2)], 1),  # the snapshot is ahead of the last event
        (2, [("other", 2)], 1),  # another instance's event
        (4, [("i1", 2), ("i1", 2), ("i1", 4)], 1),  # a repeat in the middle of a batch
        (4, [("i1", 2), ("other", 3), ("i1", 4)], 1),  # a stranger in the middle
        (5, [], 1),  # a snapshot without the events that produced it
    ],
)
def test_events_must_continue_the_history_gaplessly(
    snapshot_version: int, events: list[tuple[str, int]], expected: int
) -> None:
    """Events that do not continue the history from the expected version up to the
    snapshot's version (or no events at all) are refused with HistoryError (a
    ValueError); nothing is written."""
    store = MemoryStore()
    first = started(store)
    with pytest.raises(HistoryError) as info:
        store.append(
            inst("i1", snapshot_version),
            [event(i, n) for i, n in events],
            expected_version=expected,
            idempotency=("k", "fp"),
        )
    assert str(info.value) == (
        f"events of 'i1' must continue its history gaplessly from version {expected} to "
        f"the snapshot's version {snapshot_version} (at least one event); the store is "
        "unchanged"
    )
    assert store.load("i1") is first
    assert len(store.history("i1")) == 1
    assert store.idempotent("k") is None


def test_a_refused_append_leaves_the_deadline_index_alone() -> None:
    """A snapshot refused for a wrong version is never due."""
    store = MemoryStore()
    started(store, "a")
    with pytest.raises(ConcurrencyError):
        store.append(inst("a", 3, at("2012-03-10")), [event("a", 3)], expected_version=2)
    assert store.due(at("2013-01-01")) == []


# --------------------------------------------------------------------------- threads


def race(workers: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``workers`` threads released together; each result or
    exception in order."""
    barrier = threading.Barrier(workers)
    results: list[Any] = [None] * workers

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # collected for the assertions
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_racing_writers_one_wins_and_nothing_is_lost() -> None:
    """Writers racing on the same version: exactly one append succeeds per round,
    the others get ConcurrencyError; the history stays gapless and matches the
    snapshot."""
    store = MemoryStore()
    started(store)
    for version in range(1, 21):
        results = race(
            8,
            lambda i, v=version: store.append(
                inst("i1", v + 1, state=f"S{i}"), [event("i1", v + 1)], expected_version=v
            ),
        )
        assert sum(r is None for r in results) == 1
        assert all(isinstance(r, ConcurrencyError) for r in results if r is not None)
    history = store.history("i1")
    assert [e.seq for e in history] == list(range(1, 22))
    assert store.load("i1").version == 21


def test_racing_starts_of_one_id_one_wins() -> None:
    """Threads starting the same id: one succeeds, every other gets
    DuplicateInstance; the history has one started event."""
    store = MemoryStore()
    results = race(
        8, lambda i: store.append(inst("i1", state=f"S{i}"), [event()], expected_version=0)
    )
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, DuplicateInstance) for r in results if r is not None)
    assert len(store.history("i1")) == 1


def test_racing_writers_with_one_idempotency_key() -> None:
    """Threads recording the same key on different instances: one key record wins,
    the losers wrote nothing."""
    store = MemoryStore()
    results = race(
        8,
        lambda i: store.append(
            inst(f"i{i}"), [event(f"i{i}")], expected_version=0, idempotency=("k", f"fp{i}")
        ),
    )
    winners = [i for i, r in enumerate(results) if r is None]
    assert len(winners) == 1
    assert all(isinstance(r, ConcurrencyError) for r in results if r is not None)
    assert store.idempotent("k") == (f"i{winners[0]}", f"fp{winners[0]}", 1)
    assert len(store) == 1


def test_different_instances_append_in_parallel() -> None:
    """Writers on different instances all succeed."""
    store = MemoryStore()
    results = race(8, lambda i: started(store, f"i{i}", at("2012-03-10")))
    assert all(isinstance(r, Instance) for r in results)
    assert len(store) == 8
    assert store.due(at("2012-03-10")) == sorted(f"i{i}" for i in range(8))


# --------------------------------------------------------------------------- due()


def test_due_returns_ids_at_or_before_now_earliest_first() -> None:
    """due() returns instances whose next deadline step is <= now, earliest first;
    later ones are not returned."""
    store = MemoryStore()
    started(store, "late", at("2012-03-20"))
    started(store, "early", at("2012-03-10"))
    started(store, "exact", at("2012-03-15"))
    started(store, "future", at("2012-04-01"))
    started(store, "none")
    assert store.due(at("2012-03-15")) == ["early", "exact"]
    assert store.due(at("2012-03-09")) == []


def test_due_is_repeatable_while_nothing_changes() -> None:
    """due() is a query: while an instance is still due and unchanged it is reported
    again on the next call."""
    store = MemoryStore()
    started(store, "a", at("2012-03-10"))
    assert store.due(at("2012-03-11")) == ["a"]
    assert store.due(at("2012-03-11")) == ["a"]
    assert store.due(at("2012-03-12")) == ["a"]


def test_due_skips_stale_entries() -> None:
    """When an instance's next deadline moves, its old heap entry is ignored."""
    store = MemoryStore()
    started(store, "a", at("2012-03-10"))
    store.append(inst("a", 2, at("2012-03-20")), [event("a", 2)], expected_version=1)
    assert store.due(at("2012-03-15")) == []
    assert store.due(at("2012-03-20")) == ["a"]


def test_due_forgets_instances_whose_deadlines_are_gone() -> None:
    """An instance that left its deadlines behind is never due."""
    store = MemoryStore()
    started(store, "a", at("2012-03-10"))
    store.append(inst("a", 2), [event("a", 2)], expected_version=1)
    assert store.due(at("2013-01-01")) == []


def test_due_never_returns_an_id_twice() -> None:
    """An instance whose deadline moved away and back has two valid heap entries;
    due() still returns it once."""
    store = MemoryStore()
    started(store, "a", at("2012-03-10"))
    store.append(inst("a", 2, at("2012-03-12")), [event("a", 2)], expected_version=1)
    store.append(inst("a", 3, at("2012-03-10")), [event("a", 3)], expected_version=2)
    started(store, "b", at("2012-03-11"))
    assert store.due(at("2012-03-31")) == ["a", "b"]


def test_due_after_a_fired_step_moves_to_the_next_step() -> None:
    """After a step fires (``fired`` advances), the instance is due at its next step."""
    store = MemoryStore()
    armed = ArmedDeadline(
        "TM", at("2012-03-10"), ((at("2012-03-10"), "h1"), (at("2012-03-12"), "!timeout"))
    )
    first = attrs.evolve(inst("a", 1), deadlines=(armed,))
    store.append(first, [event("a", 1)], expected_version=0)
    assert store.due(at("2012-03-10")) == ["a"]
    fired = attrs.evolve(first, version=2, deadlines=(attrs.evolve(armed, fired=1),))
    store.append(fired, [event("a", 2)], expected_version=1)
    assert store.due(at("2012-03-11")) == []
    assert store.due(at("2012-03-12")) == ["a"]


def test_due_same_time_order_is_by_id() -> None:
    """Instances due at the same moment come out in id order (heap of (time, id))."""
    store = MemoryStore()
    for iid in ("c", "a", "b"):
        started(store, iid, at("2012-03-10"))
    assert store.due(at("2012-03-10")) == ["a", "b", "c"]
