"""Per-step cost of the real PAKET definition (SC-1 through the public API), as a
ratio to a raw ``transitions`` trigger measured in the same rounds.

Each round times (CPU time of this process, so other load on the machine does not
count) the SC-1 scenario (every step: sign, fire, tick) and a raw trigger
on a shared machine (``model=None``, two guard callbacks), alternating; the figure is
the median over rounds of the per-round ratio, so a noisy moment moves both sides.

    python benchmarks/bench_core.py [--rounds N] [--json]

Used for the before/after figures of docs/benchmarks.md: run it with
``PYTHONPATH=<checkout>/src`` for each checkout, alternating.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
from pathlib import Path
from typing import Any

from transitions import Machine

import paketflow
from paketflow._runtime.simulate import load_scenario, run_scenario

ROOT = Path(__file__).resolve().parent.parent


class _Quiet:
    def info(self, event: str, **kw: Any) -> None:
        pass

    def bind(self, **kw: Any) -> _Quiet:
        return self


class _Cursor:
    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


def _raw() -> Any:
    yes = [lambda ev: True, lambda ev: True]
    machine = Machine(
        model=None,
        states=["A", "B"],
        initial=None,
        auto_transitions=False,
        send_event=True,
        transitions=[{"trigger": "go", "source": "A", "dest": "B", "conditions": yes}],
    )
    trigger = machine.events["go"].trigger
    return lambda: trigger(_Cursor("A"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    definition = paketflow.load_definition(ROOT / "processes" / "paket-tahap-tunggal.json")
    scenario = load_scenario(ROOT / "processes" / "scenarios" / "sc-1-saigon-2012.json")
    raw = _raw()
    ratios, step_us, raw_us = [], [], []
    engine = paketflow.Engine([definition], logger=_Quiet())  # compiled once
    for _ in range(args.rounds):
        gc.collect()
        engine.store = paketflow.MemoryStore()
        t0 = time.process_time()
        result = run_scenario(definition, scenario, engine=engine)
        steps = len(result.steps)
        t1 = time.process_time()
        n = 5000
        for _ in range(n):
            raw()
        t2 = time.process_time()
        s = (t1 - t0) / steps
        r = (t2 - t1) / n
        step_us.append(s * 1e6)
        raw_us.append(r * 1e6)
        ratios.append(s / r)
    out = {
        "sc1_step_us": statistics.median(step_us),
        "raw_trigger_us": statistics.median(raw_us),
        "ratio": statistics.median(ratios),
        "steps": steps,
    }
    if args.json:
        print(json.dumps(out))
    else:
        print(
            f"SC-1: {out['sc1_step_us']:.1f} µs/step over {steps} steps; raw trigger "
            f"{out['raw_trigger_us']:.2f} µs; ratio {out['ratio']:.1f}× (median of "
            f"{args.rounds} rounds)"
        )


if __name__ == "__main__":
    main()
