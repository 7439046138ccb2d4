"""Section 3 of ``benchmarks/run.py``: durable stores.

Wall time here (a commit waits for the disk, which CPU time does not see), so every
figure is a ratio to a rate measured in the same rounds:

- **F**: raw ``write`` + ``fsync`` of 4 KiB to a file in the same directory as the
  database, per second;
- **SQLite, single**: SC-1 through the public API on an SQLiteStore, one commit per
  command (``synchronous=FULL``: each is on disk when the call returns);
- **SQLite, batched**: the same steps for :data:`BATCH` instances at a time, the
  k-th step of each instance inside one ``store.batch()`` (one commit for the group);
- **PostgreSQL, 1 vs 16 connections**: SC-1 lifecycles on distinct instances by 1 and
  by 16 worker processes (one connection each), commands/s;
- **tick claiming**: instances parked with a due deadline, ticked by 1 and by 8
  worker processes sharing the store (``claim_due``), timers fired per second.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from _common import QUIET, TAHAP_TUNGGAL, Step, median, run_steps, scenario_steps, table
from _common import definition as load

import paketflow

BATCH = 50
PG_ENV = "PAKETFLOW_TEST_POSTGRES_URL"
RESULTS: dict[str, Any] = {}
# fork: the children inherit the imported modules and the loaded definition (a worker
# process starts in milliseconds instead of loading paketflow and the definition again).
_CTX = multiprocessing.get_context("fork")
_DEFINITION: list[paketflow.ProcessDefinition] = []


def _definition() -> paketflow.ProcessDefinition:
    if not _DEFINITION:
        _DEFINITION.append(load(TAHAP_TUNGGAL))
    return _DEFINITION[0]


def fsync_rate(folder: Path, n: int) -> float:
    """Raw writes of 4 KiB, each followed by ``fsync``, per second."""
    path = folder / "fsync.bin"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    block = b"\x00" * 4096
    try:
        t0 = time.perf_counter()
        for _ in range(n):
            os.write(fd, block)
            os.fsync(fd)
        return n / (time.perf_counter() - t0)
    finally:
        os.close(fd)
        path.unlink()


def _sqlite_single(engine: paketflow.Engine, definition: Any, steps: list[Step], tag: str) -> float:
    t0 = time.perf_counter()
    n = run_steps(engine, definition, steps, f"single-{tag}")
    return n / (time.perf_counter() - t0)


def _sqlite_batched(
    engine: paketflow.Engine, definition: Any, steps: list[Step], tag: str, group: int
) -> float:
    store: Any = engine.store
    ids = [f"batch-{tag}-{k}" for k in range(group)]
    t0 = time.perf_counter()
    for step in steps:
        with store.batch():
            for iid in ids:
                run_steps(engine, definition, [step], iid)
    return len(steps) * group / (time.perf_counter() - t0)


def _sqlite(quick: bool) -> list[list[str]]:
    definition = _definition()
    steps = [s for s in scenario_steps(definition) if s.command != "tick"]
    rounds = 2 if quick else 5
    single_steps = steps[:20] if quick else steps
    group = 10 if quick else BATCH
    f_s, single_r, batch_r, f_rates, singles, batches = [], [], [], [], [], []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        store = paketflow.open_store(f"sqlite:///{tmp / 'bench.db'}")
        engine = paketflow.Engine([definition], store=store, logger=QUIET)
        run_steps(engine, definition, steps, "warm")
        for r in range(rounds):
            f = fsync_rate(tmp, 40 if quick else 200)
            single = _sqlite_single(engine, definition, single_steps, str(r))
            batched = _sqlite_batched(
                engine, definition, steps[:20] if quick else steps, str(r), group
            )
            f_rates.append(f)
            singles.append(single)
            batches.append(batched)
            f_s.append(single / f)
            single_r.append(single / f)
            batch_r.append(batched / single)
        store.close()  # type: ignore[attr-defined]
    RESULTS.update(
        sqlite_single_f=median(f_s), sqlite_batch_x=median(batch_r), fsync=median(f_rates)
    )
    return [
        ["raw write (4 KiB) + fsync, F", f"{median(f_rates):,.0f} /s", "1 (baseline)"],
        [
            "SQLite, one commit per command (SC-1 steps)",
            f"{median(singles):,.0f} commands/s",
            f"{median(single_r):.2f}·F",
        ],
        [
            f"SQLite, {group} commands per `batch()`",
            f"{median(batches):,.0f} commands/s",
            f"{median(batch_r):.1f}× single ({median(batches) / median(f_rates):.1f}·F)",
        ],
    ]


# -- PostgreSQL and tick claiming: worker processes ------------------------------------------


def _pg_schema(base: str) -> str:
    import psycopg

    schema = "bench_" + uuid.uuid4().hex[:12]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


def _drop_bench_schemas(base: str) -> None:
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bench\\_%'"
        ).fetchall()
        for (schema,) in rows:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def _lifecycle_worker(
    url: str, worker: int, lifecycles: int, go: Any, out: Any, quick: bool
) -> None:
    """Child: run ``lifecycles`` SC-1 lifecycles (no ticks) on its own connection."""
    from paketflow._store.postgres import PostgresStore

    definition = _definition()
    steps = [s for s in scenario_steps(definition) if s.command != "tick"]
    if quick:
        steps = steps[:20]
    store = PostgresStore(url, max_connections=1)
    engine = paketflow.Engine([definition], store=store, logger=QUIET)
    go.wait()
    t0 = time.perf_counter()
    n = 0
    for k in range(lifecycles):
        n += run_steps(engine, definition, steps, f"w{worker}-{k}")
    out.put((n, time.perf_counter() - t0, time.perf_counter()))
    store.close()


def _pg_rate(url: str, workers: int, lifecycles: int, quick: bool) -> float:
    go = _CTX.Barrier(workers + 1)
    out = _CTX.Queue()
    children = [
        _CTX.Process(target=_lifecycle_worker, args=(url, w, lifecycles, go, out, quick))
        for w in range(workers)
    ]
    for child in children:
        child.start()
    go.wait()
    t0 = time.perf_counter()
    results = [out.get(timeout=900) for _ in children]
    for child in children:
        child.join(timeout=60)
    total = sum(n for n, _, _ in results)
    return total / (max(end for _, _, end in results) - t0)


def _postgres(quick: bool) -> list[list[str]]:
    base = os.environ[PG_ENV]
    rounds = 1 if quick else 3
    one_r, many_r, ratios = [], [], []
    try:
        for _ in range(rounds):
            one = _pg_rate(_pg_schema(base), 1, 1 if quick else 4, quick)
            many = _pg_rate(_pg_schema(base), 16, 1 if quick else 2, quick)
            one_r.append(one)
            many_r.append(many)
            ratios.append(many / one)
    finally:
        _drop_bench_schemas(base)
    RESULTS.update(pg_ratio=median(ratios))
    return [
        ["PostgreSQL, 1 connection (SC-1 lifecycles)", f"{median(one_r):,.0f} commands/s", "1"],
        [
            "PostgreSQL, 16 connections (16 processes)",
            f"{median(many_r):,.0f} commands/s",
            f"{median(ratios):.1f}× one connection",
        ],
    ]


def _parked_seed(url: str, ids: list[str], prototype: Any) -> None:
    """Record ``ids`` as copies of the parked SC-1 instance (its 29 events)."""
    from paketflow._store import _codec

    store: Any = paketflow.open_store(url)
    events = [e.to_dict() for e in prototype[1]]
    snap = prototype[0].to_dict()
    with store.batch():
        for iid in ids:
            store.append(
                _codec.snapshot_from_dict({**snap, "id": iid}),
                [_codec.event_from_dict({**e, "instance": iid}) for e in events],
                expected_version=0,
            )
    store.close()


def _ticker(url: str, now: dt.datetime, go: Any, out: Any) -> None:
    definition = _definition()
    store: Any = paketflow.open_store(url)
    engine = paketflow.Engine([definition], store=store, logger=QUIET)
    go.wait()
    fired = 0
    while events := engine.tick(now):  # claims batch by batch; [] once nothing is left
        fired += len(events)
    out.put((fired, time.perf_counter()))
    store.close()


def _tick_rate(url: str, workers: int, now: dt.datetime) -> tuple[int, float]:
    go = _CTX.Barrier(workers + 1)
    out = _CTX.Queue()
    children = [_CTX.Process(target=_ticker, args=(url, now, go, out)) for _ in range(workers)]
    for child in children:
        child.start()
    go.wait()
    t0 = time.perf_counter()
    results = [out.get(timeout=900) for _ in children]
    for child in children:
        child.join(timeout=60)
    fired = sum(f for f, _ in results)
    return fired, fired / (max(end for _, end in results) - t0)


def _claiming(quick: bool) -> list[list[str]]:
    from _memory import PARKED_STEPS

    definition = _definition()
    steps = scenario_steps(definition)[:PARKED_STEPS]
    engine = paketflow.Engine([definition], logger=QUIET)
    run_steps(engine, definition, steps, "proto")
    prototype = (engine.get("proto"), engine.history("proto"))
    due = prototype[0].next_deadline_at
    assert due is not None
    count = 100 if quick else 2000
    rows = []
    base = os.environ.get(PG_ENV)
    backends: list[tuple[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        backends.append(("SQLite", lambda k: f"sqlite:///{Path(folder) / f'tick{k}.db'}"))
        if base:
            backends.append(("PostgreSQL", lambda k: _pg_schema(base)))
        try:
            for name, make in backends:
                rates = {}
                for workers in (1, 8):
                    url = make(workers)
                    _parked_seed(url, [f"t{i:06d}" for i in range(count)], prototype)
                    fired, rate = _tick_rate(url, workers, due)
                    assert fired == count, (name, workers, fired, count)
                    rates[workers] = rate
                rows.append(
                    [
                        f"tick claiming, {name}, {count:,} due, 1 → 8 worker processes",
                        f"{rates[1]:,.0f} → {rates[8]:,.0f} timers/s",
                        f"{rates[8] / rates[1]:.1f}×",
                    ]
                )
        finally:
            if base:
                _drop_bench_schemas(base)
    return rows


def run(quick: bool) -> str:
    out = [
        "## 3. Durability",
        "",
        "Wall time (a commit waits for the disk); each ratio is the median over rounds "
        "of a ratio measured within one round.",
        "",
    ]
    rows = _sqlite(quick)
    if os.environ.get(PG_ENV):
        rows += _postgres(quick)
        pg_note = None
    else:
        pg_note = (
            f"PostgreSQL: skipped, {PG_ENV} is not set (set it to a libpq URL, e.g. "
            "postgresql://user:password@localhost:5432/db, to measure 1 vs 16 connections)."
        )
        RESULTS.update(pg_ratio=None)
    with contextlib.suppress(KeyboardInterrupt):
        rows += _claiming(quick)
    out.append(table(["measure", "value", "ratio"], rows))
    if pg_note:
        out += ["", pg_note]
    return "\n".join(out)
