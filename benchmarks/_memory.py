"""Section 2 of ``benchmarks/run.py``: memory per parked instance and garbage-collector
pauses.

A *parked* instance is SC-1 after its first :data:`PARKED_STEPS` steps (29 events:
proposal, verification, agreement signed; waiting for the funds in
``MENUNGGU_PENCAIRAN`` with the funds deadline armed): what most live PAKET instances
look like at any moment.

- Bytes per parked instance (``tracemalloc``, a sample of instances run through the
  public API): the snapshot (objects reachable from the ``Instance`` and from no other
  instance or the definition), the history the MemoryStore keeps, the store's own
  structures; the same instances on an SQLiteStore (heap and file); a transitions
  ``Machine`` per instance, a python-statemachine machine per instance and a
  SpiffWorkflow workflow per instance, each parked at the same task.
- Resident memory (``/proc/self/statm``) of a population of 100k (and, with
  ``--full``, 1M) parked snapshots, decoded from the stored form (fresh objects, as a
  store loading them would build).
- The longest single ``start()`` among new instances started while the population is
  live, with the collector as configured by default and after ``gc.freeze()``.
"""

from __future__ import annotations

import gc
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import QUIET, TAHAP_TUNGGAL, Step, cpu, fmt_us, run_steps, scenario_steps, table
from _common import definition as load

import paketflow
from paketflow._store import _codec

PARKED_STEPS = 29
#: The recipe measured: ``gc.freeze()`` after every this many instances loaded.
FREEZE_EVERY = 1000
RESULTS: dict[str, Any] = {}


def _deep(obj: Any, seen: set[int]) -> int:
    """Bytes of the objects reachable from ``obj`` not in ``seen`` (adds them)."""
    total, stack = 0, [obj]
    while stack:
        o = stack.pop()
        if id(o) in seen or isinstance(o, type):
            continue
        seen.add(id(o))
        total += sys.getsizeof(o)
        stack.extend(gc.get_referents(o))
    return total


def _traced(build: Callable[[], Any]) -> tuple[int, Any]:
    """Bytes allocated (and still held) by ``build()``, and its result."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = build()
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return after - before, kept


def _paketflow_memory(
    definition: paketflow.ProcessDefinition, steps: list[Step], n: int
) -> dict[str, float]:
    engine = paketflow.Engine([definition], logger=QUIET)
    run_steps(engine, definition, steps, "warm")  # compile caches, lazy imports
    engine.store = store = paketflow.MemoryStore()

    def build() -> None:
        for i in range(n):
            run_steps(engine, definition, steps, f"parked-{i:06d}")

    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    build()
    gc.collect()
    total = tracemalloc.get_traced_memory()[0] - base
    # The snapshot: what each Instance reaches that the definition and other instances
    # do not (shared strings of the definition are not the instance's cost).
    shared: set[int] = set()
    _deep(engine._resolve(definition), shared)
    _deep(definition, shared)
    instances = [store.load(f"parked-{i:06d}") for i in range(n)]
    snapshot = sum(_deep(inst, shared) for inst in instances) / n
    events = sum(len(store.history(f"parked-{i:06d}")) for i in range(n)) / n
    gc.collect()
    held = tracemalloc.get_traced_memory()[0]
    store._events.clear()
    gc.collect()
    history = (held - tracemalloc.get_traced_memory()[0]) / n
    tracemalloc.stop()
    return {
        "total": total / n,
        "snapshot": snapshot,
        "history": history,
        "store": total / n - snapshot - history,
        "events": events,
        "gc_objects": _tracked(lambda: [_codec.snapshot_from_dict(i.to_dict()) for i in instances])
        / n,
    }


def _tracked(build: Callable[[], Any]) -> int:
    gc.collect()
    before = len(gc.get_objects())
    kept = build()
    gc.collect()
    count = len(gc.get_objects()) - before
    del kept
    return count


def _sqlite_memory(
    definition: paketflow.ProcessDefinition, steps: list[Step], n: int
) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        store: Any = paketflow.open_store(f"sqlite:///{Path(folder) / 'parked.db'}")
        cache = store.snapshot_cache
        store.snapshot_cache = 0  # the per-instance cost; the bounded cache is shown apart
        engine = paketflow.Engine([definition], store=store, logger=QUIET)
        for i in range(n):  # warm: statement caches, the page cache, lazy imports
            run_steps(engine, definition, steps, f"warm-{i:06d}")

        def build() -> None:
            for i in range(n):
                run_steps(engine, definition, steps, f"parked-{i:06d}")

        heap, _ = _traced(build)  # what n more parked instances add to the heap
        store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = sum(p.stat().st_size for p in Path(folder).iterdir())
        store.close()
    return {"heap": heap / n, "disk": size / (2 * n), "cache": cache}


def _transitions_memory(
    definition: paketflow.ProcessDefinition, parked_state: str, n: int
) -> float:
    from transitions import Machine

    compiled = paketflow.Engine([definition], logger=QUIET)._resolve(definition).machine
    spec = [
        {"trigger": name, "source": src, "dest": move.dest, "conditions": ["g1", "g2"]}
        for name, event in compiled.events.items()
        for src, moves in event.transitions.items()
        for move in moves
    ]

    class Model:
        def g1(self, *a: Any) -> bool:
            return True

        def g2(self, *a: Any) -> bool:
            return True

    states = list(definition.states)

    def build() -> list[Any]:
        out = []
        for _ in range(n):
            model = Model()
            Machine(
                model=model,
                states=states,
                transitions=spec,
                initial=parked_state,
                auto_transitions=False,
            )
            out.append(model)
        return out

    size, _ = _traced(build)
    return size / n


def _spiff_memory(
    definition: paketflow.ProcessDefinition, spiff_data: list[dict[str, Any]], n: int
) -> float | None:
    try:
        from lxml import etree
        from SpiffWorkflow.bpmn import BpmnWorkflow
        from SpiffWorkflow.bpmn.parser import BpmnParser
        from SpiffWorkflow.util.task import TaskState
    except ImportError:
        return None
    from paketflow._export import to_bpmn

    parser = BpmnParser()
    parser.add_bpmn_xml(etree.fromstring(to_bpmn(definition).encode()), filename="paket.bpmn")
    spec = parser.get_spec(f"Process_{definition.id.replace('-', '_')}")

    def build() -> list[Any]:
        out = []
        for _ in range(n):
            workflow = BpmnWorkflow(spec)
            workflow.do_engine_steps()
            for data in spiff_data:
                (task,) = workflow.get_tasks(state=TaskState.READY, manual=True)
                task.set_data(**data)
                task.run()
                workflow.do_engine_steps()
            out.append(workflow)
        return out

    size, _ = _traced(build)
    return size / n


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def _grow(
    definition: paketflow.ProcessDefinition,
    start: Step,
    prototype: dict[str, Any],
    n: int,
    every: int,
    freeze_every: int | None,
) -> dict[str, float]:
    """Grow a population of ``n`` parked snapshots (decoded from the stored form: fresh
    objects, as a store loading them builds) while a live engine serves one ``start()``
    per ``every`` snapshots added; return the worst and median ``start()`` CPU time
    (and the worst wall time, which on a shared machine also holds preemption), the
    resident bytes per snapshot, a full collection's CPU time at the end (what the one
    call that triggers it waits for), and with ``freeze_every`` the worst
    housekeeping call (``gc.freeze()`` every ``freeze_every`` snapshots)."""
    engine = paketflow.Engine([definition], logger=QUIET)
    assert start.actor is not None
    gc.collect()
    rss0 = _rss()
    population: dict[str, paketflow.Instance] = {}
    times, cpus, chores = [], [], [0.0]
    for i in range(n):
        iid = f"p{i:07d}"
        population[iid] = _codec.snapshot_from_dict({**prototype, "id": iid})
        if i % every == 0:
            t0, c0 = time.perf_counter(), cpu()
            engine.start(
                definition=definition,
                instance_id=f"new-{i}",
                data=start.data,
                actor=start.actor,
                at=start.at,
            )
            times.append(time.perf_counter() - t0)
            cpus.append(cpu() - c0)
        if freeze_every and i % freeze_every == freeze_every - 1:
            t0 = time.perf_counter()
            gc.freeze()
            chores.append(time.perf_counter() - t0)
    rss = (_rss() - rss0) / n
    c0 = cpu()
    gc.collect()
    full = cpu() - c0
    gc.unfreeze()
    del population, engine
    gc.collect()
    times.sort()
    cpus.sort()
    return {
        "worst": cpus[-1],
        "wall": times[-1],
        "median": cpus[len(cpus) // 2],
        "rss": rss,
        "full": full,
        "chore": max(chores),
    }


def _gc_pauses(
    definition: paketflow.ProcessDefinition, steps: list[Step], sizes: list[int], starts: int
) -> list[list[str]]:
    engine = paketflow.Engine([definition], logger=QUIET)
    run_steps(engine, definition, steps, "proto")
    prototype = engine.get("proto").to_dict()
    rows = []
    for n in sizes:
        every = max(1, n // starts)
        plain = _grow(definition, steps[0], prototype, n, every, None)
        frozen = _grow(definition, steps[0], prototype, n, every, FREEZE_EVERY)
        rows.append(
            [
                f"{n:,}",
                f"{plain['rss']:,.0f} B",
                f"{plain['worst'] * 1e3:,.1f} ms (wall {plain['wall'] * 1e3:,.1f} ms)",
                f"{plain['full'] * 1e3:,.0f} ms",
                f"{frozen['worst'] * 1e3:,.1f} ms (wall {frozen['wall'] * 1e3:,.1f} ms)",
                f"{frozen['chore'] * 1e3:,.1f} ms",
                f"{frozen['full'] * 1e3:,.1f} ms",
                fmt_us(frozen["median"]),
            ]
        )
        # Default collector: sooner or later one call runs the full collection.
        RESULTS[f"pause_{n}"] = max(plain["worst"], plain["full"])
        RESULTS[f"pause_frozen_{n}"] = max(frozen["worst"], frozen["chore"], frozen["full"])
    return rows


def run(quick: bool, full: bool) -> str:
    from _lifecycle import _recorded

    definition = load(TAHAP_TUNGGAL)
    all_steps = scenario_steps(definition)
    steps = all_steps[:PARKED_STEPS]
    n = 10 if quick else 500
    pf = _paketflow_memory(definition, steps, n)
    sq = _sqlite_memory(definition, steps, max(5, n // 10))
    engine = paketflow.Engine([definition], logger=QUIET)
    run_steps(engine, definition, steps, "x")
    parked_state = engine.get("x").state
    _, spiff_all = _recorded(definition, all_steps)
    fired_before = sum(1 for e in engine.history("x") if e.type == "fired")
    tr = _transitions_memory(definition, parked_state, n)
    sp = _spiff_memory(definition, spiff_all[:fired_before], max(5, n // 10))
    RESULTS.update(snapshot=pf["snapshot"], history=pf["history"], sqlite_heap=sq["heap"])
    out = [
        "## 2. Memory",
        "",
        f"A parked instance: SC-1 after {PARKED_STEPS} steps ({pf['events']:.0f} events, "
        f"state `{parked_state}`, the funds deadline armed). Bytes per instance over "
        f"{n} instances run through the public API (`tracemalloc`).",
        "",
    ]
    rows = [
        ["paketflow snapshot (`Instance`, its own objects)", f"{pf['snapshot']:,.0f} B"],
        ["paketflow history in the MemoryStore", f"{pf['history']:,.0f} B"],
        ["MemoryStore structures (index entries, heap entry)", f"{pf['store']:,.0f} B"],
        ["paketflow + MemoryStore, total", f"{pf['total']:,.0f} B"],
        ["paketflow + SQLiteStore, Python heap", f"{sq['heap']:,.0f} B"],
        [
            f"SQLiteStore's snapshot cache (bounded: the last {sq['cache']:,} snapshots "
            "written or read, whatever the number parked)",
            f"{sq['cache'] * pf['snapshot'] / 2**20:,.1f} MiB in all",
        ],
        [
            "paketflow + SQLiteStore, database file (snapshot, events, timers)",
            f"{sq['disk']:,.0f} B",
        ],
        ["transitions, a `Machine` per instance (same states and moves)", f"{tr:,.0f} B"],
    ]
    if sp is not None:
        rows.append(["SpiffWorkflow, a workflow per instance, at the same task", f"{sp:,.0f} B"])
    out.append(table(["what", "bytes per parked instance"], rows))
    starts = 300 if quick else 2000
    sizes = [2_000, 10_000] if quick else ([100_000, 1_000_000] if full else [100_000])
    out += [
        "",
        "Garbage collector: a population of parked snapshots grows (decoded from the stored "
        f"form, {pf['gc_objects']:.0f} objects tracked by the collector per snapshot) while "
        f"the engine serves about {starts:,} `start()` calls spread over the growth, each timed "
        "(CPU time; wall time in parentheses). Default collector, then the recipe of "
        "docs/performance.md "
        f"(`gc.freeze()` after every {FREEZE_EVERY:,} instances loaded or started):",
        "",
        table(
            [
                "parked",
                "resident per snapshot",
                "worst `start()`, default collector",
                "full collection (default)",
                "worst `start()`, recipe",
                "worst `gc.freeze()` call",
                "full collection (recipe)",
                "median `start()`",
            ],
            _gc_pauses(definition, all_steps[:PARKED_STEPS], sizes, starts),
        ),
    ]
    return "\n".join(out)
