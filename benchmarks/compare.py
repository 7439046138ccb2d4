"""Before/after of the SC-1 step cost, interleaved: each pair of rounds runs
``benchmarks/bench_core.py``'s measurement (SC-1 through the public API, and a raw
``transitions`` trigger, in the same process) once on each source tree, alternating,
in fresh processes; the figure is the median over pairs of after/before of the
ratio step/raw-trigger.

    git worktree add /tmp/before <commit>
    python benchmarks/compare.py --before /tmp/before --after . --processes DIR [--pairs 8]

``--processes`` names the ``processes/`` directory both trees run (the same
definition and scenario for both; it must load on both versions).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

_CHILD = r"""
import json, pathlib, runpy, sys
src, procs, bench = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, src + "/src")
try:
    import paketflow._runtime.simulate as sim
except ImportError:  # before the internal modules were underscored
    import paketflow.runtime.simulate as sim
sys.modules["paketflow._runtime.simulate"] = sim
g = runpy.run_path(bench, run_name="bench")
g["main"].__globals__["ROOT"] = pathlib.Path(procs).parent
sys.argv = ["bench", "--json", "--rounds", "9"]
g["main"]()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", required=True)
    parser.add_argument("--after", required=True)
    parser.add_argument("--processes", required=True)
    parser.add_argument("--pairs", type=int, default=8)
    args = parser.parse_args()
    trees = {"before": str(Path(args.before).resolve()), "after": str(Path(args.after).resolve())}
    results: dict[str, list[dict[str, float]]] = {k: [] for k in trees}
    for _ in range(args.pairs):
        for name, src in trees.items():
            cmd = [sys.executable, "-c", _CHILD, src, args.processes, str(HERE / "bench_core.py")]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            results[name].append(json.loads(out.strip().splitlines()[-1]))
    for name, rows in results.items():
        step = statistics.median(r["sc1_step_us"] for r in rows)
        raw = statistics.median(r["raw_trigger_us"] for r in rows)
        ratio = statistics.median(r["ratio"] for r in rows)
        print(f"{name}: SC-1 {step:.1f} µs/step, raw trigger {raw:.2f} µs, ratio {ratio:.2f}×")
    pairs = zip(results["after"], results["before"], strict=True)
    paired = [a["ratio"] / b["ratio"] for a, b in pairs]
    print(f"after/before (median of {args.pairs} paired ratios): {statistics.median(paired):.3f}")


if __name__ == "__main__":
    main()
