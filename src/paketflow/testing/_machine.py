"""``machine_for``: a Hypothesis state machine that drives random commands through an
engine and checks every invariant after every step."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from paketflow import Actor, Engine, ProcessDefinition
from paketflow._calendar import zone
from paketflow.testing._check import Explorer, Finding, scenario_for
from paketflow.testing._invariants import Violation
from paketflow.testing._payloads import strategy
from paketflow.testing._world import Command, Node, Runner, read_prefix

__all__ = ["machine_for"]

_EARLY = dt.timedelta(microseconds=1)


def machine_for(
    definition: ProcessDefinition,
    *,
    engine_factory: Callable[[ProcessDefinition], Engine] | None = None,
    from_scenario: str | Path | Mapping[str, Any] | None = None,
    steps: int | None = None,
    actors: Iterable[Actor] = (),
    counterexample: str | Path | None = None,
) -> type[RuleBasedStateMachine]:
    """A :class:`~hypothesis.stateful.RuleBasedStateMachine` class for ``definition``.

    Every run starts from the start state (or, with ``from_scenario``, the state the
    first ``steps`` steps of that scenario reach) and applies random valid and invalid
    commands: ``fire`` and ``sign`` by the canonical actors (and the scenario's),
    payloads from the event's schema, clock jumps to the next deadline step and just
    before it. After every step every built-in and declared invariant is checked; a
    violation fails with the steps that led to it (Hypothesis shrinks them), and with
    ``counterexample`` also writes them as a scenario file for ``paketflow simulate``.

    ``engine_factory(definition)`` builds the engine (calendars, logger); the machine
    points its store at a one-instance store of its own. Use it as
    ``TestMyVariant = machine_for(d).TestCase``.
    """
    prefix = read_prefix(from_scenario, steps, zone(definition.timezone)) if from_scenario else None
    engine = engine_factory(definition) if engine_factory is not None else None
    explorer = Explorer(definition, prefix=prefix, actors=actors)
    if engine is not None:
        explorer.runner = Runner(definition, engine, explorer.runner.instance_id)
    roots = explorer.roots()
    prefix_outcomes = tuple(explorer.prefix_outcomes)
    runner, judge = explorer.runner, explorer.judge
    people = list(explorer.actors)
    target = Path(counterexample) if counterexample is not None else None
    every = frozenset(definition.roles)

    class PaketflowMachine(RuleBasedStateMachine):
        """Random commands on one instance; every invariant after every step."""

        def __init__(self) -> None:
            super().__init__()
            self.node: Node = roots[0]
            self.path: list[Any] = []

        def _fail(self, violations: list[Violation], path: list[Any]) -> None:
            first = violations[0]
            lines = [f"{v}" for v in violations]
            lines.append("after:")
            lines += [
                f"  {c.at.isoformat()} {c.describe()}: "
                + ("accepted" if o.accepted else f"refused {list(o.codes)}")
                for c, o in path
            ]
            if target is not None:
                doc = scenario_for(Finding(first, tuple(path)), definition, prefix, prefix_outcomes)
                target.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", "utf-8")
                lines.append(f"counterexample scenario written to {target}")
            raise AssertionError("invariant violated: " + "\n".join(lines))

        def _do(
            self,
            command: Command,
            with_allowed: bool = False,
            perms_of: Callable[[], Any] | None = None,
        ) -> None:
            before = self.node
            perms = perms_of() if perms_of is not None else None
            if perms is None and with_allowed and command.actor is not None:
                perms = runner.allowed(before, command.actor)
            outcome = runner.run(before, command)
            after = (
                runner.child(before, command, outcome)
                if outcome.accepted and outcome.after is not None
                else None
            )
            violations = judge.step(before, command, outcome, after)
            if perms is not None:
                violations += judge.agreement(perms, command, outcome)
            path = [*self.path, (command, outcome)]
            if after is not None and outcome.events:
                violations += judge.state(after) + judge.replayed(after)
                if command.kind == "tick":
                    again = runner.run(after, Command("tick", command.at))
                    if again.events:
                        violations.append(
                            Violation(
                                "deadlines-on-time",
                                "a deadline step fires at most once",
                                "a second tick at the same time fired again",
                            )
                        )
            if violations:
                self._fail(violations, path)
            self.path = path
            if after is not None and outcome.events:
                self.node = after

        @rule(data=st.data())
        def step(self, data: st.DataObject) -> None:
            """Mostly one of the commands the checker would try here (so valid ones
            are likely); sometimes any event by anyone with a generated payload, or
            waiting a while."""
            roll = data.draw(st.integers(0, 9), label="roll")
            if roll == 0:
                self._random_fire(data)
            elif roll == 1:
                self._wait(data.draw(st.integers(1, 24 * 20), label="hours"))
            else:
                self._candidate(data)

        def _candidate(self, data: st.DataObject) -> None:
            groups: dict[tuple[str, str | None, bool], dict[str, list[Any]]] = {}
            recorded = {p for members in self.node.instance.sets.values() for p in members}
            for cand in explorer.commands(self.node):
                payload = json.dumps(cand[0].data, sort_keys=True, default=str)
                # people already recorded acting with every role are a group of their own
                actor = cand[0].actor
                insider = bool(actor and actor.roles == every and actor.id in recorded)
                by_kind = groups.setdefault((cand[0].kind, cand[0].event, insider), {})
                by_kind.setdefault(payload, []).append(cand)
            if not groups:
                return
            # the kind of command (each event equally likely), its payload, its actor
            kind = data.draw(st.sampled_from(sorted(groups, key=str)), label="kind")
            payload = data.draw(st.sampled_from(sorted(groups[kind])), label="payload")
            command, perms_of = data.draw(st.sampled_from(groups[kind][payload]), label="actor")
            self._do(command, perms_of=perms_of)

        def _random_fire(self, data: st.DataObject) -> None:
            state = definition.states[self.node.instance.state]
            events = sorted(state.transitions) or sorted(definition.events)
            event = data.draw(st.sampled_from(events), label="event")
            who = people + explorer._insiders(self.node)
            actor = data.draw(st.sampled_from(who), label="actor")
            tr = state.transitions.get(event)
            schema = tr.data_schema if tr is not None else None
            reps = explorer._payloads(self.node, event, schema)
            payload = data.draw(st.sampled_from(reps) | strategy(schema or {}), label="payload")
            self._do(Command("fire", self.node.now, actor, event, payload), with_allowed=True)

        def _wait(self, hours: int) -> None:
            nxt = self.node.instance.next_deadline_at
            later = self.node.now + dt.timedelta(hours=hours)
            if nxt is not None and later >= nxt:
                later = nxt - _EARLY  # the deadline jump is a command of its own
            if later > self.node.now:
                self.node = Node(
                    self.node.instance,
                    self.node.history,
                    later,
                    self.node.depth,
                    self.node.parent,
                    self.node.command,
                    self.node.outcome,
                )

        @precondition(lambda self: self.node.instance.next_deadline_at is not None)
        @rule()
        def tick_just_before_deadline(self) -> None:
            nxt = self.node.instance.next_deadline_at
            assert nxt is not None
            probe = Command("tick", nxt - _EARLY)
            outcome = runner.run(self.node, probe)
            if outcome.events:
                self._fail(
                    [
                        Violation(
                            "deadlines-on-time",
                            "deadlines never fire early",
                            f"a tick just before {nxt.isoformat()} fired a step",
                        )
                    ],
                    [*self.path, (probe, outcome)],
                )

        @invariant()
        def state_invariants(self) -> None:
            violations = judge.state(self.node)
            if violations:
                self._fail(violations, self.path)

    PaketflowMachine.__name__ = PaketflowMachine.__qualname__ = (
        f"Machine_{definition.id.replace('-', '_').replace('.', '_')}"
    )
    PaketflowMachine.TestCase.settings = settings(
        deadline=None,
        max_examples=50,
        stateful_step_count=25,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    return PaketflowMachine
