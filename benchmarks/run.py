"""paketflow benchmarks on the real PAKET workload, side by side with transitions,
python-statemachine and SpiffWorkflow. docs/performance.md shows the results and says
how to read them.

    python benchmarks/run.py            # standard sizes (100k parked instances)
    python benchmarks/run.py --full     # also 1M parked instances (long, see the doc)
    python benchmarks/run.py --quick    # small sizes, under a minute (CI smoke test)

Options: ``--section N`` (repeatable) runs only sections 1–4; ``--output FILE`` also
writes the Markdown report to FILE. PostgreSQL figures need
``PAKETFLOW_TEST_POSTGRES_URL`` (skipped with a message when unset). The contenders
come from the ``bench`` dependency group of pyproject.toml.

Every ratio is measured interleaved in one run (rounds alternate the contenders; the
figure is the median of the per-round ratios). CPU time of this process where the
machine's other load must not count; wall time where waiting is the point (disk
commits, pauses). Speed targets live here and in the doc, never in the test suite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import transitions

import paketflow

SECTIONS = (1, 2, 3, 4)


def _versions() -> str:
    out = [f"Python {platform.python_version()}", f"paketflow {paketflow.__version__}"]
    out.append(f"transitions {transitions.__version__}")
    for module, name in (
        ("statemachine", "python-statemachine"),
        ("SpiffWorkflow", "SpiffWorkflow"),
    ):
        try:
            from importlib.metadata import version

            out.append(f"{name} {version(name)}")
        except Exception:
            out.append(f"{name} not installed")
        del module
    return ", ".join(out)


def _verdict(value: float | None, ok: bool | None) -> str:
    if value is None or ok is None:
        return "not measured"
    return "met" if ok else "**missed**"


def targets(results: dict[str, Any], full: bool) -> list[list[str]]:
    """The targets of issue 12 with the measured value and whether each is met."""
    r = results
    rows: list[list[str]] = []

    def add(target: str, shown: str | None, ok: bool | None) -> None:
        rows.append(
            [target, shown if shown is not None else "—", _verdict(0.0 if shown else None, ok)]
        )

    if "typical_ratio" in r:
        add(
            "typical accepted command ≤ 2× raw transitions trigger",
            f"{r['typical_ratio']:.2f}× (all commands: {r['fire_ratio']:.2f}×)",
            r["typical_ratio"] <= 2,
        )
        add("SC-1 median step ≤ 25 µs", f"{r['step_us']:.1f} µs", r["step_us"] <= 25)
        spiff = r.get("spiff_ratio")
        add(
            "≥ 20× faster than SpiffWorkflow per step",
            None
            if spiff is None
            else f"{spiff:.1f}× (per SC-1 step: {r['spiff_step_ratio']:.1f}×)",
            None if spiff is None else spiff >= 20,
        )
    if "snapshot" in r:
        add(
            "parked instance ≤ 2 KB snapshot in memory",
            f"{r['snapshot']:,.0f} B",
            r["snapshot"] <= 2048,
        )
        add(
            "histories kept by durable stores off the heap",
            f"SQLiteStore: {r['sqlite_heap']:,.0f} B heap per parked instance",
            r["sqlite_heap"] <= 2048,
        )
        big = max(
            (k for k in r if k.startswith("pause_") and "frozen" not in k),
            key=lambda k: int(k.split("_")[-1]),
        )
        n = int(big.split("_")[-1])
        label = f"worst single-call pause ≤ 50 ms at {'1M' if n >= 1_000_000 else f'{n:,}'} parked"
        add(
            label + ("" if n >= 1_000_000 else " (1M needs --full)"),
            f"{r[big] * 1e3:,.1f} ms default collector; "
            f"{r['pause_frozen_' + str(n)] * 1e3:,.1f} ms with gc.freeze()",
            r[big] <= 0.05,
        )
    if "tick_growth_none" in r:
        lo, hi = r["tick_sizes"]
        worst = max(r["tick_growth_none"], r["tick_growth_100"])
        add(
            f"tick within 2× from 10k to 1M (measured {lo:,} → {hi:,})",
            f"none due {r['tick_growth_none']:.2f}×, 100 due {r['tick_growth_100']:.2f}×",
            worst <= 2,
        )
        low = min(r["replay:set-only"], r["replay:appending"])
        add(
            "replay ≥ 300k events/s",
            f"set-only {r['replay:set-only']:,.0f}/s, appending {r['replay:appending']:,.0f}/s",
            low >= 300_000,
        )
        add("load_definition(paket.json) ≤ 50 ms", f"{r['load_ms']:.1f} ms", r["load_ms"] <= 50)
        add("check ≥ 20k states/s", f"{r['check_rate']:,.0f} states/s", r["check_rate"] >= 20_000)
    if "sqlite_single_f" in r:
        add("SQLite ≥ 0.5·F single", f"{r['sqlite_single_f']:.2f}·F", r["sqlite_single_f"] >= 0.5)
        add("SQLite batched ≥ 10× single", f"{r['sqlite_batch_x']:.1f}×", r["sqlite_batch_x"] >= 10)
        pg = r.get("pg_ratio")
        add(
            "PostgreSQL 16 connections ≥ 4× one",
            None if pg is None else f"{pg:.1f}×",
            None if pg is None else pg >= 4,
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    size.add_argument("--full", action="store_true", help="also 1M parked instances")
    parser.add_argument("--section", type=int, action="append", choices=SECTIONS)
    parser.add_argument("--output", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    chosen = args.section or list(SECTIONS)
    mode = "--quick" if args.quick else "--full" if args.full else "standard"
    began = time.perf_counter()
    parts = [
        f"# paketflow benchmark report ({mode})",
        "",
        f"{dt.date.today().isoformat()}, {os.cpu_count()} cores, {_versions()}.",
    ]
    print("\n".join(parts), flush=True)
    results: dict[str, Any] = {}
    for number in chosen:
        t0 = time.perf_counter()
        if number == 1:
            import _lifecycle as module

            text = module.run(args.quick)
        elif number == 2:
            import _memory as module  # type: ignore[no-redef]

            text = module.run(args.quick, args.full)
        elif number == 3:
            import _durability as module  # type: ignore[no-redef]

            text = module.run(args.quick)
        else:
            import _scaling as module  # type: ignore[no-redef]

            text = module.run(args.quick, args.full)
        results.update(module.RESULTS)
        text += f"\n\n(section {number}: {time.perf_counter() - t0:,.0f} s)"
        print("\n" + text, flush=True)
        parts += ["", text]
    from _common import table

    summary = "\n".join(
        ["## Targets", "", table(["target", "measured", "verdict"], targets(results, args.full))]
    )
    summary += f"\n\nWhole run: {time.perf_counter() - began:,.0f} s."
    print("\n" + summary, flush=True)
    parts += ["", summary]
    if args.output:
        args.output.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
