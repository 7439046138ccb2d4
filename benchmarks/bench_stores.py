"""Store benchmarks: the cost of one command on each backend, throughput of several
writer processes, timers fired per second by several workers, and what ``due`` costs
with many parked instances.

Run: ``PAKETFLOW_TEST_POSTGRES_URL=postgresql://… python benchmarks/bench_stores.py
[--quick]``. Prints a Markdown table; the figures in docs/storage.md come from it.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import psycopg

import paketflow
from test_store_reliability import (
    ANY,
    IDS,
    T0,
    counter_engine,
    run_timers,
    run_writers,
    seed_instances,
)


def pg_schema(base: str) -> str:
    schema = "bench_" + uuid.uuid4().hex[:12]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


def one_writer(url: str, n: int) -> float:
    """Mean seconds per keyed command (one process, one instance)."""
    engine = counter_engine(url)
    engine.start(definition="counter", instance_id="one", data={"n": 0}, actor=ANY, at=T0)
    start = time.perf_counter()
    for i in range(n):
        engine.fire("one", "inc", actor=ANY, at=T0, idempotency_key=f"k{i}")
    return (time.perf_counter() - start) / n


def timed(call: object, *args: object) -> float:
    start = time.perf_counter()
    call(*args)  # type: ignore[operator]
    return time.perf_counter() - start


def due_cost(url: str, parked: int) -> float:
    """Seconds for one due() that finds nothing, with ``parked`` armed instances."""
    seed_instances(url, [f"p{n:06d}" for n in range(parked)])
    store = paketflow.open_store(url)
    start = time.perf_counter()
    for _ in range(20):
        store.due(T0)
    return (time.perf_counter() - start) / 20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    base = os.environ["PAKETFLOW_TEST_POSTGRES_URL"]
    scale = 1 if args.quick else 4
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        for name, url in (
            ("memory", "memory://"),
            ("sqlite", f"sqlite:///{tmp / 'one.db'}"),
            ("postgresql", pg_schema(base)),
        ):
            rows.append((f"one keyed command ({name}), µs", one_writer(url, 200 * scale) * 1e6))
        (tmp / "w1").mkdir()
        url = f"sqlite:///{tmp / 'w.db'}"
        seed_instances(url, IDS)
        n = 500 * scale
        rows.append(
            (
                f"4 writers x {n} (sqlite), commands/s",
                4 * n / timed(run_writers, url, tmp / "w1", 4, n, IDS),
            )
        )
        (tmp / "w2").mkdir()
        url = pg_schema(base)
        seed_instances(url, IDS)
        n = 1000 * scale
        rows.append(
            (
                f"8 writers x {n} (postgresql), commands/s",
                8 * n / timed(run_writers, url, tmp / "w2", 8, n, IDS),
            )
        )
        (tmp / "t").mkdir()
        count = 5000 * scale
        rows.append(
            (
                f"{count} timers, 8 workers (postgresql), s (start + fire)",
                timed(run_timers, pg_schema(base), tmp / "t", count, 8),
            )
        )
        for parked in (1000, 10_000 * scale):
            rows.append(
                (
                    f"due() with {parked} parked (sqlite), µs",
                    due_cost(f"sqlite:///{tmp / f'd{parked}.db'}", parked) * 1e6,
                )
            )
    with psycopg.connect(base, autocommit=True) as conn:
        for (schema,) in conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bench_%'"
        ).fetchall():
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
    print("| measure | value |\n|---|---|")
    for label, value in rows:
        print(f"| {label} | {value:,.1f} |")
    print(f"\n{dt.date.today()}, {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
