"""Runtime data (paketflow._runtime.model): the records it re-exports from
paketflow._events (actors, armed deadlines, notices, frozen instances) and
Permissions, the answer of Engine.allowed. Event types, their JSON forms and canonical
bytes are tested in test_events.py."""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest

import paketflow._events
import paketflow._runtime.model as model
from conftest import at
from paketflow import ImmutableError, Reason
from paketflow._runtime.model import (
    Actor,
    ArmedDeadline,
    Instance,
    Notice,
    Permissions,
    Signature,
)


def test_model_re_exports_the_records() -> None:
    """Every record name the runtime model exports is the very class (or constant) of
    paketflow._events: one definition, no copies."""
    for name in model.__all__:
        if name != "Permissions":
            assert getattr(model, name) is getattr(paketflow._events, name), name
    assert set(model.__all__) - {"Permissions"} <= set(paketflow._events.__all__)


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


# --------------------------------------------------------------------------- Instance data


def test_instance_data_is_deeply_frozen() -> None:
    """The data of an instance cannot be changed in place at any depth, and the
    caller's dict is copied."""
    given: dict[str, Any] = {"required": 1, "items": [{"q": 1}]}
    inst = _instance(data=given)
    given["items"][0]["q"] = 2
    assert inst.data == {"required": 1, "items": [{"q": 1}]}
    with pytest.raises(ImmutableError):
        inst.data["required"] = 2  # type: ignore[index]
    with pytest.raises(ImmutableError):
        inst.data["items"][0]["q"] = 3
    with pytest.raises(ImmutableError):
        inst.data["items"].append({})


def test_instance_sets_are_frozen() -> None:
    """Person sets are a read-only mapping of frozensets, whatever was passed."""
    inst = _instance(sets={"signers": ["ani", "ani", "budi"]})
    assert inst.sets == {"signers": frozenset({"ani", "budi"})}
    with pytest.raises(ImmutableError):
        inst.sets["signers"] = frozenset()  # type: ignore[index]
    assert isinstance(inst.sets["signers"], frozenset)


def test_evolve_keeps_the_instance_frozen() -> None:
    """attrs.evolve with a plain dict gives a frozen copy and leaves the original."""
    inst = _instance()
    other = attrs.evolve(inst, data={"x": [1]})
    assert inst.data == {"required": 1}
    with pytest.raises(ImmutableError):
        other.data["x"].append(2)


def test_notice_params_are_frozen() -> None:
    """The parameters of a notice cannot be changed."""
    n = Notice("N", "i", "e", (), {"x": [1]})
    with pytest.raises(ImmutableError):
        n.params["x"].append(2)


def test_signature_is_frozen() -> None:
    """A signature is a frozen record."""
    sig = Signature("a", "ani", at("2012-03-06"))
    assert (sig.element, sig.name) == (None, None)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        sig.actor = "budi"  # type: ignore[misc]


# --------------------------------------------------------------------------- Permissions

REASON = Reason("ERR_X", "Tidak boleh.", "Not allowed.")


def test_permissions_fields_and_defaults() -> None:
    """Permissions name the state, the allowed events and the refused ones with their
    reasons; by default the actor cannot sign and nothing refuses signing."""
    p = Permissions("DRAFT", ("submit",), {"cancel": [REASON]})
    assert (p.state, p.events, p.sign, p.sign_refused) == ("DRAFT", ("submit",), None, ())
    assert p.refused == {"cancel": (REASON,)}


def test_permissions_refused_is_frozen() -> None:
    """refused is a read-only mapping of tuples: neither the mapping nor a reason list
    can be changed, and the caller's dict and list are copied."""
    reasons = [REASON]
    given = {"cancel": reasons}
    p = Permissions("DRAFT", (), given)
    reasons.append(REASON)
    given["pay"] = []
    assert p.refused == {"cancel": (REASON,)}
    assert type(p.refused["cancel"]) is tuple
    with pytest.raises(ImmutableError):
        p.refused["pay"] = ()  # type: ignore[index]
    with pytest.raises(ImmutableError):
        p.refused.pop("cancel")  # type: ignore[attr-defined]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        p.state = "CHECK"  # type: ignore[misc]


def test_permissions_compare_by_value() -> None:
    """Two answers with the same content are equal."""
    a = Permissions("DRAFT", ("submit",), {"cancel": [REASON]}, "a")
    b = Permissions("DRAFT", ("submit",), {"cancel": (REASON,)}, "a")
    assert a == b
