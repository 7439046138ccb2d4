"""Reliability of the durable stores under many processes, crashes and retries.

- concurrency: writer processes over a few hot and many cold instances — no event
  lost or duplicated, gapless sequences, replay == snapshot, chains verify;
- crashes: writers killed with SIGKILL (SQLite) and PostgreSQL stopped immediately
  under load — every acknowledged command present, in-doubt commands re-sent with
  their keys add nothing;
- a disbursement (``dana_disalurkan``) sent concurrently with one key pays once;
- timers due at once, ticked by many workers, each fire exactly once.

CI sizes run by default; ``-m soak`` runs the larger sizes reported in
docs/storage.md.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import multiprocessing
import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import paketflow
from conftest import WIB, postgres_base_url
from paketflow import Actor, Engine, _audit
from paketflow._runtime.simulate import load_scenario, run_scenario
from paketflow._store._sql import SQLStore

ROOT = Path(__file__).resolve().parent.parent
# Children come from a fork server started before any store is open: a process forked
# while its parent holds an SQLite connection inherits SQLite's in-memory lock
# bookkeeping and may write without the file lock (SQLite's documented fork hazard).
FORK = multiprocessing.get_context("forkserver")
FORK.set_forkserver_preload(["paketflow", "paketflow._runtime.simulate", "psycopg"])
T0 = dt.datetime(2012, 1, 2, 9, tzinfo=WIB)
ANY = Actor("worker", {"ANY"})


def L(text: str) -> dict[str, str]:
    return {"id": text + " (id)", "en": text}


#: A counter: ``inc`` adds 1 to /n (so /n must equal the number of accepted incs);
#: a one-day timeout moves an open counter to EXPIRED.
COUNTER: dict[str, Any] = {
    "format": 1,
    "id": "counter",
    "version": "1.0.0",
    "labels": L("Counter"),
    "timezone": "Asia/Pontianak",
    "roles": {"ANY": {"labels": L("Anyone")}},
    "events": {
        "inc": {"labels": L("Increment")},
        "close": {"labels": L("Close")},
        "expire": {"labels": L("Expire")},
    },
    "data": {"type": "object"},
    "initial": "OPEN",
    "states": {
        "OPEN": {
            "labels": L("Open"),
            "deadlines": {
                "TM": {
                    "due": {"duration": "P1D"},
                    "timeout": {"after": "P0D", "event": "expire", "target": "EXPIRED"},
                }
            },
            "on": {
                "inc": {
                    "roles": ["ANY"],
                    "target": "OPEN",
                    "effects": [{"add": "/n", "value": 1}],
                },
                "close": {"roles": ["ANY"], "target": "DONE"},
            },
        },
        "EXPIRED": {"labels": L("Expired"), "final": True},
        "DONE": {"labels": L("Done"), "final": True},
    },
}
DEFINITION = paketflow.load_definition(COUNTER)


class Quiet:
    """A logger that drops everything (child processes must not flood the output)."""

    def info(self, *args: Any, **kwargs: Any) -> None:
        pass


def counter_engine(url: str) -> Engine:
    return Engine([DEFINITION], store=paketflow.open_store(url), logger=Quiet())


def seed_instances(url: str, ids: list[str]) -> None:
    engine = counter_engine(url)
    for iid in ids:
        engine.start(definition="counter", instance_id=iid, data={"n": 0}, actor=ANY, at=T0)


def writer(url: str, worker: int, commands: int, ids: list[str], log: str, resend: bool) -> None:
    """Child process: ``commands`` keyed incs, half on the first two (hot) instances.
    Logs ``try KEY IID`` before and ``ack KEY IID`` after each command. On a lost
    database (``StoreError``) it re-sends the same key until it is acknowledged."""
    rng = random.Random(worker)
    engine = counter_engine(url)
    with open(log, "a", encoding="utf-8") as out, _reported(out):
        for i in range(commands):
            iid = ids[rng.randrange(2)] if rng.random() < 0.5 else rng.choice(ids)
            key = f"w{worker}-{i}"
            out.write(f"try {key} {iid}\n")
            out.flush()
            while True:
                try:
                    paketflow.retry_on_conflict(
                        lambda iid=iid, key=key: engine.fire(  # type: ignore[misc]
                            iid, "inc", actor=ANY, at=T0, idempotency_key=key
                        ),
                        attempts=500,
                    )
                    break
                except paketflow.StoreError:
                    if not resend:
                        raise
                    out.write(f"lost {key} {iid}\n")
                    out.flush()
                    time.sleep(0.2)
            out.write(f"ack {key} {iid}\n")
            out.flush()


@contextlib.contextmanager
def _reported(out: Any) -> Iterator[None]:
    """Write an unexpected exception of a child to its log (pytest does not show a
    child's stderr), then re-raise it."""
    try:
        yield
    except BaseException as exc:
        out.write(f"crash {type(exc).__name__}: {exc}\n")
        out.flush()
        raise


def read_log(log: Path) -> tuple[dict[str, str], dict[str, str]]:
    """``(tried, acknowledged)``: key → instance id."""
    tried: dict[str, str] = {}
    acked: dict[str, str] = {}
    if log.exists():
        for line in log.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0] in ("try", "ack"):
                (tried if parts[0] == "try" else acked)[parts[1]] = parts[2]
    return tried, acked


def check_integrity(url: str, ids: list[str], acked: dict[str, str]) -> dict[str, int]:
    """Every acknowledged key is recorded; per instance /n == number of recorded keys
    == events - 1, sequences are gapless, replay == snapshot, chains verify. Returns
    the keys recorded per instance."""
    store = paketflow.open_store(url)
    assert isinstance(store, SQLStore)
    for key, iid in acked.items():
        hit = store.idempotent(key)
        assert hit is not None and hit[0] == iid, key
    with store._read() as cur:
        rows = store._x(cur, "SELECT instance, COUNT(*) FROM idempotency GROUP BY instance")
        per = {str(i): int(n) for i, n in rows.fetchall()}
    for iid in ids:
        inst = store.load(iid)
        history = store.history(iid)
        assert [e.seq for e in history] == list(range(1, len(history) + 1))
        assert paketflow.replay(DEFINITION, history) == inst
        assert inst.data["n"] == per.get(iid, 0) == len(history) - 1
    report = _audit.verify(store)
    assert report.ok, report.problems[:3]
    return per


def run_writers(url: str, tmp: Path, processes: int, commands: int, ids: list[str]) -> None:
    log = tmp / "log.txt"
    children = [
        FORK.Process(target=writer, args=(url, w, commands, ids, str(log), False))
        for w in range(processes)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=600)
    crashes = [line for line in log.read_text().splitlines() if line.startswith("crash ")]
    assert crashes == []
    assert [c.exitcode for c in children] == [0] * processes
    _, acked = read_log(log)
    assert len(acked) == processes * commands
    per = check_integrity(url, ids, acked)
    assert sum(per.values()) == processes * commands


IDS = [f"c{n:03d}" for n in range(40)]


def test_sqlite_concurrent_writers(tmp_path: Path) -> None:
    """4 processes x 500 keyed commands on SQLite, hot and cold instances: nothing
    lost, nothing duplicated."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    seed_instances(url, IDS)
    run_writers(url, tmp_path, 4, 500, IDS)


def test_postgres_concurrent_writers(pg_url: str, tmp_path: Path) -> None:
    """8 processes x 1,000 keyed commands on PostgreSQL: nothing lost, nothing
    duplicated."""
    seed_instances(pg_url, IDS)
    run_writers(pg_url, tmp_path, 8, 1000, IDS)


@pytest.mark.soak
def test_soak_sqlite_concurrent_writers(tmp_path: Path) -> None:
    """Soak: 4 processes x 5,000 commands on SQLite."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    seed_instances(url, IDS)
    run_writers(url, tmp_path, 4, 5000, IDS)


@pytest.mark.soak
def test_soak_postgres_concurrent_writers(pg_url: str, tmp_path: Path) -> None:
    """Soak: 8 processes x 10,000 commands on PostgreSQL."""
    seed_instances(pg_url, IDS)
    run_writers(pg_url, tmp_path, 8, 10_000, IDS)


def resend_in_doubt(url: str, tried: dict[str, str], acked: dict[str, str]) -> None:
    """Re-send every command that was tried but not acknowledged, with its key."""
    engine = counter_engine(url)
    for key, iid in tried.items():
        if key not in acked:
            engine.fire(iid, "inc", actor=ANY, at=T0, idempotency_key=key)
            acked[key] = iid


def test_sqlite_survives_sigkill_of_writers(tmp_path: Path) -> None:
    """30 SIGKILLs of writer processes (two writers per round, killed at random
    moments): after each round every acknowledged command is present and the store
    verifies; re-sending the in-doubt commands with their keys adds each at most once."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    ids = IDS[:10]
    seed_instances(url, ids)
    rng = random.Random(7)
    kills = doubts = 0
    for round_ in range(15):
        log = tmp_path / f"log{round_}.txt"
        children = [
            FORK.Process(target=writer, args=(url, 100 * round_ + w, 10_000, ids, str(log), False))
            for w in range(2)
        ]
        for child in children:
            child.start()
        for child in children:
            time.sleep(rng.uniform(0.05, 0.25))
            assert child.pid is not None
            os.kill(child.pid, signal.SIGKILL)
            child.join()
            assert child.exitcode == -signal.SIGKILL
            kills += 1
        tried, acked = read_log(log)
        check_integrity(url, ids, acked)
        before = sum(len(paketflow.open_store(url).history(i)) for i in ids)
        doubt = len(tried) - len(acked)
        doubts += doubt
        resend_in_doubt(url, tried, acked)
        after = sum(len(paketflow.open_store(url).history(i)) for i in ids)
        assert before <= after <= before + doubt
        check_integrity(url, ids, acked)
    assert kills >= 30
    assert doubts >= 1  # some kills did land between a command and its acknowledgement


@pytest.fixture
def own_cluster() -> Any:
    """``(name, url)`` of a PostgreSQL 15 cluster created for one test (so stopping it
    disturbs no other user of the machine's main cluster); dropped afterwards."""
    import socket

    postgres_base_url()  # the same rule as every PostgreSQL test: fail in CI, else skip
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    name = f"paketflow_crash_{os.getpid()}"
    trust = ["--auth-host=trust", "--auth-local=trust"]  # initdb options
    subprocess.run(
        ["pg_createcluster", "15", name, "-p", str(port), "--start", "--", *trust],
        check=True,
        capture_output=True,
    )
    yield name, f"postgresql://postgres@127.0.0.1:{port}/postgres"
    subprocess.run(["pg_dropcluster", "15", name, "--stop"], check=True, capture_output=True)


def test_postgres_immediate_stop_under_load(own_cluster: tuple[str, str], tmp_path: Path) -> None:
    """PostgreSQL stopped with -m immediate and restarted while 4 writers run: the
    writers re-send their in-flight commands with their keys; afterwards every command
    is recorded exactly once and the store verifies."""
    cluster, pg_url = own_cluster
    ids = IDS[:10]
    seed_instances(pg_url, ids)
    log = tmp_path / "log.txt"
    children = [
        FORK.Process(target=writer, args=(pg_url, w, 300, ids, str(log), True)) for w in range(4)
    ]
    for child in children:
        child.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # stop only once every writer is writing
        _, acked = read_log(log)
        if {key.split("-")[0] for key in acked} == {f"w{w}" for w in range(4)}:
            break
        time.sleep(0.05)
    subprocess.run(["pg_ctlcluster", "15", cluster, "stop", "-m", "immediate"], check=True)
    time.sleep(0.5)
    subprocess.run(["pg_ctlcluster", "15", cluster, "start"], check=True)
    for child in children:
        child.join(timeout=600)
    crashes = [line for line in log.read_text().splitlines() if line.startswith("crash ")]
    assert crashes == []
    assert [c.exitcode for c in children] == [0] * 4
    _, acked = read_log(log)
    lines = log.read_text(encoding="utf-8").splitlines()
    assert any(line.startswith("lost ") for line in lines)  # the stop did hit the writers
    assert len(acked) == 4 * 300
    per = check_integrity(pg_url, ids, acked)
    assert sum(per.values()) == 4 * 300


# -- one disbursement, many senders --------------------------------------------------------


def _pay(url: str, step: dict[str, Any], actor: Any, barrier: Any) -> None:
    paket = paketflow.load_definition(ROOT / "processes" / "paket-tahap-tunggal.json")
    engine = Engine([paket], store=paketflow.open_store(url), logger=Quiet())
    at = dt.datetime.fromisoformat(step["at"])
    barrier.wait()
    paketflow.retry_on_conflict(
        lambda: engine.fire(
            "saigon-2012",
            "dana_disalurkan",
            actor=actor,
            data=step["data"],
            at=at,
            idempotency_key="bayar-A-1",
        ),
        attempts=50,
    )


def test_disbursement_retried_concurrently_pays_once(store_url: str) -> None:
    """SC-1 up to its first accepted payout; then 6 processes send that payout at the
    same moment with one idempotency key: exactly one dana_disalurkan event."""
    paket = paketflow.load_definition(ROOT / "processes" / "paket-tahap-tunggal.json")
    scenario = load_scenario(ROOT / "processes" / "scenarios" / "sc-1-saigon-2012.json")
    steps = scenario["steps"]
    k = next(
        i
        for i, s in enumerate(steps)
        if s.get("event") == "dana_disalurkan" and "refused" not in s.get("expect", {})
    )
    store = paketflow.open_store(store_url)
    engine = Engine([paket], store=store, logger=Quiet())
    assert run_scenario(paket, {**scenario, "steps": steps[:k]}, engine=engine).ok
    before = len(engine.history("saigon-2012"))
    actors = scenario["actors"]
    ref = actors[steps[k]["actor"]]
    actor = Actor(ref["id"], ref["roles"], ref.get("element"), ref.get("name"))
    barrier = FORK.Barrier(6)
    children = [
        FORK.Process(target=_pay, args=(store_url, steps[k], actor, barrier)) for _ in range(6)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=120)
        assert child.exitcode == 0
    again = paketflow.open_store(store_url)
    history = again.history("saigon-2012")
    paid = [e for e in history[before:] if e.name == "dana_disalurkan"]
    assert len(paid) == 1
    assert len(history) == before + 1
    kas = steps[k]["expect"]["data"]["/dana/kas"]
    assert again.load("saigon-2012").data["dana"]["kas"] == kas


# -- timers --------------------------------------------------------------------------------


def ticker(url: str, now: dt.datetime, out: str) -> None:
    store = paketflow.open_store(url)
    assert isinstance(store, SQLStore)
    engine = Engine([DEFINITION], store=store, logger=Quiet())
    fired = 0
    while True:
        events = engine.tick(now)
        if not events and not store.due(now):
            break
        fired += len(events)
    Path(out).write_text(str(fired))


def starter(url: str, ids: list[str]) -> None:
    seed_instances(url, ids)


def run_timers(url: str, tmp: Path, count: int, workers: int) -> None:
    ids = [f"t{n:06d}" for n in range(count)]
    parts = [ids[w::workers] for w in range(workers)]
    children = [FORK.Process(target=starter, args=(url, part)) for part in parts]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=900)
        assert child.exitcode == 0
    now = T0 + dt.timedelta(days=2)
    assert len(paketflow.open_store(url).due(now)) == count  # type: ignore[attr-defined]
    outs = [tmp / f"fired{w}" for w in range(workers)]
    children = [FORK.Process(target=ticker, args=(url, now, str(o))) for o in outs]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=900)
        assert child.exitcode == 0
    assert sum(int(o.read_text()) for o in outs) == count
    store = paketflow.open_store(url)
    assert isinstance(store, SQLStore)
    with store._read() as cur:
        per = store._x(
            cur, "SELECT instance, COUNT(*) FROM events WHERE type = 'timed_out' GROUP BY instance"
        ).fetchall()
    assert collections.Counter(int(n) for _, n in per) == {1: count}
    assert store.due(now) == []


def test_postgres_timers_fire_exactly_once(pg_url: str, tmp_path: Path) -> None:
    """20,000 timers due at once, 8 worker processes ticking: each fires exactly once."""
    run_timers(pg_url, tmp_path, 20_000, 8)


def test_sqlite_timers_fire_exactly_once(tmp_path: Path) -> None:
    """2,000 timers due at once on SQLite, 4 worker processes: each fires once."""
    run_timers(f"sqlite:///{tmp_path / 's.db'}", tmp_path, 2_000, 4)
