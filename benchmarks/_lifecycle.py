"""Section 1 of ``benchmarks/run.py``: per command and per lifecycle.

Four contenders run the SC-1 lifecycle (processes/scenarios/sc-1-saigon-2012.json on
processes/paket-tahap-tunggal.json), alternating within every round:

- **paketflow**: every SC-1 step (start, signatures, commands, ticks) through the
  public API on a MemoryStore; each call timed on its own, by kind.
- **transitions (raw)**: one shared machine (``model=None``) with every state of the
  definition and the moves SC-1 takes, each with two guard callbacks; the same
  sequence of moves triggered on a slotted cursor.
- **python-statemachine**: a machine class with the same states and moves (two guard
  callbacks each), a new machine per lifecycle, the same sequence of events.
- **SpiffWorkflow**: the definition exported as BPMN (``paketflow export --format
  bpmn``), parsed once; a new workflow per lifecycle completes each user task with
  the event, target and due times paketflow recorded (as tests/test_export.py does).

Every ratio is the median over rounds of the ratio measured within one round.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from _common import (
    QUIET,
    TAHAP_TUNGGAL,
    Step,
    cpu,
    fmt_us,
    median,
    run_steps,
    scenario_steps,
    table,
)
from _common import definition as load

import paketflow
from paketflow._export import to_bpmn


@dataclass(frozen=True)
class Move:
    source: str
    event: str
    target: str
    internal: bool


class _Cursor:
    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


def _recorded(
    definition: paketflow.ProcessDefinition, steps: list[Step]
) -> tuple[list[Move], list[dict[str, Any]]]:
    """Run SC-1 once: the moves it takes (fired events) and, per move, the task data
    SpiffWorkflow's gateways read (event, target, due times)."""
    engine = paketflow.Engine([definition], logger=QUIET)
    run_steps(engine, definition, steps, "probe")
    history = engine.history("probe")
    moves, spiff = [], []
    for k, event in enumerate(history):
        if event.type != "fired":
            continue
        moves.append(Move(event.source, event.name, event.target, not event.entered))
        after = paketflow.replay(definition, history[: k + 1])
        data: dict[str, Any] = {"event": event.name, "target": event.target}
        data.update(_due_variables(after))
        spiff.append(data)
    return moves, spiff


def _due_variables(instance: paketflow.Instance) -> dict[str, Any]:
    from paketflow._export._bpmn import due_variable

    out: dict[str, Any] = {}
    for armed in instance.deadlines:
        for when, step in armed.steps:
            name = "timeout" if step.startswith("!") else step
            out[due_variable(armed.id, name)] = when.isoformat()
    return out


def _transitions_raw(
    definition: paketflow.ProcessDefinition, moves: list[Move]
) -> Callable[[], int]:
    from transitions import Machine

    def yes(event_data: Any) -> bool:
        return True

    def aimed(dest: str) -> Callable[[Any], bool]:
        def condition(event_data: Any) -> bool:
            return bool(event_data.kwargs["target"] == dest)

        return condition

    spec, seen = [], set()
    for m in moves:
        key = (m.event, m.source, m.target)
        if key in seen:
            continue
        seen.add(key)
        spec.append(
            {
                "trigger": m.event,
                "source": m.source,
                "dest": None if m.internal and m.source == m.target else m.target,
                "conditions": [yes, aimed(m.target)],
            }
        )
    machine = Machine(
        model=None,
        states=list(definition.states),
        initial=None,
        auto_transitions=False,
        send_event=True,
        transitions=spec,
    )
    calls = [(machine.events[m.event].trigger, m.target) for m in moves]
    first = moves[0].source

    def lifecycle() -> int:
        cursor = _Cursor(first)
        for trigger, target in calls:
            if not trigger(cursor, target=target):
                raise AssertionError("raw transitions took no move")
        return len(calls)

    return lifecycle


def _python_statemachine(
    definition: paketflow.ProcessDefinition, moves: list[Move]
) -> Callable[[], int] | None:
    try:
        from statemachine import State, StateMachine
    except ImportError:
        return None
    first = moves[0].source
    finals = {sid for sid, s in definition.states.items() if s.final}
    states = {
        sid: State(sid, value=sid, initial=(sid == first), final=(sid in finals))
        for sid in definition.states
    }

    def yes(**kw: Any) -> bool:
        return True

    def aimed(dest: str) -> Callable[..., bool]:
        def condition(target: str = "", **kw: Any) -> bool:
            return target == dest

        return condition

    events: dict[str, Any] = {}
    seen = set()
    for m in moves:
        key = (m.event, m.source, m.target)
        if key in seen:
            continue
        seen.add(key)
        if m.internal and m.source == m.target:
            tl = states[m.source].to.itself(internal=True, cond=[yes, aimed(m.target)])
        else:
            tl = states[m.source].to(states[m.target], cond=[yes, aimed(m.target)])
        events[m.event] = tl if m.event not in events else events[m.event] | tl
    namespace: dict[str, Any] = {f"s_{k}": v for k, v in states.items()}
    namespace.update({f"e_{k}": v for k, v in events.items()})
    # Reachability checks are for hand-written machines; this one holds SC-1's moves only.
    namespace["validate_disconnected_states"] = False
    namespace["validate_trap_states"] = False
    namespace["validate_final_reachability"] = False
    cls: Any = type("Sc1Machine", (StateMachine,), namespace)
    calls = [(f"e_{m.event}", m.target) for m in moves]

    def lifecycle() -> int:
        machine = cls()
        for name, target in calls:
            machine.send(name, target=target)
        return len(calls)

    return lifecycle


def _spiffworkflow(
    definition: paketflow.ProcessDefinition, spiff_data: list[dict[str, Any]]
) -> Callable[[], int] | None:
    try:
        from lxml import etree
        from SpiffWorkflow.bpmn import BpmnWorkflow
        from SpiffWorkflow.bpmn.parser import BpmnParser
        from SpiffWorkflow.util.task import TaskState
    except ImportError:
        return None
    parser = BpmnParser()
    parser.add_bpmn_xml(etree.fromstring(to_bpmn(definition).encode()), filename="paket.bpmn")
    spec = parser.get_spec(f"Process_{definition.id.replace('-', '_')}")

    def lifecycle() -> int:
        workflow = BpmnWorkflow(spec)
        workflow.do_engine_steps()
        for data in spiff_data:
            (task,) = workflow.get_tasks(state=TaskState.READY, manual=True)
            task.set_data(**data)
            task.run()
            workflow.do_engine_steps()
        return len(spiff_data)

    return lifecycle


def _process_ids(definition: paketflow.ProcessDefinition) -> list[str]:
    return [f"Process_{definition.id.replace('-', '_')}", f"Process_{definition.id}"]


def run(quick: bool) -> str:
    definition = load(TAHAP_TUNGGAL)
    steps = scenario_steps(definition)
    moves, spiff_data = _recorded(definition, steps)
    raw = _transitions_raw(definition, moves)
    psm = _python_statemachine(definition, moves)
    try:
        spiff = _spiffworkflow(definition, spiff_data)
    except Exception as exc:  # the export or SpiffWorkflow refused: say so, go on
        spiff = None
        spiff_error = f"{type(exc).__name__}: {exc}"
    else:
        spiff_error = "SpiffWorkflow is not installed (dependency group `bench`)"
    engine = paketflow.Engine([definition], logger=QUIET)
    rounds = 5 if quick else 21
    raw_reps = 20 if quick else 60
    psm_reps = 2 if quick else 5
    per_kind: dict[str, list[float]] = {}  # CPU seconds of each call, all rounds
    rows: dict[str, list[float]] = {k: [] for k in ("pf", "pf_fire", "raw", "psm", "spiff")}
    ratios: dict[str, list[float]] = {}
    kind_ratio: dict[str, list[float]] = {}
    contenders: list[tuple[str, Callable[[], None]]] = []
    n_fired = len(moves)

    def pf_round() -> None:
        engine.store = paketflow.MemoryStore()
        timings: dict[str, list[float]] = {}
        t0 = cpu()
        run_steps(engine, definition, steps, "saigon-2012", timings)
        rows["pf"].append((cpu() - t0) / len(steps))
        fires = [t for k, ts in timings.items() if k.startswith("fire:") for t in ts]
        rows["pf_fire"].append(sum(fires) / len(fires))
        for k, ts in timings.items():
            per_kind.setdefault(k, []).extend(ts)
        pf_round.last = timings  # type: ignore[attr-defined]

    def raw_round() -> None:
        t0 = cpu()
        n = sum(raw() for _ in range(raw_reps))
        rows["raw"].append((cpu() - t0) / n)

    def psm_round() -> None:
        assert psm is not None
        t0 = cpu()
        n = sum(psm() for _ in range(psm_reps))
        rows["psm"].append((cpu() - t0) / n)

    def spiff_round() -> None:
        assert spiff is not None
        t0 = cpu()
        n = spiff()
        rows["spiff"].append((cpu() - t0) / n)

    contenders = [("pf", pf_round), ("raw", raw_round)]
    if psm is not None:
        contenders.append(("psm", psm_round))
    if spiff is not None:
        contenders.append(("spiff", spiff_round))
    for fn in (c[1] for c in contenders):  # warm-up: caches, lazy imports
        fn()
    for v in rows.values():
        v.clear()
    per_kind.clear()
    for r in range(rounds):
        gc.collect()
        order = contenders[r % len(contenders) :] + contenders[: r % len(contenders)]
        for _, fn in order:
            fn()
        raw_us = rows["raw"][-1]
        ratios.setdefault("step/raw", []).append(rows["pf"][-1] / raw_us)
        ratios.setdefault("fire/raw", []).append(rows["pf_fire"][-1] / raw_us)
        if spiff is not None:
            ratios.setdefault("spiff/fire", []).append(rows["spiff"][-1] / rows["pf_fire"][-1])
            ratios.setdefault("spiff/step", []).append(rows["spiff"][-1] / rows["pf"][-1])
        if psm is not None:
            ratios.setdefault("psm/raw", []).append(rows["psm"][-1] / raw_us)
            ratios.setdefault("fire/psm", []).append(rows["pf_fire"][-1] / rows["psm"][-1])
        for k, ts in pf_round.last.items():  # type: ignore[attr-defined]
            kind_ratio.setdefault(k, []).append(median(ts) / raw_us)
    step = median(rows["pf"])
    out = [
        "## 1. Per command and per lifecycle",
        "",
        f"SC-1 (`{steps and 'sc-1-saigon-2012'}`, {len(steps)} steps: "
        f"{sum(s.command == 'fire' for s in steps)} commands, "
        f"{sum(s.command == 'sign' for s in steps)} signatures, "
        f"{sum(s.command == 'tick' for s in steps)} ticks, 1 start; {n_fired} moves) on "
        f"`paket-tahap-tunggal.json`, {rounds} interleaved rounds "
        f"(each: one paketflow lifecycle, {raw_reps} raw-transitions lifecycles, "
        f"{psm_reps} python-statemachine lifecycles, one SpiffWorkflow lifecycle, "
        "in rotating order). CPU time of this process; medians over rounds.",
        "",
    ]
    lines = [
        ["paketflow, SC-1 step (public API, MemoryStore)", fmt_us(step), "—"],
        [
            "paketflow, SC-1 lifecycle",
            f"{step * len(steps) * 1e3:,.2f} ms",
            f"{1 / (step * len(steps)):,.0f} instances/s",
        ],
        [
            "paketflow, accepted command (`fire`, mean over SC-1's commands)",
            fmt_us(median(rows["pf_fire"])),
            f"{median(ratios['fire/raw']):.2f}× raw trigger",
        ],
        ["transitions, raw trigger (shared machine, 2 guards)", fmt_us(median(rows["raw"])), "1×"],
    ]
    if psm is not None:
        lines.append(
            [
                "python-statemachine, one event (2 guards)",
                fmt_us(median(rows["psm"])),
                f"{median(ratios['psm/raw']):.2f}× raw trigger",
            ]
        )
    if spiff is not None:
        lines.append(
            [
                "SpiffWorkflow, one user task (run + engine steps)",
                fmt_us(median(rows["spiff"])),
                f"{median(ratios['spiff/fire']):.1f}× a paketflow command; "
                f"{median(ratios['spiff/step']):.1f}× a paketflow SC-1 step",
            ]
        )
    else:
        lines.append(["SpiffWorkflow", "not measured", spiff_error])
    out.append(table(["measure", "value", "ratio (median of per-round ratios)"], lines))
    out += ["", "Per call kind (SC-1, every call of every round timed on its own):", ""]
    kinds = sorted(per_kind, key=lambda k: (k.split(":")[0] != "start", k))
    out.append(
        table(
            ["call", "calls per lifecycle", "median", "ratio to raw trigger"],
            [
                [
                    f"`{k}`",
                    len(per_kind[k]) // rounds,
                    fmt_us(median(per_kind[k])),
                    f"{median(kind_ratio[k]):.2f}×",
                ]
                for k in kinds
            ],
        )
    )
    fire_kinds = [k for k in kinds if k.startswith("fire:")]
    typical = median([median(kind_ratio[k]) for k in fire_kinds])
    RESULTS.update(
        step_us=step * 1e6,
        typical_ratio=typical,
        fire_ratio=median(ratios["fire/raw"]),
        spiff_ratio=median(ratios["spiff/fire"]) if spiff is not None else None,
        spiff_step_ratio=median(ratios["spiff/step"]) if spiff is not None else None,
    )
    out += [
        "",
        f"Typical accepted command (median over SC-1's command kinds of each kind's "
        f"ratio): **{typical:.2f}× a raw trigger**.",
    ]
    return "\n".join(out)


RESULTS: dict[str, Any] = {}
