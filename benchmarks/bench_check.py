"""Checker benchmark: states and commands per second of ``paketflow check`` on
processes/paket.json, and peak memory per visited state.

Run: ``python benchmarks/bench_check.py [--quick]``. Prints a Markdown table. Not part
of the test suite: speed targets are measured here, never asserted in tests.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from pathlib import Path

from paketflow import load_definition
from paketflow.testing import check

ROOT = Path(__file__).resolve().parent.parent
SC2 = ROOT / "processes" / "scenarios" / "sc-2-mekar-sari-2013.json"

# (scenario steps, depth): from the start, and from the verification state
RUNS = [(1, 8), (19, 3), (30, 2)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller depths")
    args = parser.parse_args()
    definition = load_definition(ROOT / "processes" / "paket.json")
    print("| from SC-2 step | depth | states | commands | s | states/s | commands/s | KB/state |")
    print("|---|---|---|---|---|---|---|---|")
    for steps, depth in RUNS:
        depth = max(1, depth - 2) if args.quick else depth
        started = time.perf_counter()
        result = check(definition, depth=depth, from_scenario=SC2, steps=steps)
        seconds = time.perf_counter() - started
        tracemalloc.start()  # a second run for memory: tracing slows the search down
        check(definition, depth=depth, from_scenario=SC2, steps=steps)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(
            f"| {steps} | {depth} | {result.states} | {result.commands} | {seconds:.1f} | "
            f"{result.states / seconds:.0f} | {result.commands / seconds:.0f} | "
            f"{peak / 1024 / max(result.states, 1):.1f} |"
        )


if __name__ == "__main__":
    main()
