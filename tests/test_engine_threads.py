"""One Engine shared by threads: commands on one instance are serialised, keyed
commands run once, nothing is lost or written twice, tick never raises for contention,
and every history replays to its snapshot."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

import paketflow
from conftest import MINI, at
from paketflow import Actor, Engine, ManualClock, Refused

THREADS = 8
MINI_DEFINITION = paketflow.load_definition(MINI)
HEAD = Actor("hadi", "HEAD")
A = Actor("ani", "MEMBER", "a")
B = Actor("budi", "MEMBER", "b")
PAYER = Actor("putu", "PAYER")


def _run_threads(jobs: list[Callable[[], Any]]) -> list[BaseException]:
    """Run ``jobs`` spread over ``THREADS`` threads released together; return every
    exception that is not a documented refusal."""
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []
    lock = threading.Lock()
    chunks = [jobs[i::THREADS] for i in range(THREADS)]

    def worker(chunk: list[Callable[[], Any]]) -> None:
        barrier.wait()
        for job in chunk:
            try:
                job()
            except (Refused, paketflow.DuplicateInstance):
                pass
            except BaseException as exc:  # anything else is a failure of the test
                with lock:
                    errors.append(exc)

    threads = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: provoke races
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    return errors


def _check_store(engine: Engine, definition: paketflow.ProcessDefinition, ids: list[str]) -> None:
    for iid in ids:
        history = engine.history(iid)
        assert [e.seq for e in history] == list(range(1, len(history) + 1))
        assert paketflow.replay(definition, history) == engine.get(iid)


def _spend_instance(engine: Engine, iid: str) -> None:
    """Drive ``iid`` of the mini definition to SPEND with 10**6 available."""
    engine.start(definition="mini", instance_id=iid, data={"required": 10}, actor=HEAD)
    for signer in (A, B, HEAD):
        engine.sign(iid, actor=signer)
    engine.fire(iid, "submit", actor=HEAD)
    for i in range(2):
        engine.sign(iid, actor=Actor(f"c{i}", "CHECKER"))
    engine.fire(iid, "check", actor=Actor("c0", "CHECKER"), data={"ok": True})
    engine.fire(iid, "receive", actor=PAYER, data={"amount": 10**6})
    engine.fire(iid, "ack", actor=PAYER)


@settings(max_examples=12, deadline=None)
@given(
    plan=st.lists(
        st.tuples(
            st.integers(0, 2),  # instance
            st.sampled_from(["pay", "ack", "sign", "start", "tick"]),
            st.one_of(st.none(), st.integers(0, 5)),  # shared idempotency key
            st.integers(1, 3),  # amount
        ),
        min_size=16,
        max_size=64,
    )
)
def test_threads_lose_nothing_and_run_keys_once(plan: list[Any]) -> None:
    """8 threads fire, sign, start and tick over several instances with shared
    idempotency keys: every accepted command is recorded exactly once (the sum of the
    payments equals the data), sequences are gapless, a key runs one command only,
    tick never raises, and replay equals the snapshot for every instance."""
    definition = MINI_DEFINITION
    clock = ManualClock(at("2012-03-01"))
    engine = Engine([definition], clock=clock)
    ids = [f"i{n}" for n in range(3)]
    for iid in ids:
        _spend_instance(engine, iid)
    accepted: list[tuple[str, int]] = []
    lock = threading.Lock()

    def job(n: int, kind: str, key: int | None, amount: int) -> Callable[[], Any]:
        iid = ids[n]
        k = None if key is None else f"k{key}"

        def run() -> None:
            if kind == "pay":
                before = engine.get(iid).version
                new = engine.fire(
                    iid, "pay", actor=PAYER, data={"amount": amount}, idempotency_key=k
                )
                with lock:
                    if k is None or new.version > before:
                        accepted.append((iid, amount))
            elif kind == "ack":
                engine.fire(iid, "ack", actor=PAYER, idempotency_key=k)
            elif kind == "sign":
                engine.sign(iid, actor=HEAD, idempotency_key=k)  # refused: no rule here
            elif kind == "start":
                engine.start(definition="mini", data={"required": 1}, actor=HEAD, idempotency_key=k)
            else:
                engine.tick(at("2012-06-01"))

        return run

    errors = _run_threads([job(*step) for step in plan])
    assert errors == []
    started = [i for i in engine.store._instances if i not in ids]  # type: ignore[attr-defined]
    _check_store(engine, definition, ids + started)
    for iid in ids:
        paid = [
            e for e in engine.history(iid) if isinstance(e, paketflow.Fired) and e.name == "pay"
        ]
        data_paid = engine.get(iid).data.get("paid", 0)
        assert data_paid == sum(e.payload["amount"] for e in paid)
    # A key recorded once: every event stored under it is a single command.
    keys = engine.store._keys  # type: ignore[attr-defined]
    for iid, _fp, version in keys.values():
        assert 1 <= version <= engine.get(iid).version


def test_two_threads_starting_one_id_one_wins(mini_doc: dict[str, Any]) -> None:
    """Many threads starting the same explicit id: exactly one start is recorded, the
    others get DuplicateInstance."""
    engine = Engine([paketflow.load_definition(mini_doc)], clock=ManualClock(at("2012-03-01")))
    outcomes: list[str] = []
    lock = threading.Lock()

    def start() -> None:
        try:
            engine.start(definition="mini", instance_id="same", data={"required": 1}, actor=HEAD)
            result = "won"
        except paketflow.DuplicateInstance:
            result = "duplicate"
        with lock:
            outcomes.append(result)

    assert _run_threads([start] * 32) == []
    assert sorted(set(outcomes)) == ["duplicate", "won"] and outcomes.count("won") == 1
    assert len(engine.history("same")) == 1


def test_keyed_start_with_default_id_runs_once_under_threads(mini_doc: dict[str, Any]) -> None:
    """Threads retrying one keyed start with the default id, at different times, all
    get the same instance and one history event."""
    clock = ManualClock(at("2012-03-01"))
    engine = Engine([paketflow.load_definition(mini_doc)], clock=clock)
    got: list[str] = []
    lock = threading.Lock()

    def start() -> None:
        inst = engine.start(
            definition="mini", data={"required": 1}, actor=HEAD, idempotency_key="req-1"
        )
        with lock:
            got.append(inst.id)
        clock.advance(paketflow_seconds(1))

    assert _run_threads([start] * 32) == []
    assert len(set(got)) == 1 and len(engine.history(got[0])) == 1


def paketflow_seconds(n: int) -> Any:
    import datetime as dt

    return dt.timedelta(seconds=n)


def test_tick_races_commands_without_raising(mini_doc: dict[str, Any]) -> None:
    """Ticks running while other threads sign on the same instances never raise, and
    each deadline tier fires once."""
    definition = paketflow.load_definition(mini_doc)
    engine = Engine([definition], clock=ManualClock(at("2012-03-01")))
    ids = [f"t{n}" for n in range(4)]
    for iid in ids:
        engine.start(definition="mini", instance_id=iid, data={"required": 1}, actor=HEAD)
    jobs: list[Callable[[], Any]] = []
    for iid in ids:
        jobs.append(lambda iid=iid: engine.sign(iid, actor=A, at=at("2012-03-02")))
        jobs.extend([lambda: engine.tick(at("2012-03-13"))] * 4)
    assert _run_threads(jobs) == []
    _check_store(engine, definition, ids)
    for iid in ids:
        escalations = [e for e in engine.history(iid) if isinstance(e, paketflow.Escalated)]
        assert len(escalations) == 1


_STEP = st.tuples(
    st.integers(0, 2),
    st.sampled_from(["pay", "ack", "sign", "start", "tick"]),
    st.one_of(st.none(), st.integers(0, 5)),
    st.integers(1, 3),
)


class ThreadedEngine(RuleBasedStateMachine):
    """A Hypothesis state machine: each step releases 8 threads at once on one shared
    Engine with a batch of commands over three instances and shared idempotency keys;
    after every step no accepted command is lost or doubled and replay equals every
    snapshot."""

    def __init__(self) -> None:
        super().__init__()
        self.engine = Engine([MINI_DEFINITION], clock=ManualClock(at("2012-03-01")))
        self.ids = [f"i{n}" for n in range(3)]
        for iid in self.ids:
            _spend_instance(self.engine, iid)
        self.key_owner: dict[str, tuple[str, ...]] = {}

    def _job(self, n: int, kind: str, key: int | None, amount: int) -> Callable[[], Any]:
        engine, iid = self.engine, self.ids[n]
        k = None if key is None else f"k{key}"
        if kind == "pay":
            return lambda: engine.fire(
                iid, "pay", actor=PAYER, data={"amount": amount}, idempotency_key=k
            )
        if kind == "ack":
            return lambda: engine.fire(iid, "ack", actor=PAYER, idempotency_key=k)
        if kind == "sign":
            return lambda: engine.sign(iid, actor=HEAD, idempotency_key=k)
        if kind == "start":
            return lambda: engine.start(
                definition="mini", data={"required": 1}, actor=HEAD, idempotency_key=k
            )
        return lambda: engine.tick(at("2012-06-01"))

    @rule(batch=st.lists(_STEP, min_size=8, max_size=32))
    def run_batch(self, batch: list[Any]) -> None:
        assert _run_threads([self._job(*step) for step in batch]) == []

    @invariant()
    def nothing_lost_or_doubled(self) -> None:
        store = self.engine.store
        every = list(store._instances)  # type: ignore[attr-defined]
        _check_store(self.engine, MINI_DEFINITION, every)
        for iid in self.ids:
            paid = [
                e
                for e in self.engine.history(iid)
                if isinstance(e, paketflow.Fired) and e.name == "pay"
            ]
            assert self.engine.get(iid).data.get("paid", 0) == sum(
                e.payload["amount"] for e in paid
            )
        # every key names one recorded command: its version is in its history
        for iid, _fp, version in store._keys.values():  # type: ignore[attr-defined]
            assert 1 <= version <= len(self.engine.history(iid))


ThreadedEngine.TestCase.settings = settings(max_examples=6, stateful_step_count=4, deadline=None)
test_threaded_engine_state_machine = ThreadedEngine.TestCase
