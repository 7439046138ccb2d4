"""What the sections of ``benchmarks/run.py`` share: paths, the quiet logger, the SC-1
scenario as a list of public-API calls, and the timing helpers (CPU time of this
process, interleaved rounds, medians of per-round ratios)."""

from __future__ import annotations

import datetime as dt
import functools
import gc
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paketflow
from paketflow._calendar import zone
from paketflow._runtime.simulate import _actor, _moment, load_scenario

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = ROOT / "processes"
PAKET = PROCESSES / "paket.json"
TAHAP_TUNGGAL = PROCESSES / "paket-tahap-tunggal.json"
SC1 = PROCESSES / "scenarios" / "sc-1-saigon-2012.json"
SC2 = PROCESSES / "scenarios" / "sc-2-mekar-sari-2013.json"

cpu = time.process_time  # CPU seconds of this process: other helpers' load does not count


@functools.cache
def definition(path: Path) -> paketflow.ProcessDefinition:
    """``load_definition(path)``, loaded once per run (section 4 times the loading)."""
    return paketflow.load_definition(path)


class Quiet:
    """A logger that drops everything (the engine's ``logger=``): logging is the host's
    cost, not the engine's."""

    def info(self, event: str, **fields: Any) -> None:
        pass

    def bind(self, **fields: Any) -> Quiet:
        return self


QUIET = Quiet()


@dataclass(frozen=True)
class Step:
    """One scenario step as the arguments of one public-API call."""

    command: str  # start | sign | fire | tick
    at: dt.datetime
    actor: paketflow.Actor | None
    event: str | None
    data: Any
    slot: str | None
    accepted: bool  # what the scenario expects


def scenario_steps(definition: paketflow.ProcessDefinition, path: Path = SC1) -> list[Step]:
    """The scenario's steps, parsed once (times, actors), so the timed loop only calls
    the engine."""
    scenario = load_scenario(path)
    tz = zone(definition.timezone)
    actors = {k: paketflow.Actor.from_dict(v) for k, v in scenario.get("actors", {}).items()}
    out = []
    for step in scenario["steps"]:
        expect = step.get("expect", {})
        refused = "refused" in expect or expect.get("accepted") is False
        out.append(
            Step(
                step["command"],
                _moment(step["at"], tz),
                _actor(step.get("actor"), actors),
                step.get("event"),
                step.get("data", {}) if step["command"] == "start" else step.get("data"),
                step.get("slot"),
                not refused,
            )
        )
    return out


def run_steps(
    engine: paketflow.Engine,
    definition: paketflow.ProcessDefinition,
    steps: Sequence[Step],
    iid: str,
    timings: dict[str, list[float]] | None = None,
) -> int:
    """Run ``steps`` on instance ``iid`` through the public API; return the number of
    steps. With ``timings``, the CPU seconds of each call are appended under its kind
    (``start``, ``sign``, ``tick``, ``fire:<event>``, ``refused:<event>``)."""
    for step in steps:
        t0 = cpu() if timings is not None else 0.0
        kind = step.command
        try:
            if kind == "fire":
                assert step.actor is not None and step.event is not None
                engine.fire(iid, step.event, actor=step.actor, data=step.data, at=step.at)
                kind = f"fire:{step.event}"
            elif kind == "sign":
                assert step.actor is not None
                engine.sign(iid, actor=step.actor, slot=step.slot, at=step.at)
            elif kind == "tick":
                engine.tick(step.at)
            else:
                assert step.actor is not None
                engine.start(
                    definition=definition,
                    instance_id=iid,
                    data=step.data,
                    actor=step.actor,
                    at=step.at,
                )
        except paketflow.Refused:
            if step.accepted:
                raise
            kind = f"refused:{step.event or kind}"
        else:
            if not step.accepted:
                raise AssertionError(f"step {step} was expected to be refused")
        if timings is not None:
            timings.setdefault(kind, []).append(cpu() - t0)
    return len(steps)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


@contextmanager
def no_gc() -> Iterator[None]:
    """Collect once, then keep the cyclic collector off while timing (a collection
    triggered by one contender must not be charged to it; each section measures
    the collector separately)."""
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def per_call(fn: Callable[[], Any], n: int) -> float:
    """CPU seconds per call of ``fn`` over ``n`` calls."""
    t0 = cpu()
    for _ in range(n):
        fn()
    return (cpu() - t0) / n


def fmt_us(seconds: float) -> str:
    return f"{seconds * 1e6:,.1f} µs"


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table (first column left-aligned, the rest right-aligned)."""
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
