"""Compiling a definition onto its shared ``transitions`` machine: states, every
(state, event, alternative), internal self-transitions, timeouts, callables as
conditions, validators, calendars and the expression roots."""

from __future__ import annotations

from typing import Any

import pytest

import paketflow
from paketflow._calendar import WorkingCalendar
from paketflow._compile import TIMEOUT_PREFIX, CompiledProcess, _roots, compile_definition


@pytest.fixture
def compiled(mini_doc: dict[str, Any]) -> CompiledProcess:
    return compile_definition(paketflow.load_definition(mini_doc))


def test_one_shared_machine_without_models(compiled: CompiledProcess) -> None:
    """The machine holds every state and no model: instances are never attached."""
    machine = compiled.machine
    assert list(machine.states) == ["DRAFT", "CHECK", "FUNDING", "SPEND", "DONE", "CANCELLED"]
    assert machine.models == []
    assert machine.send_event is True


def test_each_compile_builds_its_own_machine(mini_doc: dict[str, Any]) -> None:
    """Compiling builds one machine per call; two definitions never share one."""
    definition = paketflow.load_definition(mini_doc)
    one, two = compile_definition(definition), compile_definition(definition)
    assert one.machine is not two.machine
    assert one.definition is two.definition is definition


def test_no_auto_transitions(compiled: CompiledProcess) -> None:
    """auto_transitions is off: no ``to_<state>`` events exist."""
    assert compiled.machine.auto_transitions is False
    assert not [e for e in compiled.machine.events if e.startswith("to_")]


def test_events_are_the_declared_ones_plus_timeouts(compiled: CompiledProcess) -> None:
    """The machine's events are the definition's transitions and one trigger per
    deadline with a timeout."""
    assert set(compiled.machine.events) == {
        "submit",
        "cancel",
        "check",
        "receive",
        "ack",
        "pay",
        TIMEOUT_PREFIX + "TM-CHECK",
    }
    assert TIMEOUT_PREFIX == "!timeout:"


def _compiled_transitions(compiled: CompiledProcess) -> dict[tuple[str, str], list[Any]]:
    out: dict[tuple[str, str], list[Any]] = {}
    for name, event in compiled.machine.events.items():
        for source, trs in event.transitions.items():
            out[(source, name)] = [t.dest for t in trs]
    return out


def test_every_state_event_alternative_is_compiled(compiled: CompiledProcess) -> None:
    """Each (state, event) has one machine transition per alternative, in order;
    internal self-transitions have no destination."""
    got = _compiled_transitions(compiled)
    expected: dict[tuple[str, str], list[Any]] = {}
    for state in compiled.definition.states.values():
        for event, tr in state.transitions.items():
            expected[(state.id, event)] = [
                None if (a.target == state.id and not tr.reenter) else a.target
                for a in tr.alternatives
            ]
    expected[("CHECK", TIMEOUT_PREFIX + "TM-CHECK")] = ["DRAFT"]
    assert got == expected
    assert got[("CHECK", "check")] == ["FUNDING", "DRAFT"]
    assert got[("SPEND", "pay")] == ["DONE", None]
    assert got[("SPEND", "ack")] == [None]


def _choosing(compiled: CompiledProcess, source: str, trigger: str, choice: int) -> Any:
    """A ``test`` under which only alternative ``choice``'s ``when`` holds."""
    state = compiled.definition.states[source]
    wanted = (
        state.transitions[trigger].alternatives[choice].when
        if trigger in state.transitions
        else None
    )
    return lambda expr: expr is wanted


@pytest.mark.parametrize(
    ("source", "trigger", "choice", "target"),
    [
        ("DRAFT", "submit", 0, "CHECK"),
        ("DRAFT", "cancel", 0, "CANCELLED"),
        ("CHECK", "check", 0, "FUNDING"),
        ("CHECK", "check", 1, "DRAFT"),
        ("FUNDING", "receive", 0, "SPEND"),
        ("FUNDING", "receive", 1, "SPEND"),
        ("SPEND", "pay", 0, "DONE"),
        ("SPEND", "pay", 1, "SPEND"),
        ("SPEND", "ack", 0, "SPEND"),
    ],
)
def test_the_machine_chooses_the_alternative(
    compiled: CompiledProcess, source: str, trigger: str, choice: int, target: str
) -> None:
    """move() lets the machine take the first alternative whose ``when`` holds (the
    ``otherwise`` alternative when none does) and returns the resulting state and the
    alternative's index; internal self-transitions keep the state."""
    test = _choosing(compiled, source, trigger, choice)
    assert compiled.move(source, trigger, test) == (target, choice)


def test_first_matching_alternative_wins(compiled: CompiledProcess) -> None:
    """When several ``when`` conditions hold, the first in definition order is taken."""
    assert compiled.move("CHECK", "check", lambda expr: True) == ("FUNDING", 0)


def test_the_conditions_see_the_test_results(compiled: CompiledProcess) -> None:
    """The machine evaluates ``when`` conditions through the test it is given, in
    order, stopping at the first that holds."""
    seen: list[Any] = []

    def test(expr: Any) -> bool:
        seen.append(expr)
        return False

    target, index = compiled.move("CHECK", "check", test)
    alts = compiled.definition.states["CHECK"].transitions["check"].alternatives
    assert seen == [a.when for a in alts if a.when is not None]
    assert (target, index) == (alts[index].target, len(alts) - 1)


def test_timeout_moves_without_conditions(compiled: CompiledProcess) -> None:
    """A timeout trigger moves to its target without evaluating anything."""

    def test(expr: Any) -> bool:
        raise AssertionError("a timeout has no condition")

    assert compiled.move("CHECK", TIMEOUT_PREFIX + "TM-CHECK", test) == ("DRAFT", 0)


def test_move_from_a_state_without_the_event(compiled: CompiledProcess) -> None:
    """An event not declared in the source state is refused by the machine."""
    from transitions import MachineError

    with pytest.raises(MachineError):
        compiled.move("DONE", "submit", lambda expr: True)


def test_move_of_an_unknown_trigger(compiled: CompiledProcess) -> None:
    """A trigger the definition never declares is a KeyError."""
    with pytest.raises(KeyError):
        compiled.move("DRAFT", "nope", lambda expr: True)


def test_reenter_self_transition_has_a_destination(mini_doc: dict[str, Any]) -> None:
    """With ``reenter`` a self-transition leaves and re-enters: it has a destination."""
    mini_doc["states"]["SPEND"]["on"]["ack"]["reenter"] = True
    cp = compile_definition(paketflow.load_definition(mini_doc))
    assert _compiled_transitions(cp)[("SPEND", "ack")] == ["SPEND"]
    assert cp.move("SPEND", "ack", lambda expr: True) == ("SPEND", 0)


def test_transitions_logs_stay_out_of_info(compiled: CompiledProcess, caplog: Any) -> None:
    """transitions' own INFO lines (state entered/exited) do not reach the host's INFO
    logs unless the host sets a level on the ``transitions`` logger."""
    import logging

    with caplog.at_level(logging.INFO):
        compiled.move("DRAFT", "submit", lambda expr: True)
    assert [r for r in caplog.records if r.name.startswith("transitions")] == []


def test_conditions_are_callables_never_strings(compiled: CompiledProcess) -> None:
    """Every machine condition is a callable (a string would be resolved by
    ``transitions`` as a model attribute or a module path)."""
    conditions = [
        c.func
        for event in compiled.machine.events.values()
        for trs in event.transitions.values()
        for t in trs
        for c in t.conditions
    ]
    assert conditions
    assert all(callable(f) and not isinstance(f, str) for f in conditions)


def test_validators_per_transition_with_a_payload_schema(compiled: CompiledProcess) -> None:
    """A payload validator exists exactly for transitions with a data schema."""
    assert set(compiled.validators) == {
        ("CHECK", "check"),
        ("FUNDING", "receive"),
        ("SPEND", "pay"),
    }
    check = compiled.validators[("CHECK", "check")]
    assert check.is_valid({"ok": True})
    assert not check.is_valid({"ok": "yes"})
    assert not check.is_valid({})


def test_data_validator(compiled: CompiledProcess, mini_doc: dict[str, Any]) -> None:
    """The instance data schema is compiled; without one there is no validator."""
    assert compiled.data_validator is not None
    assert compiled.data_validator.is_valid({"required": 0})
    assert not compiled.data_validator.is_valid({"required": -1})
    del mini_doc["data"]
    assert compile_definition(paketflow.load_definition(mini_doc)).data_validator is None


def test_calendars_and_timezone(compiled: CompiledProcess) -> None:
    """Calendars are WorkingCalendars of the declared country; tz is the definition's."""
    cal = compiled.calendars["pnk"]
    assert isinstance(cal, WorkingCalendar)
    assert (cal.country, cal.cuti_bersama) == ("ID", False)
    assert str(compiled.tz) == "Asia/Pontianak"


def test_roots_of_the_mini_definition(compiled: CompiledProcess) -> None:
    """The mini definition reads data, event, actor and today."""
    assert compiled.roots == frozenset({"data", "event", "actor", "today"})


def test_roots_finds_var_roots_in_nested_documents() -> None:
    """_roots walks dicts and lists at any depth and reads both var forms."""
    doc = {
        "a": [{"if": [{"var": "flags"}, {"x": [[{"var": ["sets.members", 0]}]]}, 1]}],
        "b": {"c": {"d": {"var": "deadlines.TM.due"}}},
        "e": {"var": "signers"},
        "notvar": {"var": "state", "other": 1},
        "weird": {"var": 5},
        "empty": {"var": []},
    }
    assert _roots(doc) == frozenset({"flags", "sets", "deadlines", "signers"})


def test_roots_of_an_empty_document() -> None:
    """A document without expressions reads no roots."""
    assert _roots({}) == frozenset()
    assert _roots([1, "var", {"variable": "data"}]) == frozenset()


def test_roots_handles_deep_nesting() -> None:
    """_roots is iterative: a very deep document does not hit the recursion limit."""
    node: Any = {"var": "at"}
    for _ in range(5000):
        node = [node]
    assert _roots(node) == frozenset({"at"})
