"""Hypothesis properties of the engine, on random command sequences:

- a refused command changes nothing;
- replay of the history equals the live instance;
- a transition that requires signatures is only taken with its rule satisfied;
- deadline steps never fire early and fire once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import paketflow
from conftest import MINI, WIB
from paketflow import Actor, Engine, Refused

DEFINITION = paketflow.load_definition(MINI)
ACTORS = [
    Actor("ani", {"MEMBER"}, "a"),
    Actor("budi", {"MEMBER"}, "b"),
    Actor("bayu", {"MEMBER", "CHECKER"}, "b"),
    Actor("hadi", {"HEAD"}),
    Actor("citra", {"CHECKER"}),
    Actor("cahyo", {"CHECKER"}),
    Actor("putu", {"PAYER"}),
]
EVENTS = sorted(MINI["events"])
PAYLOADS = st.one_of(
    st.just({}),
    st.fixed_dictionaries({"ok": st.booleans()}),
    st.fixed_dictionaries({"amount": st.integers(min_value=-5, max_value=150)}),
    st.fixed_dictionaries({"ok": st.sampled_from([1, "x", None])}),
)

PLAUSIBLE = {
    "check": st.fixed_dictionaries({"ok": st.booleans()}),
    "receive": st.fixed_dictionaries({"amount": st.integers(min_value=0, max_value=150)}),
    "pay": st.fixed_dictionaries({"amount": st.integers(min_value=1, max_value=100)}),
}


class EngineMachine(RuleBasedStateMachine):
    """Random commands against one instance of the mini definition."""

    def __init__(self) -> None:
        super().__init__()
        self.engine = Engine([DEFINITION])
        self.now = dt.datetime(2012, 3, 5, 9, tzinfo=WIB)
        self.iid: str | None = None

    def snapshot(self) -> tuple[Any, ...]:
        assert self.iid is not None
        return (self.engine.get(self.iid), tuple(self.engine.history(self.iid)))

    @rule(required=st.integers(min_value=0, max_value=120))
    @precondition(lambda self: self.iid is None)
    def start(self, required: int) -> None:
        inst = self.engine.start(
            definition="mini",
            instance_id="p",
            data={"required": required},
            actor=ACTORS[3],
            at=self.now,
        )
        self.iid = inst.id

    @rule(hours=st.integers(min_value=0, max_value=60))
    def advance(self, hours: int) -> None:
        self.now += dt.timedelta(hours=hours)

    @rule(actor=st.sampled_from(ACTORS))
    @precondition(lambda self: self.iid is not None)
    def sign_any(self, actor: Actor) -> None:
        self.sign(actor)

    def sign(self, actor: Actor) -> None:
        assert self.iid is not None
        before = self.snapshot()
        try:
            self.engine.sign(self.iid, actor=actor, at=self.now)
        except Refused:
            assert self.snapshot() == before

    @rule(actor=st.sampled_from(ACTORS), name=st.sampled_from(EVENTS), payload=PAYLOADS)
    @precondition(lambda self: self.iid is not None)
    def fire_any(self, actor: Actor, name: str, payload: dict[str, Any]) -> None:
        self.fire(actor, name, payload)

    def fire(self, actor: Actor, name: str, payload: dict[str, Any]) -> None:
        assert self.iid is not None
        before = self.snapshot()
        inst = before[0]
        try:
            self.engine.fire(self.iid, name, actor=actor, data=payload, at=self.now)
        except Refused as refusal:
            assert refusal.reasons, "a refusal always says why"
            assert self.snapshot() == before
            return
        event_note = f"accepted {name} in {inst.state}"
        event(event_note)
        tr = DEFINITION.states[inst.state].transitions[name]
        rule_ = DEFINITION.states[inst.state].signatures
        if tr.require_signatures and rule_ is not None:
            for slot in rule_.slots:
                signed = [s for s in inst.signatures if s.slot == slot.id]
                assert len(signed) >= slot.count
                assert len({s.actor for s in signed}) == len(signed)

    @rule(data=st.data())
    @precondition(lambda self: self.iid is not None)
    def fire_plausible(self, data: st.DataObject) -> None:
        """Steer towards progress: an event of the current state, by an actor holding
        one of its roles (guards and signatures may still refuse it)."""
        assert self.iid is not None
        state = DEFINITION.states[self.engine.get(self.iid).state]
        names = sorted(n for n in state.transitions if n != "cancel")
        if not names:
            return
        name = data.draw(st.sampled_from(names))
        roles = set(state.transitions[name].roles)
        actor = data.draw(st.sampled_from([a for a in ACTORS if a.roles & roles]))
        payload = data.draw(PLAUSIBLE.get(name, PAYLOADS))
        self.fire(actor, name, payload)

    @rule(data=st.data())
    @precondition(lambda self: self.iid is not None)
    def sign_plausible(self, data: st.DataObject) -> None:
        """Steer towards progress: sign with a random actor who fits some slot."""
        assert self.iid is not None
        rule_ = DEFINITION.states[self.engine.get(self.iid).state].signatures
        if rule_ is None:
            return
        roles = {r for slot in rule_.slots for r in slot.roles}
        self.sign(data.draw(st.sampled_from([a for a in ACTORS if a.roles & roles])))

    @rule()
    @precondition(lambda self: self.iid is not None)
    def tick(self) -> None:
        events = self.engine.tick(self.now)
        for ev in events:
            assert ev.step_at <= self.now
        assert self.engine.tick(self.now) == []

    @invariant()
    def replay_equals_live(self) -> None:
        if self.iid is None:
            return
        history = self.engine.history(self.iid)
        assert paketflow.replay(DEFINITION, history) == self.engine.get(self.iid)
        assert [e.seq for e in history] == list(range(1, len(history) + 1))

    @invariant()
    def steps_fire_once_per_arming(self) -> None:
        if self.iid is None:
            return
        for armed in self.engine.get(self.iid).deadlines:
            assert 0 <= armed.fired <= len(armed.steps)
            assert [t for t, _ in armed.steps] == sorted(t for t, _ in armed.steps)


EngineMachine.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestEngineProperties = EngineMachine.TestCase
