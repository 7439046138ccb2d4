"""The pure fold (paketflow._runtime.fold): recorded data operations (copy-on-write,
frozen results) and applying each typed event to an instance snapshot; impossible
histories raise HistoryError."""

from __future__ import annotations

import contextlib
import copy
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import at
from paketflow import HistoryError, ImmutableError
from paketflow._json import FrozenDict, FrozenList, freeze
from paketflow._runtime.fold import apply_event, apply_ops, fold
from paketflow._runtime.model import (
    Actor,
    ArmedDeadline,
    DataOp,
    DefinitionRef,
    Escalated,
    Event,
    Fired,
    Instance,
    Signature,
    Signed,
    Started,
    TimedOut,
)

HEAD = Actor("hadi", {"HEAD"})
ANI = Actor("ani", {"MEMBER"}, "a", "Ani")
BUDI = Actor("budi", {"MEMBER"})
SYSTEM = Actor("sistem", {"SISTEM"})

# --------------------------------------------------------------------------- apply_ops


def ops(data: Any, *operations: tuple[str, list[str], Any]) -> Any:
    """apply_ops on ``data``, asserting the input is left untouched."""
    before = copy.deepcopy(data)
    result = apply_ops(data, [DataOp(op, tuple(path), value) for op, path, value in operations])
    assert data == before
    return result


def test_set_top_level_and_nested() -> None:
    """``set`` writes a value, creating missing objects along the path."""
    assert ops({}, ("set", ["a"], 1)) == {"a": 1}
    assert ops({"a": 1}, ("set", ["a"], 2)) == {"a": 2}
    assert ops({}, ("set", ["a", "b", "c"], "x")) == {"a": {"b": {"c": "x"}}}
    assert ops({"a": {"k": 1}}, ("set", ["a", "b"], 2)) == {"a": {"k": 1, "b": 2}}


def test_set_replaces_a_scalar_on_the_path_with_an_object() -> None:
    """A scalar in the middle of a path is replaced by a new object."""
    assert ops({"a": 5}, ("set", ["a", "b"], 1)) == {"a": {"b": 1}}


def test_set_list_indices() -> None:
    """List indices are decimal tokens; '-' or the length appends."""
    data = {"l": [1, 2, 3]}
    assert ops(data, ("set", ["l", "0"], 9)) == {"l": [9, 2, 3]}
    assert ops(data, ("set", ["l", "2"], 9)) == {"l": [1, 2, 9]}
    assert ops(data, ("set", ["l", "-"], 4)) == {"l": [1, 2, 3, 4]}
    assert ops(data, ("set", ["l", "3"], 4)) == {"l": [1, 2, 3, 4]}


def test_set_inside_list_items() -> None:
    """Paths go through list items into objects; '-' creates a new item."""
    data = {"tranches": [{"due": "a"}, {"due": "b"}]}
    assert ops(data, ("set", ["tranches", "1", "due"], "c")) == {
        "tranches": [{"due": "a"}, {"due": "c"}]
    }
    assert ops(data, ("set", ["tranches", "-", "due"], "z")) == {
        "tranches": [{"due": "a"}, {"due": "b"}, {"due": "z"}]
    }


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("5", "list index 5 is out of range"),
        ("-1", "'-1' is not a list index"),
        ("x", "'x' is not a list index"),
        ("01", "'01' is not a list index"),
        ("", "'' is not a list index"),
    ],
)
def test_set_bad_list_index(token: str, message: str) -> None:
    """Out-of-range, negative, non-numeric and zero-padded list indices raise
    IndexError (the engine turns these into refusals) and leave the data unchanged;
    a negative index never silently rewrites the last item."""
    data = {"l": [1, 2]}
    with pytest.raises(IndexError) as info:
        apply_ops(data, [DataOp("set", ("l", token), 0)])
    assert str(info.value) == message
    assert data == {"l": [1, 2]}


def test_append() -> None:
    """``append`` adds an item to a list, creating it when missing or null."""
    assert ops({}, ("append", ["p"], {"a": 1})) == {"p": [{"a": 1}]}
    assert ops({"p": [1]}, ("append", ["p"], 2)) == {"p": [1, 2]}
    assert ops({"p": None}, ("append", ["p"], 2)) == {"p": [2]}
    assert ops({"x": {"p": []}}, ("append", ["x", "p"], [3])) == {"x": {"p": [[3]]}}
    assert ops({"l": [[1]]}, ("append", ["l", "0"], 2)) == {"l": [[1, 2]]}


@pytest.mark.parametrize("old", ["ab", {"k": 1}, 5])
def test_append_to_a_non_list_raises(old: Any) -> None:
    """``append`` onto a string, object or number raises TypeError instead of
    splitting it into characters or keys."""
    data = {"p": old}
    with pytest.raises(TypeError) as info:
        apply_ops(data, [DataOp("append", ("p",), 1)])
    assert str(info.value) == f"'append' needs a list, got {old!r}"
    assert data == {"p": old}


def test_unset() -> None:
    """``unset`` removes a key or a list item; a missing key is a no-op."""
    assert ops({"a": 1, "b": 2}, ("unset", ["a"], None)) == {"b": 2}
    assert ops({"a": 1}, ("unset", ["zz"], None)) == {"a": 1}
    assert ops({"a": {"b": 1, "c": 2}}, ("unset", ["a", "b"], None)) == {"a": {"c": 2}}
    assert ops({"l": [1, 2, 3]}, ("unset", ["l", "1"], None)) == {"l": [1, 3]}


def test_operations_apply_in_order() -> None:
    """Several operations apply one after another."""
    got = ops(
        {"paid": 10},
        ("set", ["paid"], 15),
        ("append", ["payments"], {"amount": 5}),
        ("set", ["payments", "0", "by"], "putu"),
        ("unset", ["paid"], None),
    )
    assert got == {"payments": [{"amount": 5, "by": "putu"}]}


def test_no_operations_gives_an_equal_frozen_value() -> None:
    """With no operations the result is equal to the input and frozen; plain input
    is not returned as it is."""
    data = {"a": [1]}
    result = apply_ops(data, [])
    assert result == data
    assert result is not data
    assert type(result) is FrozenDict


def test_results_are_frozen() -> None:
    """The result of apply_ops, and every container it wrote, is frozen."""
    result = apply_ops(freeze({"l": []}), [DataOp("set", ("a", "b"), {"c": [1]})])
    assert type(result["a"]) is FrozenDict
    assert type(result["a"]["b"]["c"]) is FrozenList
    with pytest.raises(ImmutableError):
        result["a"]["b"]["c"].append(2)
    with pytest.raises(ImmutableError):
        apply_ops(result, [DataOp("append", ("l",), 1)])["l"].append(2)


def test_copy_on_write_shares_untouched_branches() -> None:
    """Only containers along the changed path are copied; others are shared."""
    data = freeze({"a": {"x": [1]}, "b": {"y": [2]}})
    result = apply_ops(data, [DataOp("set", ("a", "x", "0"), 9)])
    assert result["b"] is data["b"]
    assert result["a"] is not data["a"]
    assert data["a"]["x"] == [1]


json_leaf = st.none() | st.booleans() | st.integers(-100, 100) | st.text(max_size=3)
json_data = st.recursive(
    json_leaf,
    lambda kids: (
        st.lists(kids, max_size=3) | st.dictionaries(st.sampled_from("abc"), kids, max_size=3)
    ),
    max_leaves=12,
)
op_strategy = st.builds(
    DataOp,
    st.sampled_from(["set", "append", "unset"]),
    st.lists(st.sampled_from(["a", "b", "c", "0", "1", "-", "x"]), min_size=1, max_size=3).map(
        tuple
    ),
    st.integers(-5, 5),
)


@settings(deadline=None)
@given(
    st.dictionaries(st.sampled_from("abc"), json_data, max_size=3),
    st.lists(op_strategy, max_size=4),
    st.booleans(),
)
def test_apply_ops_never_mutates_its_input(
    data: dict[str, Any], operations: list[DataOp], frozen: bool
) -> None:
    """Whatever the operations (and whether they succeed), the input data is never
    mutated, and a successful result is frozen along every written path."""
    before = copy.deepcopy(data)
    given_data = freeze(data) if frozen else data
    result = None
    with contextlib.suppress(TypeError, IndexError):
        result = apply_ops(given_data, operations)
    assert data == before
    assert given_data == before
    if result is not None:
        assert type(result) is FrozenDict


# --------------------------------------------------------------------------- apply_event

DEADLINE = ArmedDeadline(
    "TM-SUBMIT",
    at("2012-03-15", 0),
    ((at("2012-03-16", 0), "h1"), (at("2012-03-20", 0), "!timeout")),
)
OTHER = ArmedDeadline("TM-X", at("2012-03-30", 0), ((at("2012-03-30", 0), "!timeout"),))


def start_event(**changes: Any) -> Started:
    base = Started(
        instance_id="i1",
        seq=1,
        at=at("2012-03-05"),
        actor=HEAD,
        definition=DefinitionRef("mini", "1.0.0", "abc"),
        state="DRAFT",
        data={"required": 100},
        arm=(DEADLINE,),
    )
    return attrs.evolve(base, **changes)


def signed(seq: int, actor: Actor = ANI, slot: str = "a", **kw: Any) -> Signed:
    return Signed(instance_id="i1", seq=seq, at=at("2012-03-06"), actor=actor, slot=slot, **kw)


def fired(seq: int, **kw: Any) -> Fired:
    fields: dict[str, Any] = {
        "instance_id": "i1",
        "seq": seq,
        "at": at("2012-03-05"),
        "actor": HEAD,
        "name": "submit",
        "source": "DRAFT",
        "target": "DRAFT",
    }
    return Fired(**{**fields, **kw})


def started() -> Instance:
    return apply_event(None, start_event())


def test_started_builds_the_instance() -> None:
    """A started event creates the instance at version 1 with its definition, state,
    data, the starter set holding the actor, and the armed deadlines."""
    inst = started()
    assert (inst.id, inst.definition, inst.definition_version, inst.definition_hash) == (
        "i1",
        "mini",
        "1.0.0",
        "abc",
    )
    assert (inst.state, inst.version, inst.entered_at) == ("DRAFT", 1, at("2012-03-05"))
    assert inst.data == {"required": 100}
    assert inst.sets == {"starter": frozenset({"hadi"})}
    assert inst.deadlines == (DEADLINE,)
    assert (inst.signatures, inst.flags) == ((), frozenset())


def test_started_record_names_the_sets() -> None:
    """The starter joins every set the started event records, and no other."""
    inst = apply_event(None, start_event(record=("starter", "owners")))
    assert inst.sets == {"starter": frozenset({"hadi"}), "owners": frozenset({"hadi"})}
    assert apply_event(None, start_event(record=())).sets == {}


@pytest.mark.parametrize(
    ("event", "text"),
    [
        (
            fired(1, target="CHECK"),
            "history of 'i1' must begin with a 'started' event (seq 1), got 'fired' (seq 1)",
        ),
        (
            start_event(seq=2),
            "history of 'i1' must begin with a 'started' event (seq 1), got 'started' (seq 2)",
        ),
    ],
)
def test_history_must_begin_with_started_at_seq_1(event: Event, text: str) -> None:
    """Applying anything but a started event with seq 1 to no instance raises
    HistoryError (a ValueError)."""
    with pytest.raises(HistoryError) as info:
        apply_event(None, event)
    assert str(info.value) == text
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("event", "text"),
    [
        (signed(3), "event 'i1'#3 cannot follow 'i1' at version 1 (expected 'i1'#2)"),
        (signed(1), "event 'i1'#1 cannot follow 'i1' at version 1 (expected 'i1'#2)"),
        (
            attrs.evolve(signed(2), instance_id="i2"),
            "event 'i2'#2 cannot follow 'i1' at version 1 (expected 'i1'#2)",
        ),
        (start_event(seq=2), "event 'i1'#2: a second 'started'"),
        (
            fired(2, source="CHECK", target="DONE", entered=True),
            "event 'i1'#2 moves from 'CHECK' but the instance is in 'DRAFT'",
        ),
    ],
)
def test_impossible_histories_raise(event: Event, text: str) -> None:
    """A sequence gap or repeat, another instance's event, a second started event
    and a move from a state the instance is not in raise HistoryError, leaving the
    instance unchanged."""
    inst = started()
    with pytest.raises(HistoryError) as info:
        apply_event(inst, event)
    assert str(info.value) == text
    assert inst == started()


def test_signed_appends_a_signature() -> None:
    """A signed event adds one signature with the event's time and the actor's id,
    element and name; nothing else changes."""
    inst = started()
    after = apply_event(inst, signed(2))
    assert after.signatures == (Signature("a", "ani", at("2012-03-06"), "a", "Ani"),)
    after2 = apply_event(after, signed(3, BUDI, "b"))
    assert [s.actor for s in after2.signatures] == ["ani", "budi"]
    assert after2.signatures[1].element is None
    assert (after2.version, after2.state, after2.sets) == (3, "DRAFT", inst.sets)
    assert inst.signatures == ()


def test_signed_record_adds_the_signer_to_the_set() -> None:
    """A signed event with a record adds the signer to that person set."""
    after = apply_event(
        apply_event(started(), signed(2, record="signers")), signed(3, BUDI, "b", record="signers")
    )
    assert after.sets["signers"] == frozenset({"ani", "budi"})


def test_fired_moves_state_applies_ops_flags_sets_and_deadlines() -> None:
    """A fired event entering a new state updates state, entry time, data, flags,
    sets, deadlines, and clears signatures."""
    inst = apply_event(started(), signed(2))
    event = fired(
        3,
        at=at("2012-03-07"),
        target="CHECK",
        entered=True,
        ops=(DataOp("set", ("available",), 50), DataOp("set", ("note",), "x")),
        flags_on=("late",),
        record=("starter", "submitters"),
        disarm=("TM-SUBMIT",),
        arm=(OTHER,),
    )
    after = apply_event(inst, event)
    assert (after.state, after.version, after.entered_at) == ("CHECK", 3, at("2012-03-07"))
    assert after.data == {"required": 100, "available": 50, "note": "x"}
    assert after.flags == frozenset({"late"})
    assert after.sets == {"starter": frozenset({"hadi"}), "submitters": frozenset({"hadi"})}
    assert after.deadlines == (OTHER,)
    assert after.signatures == ()
    assert inst.data == {"required": 100}
    assert inst.state == "DRAFT"


def test_fired_record_adds_a_second_person_to_an_existing_set() -> None:
    """Recording into an existing set adds the actor and keeps the members."""
    after = apply_event(started(), fired(2, actor=BUDI, record=("starter",)))
    assert after.sets == {"starter": frozenset({"hadi", "budi"})}


def test_reentering_a_state_resets_entry_and_signatures() -> None:
    """A fired event that re-enters its own state resets the entry time and the
    signatures."""
    inst = apply_event(started(), signed(2))
    after = apply_event(inst, fired(3, at=at("2012-03-08"), entered=True))
    assert (after.state, after.entered_at, after.signatures) == ("DRAFT", at("2012-03-08"), ())


def test_internal_fired_keeps_entry_signatures_and_deadlines() -> None:
    """A fired event without ``entered`` keeps state, entry time, signatures and
    deadlines."""
    inst = apply_event(started(), signed(2))
    after = apply_event(inst, fired(3, ops=(DataOp("set", ("acknowledged",), True),)))
    assert after.state == inst.state
    assert after.entered_at == inst.entered_at
    assert after.signatures == inst.signatures
    assert after.deadlines == inst.deadlines
    assert after.data["acknowledged"] is True


def test_reset_signatures() -> None:
    """``reset_signatures`` drops the signatures without leaving the state."""
    inst = apply_event(started(), signed(2))
    after = apply_event(inst, fired(3, reset_signatures=True))
    assert after.signatures == ()
    assert after.entered_at == inst.entered_at


def test_flags_off() -> None:
    """``flags_off`` removes flags; ``flags_on`` and ``flags_off`` apply together."""
    inst = apply_event(started(), fired(2, flags_on=("late", "short")))
    after = apply_event(inst, fired(3, flags_off=("late",), flags_on=("x",)))
    assert after.flags == frozenset({"short", "x"})


def test_data_shortcut_is_used_when_given() -> None:
    """The engine may pass the data the operations produce; the fold uses it as is."""
    event = fired(2, ops=(DataOp("set", ("a",), 1),))
    precomputed = freeze({"required": 100, "a": 1})
    after = apply_event(started(), event, data=precomputed)
    assert after.data is precomputed
    assert apply_event(started(), event).data == precomputed


def escalated(seq: int, deadline: str = "TM-SUBMIT", **kw: Any) -> Escalated:
    return Escalated(
        instance_id="i1",
        seq=seq,
        at=at("2012-03-16", 0),
        actor=SYSTEM,
        deadline=deadline,
        step="h1",
        due=at("2012-03-15", 0),
        step_at=at("2012-03-16", 0),
        **kw,
    )


def test_escalated_counts_the_fired_step() -> None:
    """An escalated event advances ``fired`` of its deadline only and can raise a
    flag; the state stays."""
    inst = apply_event(started(), fired(2, arm=(OTHER,)))
    after = apply_event(inst, escalated(3, flags_on=("late",)))
    armed, other = after.deadlines
    assert armed.fired == 1
    assert armed.next_at == at("2012-03-20", 0)
    assert other == OTHER
    assert after.flags == frozenset({"late"})
    assert (after.state, after.version) == ("DRAFT", 3)
    assert inst.deadlines[0].fired == 0


def test_timed_out_moves_and_disarms() -> None:
    """A timed_out event moves to the timeout target and disarms the deadline."""
    event = TimedOut(
        instance_id="i1",
        seq=2,
        at=at("2012-03-20", 0),
        actor=SYSTEM,
        deadline="TM-SUBMIT",
        name="expire",
        due=at("2012-03-15", 0),
        step_at=at("2012-03-20", 0),
        source="DRAFT",
        target="CANCELLED",
        entered=True,
        disarm=("TM-SUBMIT",),
    )
    after = apply_event(started(), event)
    assert (after.state, after.entered_at, after.deadlines) == (
        "CANCELLED",
        at("2012-03-20", 0),
        (),
    )


def test_fold_replays_a_history() -> None:
    """fold applies every event in order; the result equals step-by-step application."""
    events: list[Event] = [
        start_event(),
        signed(2),
        fired(3, target="CHECK", entered=True, disarm=("TM-SUBMIT",)),
    ]
    inst = fold(events)
    step: Instance | None = None
    for e in events:
        step = apply_event(step, e)
    assert inst == step
    assert (inst.state, inst.version, inst.signatures, inst.deadlines) == ("CHECK", 3, (), ())


def test_fold_of_an_empty_history() -> None:
    """An empty history cannot be replayed."""
    with pytest.raises(HistoryError) as info:
        fold([])
    assert str(info.value) == "cannot replay an empty history"


def test_fold_refuses_a_history_with_a_gap() -> None:
    """A history missing an event raises HistoryError naming the expected event."""
    with pytest.raises(HistoryError) as info:
        fold([start_event(), fired(3)])
    assert str(info.value) == "event 'i1'#3 cannot follow 'i1' at version 1 (expected 'i1'#2)"


def test_unset_past_the_end_of_a_list_is_a_no_op() -> None:
    """Unsetting an index past the end of a list removes nothing, like unsetting a
    missing object member."""
    data = {"l": [1]}
    assert apply_ops(data, [DataOp("unset", ("l", "5"))]) == {"l": [1]}
    assert apply_ops(data, [DataOp("unset", ("missing",))]) == {"l": [1]}
