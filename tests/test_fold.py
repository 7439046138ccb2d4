"""The pure fold: data operations (copy-on-write) and applying each event type to an
instance snapshot."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import at
from paketflow._runtime.fold import apply_event, apply_ops, fold
from paketflow._runtime.model import Actor, ArmedDeadline, Event, Instance, Signature

HEAD = Actor("hadi", {"HEAD"})

# --------------------------------------------------------------------------- apply_ops


def ops(data: Any, *operations: tuple[str, list[Any], Any]) -> Any:
    """apply_ops on ``data``, asserting the input is left untouched."""
    before = copy.deepcopy(data)
    result = apply_ops(data, [list(o) for o in operations])
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
    """List indices may be integers or digit strings; '-' appends."""
    data = {"l": [1, 2, 3]}
    assert ops(data, ("set", ["l", 0], 9)) == {"l": [9, 2, 3]}
    assert ops(data, ("set", ["l", "2"], 9)) == {"l": [1, 2, 9]}
    assert ops(data, ("set", ["l", "-"], 4)) == {"l": [1, 2, 3, 4]}
    assert ops(data, ("set", ["l", 3], 4)) == {"l": [1, 2, 3, 4]}


def test_set_inside_list_items() -> None:
    """Paths go through list items into objects."""
    data = {"tranches": [{"due": "a"}, {"due": "b"}]}
    assert ops(data, ("set", ["tranches", 1, "due"], "c")) == {
        "tranches": [{"due": "a"}, {"due": "c"}]
    }
    assert ops(data, ("set", ["tranches", "-", "due"], "z")) == {
        "tranches": [{"due": "a"}, {"due": "b"}, {"due": "z"}]
    }


@pytest.mark.parametrize(
    ("path", "error"),
    [
        (["l", 5], IndexError),
        (["l", -1], IndexError),
        (["l", "-1"], IndexError),
        (["l", "x"], ValueError),
    ],
)
def test_set_bad_list_index(path: list[Any], error: type[Exception]) -> None:
    """Out-of-range, negative and non-numeric list indices raise (the engine turns
    these into refusals) and leave the data unchanged; a negative index never
    silently rewrites the last item."""
    data = {"l": [1, 2]}
    with pytest.raises(error):
        apply_ops(data, [["set", path, 0]])
    assert data == {"l": [1, 2]}


def test_add() -> None:
    """``add`` adds to a number; a missing or null value counts as 0."""
    assert ops({}, ("add", ["n"], 5)) == {"n": 5}
    assert ops({"n": None}, ("add", ["n"], 5)) == {"n": 5}
    assert ops({"n": 2}, ("add", ["n"], 3.5)) == {"n": 5.5}
    assert ops({"a": {"n": 1}}, ("add", ["a", "n"], -1)) == {"a": {"n": 0}}
    assert ops({"l": [1, 2]}, ("add", ["l", 1], 10)) == {"l": [1, 12]}
    assert ops({"l": [1]}, ("add", ["l", "-"], 10)) == {"l": [1, 10]}


def test_add_to_a_string_raises() -> None:
    """``add`` to a non-number raises TypeError."""
    with pytest.raises(TypeError):
        apply_ops({"n": "x"}, [["add", ["n"], 1]])


def test_append() -> None:
    """``append`` adds an item to a list, creating it when missing."""
    assert ops({}, ("append", ["p"], {"a": 1})) == {"p": [{"a": 1}]}
    assert ops({"p": [1]}, ("append", ["p"], 2)) == {"p": [1, 2]}
    assert ops({"p": None}, ("append", ["p"], 2)) == {"p": [2]}
    assert ops({"x": {"p": []}}, ("append", ["x", "p"], [3])) == {"x": {"p": [[3]]}}
    assert ops({"l": [[1]]}, ("append", ["l", 0], 2)) == {"l": [[1, 2]]}


@pytest.mark.parametrize("old", ["ab", {"k": 1}, 5])
def test_append_to_a_non_list_raises(old: Any) -> None:
    """``append`` onto a string or object raises instead of splitting it into
    characters or keys."""
    data = {"p": old}
    with pytest.raises(TypeError) as info:
        apply_ops(data, [["append", ["p"], 1]])
    assert str(info.value) == f"'append' needs a list, got {old!r}"
    assert data == {"p": old}


def test_unset() -> None:
    """``unset`` removes a key or a list item; a missing one is a no-op."""
    assert ops({"a": 1, "b": 2}, ("unset", ["a"], None)) == {"b": 2}
    assert ops({"a": 1}, ("unset", ["zz"], None)) == {"a": 1}
    assert ops({"a": {"b": 1, "c": 2}}, ("unset", ["a", "b"], None)) == {"a": {"c": 2}}
    assert ops({"l": [1, 2, 3]}, ("unset", ["l", 1], None)) == {"l": [1, 3]}
    assert ops({"l": [1]}, ("unset", ["l", 5], None)) == {"l": [1]}


def test_operations_apply_in_order() -> None:
    """Several operations apply one after another."""
    got = ops(
        {"paid": 10},
        ("add", ["paid"], 5),
        ("append", ["payments"], {"amount": 5}),
        ("set", ["payments", 0, "by"], "putu"),
        ("unset", ["paid"], None),
    )
    assert got == {"payments": [{"amount": 5, "by": "putu"}]}


def test_no_operations_gives_an_equal_copy() -> None:
    """With no operations the result is an equal new dict."""
    data = {"a": [1]}
    result = apply_ops(data, [])
    assert result == data and result is not data


def test_copy_on_write_shares_untouched_branches() -> None:
    """Only containers along the changed path are copied; others are shared."""
    data = {"a": {"x": [1]}, "b": {"y": [2]}}
    result = apply_ops(data, [["set", ["a", "x", 0], 9]])
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
op_strategy = st.tuples(
    st.sampled_from(["set", "add", "append", "unset"]),
    st.lists(st.sampled_from(["a", "b", "c", 0, 1, "0", "-"]), min_size=1, max_size=3),
    st.integers(-5, 5),
)


@given(
    st.dictionaries(st.sampled_from("abc"), json_data, max_size=3),
    st.lists(op_strategy, max_size=4),
)
def test_apply_ops_never_mutates_its_input(data: dict[str, Any], operations: list[Any]) -> None:
    """Whatever the operations (and whether they succeed), the input data is never
    mutated."""
    before = copy.deepcopy(data)
    with contextlib.suppress(TypeError, ValueError, IndexError):
        apply_ops(data, [list(o) for o in operations])
    assert data == before


# --------------------------------------------------------------------------- apply_event

DEADLINE = ArmedDeadline(
    "TM-SUBMIT",
    at("2012-03-15", 0),
    ((at("2012-03-16", 0), "h1"), (at("2012-03-20", 0), "!timeout")),
)
OTHER = ArmedDeadline("TM-X", at("2012-03-30", 0), ((at("2012-03-30", 0), "!timeout"),))


def ev(seq: int, type_: str, delta: dict[str, Any], when: dt.datetime | None = None) -> Event:
    return Event("i1", seq, type_, when or at("2012-03-05"), HEAD, None, None, None, delta)


def start_event() -> Event:
    return ev(
        1,
        "started",
        {
            "definition": {"id": "mini", "version": "1.0.0", "hash": "abc"},
            "state": "DRAFT",
            "data": {"required": 100},
            "sets": {"starter": ["hadi"]},
            "arm": [DEADLINE.as_dict()],
        },
    )


def started() -> Instance:
    return apply_event(None, start_event())


def test_started_builds_the_instance() -> None:
    """A started event creates the instance at version 1 with its definition, state,
    data, sets and armed deadlines."""
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


def test_history_must_begin_with_started() -> None:
    """Applying a non-started event to no instance raises ValueError."""
    with pytest.raises(ValueError) as info:
        apply_event(None, ev(1, "fired", {"state": "CHECK"}))
    assert str(info.value) == "history of 'i1' must begin with 'started'"


def test_signed_appends_a_signature() -> None:
    """A signed event adds one signature with the event's time."""
    inst = started()
    delta = {"signature": {"slot": "a", "actor": "ani", "element": "a", "name": "Ani"}}
    after = apply_event(inst, ev(2, "signed", delta, at("2012-03-06")))
    assert after.signatures == (Signature("a", "ani", at("2012-03-06"), "a", "Ani"),)
    after2 = apply_event(after, ev(3, "signed", {"signature": {"slot": "b", "actor": "budi"}}))
    assert [s.actor for s in after2.signatures] == ["ani", "budi"]
    assert after2.signatures[1].element is None
    assert (after2.version, after2.state) == (3, "DRAFT")
    assert inst.signatures == ()


def test_fired_moves_state_applies_ops_flags_sets_and_deadlines() -> None:
    """A fired event entering a new state updates state, entry time, data, flags,
    sets, deadlines, and clears signatures."""
    inst = apply_event(started(), ev(2, "signed", {"signature": {"slot": "a", "actor": "ani"}}))
    delta = {
        "state": "CHECK",
        "entered": True,
        "ops": [["add", ["available"], 50], ["set", ["note"], "x"]],
        "flags_on": ["late"],
        "sets": {"starter": ["budi"], "submitters": ["hadi"]},
        "disarm": ["TM-SUBMIT"],
        "arm": [OTHER.as_dict()],
    }
    after = apply_event(inst, ev(3, "fired", delta, at("2012-03-07")))
    assert (after.state, after.version, after.entered_at) == ("CHECK", 3, at("2012-03-07"))
    assert after.data == {"required": 100, "available": 50, "note": "x"}
    assert after.flags == frozenset({"late"})
    assert after.sets == {
        "starter": frozenset({"hadi", "budi"}),
        "submitters": frozenset({"hadi"}),
    }
    assert after.deadlines == (OTHER,)
    assert after.signatures == ()
    assert inst.data == {"required": 100}
    assert inst.state == "DRAFT"


def test_internal_fired_keeps_entry_signatures_and_deadlines() -> None:
    """A fired event without ``entered`` keeps entry time, signatures and deadlines."""
    inst = apply_event(started(), ev(2, "signed", {"signature": {"slot": "a", "actor": "ani"}}))
    after = apply_event(inst, ev(3, "fired", {"ops": [["set", ["acknowledged"], True]]}))
    assert after.entered_at == inst.entered_at
    assert after.signatures == inst.signatures
    assert after.deadlines == inst.deadlines
    assert after.data["acknowledged"] is True


def test_reset_signatures() -> None:
    """``reset_signatures`` drops the signatures without leaving the state."""
    inst = apply_event(started(), ev(2, "signed", {"signature": {"slot": "a", "actor": "ani"}}))
    after = apply_event(inst, ev(3, "fired", {"reset_signatures": True}))
    assert after.signatures == ()
    assert after.entered_at == inst.entered_at


def test_flags_off() -> None:
    """``flags_off`` removes flags; ``flags_on`` and ``flags_off`` apply together."""
    inst = apply_event(started(), ev(2, "fired", {"flags_on": ["late", "short"]}))
    after = apply_event(inst, ev(3, "fired", {"flags_off": ["late"], "flags_on": ["x"]}))
    assert after.flags == frozenset({"short", "x"})


def test_escalated_counts_the_fired_step() -> None:
    """An escalated event advances ``fired`` of its deadline and can raise a flag."""
    inst = started()
    after = apply_event(inst, ev(2, "escalated", {"fired": {"TM-SUBMIT": 1}, "flags_on": ["late"]}))
    (armed,) = after.deadlines
    assert armed.fired == 1
    assert armed.next_at == at("2012-03-20", 0)
    assert after.flags == frozenset({"late"})
    assert after.state == "DRAFT"
    assert inst.deadlines[0].fired == 0


def test_timed_out_moves_and_disarms() -> None:
    """A timed_out event moves to the timeout target and disarms the deadline."""
    inst = started()
    delta = {"state": "CANCELLED", "entered": True, "disarm": ["TM-SUBMIT"]}
    after = apply_event(inst, ev(2, "timed_out", delta, at("2012-03-20", 0)))
    assert (after.state, after.entered_at, after.deadlines) == (
        "CANCELLED",
        at("2012-03-20", 0),
        (),
    )


def test_fold_replays_a_history() -> None:
    """fold applies every event in order; the result equals step-by-step application."""
    events = [
        start_event(),
        ev(2, "signed", {"signature": {"slot": "a", "actor": "ani"}}),
        ev(3, "fired", {"state": "CHECK", "entered": True, "disarm": ["TM-SUBMIT"]}),
    ]
    inst = fold(events)
    step: Instance | None = None
    for e in events:
        step = apply_event(step, e)
    assert inst == step
    assert (inst.state, inst.version, inst.signatures, inst.deadlines) == ("CHECK", 3, (), ())


def test_fold_of_an_empty_history() -> None:
    """An empty history cannot be replayed."""
    with pytest.raises(ValueError) as info:
        fold([])
    assert str(info.value) == "cannot replay an empty history"


def test_fold_history_not_starting_with_started() -> None:
    """A history whose first event is not ``started`` raises ValueError."""
    with pytest.raises(ValueError) as info:
        fold([ev(1, "signed", {"signature": {"slot": "a", "actor": "ani"}})])
    assert str(info.value) == "history of 'i1' must begin with 'started'"
