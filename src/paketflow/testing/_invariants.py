"""Invariants: the built-in ones every definition gets, and those it declares.

A :class:`Judge` looks at one state (:meth:`Judge.state`) or one command with the
state before and after it (:meth:`Judge.step`) and returns the :class:`Violation`
found, if any. The explorer (``paketflow check``) and the state machine
(:func:`paketflow.testing.machine_for`) both ask the same judge, so they agree on
what a bug is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from paketflow import Actor, Permissions, ProcessDefinition, replay
from paketflow._calendar import WorkingCalendar, to_local_date, zone
from paketflow._definition._invariants import (
    Invariant,
    ReachInvariant,
    StateInvariant,
    TransitionInvariant,
    compile_invariants,
)
from paketflow._expr import Expr, ExprEvalError
from paketflow.testing._history import deadline_steps
from paketflow.testing._world import Command, Node, Outcome, plain

__all__ = ["BUILTIN", "Judge", "Violation"]

#: The built-in invariants: id → what it says.
BUILTIN: dict[str, str] = {
    "refusal-changes-nothing": "a refused command changes nothing",
    "replay-equals-state": "replaying the history gives the current state",
    "signatures-complete": (
        "a signature state is never left through a signature-gated transition "
        "without its rule satisfied"
    ),
    "roles-allow-actor": "no actor fires an event (or signs) its roles do not allow",
    "segregation-of-duties": "segregation-of-duties exclusions are never violated",
    "deadlines-on-time": "deadlines never fire early and each step fires at most once",
    "deadlines-reachable": (
        "every deadline of the current state is armed, and its escalation tiers are "
        "due before its timeout (a tier after the timeout can never fire)"
    ),
    "final-absorbs": "final states absorb: every command is refused, nothing stays armed",
    "allowed-agrees": "Engine.allowed() agrees with fire and sign",
}


@attrs.frozen
class Violation:
    """A broken invariant: its ``id``, what it says (``title``), what happened
    (``detail``), and ``kind`` (``"builtin"`` or ``"declared"``)."""

    id: str
    title: str
    detail: str
    kind: str = "builtin"

    def __str__(self) -> str:
        return f"{self.id}: {self.title} — {self.detail}"


def _builtin(vid: str, detail: str) -> Violation:
    return Violation(vid, BUILTIN[vid], detail)


class Judge:
    """Checks the invariants of one definition."""

    def __init__(self, definition: ProcessDefinition, actors: Iterable[Actor] = ()) -> None:
        self.definition = definition
        self.declared: tuple[Invariant, ...] = compile_invariants(definition.document)
        self.reach = tuple(i for i in self.declared if isinstance(i, ReachInvariant))
        self.actors: dict[str, Actor] = {a.id: a for a in actors}
        self.tz = zone(definition.timezone)
        self.calendars = {
            cid: WorkingCalendar(
                spec.country,
                cuti_bersama=spec.cuti_bersama,
                extra_holidays=spec.extra_holidays,
                workdays=spec.workdays,
            )
            for cid, spec in definition.calendars.items()
        }
        self.finals = frozenset(s for s, st in definition.states.items() if st.final)

    def know(self, actors: Iterable[Actor]) -> None:
        for actor in actors:
            self.actors.setdefault(actor.id, actor)

    # -- scopes --------------------------------------------------------------------

    def _scope(
        self, node: Node, payload: Mapping[str, Any] | None = None, actor: Actor | None = None
    ) -> dict[str, Any]:
        inst = node.instance
        return {
            "data": plain(inst.data),
            "event": plain(payload or {}),
            "actor": actor.as_dict() if actor else {},
            "at": node.now.isoformat(),
            "today": to_local_date(node.now, self.tz).isoformat(),
            "state": inst.state,
            "flags": sorted(inst.flags),
            "sets": {k: sorted(v) for k, v in inst.sets.items()},
            "signers": [
                {"actor": s.actor, "slot": s.slot, "element": s.element, "name": s.name}
                for s in inst.signatures
            ],
            "deadlines": {a.id: a.due.isoformat() for a in inst.deadlines},
            "_tz": self.tz,
            "_calendars": self.calendars,
        }

    def _holds(self, inv: Invariant, expr: Expr, scope: Mapping[str, Any]) -> str | None:
        """``None`` when ``expr`` is true, else why not."""
        try:
            value = expr(scope)
        except Exception as exc:  # ExprEvalError and friends: the invariant cannot hold
            return f"cannot be evaluated: {exc}"
        return None if value is True else f"is {value!r}"

    # -- one state -----------------------------------------------------------------

    def state(self, node: Node) -> list[Violation]:
        """Invariants of one reachable state."""
        out: list[Violation] = []
        inst = node.instance
        st = self.definition.states[inst.state]
        armed = {a.id: a for a in inst.deadlines}
        if st.final and inst.deadlines:
            out.append(
                _builtin(
                    "final-absorbs",
                    f"final state {inst.state} still has armed deadlines {sorted(armed)}",
                )
            )
        for dl in st.deadlines:
            if dl.id not in armed and not self._undated(dl, inst):
                out.append(
                    _builtin(
                        "deadlines-reachable",
                        f"deadline {dl.id} of state {inst.state} is not armed "
                        "(its due date could not be computed?), so its steps can never fire",
                    )
                )
        for a in inst.deadlines:
            names = [n for _, n in a.steps]
            if "!timeout" in names and names[-1] != "!timeout":
                late = names[names.index("!timeout") + 1 :]
                out.append(
                    _builtin(
                        "deadlines-reachable",
                        f"deadline {a.id}: escalation tier(s) {', '.join(late)} are due after "
                        "its timeout and can never fire",
                    )
                )
        scope: dict[str, Any] | None = None
        for inv in self.declared:
            if not isinstance(inv, StateInvariant):
                continue
            if inv.states and inst.state not in inv.states:
                continue
            scope = scope or self._scope(node)
            why = self._holds(inv, inv.always, scope)
            if why is not None:
                out.append(
                    Violation(inv.id, inv.labels.en, f"in state {inst.state}: {why}", "declared")
                )
        return out

    # -- one command ---------------------------------------------------------------

    def step(
        self,
        before: Node,
        command: Command,
        outcome: Outcome,
        after: Node | None,
    ) -> list[Violation]:
        """Invariants of one command run on ``before`` (``after`` when accepted)."""
        out: list[Violation] = []
        inst = before.instance
        st = self.definition.states[inst.state]
        if not outcome.accepted:
            if outcome.wrote_on_refusal or (
                outcome.after is not None and outcome.after is not inst
            ):
                out.append(
                    _builtin(
                        "refusal-changes-nothing",
                        f"{command.describe()} was refused {list(outcome.codes)} "
                        "but the store was written",
                    )
                )
            return out
        if after is None or outcome.after is None:
            return out
        new = outcome.after
        if command.kind == "tick":
            out.extend(self._tick(before, command, outcome))
            return out
        actor = command.actor
        assert actor is not None
        if st.final and command.kind in ("fire", "sign"):
            out.append(
                _builtin(
                    "final-absorbs",
                    f"{command.describe()} was accepted in final state {inst.state}",
                )
            )
            return out
        if command.kind == "sign":
            out.extend(self._sign(before, actor))
        elif command.kind == "fire":
            out.extend(self._fire(before, command, new, actor, after))
        return out

    def replayed(self, node: Node) -> list[Violation]:
        """``replay`` of the node's history gives the node's snapshot."""
        try:
            again = replay(self.definition, node.history)
        except Exception as exc:
            return [_builtin("replay-equals-state", f"replay failed: {exc}")]
        if again == node.instance:
            return []
        return [
            _builtin(
                "replay-equals-state",
                f"replay gives state {again.state} data {plain(again.data)}, the engine has "
                f"{node.instance.state} data {plain(node.instance.data)}",
            )
        ]

    def _sign(self, before: Node, actor: Actor) -> list[Violation]:
        out: list[Violation] = []
        inst = before.instance
        rule = self.definition.states[inst.state].signatures
        if rule is None:
            return [
                _builtin(
                    "roles-allow-actor",
                    f"{actor.id} signed in {inst.state}, which has no signature rule",
                )
            ]
        fits = [
            s
            for s in rule.slots
            if actor.roles & set(s.roles) and (s.element is None or s.element == actor.element)
        ]
        if not fits:
            out.append(
                _builtin(
                    "roles-allow-actor",
                    f"{actor.id} ({', '.join(sorted(actor.roles))}, element {actor.element}) "
                    f"signed in {inst.state} but fits no slot",
                )
            )
        for excl in rule.exclude:
            if actor.id in inst.sets.get(excl.set, ()):
                out.append(
                    _builtin(
                        "segregation-of-duties",
                        f"{actor.id} signed in {inst.state} although in person set "
                        f"{excl.set!r} ({excl.rule or 'no rule id'})",
                    )
                )
        return out

    def _fire(
        self, before: Node, command: Command, new: Any, actor: Actor, after: Node
    ) -> list[Violation]:
        out: list[Violation] = []
        inst = before.instance
        st = self.definition.states[inst.state]
        event = str(command.event)
        tr = st.transitions.get(event)
        if tr is None:
            out.append(
                _builtin(
                    "roles-allow-actor",
                    f"{event} was accepted in {inst.state}, where it is not declared",
                )
            )
            return out
        if not actor.roles & set(tr.roles):
            out.append(
                _builtin(
                    "roles-allow-actor",
                    f"{actor.id} ({', '.join(sorted(actor.roles))}) fired {event} in "
                    f"{inst.state}; allowed roles: {', '.join(tr.roles)}",
                )
            )
        for excl in tr.exclude:
            if actor.id in inst.sets.get(excl.set, ()):
                out.append(
                    _builtin(
                        "segregation-of-duties",
                        f"{actor.id} fired {event} in {inst.state} although in person set "
                        f"{excl.set!r} ({excl.rule or 'no rule id'})",
                    )
                )
        if tr.require_signatures and st.signatures is not None:
            missing = self._unsatisfied(inst, st.signatures, tr.require_documents)
            if missing:
                out.append(
                    _builtin(
                        "signatures-complete",
                        f"{event} left {inst.state} with the signature rule unsatisfied: "
                        + "; ".join(missing),
                    )
                )
        scope: dict[str, Any] | None = None
        for inv in self.declared:
            if not isinstance(inv, TransitionInvariant) or inv.event != event:
                continue
            if inv.sources and inst.state not in inv.sources:
                continue
            if inv.targets and new.state not in inv.targets:
                continue
            scope = scope or self._scope(before, command.data, actor)
            why = self._holds(inv, inv.require, scope)
            if why is not None:
                out.append(
                    Violation(
                        inv.id,
                        inv.labels.en,
                        f"{command.describe()} taken {inst.state} → {new.state}: {why}",
                        "declared",
                    )
                )
        return out

    def _undated(self, dl: Any, inst: Any) -> bool:
        """A date deadline whose date the data does not hold yet: it is armed by the
        transition that puts it there, so not being armed now is no violation."""
        if dl.due.kind != "date":
            return False
        try:
            value = dl.due.date({"data": inst.data, "_tz": self.tz})
        except (ExprEvalError, TypeError, ValueError, ArithmeticError):
            return False  # an unevaluable date: reported as not armed
        return value is None

    def _unsatisfied(self, inst: Any, rule: Any, documents: tuple[str, ...] = ()) -> list[str]:
        problems: list[str] = []
        seen: dict[str, int] = {}
        for sig in inst.signatures:
            seen[sig.actor] = seen.get(sig.actor, 0) + 1
        for slot in rule.slots:
            if documents and slot.document not in documents:
                continue  # the transition needs only the listed documents' slots
            signers = [s for s in inst.signatures if s.slot == slot.id]
            good = 0
            for sig in signers:
                person = self.actors.get(sig.actor)
                if slot.element is not None and sig.element != slot.element:
                    problems.append(f"{sig.actor} in slot {slot.id} is not element {slot.element}")
                    continue
                if person is not None and not person.roles & set(slot.roles):
                    problems.append(f"{sig.actor} in slot {slot.id} holds none of {slot.roles}")
                    continue
                good += 1
            if good < slot.count:
                problems.append(f"slot {slot.id} has {good} of {slot.count} signatures")
        if rule.distinct_persons:
            twice = sorted(a for a, n in seen.items() if n > 1)
            if twice:
                problems.append(f"{', '.join(twice)} signed more than once")
        return problems

    def _tick(self, before: Node, command: Command, outcome: Outcome) -> list[Violation]:
        out: list[Violation] = []
        inst = before.instance
        pending: dict[tuple[str, str], dt.datetime] = {}
        for armed in inst.deadlines:
            for when, name in armed.steps[armed.fired :]:
                pending[(armed.id, name)] = when
        known = {a.id for a in inst.deadlines}
        timeouts = {
            (dl.timeout.event if dl.timeout else None): dl.id
            for s in self.definition.states.values()
            for dl in s.deadlines
        }
        fired: set[tuple[str, str]] = set()
        if self.definition.states[inst.state].final and outcome.events:
            out.append(_builtin("final-absorbs", f"a tick fired deadline steps in {inst.state}"))
        for step in deadline_steps(outcome.events):
            deadline = step.deadline if step.deadline else timeouts.get(step.name)
            tier = step.tier if step.deadline else "!timeout"
            if step.scheduled is not None and step.scheduled > command.at:
                out.append(
                    _builtin(
                        "deadlines-on-time",
                        f"{step.name} fired at {command.at.isoformat()}, before its time "
                        f"{step.scheduled.isoformat()}",
                    )
                )
            if deadline is None or tier is None:
                continue
            key = (deadline, tier)
            if key in fired:
                out.append(_builtin("deadlines-on-time", f"{step.name} fired twice in one tick"))
            fired.add(key)
            if deadline in known and key not in pending:
                out.append(
                    _builtin(
                        "deadlines-on-time",
                        f"{step.name} fired although it had already fired (or was not armed)",
                    )
                )
            due = pending.get(key)
            if due is not None and due > command.at:
                out.append(
                    _builtin(
                        "deadlines-on-time",
                        f"{step.name} fired at {command.at.isoformat()}, before {due.isoformat()}",
                    )
                )
        return out

    # -- Engine.allowed -------------------------------------------------------------

    @staticmethod
    def agreement(perms: Permissions, command: Command, outcome: Outcome) -> list[Violation]:
        """Does ``perms`` (``allowed()`` on the state before) agree with what the
        command did? Only for commands it speaks about: ``fire`` with an empty payload
        and ``sign`` without a slot."""
        out: list[Violation] = []
        if command.kind == "fire" and command.data is not None and not command.data:
            event = str(command.event)
            if event in perms.events and not outcome.accepted:
                out.append(
                    _builtin(
                        "allowed-agrees",
                        f"allowed() lists {event} for {command.actor.id if command.actor else ''}"
                        f" but fire refused it {list(outcome.codes)}",
                    )
                )
            elif event in perms.refused:
                want = sorted({r.code for r in perms.refused[event]})
                if outcome.accepted:
                    out.append(
                        _builtin(
                            "allowed-agrees",
                            f"allowed() refuses {event} {want} but fire accepted it",
                        )
                    )
                elif sorted(set(outcome.codes)) != want:
                    out.append(
                        _builtin(
                            "allowed-agrees",
                            f"allowed() refuses {event} with {want}, fire with "
                            f"{sorted(set(outcome.codes))}",
                        )
                    )
        elif command.kind == "sign" and command.slot is None:
            if perms.sign is not None and not outcome.accepted:
                out.append(
                    _builtin(
                        "allowed-agrees",
                        f"allowed() says {command.actor.id if command.actor else ''} would sign "
                        f"slot {perms.sign} but sign refused it {list(outcome.codes)}",
                    )
                )
            elif perms.sign is None and outcome.accepted:
                out.append(
                    _builtin("allowed-agrees", "allowed() refuses signing but sign accepted it")
                )
            elif perms.sign is None:
                want = sorted({r.code for r in perms.sign_refused})
                if want and sorted(set(outcome.codes)) != want:
                    out.append(
                        _builtin(
                            "allowed-agrees",
                            f"allowed() refuses signing with {want}, sign with "
                            f"{sorted(set(outcome.codes))}",
                        )
                    )
        return out
