"""The bounded exhaustive checker behind ``paketflow check``.

Breadth-first search over abstract states: from the start (or the state a scenario
prefix reaches), every command of the canonical actors with representative payloads,
plus a jump of the clock to the next armed deadline step, up to ``depth`` commands.
States are deduplicated by :func:`~paketflow.testing._world.fingerprint`; because the
search goes level by level, the first violation found of each invariant has a
shortest counterexample. One engine (one compiled process) runs every command through
a one-instance store that is pointed at the state being expanded, so nothing is loaded
or compiled twice.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from paketflow import Actor, Permissions, ProcessDefinition, ScenarioError
from paketflow._calendar import to_local_date, zone
from paketflow._definition._invariants import TransitionInvariant
from paketflow.testing._invariants import Judge, Violation
from paketflow.testing._payloads import minimal, representatives
from paketflow.testing._world import (
    INSTANCE_ID,
    Command,
    Node,
    Outcome,
    Prefix,
    Runner,
    canonical_actors,
    fingerprint,
    plain,
    read_prefix,
    scenario_actors,
)

__all__ = [
    "DEFAULT_BUDGET",
    "CheckResult",
    "Explorer",
    "Finding",
    "check",
    "counterexample",
    "scenario_for",
]

#: States visited before the search stops (``--budget``); about 4-5 KB of memory per
#: state on PAKET (benchmarks/bench_check.py), so roughly 1 GB at the budget.
DEFAULT_BUDGET = 200_000

#: Refusal codes that do not depend on the payload: when ``allowed()`` refuses an
#: event for one of these alone, other payloads are not tried.
_PAYLOAD_BLIND = frozenset(
    {
        "ERR_PERAN_TIDAK_BERWENANG",
        "ERR_PEMISAHAN_TUGAS",
        "ERR_TANDA_TANGAN_KURANG",
        "ERR_STATUS_AKHIR",
        "ERR_EVENT_TIDAK_BERLAKU",
    }
)

_EARLY = dt.timedelta(microseconds=1)


@attrs.frozen
class Finding:
    """One violated invariant with its shortest counterexample (``path``: the
    commands from the start, the last one the command that broke it, or none when a
    reached state breaks a state invariant)."""

    violation: Violation
    path: tuple[tuple[Command, Outcome], ...]


@attrs.frozen
class CheckResult:
    """What :func:`check` found."""

    definition: str
    states: int
    commands: int
    seconds: float
    depth: int
    budget: int
    stopped: bool
    findings: tuple[Finding, ...]
    prefix: Prefix | None = None
    root: Node | None = None
    prefix_outcomes: tuple[tuple[Command, Outcome], ...] = ()

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def states_per_second(self) -> float:
        return self.states / self.seconds if self.seconds > 0 else float(self.states)


def _strings(data: Any) -> list[str]:
    """Short strings held in lists of the instance data (codes such as budget lines)."""
    found: set[str] = set()
    stack: list[tuple[Any, bool]] = [(data, False)]
    while stack:
        value, in_list = stack.pop()
        if isinstance(value, Mapping):
            stack.extend((v, in_list) for v in value.values())
        elif isinstance(value, list | tuple):
            stack.extend((v, True) for v in value)
        elif in_list and isinstance(value, str) and 0 < len(value) <= 12 and "-" not in value:
            found.add(value)
    return sorted(found)[:6]


def _biggest(data: Any) -> int | None:
    best: int | None = None
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, Mapping):
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            best = value if best is None or value > best else best
    return None if best is None else best + 1


class Explorer:
    """One bounded search (see :func:`check`)."""

    def __init__(
        self,
        definition: ProcessDefinition,
        *,
        prefix: Prefix | None = None,
        actors: Iterable[Actor] = (),
        check_replay: bool = True,
    ) -> None:
        self.definition = definition
        self.prefix = prefix
        extra = [*(scenario_actors(prefix.actors) if prefix else ()), *actors]
        self.actors = canonical_actors(definition, extra)
        self.judge = Judge(definition, self.actors)
        self.runner = Runner(definition, instance_id=prefix.instance if prefix else INSTANCE_ID)
        self.tz = zone(definition.timezone)
        self.seen_payloads: Mapping[str, tuple[Mapping[str, Any], ...]] = (
            prefix.payloads if prefix else {}
        )
        self.check_replay = check_replay
        self.findings: dict[str, Finding] = {}
        self.commands_run = 0
        self.prefix_outcomes: list[tuple[Command, Outcome]] = []
        self.watched = frozenset(
            i.event for i in self.judge.declared if isinstance(i, TransitionInvariant)
        )
        self._pool: tuple[Node | None, list[str], int | None] = (None, [], None)

    # -- the start -------------------------------------------------------------------

    def roots(self) -> list[Node]:
        """The states the search starts from."""
        if self.prefix is not None:
            node: Node | None = None
            for command in self.prefix.commands:
                outcome = self.runner.run(node, command)
                self.prefix_outcomes.append((command, outcome))
                if outcome.error is not None and node is None:
                    raise ScenarioError(
                        f"{self.prefix.source}: the prefix cannot start: {outcome.error}"
                    )
                if outcome.accepted and outcome.after is not None:
                    node = self.runner.child(node, command, outcome)
                    node = attrs.evolve(node, depth=0, parent=None, command=None, outcome=None)
            if node is None:
                raise ScenarioError(
                    f"{self.prefix.source}: the first steps start no instance; include the "
                    "scenario's start step (--steps 1 or more)"
                )
            return [node]
        starter = self.actors[0]
        at = dt.datetime(2012, 3, 5, 9, tzinfo=self.tz)
        schema = self.definition.data_schema or {}
        out: list[Node] = []
        for data in representatives(schema, today=at.date(), limit=4)[1:] or [{}]:
            command = Command("start", at, starter, data=data)
            outcome = self.runner.run(None, command)
            if outcome.accepted and outcome.after is not None:
                out.append(self.runner.child(None, command, outcome))
        if not out:
            data = minimal(schema, at.date())
            raise ScenarioError(
                f"no representative start data is accepted by {self.definition.key} "
                f"(tried {data!r}); start from a scenario with --from SCENARIO --steps 1"
            )
        return out

    # -- commands --------------------------------------------------------------------

    def _payloads(self, node: Node, event: str, schema: Any) -> list[dict[str, Any]]:
        if self._pool[0] is not node:
            data = node.instance.data
            self._pool = (node, _strings(data), _biggest(data))
        return representatives(
            schema,
            today=to_local_date(node.now, self.tz),
            seen=self.seen_payloads.get(event, ()),
            strings=self._pool[1],
            big=self._pool[2],
        )

    def _insiders(self, node: Node) -> list[Actor]:
        """People who already did something (one per person set), now acting with
        every role: segregation of duties is per person, so a variant that forgets an
        exclusion is caught by the same person coming back in another capacity."""
        every = frozenset(self.definition.roles)
        out: dict[str, Actor] = {}
        for name in sorted(node.instance.sets):
            members = sorted(node.instance.sets[name])
            if not members or members[0] in out:
                continue
            known = self.judge.actors.get(members[0])
            out[members[0]] = Actor(
                members[0],
                every,
                element=known.element if known else None,
                name=known.name if known else None,
            )
        return list(out.values())

    def commands(self, node: Node) -> list[tuple[Command, Callable[[], Permissions] | None]]:
        """Every command tried from ``node``, each with the ``allowed()`` it is compared
        with (when it speaks about it)."""
        inst = node.instance
        st = self.definition.states[inst.state]
        at = node.now
        out: list[tuple[Command, Callable[[], Permissions] | None]] = []
        perms: dict[str, Permissions] = {}

        def allowed_for(actor: Actor) -> Callable[[], Permissions]:
            def get() -> Permissions:
                if actor.id not in perms:
                    perms[actor.id] = self.runner.allowed(node, actor)
                return perms[actor.id]

            return get

        if st.final:
            actor = self.actors[-1]
            for event in list(self.definition.events)[:1]:
                out.append((Command("fire", at, actor, event, {}), None))
            out.append((Command("sign", at, actor), None))
        every = frozenset(self.definition.roles)
        for event, tr in st.transitions.items():
            roles = set(tr.roles)
            outsider_done = False
            varied: set[Any] = set()
            for actor in self.actors:
                if not actor.roles & roles:
                    if not outsider_done:
                        outsider_done = True
                        out.append((Command("fire", at, actor, event, {}), allowed_for(actor)))
                    continue
                get = allowed_for(actor)
                out.append((Command("fire", at, actor, event, {}), get))
                # Payload variants: once per kind of person (same roles and element;
                # every person holding all roles counts as one kind).
                kind = "all" if actor.roles == every else (actor.roles, actor.element)
                if kind in varied:
                    continue
                refused = get().refused.get(event)
                if refused and all(r.code in _PAYLOAD_BLIND for r in refused):
                    continue
                # Every variant for the first kind of person; for the others the
                # minimal payload and the scenario's own (who acts matters for person
                # sets, the payload variants do not need repeating).
                payloads = self._payloads(node, event, tr.data_schema)[1:]
                if varied:
                    seen_here = self.seen_payloads.get(event, ())
                    payloads = payloads[:1] + [dict(p) for p in seen_here[:1]]
                varied.add(kind)
                for payload in payloads:
                    out.append((Command("fire", at, actor, event, payload), None))
        watched = self.watched
        insiders = self._insiders(node) if any(e in watched for e in st.transitions) else []
        for event, tr in st.transitions.items():
            if event not in watched and not tr.exclude:
                continue
            for actor in insiders:
                for payload in self._payloads(node, event, tr.data_schema)[:4]:
                    out.append((Command("fire", at, actor, event, payload), None))
        if st.signatures is not None:
            outsider_done = False
            signed = {s.actor for s in inst.signatures}
            kinds: set[Any] = set()
            for actor in self.actors:
                fits = any(
                    actor.roles & set(s.roles) and (s.element is None or s.element == actor.element)
                    for s in st.signatures.slots
                )
                # One signer per kind of person not yet signed (symmetry), one outsider.
                sort = (actor.roles, actor.element, actor.id in signed)
                if fits and sort in kinds:
                    continue
                if fits or not outsider_done:
                    kinds.add(sort)
                    outsider_done = outsider_done or not fits
                    out.append((Command("sign", at, actor), allowed_for(actor)))
        nxt = inst.next_deadline_at
        if nxt is not None:
            out.append((Command("tick", max(nxt, at)), None))
        return out

    # -- the search ------------------------------------------------------------------

    def _found(self, violations: list[Violation], path: list[tuple[Command, Outcome]]) -> None:
        for v in violations:
            if v.id not in self.findings:
                self.findings[v.id] = Finding(v, tuple(path))

    def run(self, depth: int, budget: int) -> CheckResult:
        started = time.perf_counter()
        roots = self.roots()
        seen: dict[bytes, Node] = {}
        edges: dict[bytes, set[bytes]] = {}
        expanded: set[bytes] = set()
        queue: deque[tuple[Node, bytes]] = deque()
        for root in roots:
            fp = fingerprint(root.instance, root.now)
            if fp not in seen:
                seen[fp] = root
                queue.append((root, fp))
                self._found(self.judge.state(root), root.path())
        stopped = False
        while queue and not stopped:
            node, fp = queue.popleft()
            if node.depth >= depth:
                continue
            children = edges.setdefault(fp, set())
            self._probe_early(node)
            for command, perms in self.commands(node):
                outcome = self.runner.run(node, command)
                self.commands_run += 1
                after = (
                    self.runner.child(node, command, outcome)
                    if outcome.accepted and outcome.after is not None
                    else None
                )
                violations = self.judge.step(node, command, outcome, after)
                if perms is not None:
                    violations += self.judge.agreement(perms(), command, outcome)
                if command.kind == "tick" and after is not None and outcome.events:
                    again = self.runner.run(after, Command("tick", command.at))
                    if again.events:
                        violations.append(
                            Violation(
                                "deadlines-on-time",
                                "deadlines never fire early and each step fires at most once",
                                f"a second tick at {command.at.isoformat()} fired "
                                f"{len(again.events)} more step(s)",
                            )
                        )
                if violations:
                    self._found(violations, [*node.path(), (command, outcome)])
                if after is None or not outcome.events:
                    continue
                child_fp = fingerprint(after.instance, after.now)
                children.add(child_fp)
                if child_fp in seen:
                    continue
                if len(seen) >= budget:
                    stopped = True
                    continue
                seen[child_fp] = after
                state_violations = self.judge.state(after)
                if self.check_replay:
                    state_violations += self.judge.replayed(after)
                if state_violations:
                    self._found(state_violations, after.path())
                queue.append((after, child_fp))
            expanded.add(fp)
        self._reach(seen, edges, expanded)
        seconds = time.perf_counter() - started
        ordered = sorted(self.findings.values(), key=lambda f: (len(f.path), f.violation.id))
        return CheckResult(
            self.definition.key,
            len(seen),
            self.commands_run,
            seconds,
            depth,
            budget,
            stopped,
            tuple(ordered),
            self.prefix,
            roots[0],
            tuple(self.prefix_outcomes),
        )

    def _probe_early(self, node: Node) -> None:
        nxt = node.instance.next_deadline_at
        if nxt is None:
            return
        command = Command("tick", nxt - _EARLY)
        outcome = self.runner.run(node, command)
        self.commands_run += 1
        if outcome.events:
            self._found(
                [
                    Violation(
                        "deadlines-on-time",
                        "deadlines never fire early and each step fires at most once",
                        f"a tick just before the next step ({nxt.isoformat()}) fired "
                        f"{len(outcome.events)} step(s)",
                    )
                ],
                [*node.path(), (command, outcome)],
            )

    def _reach(
        self, seen: dict[bytes, Node], edges: dict[bytes, set[bytes]], expanded: set[bytes]
    ) -> None:
        """Temporal invariants on the explored graph: a state violates ``reachable``
        when none of its targets can be reached from it *and* everything reachable
        from it was fully explored (so the bound cannot be the reason)."""
        if not self.judge.reach:
            return
        reverse: dict[bytes, set[bytes]] = {}
        for src, dsts in edges.items():
            for dst in dsts:
                reverse.setdefault(dst, set()).add(src)

        def backwards(start: set[bytes]) -> set[bytes]:
            out = set(start)
            todo = list(start)
            while todo:
                for prev in reverse.get(todo.pop(), ()):
                    if prev not in out:
                        out.add(prev)
                        todo.append(prev)
            return out

        unexplored = {fp for fp in seen if fp not in expanded}
        unexplored |= {dst for dsts in edges.values() for dst in dsts if dst not in seen}
        open_ = backwards(unexplored)
        for inv in self.judge.reach:
            targets = set(inv.targets) or set(self.judge.finals)
            good = backwards({fp for fp, n in seen.items() if n.instance.state in targets})
            stuck = [n for fp, n in seen.items() if fp not in good and fp not in open_]
            if stuck:
                node = min(stuck, key=lambda n: n.depth)
                want = ", ".join(sorted(targets))
                self._found(
                    [
                        Violation(
                            inv.id,
                            inv.labels.en,
                            f"from state {node.instance.state} no run reaches {want} "
                            "(every continuation was explored)",
                            "declared",
                        )
                    ],
                    node.path(),
                )


def check(
    definition: ProcessDefinition,
    *,
    depth: int = 6,
    from_scenario: str | Path | Mapping[str, Any] | None = None,
    steps: int | None = None,
    budget: int = DEFAULT_BUDGET,
    actors: Iterable[Actor] = (),
) -> CheckResult:
    """Explore every distinct state reachable within ``depth`` commands and check every
    invariant; see docs/testing.md. ``from_scenario`` + ``steps`` start from the state
    the first ``steps`` steps of a scenario reach (and lend the search the scenario's
    actors and payloads)."""
    prefix = None
    if from_scenario is not None:
        prefix = read_prefix(from_scenario, steps, zone(definition.timezone))
    explorer = Explorer(definition, prefix=prefix, actors=actors)
    return explorer.run(depth, budget)


# -- counterexamples -----------------------------------------------------------------


def _same(actor: Actor) -> str:
    return json.dumps([actor.id, sorted(actor.roles), actor.element], sort_keys=True)


def _actor_key(actor: Actor, keys: dict[str, str], actors: dict[str, Any]) -> str:
    """The key of ``actor`` in the scenario's actors (the same person acting with
    other roles gets a key of its own)."""
    same = _same(actor)
    if same in keys:
        return keys[same]
    key = actor.id
    n = 1
    while key in actors:
        n += 1
        key = f"{actor.id}+{n}"
    keys[same] = key
    actors[key] = actor.as_dict() | {"element": actor.element}
    return key


def _expect(command: Command, outcome: Outcome) -> dict[str, Any]:
    expect: dict[str, Any] = {}
    if outcome.accepted:
        if outcome.after is not None and command.kind != "tick":
            expect["state"] = outcome.after.state
        if command.kind == "tick":
            fired = [str(getattr(e, "name", e.type)) for e in outcome.events]
            if fired:
                expect["escalations"] = fired
    elif outcome.error is None:
        expect["refused"] = sorted(set(outcome.codes))
    else:
        expect["accepted"] = False
    return expect


def counterexample(
    result: CheckResult, finding: Finding, definition: ProcessDefinition
) -> dict[str, Any]:
    """A scenario (docs/scenarios.md) that replays ``finding``: the scenario prefix (if
    any), then the shortest path, each step with what it must do (``expect``), the last
    one noting the violated invariant. ``paketflow simulate`` runs it."""
    return scenario_for(finding, definition, result.prefix, result.prefix_outcomes)


def scenario_for(
    finding: Finding,
    definition: ProcessDefinition,
    prefix: Prefix | None,
    prefix_outcomes: tuple[tuple[Command, Outcome], ...] = (),
) -> dict[str, Any]:
    """The counterexample scenario of ``finding`` after ``prefix`` (see
    :func:`counterexample`)."""
    keys: dict[str, str] = {}
    actors: dict[str, Any] = {}
    steps: list[dict[str, Any]] = []
    instance = INSTANCE_ID
    if prefix is not None:
        instance = prefix.instance
        for key, spec in prefix.actors.items():
            actors[key] = dict(spec)
            keys.setdefault(_same(Actor.from_dict(spec)), key)
    path = list(finding.path)
    done = len(prefix_outcomes)
    for i, (command, outcome) in enumerate([*prefix_outcomes, *path]):
        if i < done and prefix is not None:
            # the scenario's own step, with what it did on this definition
            own: dict[str, Any] = json.loads(json.dumps(dict(prefix.steps[i])))
            own["expect"] = _expect(command, outcome)
            steps.append(own)
            continue
        step: dict[str, Any] = {"at": command.at.isoformat(), "command": command.kind}
        if command.actor is not None and command.kind != "tick":
            step["actor"] = _actor_key(command.actor, keys, actors)
        if command.event is not None:
            step["event"] = command.event
        if command.slot is not None:
            step["slot"] = command.slot
        if command.data is not None and command.kind in ("start", "fire"):
            step["data"] = plain(command.data)
        step["expect"] = _expect(command, outcome)
        if i == done + len(path) - 1:
            step["note"] = f"VIOLATION {finding.violation}"
        steps.append(step)
    if not path and steps:
        steps[-1]["note"] = f"VIOLATION {finding.violation}"
    return {
        "format": 1,
        "id": f"CE-{finding.violation.id}",
        "labels": {
            "id": f"Contoh penyangkal: {finding.violation.id}",
            "en": f"Counterexample: {finding.violation.id}",
        },
        "description": str(finding.violation),
        "definition": definition.id,
        "instance": instance,
        "actors": actors,
        "steps": steps,
    }
