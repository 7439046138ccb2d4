"""Runtime data: actors, events and their canonical JSON, frozen instances and armed
deadlines."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import WIB, at
from paketflow._runtime.model import (
    EVENT_FORMAT,
    Actor,
    ArmedDeadline,
    Event,
    Instance,
    Notice,
    Signature,
    canonical_json,
)

# --------------------------------------------------------------------------- Actor


def test_actor_roles_become_a_frozenset() -> None:
    """Roles given as a set, list or tuple are stored as a frozenset."""
    assert Actor("ani", ["MEMBER", "HEAD", "MEMBER"]).roles == frozenset({"MEMBER", "HEAD"})
    assert Actor("ani", ("A",)).roles == frozenset({"A"})
    assert isinstance(Actor("ani", {"A"}).roles, frozenset)


def test_actor_single_string_is_one_role() -> None:
    """A single string is one role, not a set of characters."""
    assert Actor("ani", "MEMBER").roles == frozenset({"MEMBER"})


def test_actor_equality_ignores_role_order() -> None:
    """Actors with the same roles in any order are equal and hashable."""
    assert Actor("ani", ["A", "B"]) == Actor("ani", ["B", "A"])
    assert len({Actor("ani", ["A", "B"]), Actor("ani", ("B", "A"))}) == 1


def test_actor_as_dict() -> None:
    """as_dict sorts roles and omits element and name when absent."""
    assert Actor("ani", {"MEMBER", "HEAD"}).as_dict() == {"id": "ani", "roles": ["HEAD", "MEMBER"]}
    assert Actor("ani", "MEMBER", "a", "Ani").as_dict() == {
        "id": "ani",
        "roles": ["MEMBER"],
        "element": "a",
        "name": "Ani",
    }


@pytest.mark.parametrize(
    "actor",
    [
        Actor("ani", {"MEMBER"}, "a", "Ani"),
        Actor("hadi", {"HEAD", "CHECKER"}),
        Actor("x", ()),
        Actor("y", "R", None, "Nama"),
    ],
)
def test_actor_round_trip(actor: Actor) -> None:
    """from_dict(as_dict()) gives back an equal actor, also through JSON."""
    assert Actor.from_dict(actor.as_dict()) == actor
    assert Actor.from_dict(json.loads(json.dumps(actor.as_dict()))) == actor


def test_actor_from_dict_without_roles() -> None:
    """Missing roles, element and name default to empty / None."""
    assert Actor.from_dict({"id": "z"}) == Actor("z", frozenset())


def test_actor_is_frozen() -> None:
    """Actors cannot be changed after creation."""
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        Actor("ani", "A").id = "budi"  # type: ignore[misc]


# --------------------------------------------------------------------------- ArmedDeadline


def _armed(fired: int = 0) -> ArmedDeadline:
    return ArmedDeadline(
        "TM",
        at("2012-03-15", 0),
        ((at("2012-03-16", 0), "h1"), (at("2012-03-20", 0), "!timeout")),
        fired,
    )


def test_armed_deadline_next_at_walks_the_steps() -> None:
    """next_at is the time of the first unfired step, None when all have fired."""
    assert _armed(0).next_at == at("2012-03-16", 0)
    assert _armed(1).next_at == at("2012-03-20", 0)
    assert _armed(2).next_at is None


def test_armed_deadline_without_steps() -> None:
    """A deadline with no steps has nothing next."""
    assert ArmedDeadline("TM", at("2012-03-15"), ()).next_at is None


# --------------------------------------------------------------------------- Instance


def _instance(**changes: Any) -> Instance:
    base = Instance(
        id="i1",
        definition="mini",
        definition_version="1.0.0",
        definition_hash="h",
        state="DRAFT",
        data={"required": 1},
        version=1,
        entered_at=at("2012-03-05"),
    )
    return attrs.evolve(base, **changes)


def test_instance_is_frozen() -> None:
    """Assigning to an instance attribute raises."""
    inst = _instance()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        inst.state = "CHECK"  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        inst.version = 2  # type: ignore[misc]


def test_instance_defaults() -> None:
    """A new instance has no signatures, deadlines, flags or sets."""
    inst = _instance()
    assert (inst.signatures, inst.deadlines, inst.flags, dict(inst.sets)) == (
        (),
        (),
        frozenset(),
        {},
    )
    assert inst.next_deadline_at is None


def test_instance_next_deadline_at_is_the_earliest_step() -> None:
    """next_deadline_at is the earliest next step over all armed deadlines."""
    other = ArmedDeadline("B", at("2012-03-10"), ((at("2012-03-18"), "!timeout"),))
    inst = _instance(deadlines=(_armed(1), other))
    assert inst.next_deadline_at == at("2012-03-18")
    inst2 = _instance(deadlines=(_armed(2), other))
    assert inst2.next_deadline_at == at("2012-03-18")
    assert _instance(deadlines=(_armed(2),)).next_deadline_at is None


# --------------------------------------------------------------------------- Notice


def test_notice_message_and_as_dict() -> None:
    """A notice picks its language and serialises both texts."""
    n = Notice("NOTE_SHORT", "Dana kurang.", "Funds are short.", ("HEAD",), {"x": 1})
    assert n.message("id") == "Dana kurang."
    assert n.message("en") == n.message() == "Funds are short."
    assert n.as_dict() == {
        "code": "NOTE_SHORT",
        "message": {"id": "Dana kurang.", "en": "Funds are short."},
        "notify": ["HEAD"],
        "params": {"x": 1},
    }


# --------------------------------------------------------------------------- Event


def _event(delta: dict[str, Any], **changes: Any) -> Event:
    base = Event(
        instance_id="i1",
        seq=2,
        type="fired",
        at=dt.datetime(2012, 3, 7, 9, tzinfo=WIB),
        actor=Actor("hadi", {"HEAD"}, None, "Hadi"),
        name="submit",
        source="DRAFT",
        target="CHECK",
        delta=delta,
    )
    return attrs.evolve(base, **changes)


def test_event_as_dict_shape() -> None:
    """as_dict has the documented keys, format 1, ISO times and the actor's dict."""
    ev = _event({"state": "CHECK", "entered": True})
    assert ev.format == EVENT_FORMAT == 1
    assert ev.as_dict() == {
        "format": 1,
        "instance": "i1",
        "seq": 2,
        "type": "fired",
        "at": "2012-03-07T09:00:00+07:00",
        "actor": {"id": "hadi", "roles": ["HEAD"], "name": "Hadi"},
        "name": "submit",
        "source": "DRAFT",
        "target": "CHECK",
        "delta": {"state": "CHECK", "entered": True},
        "inputs": {},
        "notices": [],
    }


def test_event_as_dict_without_actor() -> None:
    """A deadline event has no actor: null."""
    assert _event({}, actor=None).as_dict()["actor"] is None


def test_event_as_dict_jsonifies_delta_values() -> None:
    """Sets become sorted lists, tuples lists, datetimes/dates ISO strings, attrs
    objects their fields, and keys strings."""
    sig = Signature("a", "ani", at("2012-03-06"), "a", "Ani")
    ev = _event(
        {
            "flags_on": frozenset({"b", "a"}),
            "when": dt.date(2012, 3, 7),
            "pair": ("x", 1),
            "signature": sig,
            1: "one",
        },
        inputs={"ids": {"z", "y"}},
        notices=(Notice("N", "i", "e"),),
    )
    d = ev.as_dict()
    assert d["delta"] == {
        "flags_on": ["a", "b"],
        "when": "2012-03-07",
        "pair": ["x", 1],
        "signature": {
            "slot": "a",
            "actor": "ani",
            "at": "2012-03-06T09:00:00+07:00",
            "element": "a",
            "name": "Ani",
        },
        "1": "one",
    }
    assert d["inputs"] == {"ids": ["y", "z"]}
    assert d["notices"] == [
        {"code": "N", "message": {"id": "i", "en": "e"}, "notify": [], "params": {}}
    ]


def test_event_canonical_bytes() -> None:
    """canonical() is sorted-key compact UTF-8 JSON of as_dict()."""
    ev = _event({"b": 1, "a": "Sekretariat – é"})
    raw = ev.canonical()
    assert isinstance(raw, bytes)
    text = raw.decode("utf-8")
    assert ": " not in text and ", " not in text
    assert text.startswith('{"actor":{"id":"hadi","name":"Hadi","roles":["HEAD"]},"at":')
    assert '"delta":{"a":"Sekretariat – é","b":1}' in text
    assert '"format":1' in text
    assert json.loads(text) == ev.as_dict()


def test_canonical_is_independent_of_dict_order() -> None:
    """Events whose deltas differ only in key order (and set order) have the same
    canonical bytes."""
    one = _event({"a": 1, "b": {"x": 1, "y": [1, 2]}, "s": frozenset({"p", "q"})})
    two = _event({"s": frozenset({"q", "p"}), "b": {"y": [1, 2], "x": 1}, "a": 1})
    assert one.canonical() == two.canonical()


@given(st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=8))
def test_canonical_json_is_deterministic(d: dict[str, Any]) -> None:
    """canonical_json of a dict and of its reversed-insertion copy are identical and
    round-trip through json."""
    reordered = dict(reversed(list(d.items())))
    assert canonical_json(d) == canonical_json(reordered)
    assert json.loads(canonical_json(d)) == d


def test_canonical_json_rejects_nan() -> None:
    """NaN and infinities are not JSON: canonical_json refuses them."""
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        canonical_json({"x": float("nan")})


def test_canonical_json_exact_bytes() -> None:
    """A known value has known bytes."""
    assert canonical_json({"b": [1, {"d": None, "c": True}], "a": "ü"}) == (
        '{"a":"ü","b":[1,{"c":true,"d":null}]}'.encode()
    )
