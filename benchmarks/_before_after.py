"""Before/after of the loader and store changes recorded in docs/performance.md:
``load_definition(paket.json)`` (median of three loads) and the CPU time per SC-1 step
on an SQLiteStore, each tree in fresh processes, alternating, CPU time.

    git worktree add /tmp/before <commit>
    python benchmarks/_before_after.py --before /tmp/before --after . [--pairs 3]

Both trees run the definitions and scenario of this checkout.
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
import json, statistics, sys, tempfile, time
sys.path.insert(0, sys.argv[1] + "/src")
sys.path.insert(0, sys.argv[2])
import paketflow
from _common import PAKET, QUIET, TAHAP_TUNGGAL, run_steps, scenario_steps
out = {}
paketflow.load_definition(PAKET)
loads = []
for _ in range(3):
    t = time.process_time()
    paketflow.load_definition(PAKET)
    loads.append(time.process_time() - t)
out["load_ms"] = statistics.median(loads) * 1e3
d = paketflow.load_definition(TAHAP_TUNGGAL)
steps = scenario_steps(d)
with tempfile.TemporaryDirectory() as f:
    e = paketflow.Engine([d], store=paketflow.open_store(f"sqlite:///{f}/x.db"), logger=QUIET)
    run_steps(e, d, steps, "warm")
    t = time.process_time()
    run_steps(e, d, steps, "a")
    out["sqlite_step_us"] = (time.process_time() - t) / len(steps) * 1e6
print(json.dumps(out))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True)
    parser.add_argument("--after", required=True)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    trees = {"before": str(Path(args.before).resolve()), "after": str(Path(args.after).resolve())}
    rows: dict[str, list[dict[str, float]]] = {k: [] for k in trees}
    for _ in range(args.pairs):
        for name, src in trees.items():
            cmd = [sys.executable, "-c", _CHILD, src, str(HERE)]
            done = subprocess.run(cmd, capture_output=True, text=True, check=True)
            rows[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
    for key in ("load_ms", "sqlite_step_us"):
        before = [r[key] for r in rows["before"]]
        after = [r[key] for r in rows["after"]]
        paired = statistics.median(a / b for a, b in zip(after, before, strict=True))
        print(
            f"{key}: before {statistics.median(before):,.1f}, after "
            f"{statistics.median(after):,.1f}, after/before {paired:.2f} "
            f"(median of {args.pairs} pairs)"
        )


if __name__ == "__main__":
    main()
