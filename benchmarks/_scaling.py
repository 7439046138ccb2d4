"""Section 4 of ``benchmarks/run.py``: scaling.

- ``tick`` on a MemoryStore holding 10k, 100k (and, with ``--full``, 1M) parked SC-1
  snapshots, with none due and with 100 due (CPU time; the snapshots are decoded from
  the stored form and placed in the store's index directly: ``tick`` reads snapshots
  and the timer heap, never histories);
- replay: events per second folding long histories of the real definition, where
  every added event only sets values, and where each appends to a list (two lengths
  each, so a cost that grows with the length shows);
- ``load_definition`` and compile (``Engine([definition])``) of processes/paket.json;
- ``paketflow check``: states per second of the bounded checker on paket.json.
"""

from __future__ import annotations

import datetime as dt
import gc
import heapq
from typing import Any

import attrs
from _common import PAKET, QUIET, SC2, TAHAP_TUNGGAL, cpu, fmt_us, median, run_steps, table
from _common import definition as load
from _common import scenario_steps as _steps

import paketflow
from paketflow._store import _codec

RESULTS: dict[str, Any] = {}


def _prototypes(definition: paketflow.ProcessDefinition) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two parked snapshots in stored form: SC-1 after 29 steps (funds deadline
    2012-06-05) and after 21 steps (verification deadline 2012-05-22)."""
    steps = _steps(definition)
    out = []
    for k in (29, 21):
        engine = paketflow.Engine([definition], logger=QUIET)
        run_steps(engine, definition, steps[:k], "proto")
        out.append(engine.get("proto").to_dict())
    return out[0], out[1]


def _place(store: paketflow.MemoryStore, snapshot: dict[str, Any], iid: str) -> None:
    instance = _codec.snapshot_from_dict({**snapshot, "id": iid})
    store._instances[iid] = instance
    nxt = instance.next_deadline_at
    if nxt is not None:
        heapq.heappush(store._heap, (nxt, iid))


def _ticks(sizes: list[int], rounds: int) -> list[list[str]]:
    definition = load(TAHAP_TUNGGAL)
    parked, early = _prototypes(definition)
    quiet_time = dt.datetime.fromisoformat("2012-05-20T12:00:00+07:00")  # nothing due
    due_time = dt.datetime.fromisoformat("2012-05-25T12:00:00+07:00")  # `early` ones due
    rows, none_by, hundred_by = [], {}, {}
    for n in sizes:
        store = paketflow.MemoryStore()
        engine = paketflow.Engine([definition], store=store, logger=QUIET)
        for i in range(n):
            _place(store, parked, f"p{i:07d}")
        gc.collect()
        gc.freeze()  # the population is not what is measured here (section 2 is)
        none, hundred = [], []
        for r in range(rounds):
            reps = 2000
            t0 = cpu()
            for _ in range(reps):
                if engine.tick(quiet_time):
                    raise AssertionError("nothing should be due")
            none.append((cpu() - t0) / reps)
            for k in range(100):
                _place(store, early, f"due-{r}-{k}")
            t0 = cpu()
            fired = engine.tick(due_time)
            hundred.append(cpu() - t0)
            if len(fired) < 100:
                raise AssertionError(f"expected 100 due, fired {len(fired)}")
        gc.unfreeze()
        none_by[n], hundred_by[n] = median(none), median(hundred)
        rows.append([f"{n:,}", fmt_us(none_by[n]), f"{hundred_by[n] * 1e3:,.2f} ms"])
        del store, engine
        gc.collect()
    lo, hi = sizes[0], sizes[-1]
    RESULTS.update(
        tick_growth_none=none_by[hi] / none_by[lo],
        tick_growth_100=hundred_by[hi] / hundred_by[lo],
        tick_sizes=(lo, hi),
    )
    rows.append(
        [
            f"growth {lo:,} → {hi:,}",
            f"{none_by[hi] / none_by[lo]:.2f}×",
            f"{hundred_by[hi] / hundred_by[lo]:.2f}×",
        ]
    )
    return rows


def _long_history(
    history: list[paketflow.Event], template: paketflow.Event, extra: int
) -> list[paketflow.Event]:
    seq = history[-1].seq
    out = list(history)
    for k in range(1, extra + 1):
        out.append(attrs.evolve(template, seq=seq + k))
    return out


def _replay(lengths: list[int], rounds: int) -> list[list[str]]:
    definition = load(TAHAP_TUNGGAL)
    engine = paketflow.Engine([definition], logger=QUIET)
    steps = _steps(definition)
    run_steps(engine, definition, steps, "sc1")
    full = engine.history("sc1")
    # In PELAKSANAAN (implementation) two internal commands: `peruntukan_dipahami` only
    # sets values, `kemajuan_dilaporkan` also appends a progress report to a list.
    cut = next(
        i for i, e in enumerate(full) if e.type == "fired" and e.name == "kemajuan_dilaporkan"
    )
    prefix = full[:cut]
    setter = next(e for e in prefix if e.type == "fired" and e.name == "peruntukan_dipahami")
    appender = full[cut]
    assert all(op.op == "set" for op in setter.ops)  # type: ignore[attr-defined]
    assert any(op.op == "append" for op in appender.ops)  # type: ignore[attr-defined]
    histories = [(f"SC-1, whole history ({len(full)} events, mixed)", full)]
    for length in lengths:
        histories.append(
            (f"set-only, {length:,} events", _long_history(prefix, setter, length - len(prefix)))
        )
        histories.append(
            (
                f"appending, {length:,} events",
                _long_history(prefix, appender, length - len(prefix)),
            )
        )
    rows = []
    for label, events in histories:
        paketflow.replay(definition, events)  # checks it folds
        rates = []
        for _ in range(rounds):
            t0 = cpu()
            paketflow.replay(definition, events)
            rates.append(len(events) / (cpu() - t0))
        rows.append([label, f"{median(rates):,.0f} events/s"])
        RESULTS[f"replay:{label.split(',')[0]}"] = min(
            RESULTS.get(f"replay:{label.split(',')[0]}", float("inf")), median(rates)
        )
    return rows


def _load(rounds: int) -> list[list[str]]:
    from paketflow._compile import compile_definition

    loads, compiles = [], []
    for _ in range(rounds):
        t0 = cpu()
        definition = paketflow.load_definition(PAKET)
        t1 = cpu()
        compile_definition(definition)
        t2 = cpu()
        loads.append(t1 - t0)
        compiles.append(t2 - t1)
    RESULTS.update(load_ms=median(loads) * 1e3, compile_ms=median(compiles) * 1e3)
    return [
        ["`load_definition(paket.json)`", f"{median(loads) * 1e3:,.1f} ms"],
        ["compile (machine, validators, calendars)", f"{median(compiles) * 1e3:,.1f} ms"],
    ]


def _check(quick: bool) -> list[list[str]]:
    from paketflow.testing import check

    definition = load(PAKET)
    rows = []
    runs = [(19, 2)] if quick else [(19, 3), (1, 6)]
    best = 0.0
    for steps, depth in runs:
        t0 = cpu()
        result = check(definition, depth=depth, from_scenario=SC2, steps=steps)
        seconds = cpu() - t0
        rate = result.states / seconds
        best = max(best, rate)
        rows.append(
            [
                f"`check` from SC-2 step {steps}, depth {depth}",
                f"{result.states:,} states, {result.commands:,} commands in {seconds:.1f} s: "
                f"{rate:,.0f} states/s",
            ]
        )
    RESULTS.update(check_rate=best)
    return rows


def run(quick: bool, full: bool) -> str:
    sizes = [1_000, 10_000] if quick else [10_000, 100_000] + ([1_000_000] if full else [])
    out = [
        "## 4. Scaling",
        "",
        "`tick` on a MemoryStore with parked SC-1 snapshots (CPU time per call, median "
        "over rounds; the 100 due instances are added afresh each round):",
        "",
        table(["parked", "tick, none due", "tick, 100 due"], _ticks(sizes, 3 if quick else 7)),
        "",
        "Replay (`paketflow.replay`, a pure fold of the recorded events; CPU time):",
        "",
        table(
            ["history", "replay"],
            _replay([500, 2_000] if quick else [1_000, 10_000], 3 if quick else 7),
        ),
        "",
        table(["definition", "CPU time (median)"], _load(1 if quick else 9)),
        "",
        table(["checker", "result"], _check(quick)),
    ]
    return "\n".join(out)
