"""benchmarks/run.py --quick (the CI smoke run of docs/performance.md): it exits 0 and
prints every section and the targets table. No timing is asserted: speed targets live
in the benchmarks and the doc, never in tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_run_prints_every_section(tmp_path: Path) -> None:
    """The quick run finishes, prints sections 1–4 and the targets with a verdict per
    target, and writes the same report to --output."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    report = tmp_path / "report.md"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--output", str(report)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    for heading in (
        "## 1. Per command and per lifecycle",
        "## 2. Memory",
        "## 3. Durability",
        "## 4. Scaling",
        "## Targets",
    ):
        assert heading in out, heading
    for row in (
        "transitions, raw trigger",
        "python-statemachine",
        "SpiffWorkflow, one user task",
        "bytes per parked instance",
        "raw write (4 KiB) + fsync, F",
        "tick claiming, SQLite",
        "load_definition(paket.json)",
        "states/s",
    ):
        assert row in out, row
    targets = out.split("## Targets", 1)[1]
    assert targets.count("| met |") + targets.count("| **missed** |") >= 12
    if os.environ.get("PAKETFLOW_TEST_POSTGRES_URL"):
        assert "PostgreSQL, 16 connections" in out
    else:
        assert "PostgreSQL: skipped" in out
    assert report.read_text(encoding="utf-8").strip().endswith(out.strip().splitlines()[-1])
