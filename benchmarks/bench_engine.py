"""Engine benchmarks: command cost against a raw ``transitions`` trigger, memory per
parked instance, and ``tick`` cost as the number of instances grows.

Run: ``python benchmarks/bench_engine.py [--quick]``. Prints a Markdown table; the
numbers in docs/benchmarks.md come from this script. Not part of the test suite: speed
targets are measured here, never asserted in tests.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import datetime as dt
import gc
import logging
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import structlog
import transitions
from transitions import Machine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import paketflow
from conftest import MINI
from paketflow import Actor, Engine

WIB = ZoneInfo("Asia/Pontianak")
QUIET = structlog.wrap_logger(
    structlog.PrintLogger(), wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING)
).bind()  # a concrete bound logger: no lazy proxy re-binding on every call
PAYER = Actor("putu", {"PAYER"})
HEAD = Actor("hadi", {"HEAD"})


class Cursor:
    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


def best(fn: Any, n: int, repeat: int = 5) -> float:
    """Best-of-``repeat`` mean seconds per call over ``n`` calls."""
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - t0) / n)
    return min(times)


def raw_trigger_cost(n: int) -> float:
    machine = Machine(
        model=None,
        states=["A", "B"],
        initial=None,
        auto_transitions=False,
        send_event=True,
        transitions=[{"trigger": "go", "source": "A", "dest": "B"}],
    )
    trigger = machine.events["go"].trigger
    return best(lambda: trigger(Cursor("A")), n)


def spend_engine(n_instances: int = 1) -> tuple[Engine, list[str]]:
    doc = copy.deepcopy(MINI)
    engine = Engine([paketflow.load_definition(doc)], logger=QUIET)
    at = dt.datetime(2012, 3, 5, 9, tzinfo=WIB)
    ids = []
    for i in range(n_instances):
        inst = engine.start(
            definition="mini", instance_id=f"i{i}", data={"required": 10}, actor=HEAD, at=at
        )
        ids.append(inst.id)
    return engine, ids


def command_cost(n: int) -> dict[str, float]:
    """Per-command seconds for representative commands on one instance."""
    engine, (iid,) = spend_engine()
    at = dt.datetime(2012, 3, 6, 9, tzinfo=WIB)
    # Walk to SPEND quickly through the public API.
    for who in (Actor("a", {"MEMBER"}, "a"), Actor("b", {"MEMBER"}, "b"), HEAD):
        engine.sign(iid, actor=who, at=at)
    engine.fire(iid, "submit", actor=HEAD, at=at)
    for c in ("c1", "c2"):
        engine.sign(iid, actor=Actor(c, {"CHECKER"}), at=at)
    engine.fire(iid, "check", actor=Actor("c1", {"CHECKER"}), data={"ok": True}, at=at)
    engine.fire(iid, "receive", actor=PAYER, data={"amount": 10**12}, at=at)
    ack = best(lambda: engine.fire(iid, "ack", actor=PAYER, at=at), n)
    # Each payout appends to a list in instance data; copy-on-write makes that O(len),
    # so measure it over a realistic ledger (hundreds of lines), not tens of thousands.
    pay = best(
        lambda: engine.fire(iid, "pay", actor=PAYER, data={"amount": 1}, at=at), 100, repeat=3
    )

    def refused() -> None:
        with contextlib.suppress(paketflow.Refused):
            engine.fire(iid, "pay", actor=HEAD, data={"amount": 1}, at=at)

    ref = best(refused, n)
    return {"ack": ack, "pay": pay, "refused": ref}


def parked_memory(n: int) -> dict[str, float]:
    """Bytes per started (parked) instance: the snapshot alone, and snapshot plus its
    history in the memory store."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    engine, ids = spend_engine(n)
    gc.collect()
    after = tracemalloc.take_snapshot()
    total = sum(s.size_diff for s in after.compare_to(before, "filename"))
    tracemalloc.stop()
    # The snapshot alone: measure building copies of the snapshots.
    insts = [engine.get(i) for i in ids[:1000]]
    tracemalloc.start()
    b2 = tracemalloc.take_snapshot()
    clones = [
        paketflow.Instance(
            id=f"x{k}",
            definition=i.definition,
            definition_version=i.definition_version,
            definition_hash=i.definition_hash,
            state=i.state,
            data=dict(i.data),
            version=i.version,
            entered_at=i.entered_at,
            deadlines=i.deadlines,
            sets=dict(i.sets),
        )
        for k, i in enumerate(insts)
    ]
    a2 = tracemalloc.take_snapshot()
    snap = sum(s.size_diff for s in a2.compare_to(b2, "filename")) / len(clones)
    tracemalloc.stop()
    return {"with_history": total / n, "snapshot": snap}


def tick_cost(n: int) -> float:
    """Seconds for one tick that finds nothing due among ``n`` parked instances."""
    engine, _ = spend_engine(n)
    now = dt.datetime(2012, 3, 10, tzinfo=WIB)
    return best(lambda: engine.tick(now), 200)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer iterations (CI smoke)")
    args = parser.parse_args()
    n = 500 if args.quick else 5000
    raw = raw_trigger_cost(n * 4)
    cmds = command_cost(n)
    mem = parked_memory(2000 if args.quick else 10_000)
    sizes = (1_000, 10_000) if args.quick else (10_000, 100_000)
    ticks = {size: tick_cost(size) for size in sizes}
    print(f"python {sys.version.split()[0]}, transitions {transitions.__version__}")
    print()
    print("| measure | value | target |")
    print("|---|---|---|")
    print(f"| raw transitions trigger (shared machine) | {raw * 1e6:.1f} µs | baseline |")
    for name, cost in cmds.items():
        ratio = f"{cost * 1e6:.1f} µs ({cost / raw:.2f}× raw)"
        print(f"| paketflow command `{name}` | {ratio} | ≤ 1.5× raw |")
    print(f"| parked instance, snapshot | {mem['snapshot']:.0f} B | ≤ 1 KB |")
    print(
        f"| parked instance, snapshot + history in MemoryStore | {mem['with_history']:.0f} B | — |"
    )
    for size, cost in ticks.items():
        print(f"| tick with nothing due, {size:,} instances | {cost * 1e6:.1f} µs | flat |")


if __name__ == "__main__":
    main()
