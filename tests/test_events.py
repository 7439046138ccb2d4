"""Records (paketflow._events): the typed events and the instance snapshot, their
persisted JSON forms (to_dict/from_dict), the published event schema, RFC 8785
canonical bytes, FormatError for unreadable records, and deep immutability."""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources
from typing import Any

import attrs
import jsonschema
import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

import paketflow
from conftest import WIB, at
from paketflow import FormatError, ImmutableError, PaketflowError
from paketflow._events import (
    EVENT_FORMAT,
    SNAPSHOT_FORMAT,
    Actor,
    ArmedDeadline,
    DataOp,
    DefinitionRef,
    Escalated,
    Event,
    Fired,
    Instance,
    Notice,
    Signature,
    Signed,
    Started,
    TimedOut,
)

HEAD = Actor("hadi", {"HEAD"}, None, "Hadi")
ANI = Actor("ani", {"MEMBER"}, "a", "Ani")
SYSTEM = Actor("sistem", {"SISTEM"}, None, "Sistem (pewaktu)")
REF = DefinitionRef("mini", "1.0.0", "abc123")
DEADLINE = ArmedDeadline(
    "TM-SUBMIT",
    at("2012-03-15", 0),
    ((at("2012-03-16", 0), "h1"), (at("2012-03-20", 0), "!timeout")),
)
NOTICE = Notice("WARN_LATE", "Terlambat 2 hari.", "2 days late.", ("HEAD",), {"hari": 2})


def started_event() -> Started:
    return Started(
        instance_id="i1",
        seq=1,
        at=at("2012-03-05"),
        actor=HEAD,
        definition=REF,
        state="DRAFT",
        data={"required": 100, "items": [{"name": "semen", "qty": 3}]},
        arm=(DEADLINE,),
    )


def signed_event() -> Signed:
    return Signed(
        instance_id="i1", seq=2, at=at("2012-03-06"), actor=ANI, slot="a", record="signers"
    )


def fired_event() -> Fired:
    return Fired(
        instance_id="i1",
        seq=3,
        at=dt.datetime(2012, 3, 7, 9, 30, 15, 250, tzinfo=WIB),
        actor=HEAD,
        notices=(NOTICE,),
        name="submit",
        payload={"amount": 5_000_000, "note": "tahap 1"},
        inputs={"g0": True},
        record=("submitters",),
        source="DRAFT",
        target="CHECK",
        entered=True,
        ops=(
            DataOp("set", ("dana", "disalurkan"), 5_000_000),
            DataOp("append", ("payments",), {"amount": 5}),
            DataOp("unset", ("draft",)),
        ),
        flags_on=("late",),
        flags_off=("short",),
        arm=(DEADLINE,),
        disarm=("TM-SUBMIT",),
    )


def escalated_event() -> Escalated:
    return Escalated(
        instance_id="i1",
        seq=4,
        at=at("2012-03-16", 0),
        actor=SYSTEM,
        deadline="TM-SUBMIT",
        step="h1",
        due=at("2012-03-15", 0),
        step_at=at("2012-03-16", 0),
        flags_on=("late",),
    )


def timed_out_event() -> TimedOut:
    return TimedOut(
        instance_id="i1",
        seq=5,
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


EXAMPLES = [started_event, signed_event, fired_event, escalated_event, timed_out_event]


def snapshot() -> Instance:
    return Instance(
        id="i1",
        definition="mini",
        definition_version="1.0.0",
        definition_hash="abc123",
        state="CHECK",
        data={"required": 100, "items": [{"qty": 3}]},
        version=3,
        entered_at=at("2012-03-07"),
        signatures=(
            Signature("a", "ani", at("2012-03-06"), "a", "Ani"),
            Signature("head", "hadi", at("2012-03-06", 10)),
        ),
        deadlines=(attrs.evolve(DEADLINE, fired=1),),
        flags=frozenset({"late", "short"}),
        sets={"signers": {"ani", "hadi"}, "starter": {"hadi"}},
    )


def through_json(d: Any) -> Any:
    return json.loads(json.dumps(d))


# --------------------------------------------------------------------------- shapes

ACTOR_HEAD = {"id": "hadi", "roles": ["HEAD"], "name": "Hadi"}
ACTOR_SYSTEM = {"id": "sistem", "roles": ["SISTEM"], "name": "Sistem (pewaktu)"}
DEADLINE_DICT = {
    "id": "TM-SUBMIT",
    "due": "2012-03-15T00:00:00+07:00",
    "steps": [["2012-03-16T00:00:00+07:00", "h1"], ["2012-03-20T00:00:00+07:00", "!timeout"]],
    "fired": 0,
}


def test_formats_are_published_numbers() -> None:
    """The event format is 2 and the snapshot format 1; every to_dict carries it."""
    assert (EVENT_FORMAT, SNAPSHOT_FORMAT) == (2, 1)
    assert {make().to_dict()["format"] for make in EXAMPLES} == {2}
    assert snapshot().to_dict()["format"] == 1


def test_started_to_dict_shape() -> None:
    """A started event's JSON has the common fields and its own, times in ISO 8601
    with the offset, and the deadlines it armed."""
    assert started_event().to_dict() == {
        "format": 2,
        "type": "started",
        "instance": "i1",
        "seq": 1,
        "at": "2012-03-05T09:00:00+07:00",
        "actor": ACTOR_HEAD,
        "notices": [],
        "definition": {"id": "mini", "version": "1.0.0", "hash": "abc123"},
        "state": "DRAFT",
        "data": {"required": 100, "items": [{"name": "semen", "qty": 3}]},
        "arm": [DEADLINE_DICT],
        "record": ["starter"],
    }


def test_signed_to_dict_shape() -> None:
    """A signed event records the slot and the person set, and the actor with its
    element."""
    assert signed_event().to_dict() == {
        "format": 2,
        "type": "signed",
        "instance": "i1",
        "seq": 2,
        "at": "2012-03-06T09:00:00+07:00",
        "actor": {"id": "ani", "roles": ["MEMBER"], "element": "a", "name": "Ani"},
        "notices": [],
        "slot": "a",
        "record": "signers",
    }


def test_fired_to_dict_shape() -> None:
    """A fired event records the move once (source and target), the data operations
    as JSON Pointers, flags, deadlines and notices; microseconds are kept."""
    assert fired_event().to_dict() == {
        "format": 2,
        "type": "fired",
        "instance": "i1",
        "seq": 3,
        "at": "2012-03-07T09:30:15.000250+07:00",
        "actor": ACTOR_HEAD,
        "notices": [
            {
                "code": "WARN_LATE",
                "message": {"id": "Terlambat 2 hari.", "en": "2 days late."},
                "notify": ["HEAD"],
                "params": {"hari": 2},
            }
        ],
        "name": "submit",
        "payload": {"amount": 5_000_000, "note": "tahap 1"},
        "inputs": {"g0": True},
        "record": ["submitters"],
        "reset_signatures": False,
        "source": "DRAFT",
        "target": "CHECK",
        "entered": True,
        "ops": [
            {"op": "set", "path": "/dana/disalurkan", "value": 5_000_000},
            {"op": "append", "path": "/payments", "value": {"amount": 5}},
            {"op": "unset", "path": "/draft"},
        ],
        "flags_on": ["late"],
        "flags_off": ["short"],
        "arm": [DEADLINE_DICT],
        "disarm": ["TM-SUBMIT"],
    }


def test_escalated_to_dict_shape() -> None:
    """An escalated event names the deadline, the tier, when it was due and when the
    tier was scheduled."""
    assert escalated_event().to_dict() == {
        "format": 2,
        "type": "escalated",
        "instance": "i1",
        "seq": 4,
        "at": "2012-03-16T00:00:00+07:00",
        "actor": ACTOR_SYSTEM,
        "notices": [],
        "deadline": "TM-SUBMIT",
        "step": "h1",
        "due": "2012-03-15T00:00:00+07:00",
        "step_at": "2012-03-16T00:00:00+07:00",
        "flags_on": ["late"],
    }


def test_timed_out_to_dict_shape() -> None:
    """A timed_out event names the deadline and its timeout event and records the
    move like a fired event (without payload, inputs or record)."""
    assert timed_out_event().to_dict() == {
        "format": 2,
        "type": "timed_out",
        "instance": "i1",
        "seq": 5,
        "at": "2012-03-20T00:00:00+07:00",
        "actor": ACTOR_SYSTEM,
        "notices": [],
        "deadline": "TM-SUBMIT",
        "name": "expire",
        "due": "2012-03-15T00:00:00+07:00",
        "step_at": "2012-03-20T00:00:00+07:00",
        "source": "DRAFT",
        "target": "CANCELLED",
        "entered": True,
        "ops": [],
        "flags_on": [],
        "flags_off": [],
        "arm": [],
        "disarm": ["TM-SUBMIT"],
    }


def test_event_names() -> None:
    """Signed is named by its slot, Escalated by deadline/step; Fired and TimedOut by
    their event; the type names the class."""
    assert signed_event().name == "a"
    assert escalated_event().name == "TM-SUBMIT/h1"
    assert (fired_event().name, timed_out_event().name) == ("submit", "expire")
    assert [make().type for make in EXAMPLES] == [
        "started",
        "signed",
        "fired",
        "escalated",
        "timed_out",
    ]


def test_snapshot_to_dict_shape() -> None:
    """The snapshot form has the definition once, sorted flags and sets, and the
    signatures with every field."""
    assert snapshot().to_dict() == {
        "format": 1,
        "id": "i1",
        "definition": {"id": "mini", "version": "1.0.0", "hash": "abc123"},
        "state": "CHECK",
        "data": {"required": 100, "items": [{"qty": 3}]},
        "version": 3,
        "entered_at": "2012-03-07T09:00:00+07:00",
        "signatures": [
            {
                "slot": "a",
                "actor": "ani",
                "at": "2012-03-06T09:00:00+07:00",
                "element": "a",
                "name": "Ani",
            },
            {
                "slot": "head",
                "actor": "hadi",
                "at": "2012-03-06T10:00:00+07:00",
                "element": None,
                "name": None,
            },
        ],
        "deadlines": [{**DEADLINE_DICT, "fired": 1}],
        "flags": ["late", "short"],
        "sets": {"signers": ["ani", "hadi"], "starter": ["hadi"]},
    }


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("make", EXAMPLES, ids=lambda m: m.__name__)
def test_every_event_type_round_trips_through_json(make: Any) -> None:
    """Event.from_dict(to_dict()) through JSON text gives back an equal event of the
    same class, with the same canonical bytes."""
    event = make()
    back = Event.from_dict(through_json(event.to_dict()))
    assert type(back) is type(event)
    assert back == event
    assert back.canonical() == event.canonical()


def test_snapshot_round_trips_through_json() -> None:
    """Instance.from_dict(to_dict()) through JSON text gives back an equal snapshot."""
    inst = snapshot()
    back = Instance.from_dict(through_json(inst.to_dict()))
    assert back == inst
    assert back.next_deadline_at == inst.next_deadline_at == at("2012-03-20", 0)


def test_round_trip_keeps_the_instant_not_the_zone_object() -> None:
    """A time read back is the same instant with the recorded UTC offset."""
    back = Event.from_dict(through_json(started_event().to_dict()))
    assert back.at == at("2012-03-05")
    assert back.at.utcoffset() == dt.timedelta(hours=7)


ids = st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,6}", fullmatch=True)
times = st.datetimes(
    min_value=dt.datetime(1970, 1, 2),
    max_value=dt.datetime(2199, 12, 30),
    timezones=st.sampled_from(
        [
            dt.UTC,
            dt.timezone(dt.timedelta(hours=7)),
            dt.timezone(dt.timedelta(hours=5, minutes=45)),
            dt.timezone(-dt.timedelta(hours=3, minutes=30)),
        ]
    ),
)
# Floats of magnitude 2**53 or more are left out: RFC 8785 writes them without an
# exponent (4.1e16 as 41085837251487030), which a JSON reader turns into an integer.
SAFE = 2**53 - 1
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-SAFE, SAFE)
    | st.floats(-float(SAFE), float(SAFE))
    | st.text(max_size=6),
    lambda kids: (
        st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=4), kids, max_size=3)
    ),
    max_leaves=8,
)
json_objects = st.dictionaries(st.text(max_size=4), json_values, max_size=3)
id_tuples = st.lists(ids, max_size=2).map(tuple)
actors = st.builds(
    Actor, ids, st.frozensets(ids, max_size=3), st.none() | ids, st.none() | st.text(max_size=8)
)
notices = st.builds(Notice, ids, st.text(max_size=8), st.text(max_size=8), id_tuples, json_objects)
deadlines = st.builds(
    lambda i, due, steps, fired: ArmedDeadline(i, due, tuple(steps), min(fired, len(steps))),
    ids,
    times,
    st.lists(st.tuples(times, st.text(max_size=6)), max_size=3),
    st.integers(0, 3),
)
data_ops = st.one_of(
    st.builds(
        DataOp,
        st.sampled_from(["set", "append"]),
        st.lists(st.text(max_size=4), min_size=1, max_size=3).map(tuple),
        json_values,
    ),
    st.builds(DataOp, st.just("unset"), st.lists(st.text(max_size=4), min_size=1).map(tuple)),
)
common = {
    "instance_id": ids,
    "seq": st.integers(2, 10**6),
    "at": times,
    "actor": actors,
    "notices": st.lists(notices, max_size=2).map(tuple),
}
move = {
    "source": ids,
    "target": ids,
    "entered": st.booleans(),
    "ops": st.lists(data_ops, max_size=3).map(tuple),
    "flags_on": id_tuples,
    "flags_off": id_tuples,
    "arm": st.lists(deadlines, max_size=2).map(tuple),
    "disarm": id_tuples,
}
events = st.one_of(
    st.builds(
        Started,
        **{**common, "seq": st.just(1)},
        definition=st.builds(DefinitionRef, ids, st.text(max_size=6), st.text(max_size=6)),
        state=ids,
        data=json_objects,
        arm=st.lists(deadlines, max_size=2).map(tuple),
        record=id_tuples,
    ),
    st.builds(Signed, **common, slot=ids, record=st.none() | ids),
    st.builds(
        Fired,
        **common,
        **move,
        name=ids,
        payload=json_objects,
        inputs=json_objects,
        record=id_tuples,
        reset_signatures=st.booleans(),
    ),
    st.builds(
        Escalated, **common, deadline=ids, step=ids, due=times, step_at=times, flags_on=id_tuples
    ),
    st.builds(TimedOut, **common, **move, deadline=ids, name=ids, due=times, step_at=times),
)


def _schema() -> dict[str, Any]:
    text = resources.files("paketflow").joinpath("_schemas/event-v2.json").read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


VALIDATOR = jsonschema.Draft202012Validator(_schema())


@settings(max_examples=150, deadline=None)
@given(events)
def test_any_event_round_trips_validates_and_is_canonical(event: Event) -> None:
    """For any event: from_dict(to_dict()) through JSON and through its canonical
    bytes gives an equal event; to_dict validates against the published schema;
    canonical() is RFC 8785 of to_dict()."""
    d = event.to_dict()
    VALIDATOR.validate(through_json(d))
    assert Event.from_dict(through_json(d)) == event
    assert event.canonical() == rfc8785.dumps(d)
    assert Event.from_dict(json.loads(event.canonical())) == event


@settings(max_examples=60, deadline=None)
@given(
    st.builds(
        Instance,
        id=ids,
        definition=ids,
        definition_version=st.text(max_size=5),
        definition_hash=st.text(max_size=5),
        state=ids,
        data=json_objects,
        version=st.integers(1, 10**6),
        entered_at=times,
        signatures=st.lists(
            st.builds(Signature, ids, ids, times, st.none() | ids, st.none() | st.text(max_size=5)),
            max_size=3,
        ).map(tuple),
        deadlines=st.lists(deadlines, max_size=2).map(tuple),
        flags=st.frozensets(ids, max_size=3),
        sets=st.dictionaries(ids, st.frozensets(ids, max_size=3), max_size=2),
    )
)
def test_any_snapshot_round_trips(inst: Instance) -> None:
    """For any snapshot, Instance.from_dict(to_dict()) through JSON is equal."""
    assert Instance.from_dict(through_json(inst.to_dict())) == inst


# --------------------------------------------------------------------------- canonical


@pytest.mark.parametrize("make", EXAMPLES, ids=lambda m: m.__name__)
def test_canonical_is_rfc8785_of_to_dict(make: Any) -> None:
    """canonical() is exactly rfc8785.dumps(to_dict()) and parses back to to_dict()."""
    event = make()
    assert event.canonical() == rfc8785.dumps(event.to_dict())
    assert json.loads(event.canonical()) == event.to_dict()


def test_canonical_exact_bytes_of_a_signed_event() -> None:
    """A known event has known bytes: sorted keys, no spaces, UTF-8."""
    event = Signed(
        instance_id="i1",
        seq=2,
        at=dt.datetime(2012, 3, 6, 9, tzinfo=dt.UTC),
        actor=Actor("ani", {"MEMBER", "HEAD"}, None, "Ani – é"),
        slot="a",
    )
    assert (
        event.canonical()
        == (
            '{"actor":{"id":"ani","name":"Ani – é","roles":["HEAD","MEMBER"]},'
            '"at":"2012-03-06T09:00:00+00:00","format":2,"instance":"i1","notices":[],'
            '"record":null,"seq":2,"slot":"a","type":"signed"}'
        ).encode()
    )


def test_canonical_is_independent_of_insertion_and_set_order() -> None:
    """Events whose data differ only in key order, and actors whose roles differ only
    in order, have the same canonical bytes; a different value changes them."""
    one = attrs.evolve(
        started_event(),
        data={"a": 1, "b": {"x": 1, "y": [1, 2]}},
        actor=Actor("hadi", ["B", "A"]),
    )
    two = attrs.evolve(
        started_event(),
        data={"b": {"y": [1, 2], "x": 1}, "a": 1},
        actor=Actor("hadi", ("A", "B")),
    )
    assert one.canonical() == two.canonical()
    assert attrs.evolve(one, data={"a": 2}).canonical() != one.canonical()


def test_canonical_is_stable_across_calls() -> None:
    """Calling canonical() again, or on an equal event rebuilt from JSON, gives the
    same bytes."""
    event = fired_event()
    first = event.canonical()
    assert event.canonical() == first
    assert Event.from_dict(json.loads(first)).canonical() == first


# --------------------------------------------------------------------------- schema


def test_schema_is_valid_draft_2020_12() -> None:
    """The published schema is a valid draft 2020-12 schema with its $id, one branch
    per event type."""
    schema = _schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "https://paketflow.dev/schemas/event-v2.json"
    branches = {b["$ref"].removeprefix("#/$defs/") for b in schema["oneOf"]}

    def subclasses(cls: type[Event]) -> set[type[Event]]:
        out = set()
        for sub in cls.__subclasses__():
            out |= {sub, *subclasses(sub)}
        return out

    types = {c.type for c in subclasses(Event) if c.type}
    assert branches == types == {"started", "signed", "fired", "escalated", "timed_out"}
    for t in types:
        assert schema["$defs"][t]["properties"]["type"] == {"const": t}
        assert schema["$defs"][t]["additionalProperties"] is False


@pytest.mark.parametrize("make", EXAMPLES, ids=lambda m: m.__name__)
def test_every_event_type_validates_against_the_schema(make: Any) -> None:
    """Each event type's to_dict is valid against the published schema, and its
    required fields are exactly the keys to_dict writes."""
    d = through_json(make().to_dict())
    VALIDATOR.validate(d)
    assert set(_schema()["$defs"][d["type"]]["required"]) == set(d)


@pytest.mark.parametrize(
    ("change", "what"),
    [
        (lambda d: d.update(delta={}), "an extra field"),
        (lambda d: d.pop("target"), "a missing field"),
        (lambda d: d.update(format=1), "another format"),
        (lambda d: d.update(type="moved"), "an unknown type"),
        (lambda d: d.update(seq="3"), "a string seq"),
        (lambda d: d.update(at="7 March 2012"), "a time that is not ISO 8601"),
        (lambda d: d["ops"].append({"op": "add", "path": "/n", "value": 1}), "an unknown op"),
        (lambda d: d["ops"].append({"op": "set", "path": "n", "value": 1}), "a bad pointer"),
        (lambda d: d["actor"].update(roles="HEAD"), "roles as a string"),
    ],
)
def test_schema_refuses_malformed_events(change: Any, what: str) -> None:
    """The schema refuses an event with an extra or missing field, another format or
    type, a bad seq, time, data operation or roles."""
    d = through_json(fired_event().to_dict())
    change(d)
    assert not VALIDATOR.is_valid(d), what


# --------------------------------------------------------------------------- FormatError


def _bad(d: Any) -> str:
    with pytest.raises(FormatError) as info:
        Event.from_dict(d)
    assert isinstance(info.value, PaketflowError)
    assert isinstance(info.value, ValueError)
    return str(info.value)


def test_format_error_unknown_event_format() -> None:
    """An event of another format (or none) is refused, naming the format read."""
    d = signed_event().to_dict()
    assert _bad({**d, "format": 3}) == (
        "event: format 3 is not supported (this paketflow reads format 2); "
        "upgrade paketflow or migrate the store"
    )
    d.pop("format")
    assert _bad(d) == (
        "event: format None is not supported (this paketflow reads format 2); "
        "upgrade paketflow or migrate the store"
    )


def test_format_error_unknown_event_type() -> None:
    """An unknown type is refused, listing the known ones."""
    assert _bad({**signed_event().to_dict(), "type": "moved"}) == (
        "event: unknown type 'moved' (one of escalated, fired, signed, started, timed_out)"
    )


def test_format_error_not_an_object() -> None:
    """A record that is not an object is refused, naming its type."""
    assert _bad([1, 2]) == "event: expected an object, got list"


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (signed_event, "instance"),
        (signed_event, "seq"),
        (signed_event, "actor"),
        (signed_event, "notices"),
        (signed_event, "slot"),
        (started_event, "definition"),
        (started_event, "data"),
        (fired_event, "payload"),
        (fired_event, "ops"),
        (fired_event, "entered"),
        (escalated_event, "step"),
        (timed_out_event, "deadline"),
    ],
)
def test_format_error_missing_field(make: Any, field: str) -> None:
    """A missing field is refused, naming the event (instance#seq) and the field."""
    event = make()
    d = event.to_dict()
    d.pop(field)
    where = f"event 'i1'#{event.seq}" if field != "instance" else f"event None#{event.seq}"
    if field == "seq":
        where = "event 'i1'#None"
    assert _bad(d) == f"{where}: field {field!r} is missing"


def test_format_error_wrong_field_type() -> None:
    """A field of the wrong type is refused, showing the value; a boolean is not a
    sequence number."""
    d = signed_event().to_dict()
    assert _bad({**d, "slot": 5}) == "event 'i1'#2: field 'slot' has the wrong type (5)"
    assert _bad({**d, "seq": True}) == "event 'i1'#True: field 'seq' has the wrong type (True)"
    assert _bad({**d, "record": 1}) == "event 'i1'#2: 'record' must be a string or null"


def test_format_error_bad_times() -> None:
    """A time that is not an ISO 8601 string, or has no UTC offset, is refused."""
    d = signed_event().to_dict()
    assert _bad({**d, "at": 1331000000}) == (
        "event 'i1'#2.at: expected an ISO 8601 date-time string, got 1331000000"
    )
    assert _bad({**d, "at": "yesterday"}) == (
        "event 'i1'#2.at: 'yesterday' is not an ISO 8601 date-time"
    )
    assert _bad({**d, "at": "2012-03-06T09:00:00"}) == (
        "event 'i1'#2.at: '2012-03-06T09:00:00' has no UTC offset"
    )


def test_format_error_bad_data_operations() -> None:
    """An unknown data operation, a path that is not a JSON Pointer and an empty path
    are refused."""
    d = fired_event().to_dict()
    assert _bad({**d, "ops": [{"op": "add", "path": "/n", "value": 1}]}) == (
        "ops: unknown operation 'add' (set, unset or append)"
    )
    assert _bad({**d, "ops": [{"op": "set", "path": "n", "value": 1}]}) == (
        "ops: bad path 'n': Location must start with /"
    )
    assert _bad({**d, "ops": [{"op": "unset", "path": ""}]}) == (
        "ops: the path of 'unset' must not be empty"
    )


def test_format_error_bad_actor_and_deadline() -> None:
    """Malformed actor roles and deadline steps are refused with the field named."""
    d = signed_event().to_dict()
    assert _bad({**d, "actor": {"id": "ani", "roles": "MEMBER"}}) == (
        "actor.roles: expected a list of strings, got 'MEMBER'"
    )
    s = started_event().to_dict()
    bad_arm = [{**DEADLINE_DICT, "steps": [["2012-03-16T00:00:00+07:00"]]}]
    assert _bad({**s, "arm": bad_arm}) == "deadline: 'steps' must be [[time, step], ...]"


def test_format_error_unknown_snapshot_format() -> None:
    """A snapshot of another format, or not an object, is refused."""
    with pytest.raises(FormatError) as info:
        Instance.from_dict({**snapshot().to_dict(), "format": 2})
    assert str(info.value) == (
        "snapshot: format 2 is not supported (this paketflow reads format 1); "
        "upgrade paketflow or migrate the store"
    )
    with pytest.raises(FormatError) as info:
        Instance.from_dict("nope")  # type: ignore[arg-type]
    assert str(info.value) == (
        "snapshot: format 'nope' is not supported (this paketflow reads format 1); "
        "upgrade paketflow or migrate the store"
    )


def test_format_error_snapshot_missing_field() -> None:
    """A snapshot without its state is refused, naming the field."""
    d = snapshot().to_dict()
    d.pop("state")
    with pytest.raises(FormatError) as info:
        Instance.from_dict(d)
    assert str(info.value) == "snapshot: field 'state' is missing"


# --------------------------------------------------------------------------- immutability

IMMUTABLE = (
    "this {} is part of a recorded snapshot or event and cannot be changed; copy it "
    "first (paketflow.thaw(value) gives mutable dicts and lists)"
)


@pytest.mark.parametrize(
    ("mutate", "kind"),
    [
        (lambda: started_event().data.__setitem__("required", 1), "FrozenDict"),
        (lambda: started_event().data["items"].append({}), "FrozenList"),
        (lambda: started_event().data["items"][0].update(qty=9), "FrozenDict"),
        (lambda: fired_event().payload.pop("amount"), "FrozenDict"),
        (lambda: fired_event().inputs.clear(), "FrozenDict"),
        (lambda: fired_event().ops[1].value.setdefault("x", 1), "FrozenDict"),
        (lambda: fired_event().notices[0].params.__delitem__("hari"), "FrozenDict"),
        (lambda: snapshot().data["items"].__setitem__(0, None), "FrozenList"),
        (lambda: snapshot().sets.__setitem__("signers", frozenset()), "FrozenDict"),
        (lambda: snapshot().sets.update({}), "FrozenDict"),
    ],
)
def test_records_are_deeply_immutable(mutate: Any, kind: str) -> None:
    """Changing data, payload, inputs, operation values, notice params or sets of a
    record in place raises ImmutableError (a TypeError), with the exact message."""
    with pytest.raises(ImmutableError) as info:
        mutate()
    assert isinstance(info.value, TypeError)
    assert str(info.value) == IMMUTABLE.format(kind)


def test_record_fields_cannot_be_reassigned() -> None:
    """Events and snapshots are frozen attrs classes."""
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        fired_event().target = "DONE"  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        snapshot().state = "DONE"  # type: ignore[misc]


def test_sets_and_signatures_are_frozen_types() -> None:
    """Set members are frozensets and signatures/deadlines tuples: nothing to mutate."""
    inst = snapshot()
    assert all(type(v) is frozenset for v in inst.sets.values())
    assert isinstance(inst.flags, frozenset)
    assert isinstance(inst.signatures, tuple)
    assert isinstance(inst.deadlines, tuple)


def test_records_copy_what_the_caller_passed() -> None:
    """Changing the dict or list given to a record afterwards does not change it."""
    data: dict[str, Any] = {"items": [1]}
    payload: dict[str, Any] = {"a": {"b": 1}}
    started = attrs.evolve(started_event(), data=data)
    fired = attrs.evolve(fired_event(), payload=payload)
    data["items"].append(2)
    data["new"] = 1
    payload["a"]["b"] = 2
    assert started.data == {"items": [1]}
    assert fired.payload == {"a": {"b": 1}}


def test_records_read_back_are_immutable() -> None:
    """Records built by from_dict are as frozen as those built in code."""
    back = Event.from_dict(through_json(started_event().to_dict()))
    assert isinstance(back, Started)
    with pytest.raises(ImmutableError):
        back.data["items"].append(1)
    snap = Instance.from_dict(through_json(snapshot().to_dict()))
    with pytest.raises(ImmutableError):
        snap.sets["x"] = frozenset()


# --------------------------------------------------------------------------- parts


def test_data_op_json_form_escapes_pointer_tokens() -> None:
    """A DataOp path is written as an RFC 6901 pointer (~ and / escaped) and read back
    token by token; unset has no value."""
    op = DataOp("set", ("a/b", "c~d", "0"), [1])
    assert op.to_dict() == {"op": "set", "path": "/a~1b/c~0d/0", "value": [1]}
    assert DataOp.from_dict(op.to_dict()) == op
    assert DataOp("unset", ("x",)).to_dict() == {"op": "unset", "path": "/x"}


def test_definition_ref_round_trip() -> None:
    """DefinitionRef writes and reads id, version and hash."""
    assert REF.to_dict() == {"id": "mini", "version": "1.0.0", "hash": "abc123"}
    assert DefinitionRef.from_dict(REF.to_dict()) == REF


def test_armed_deadline_round_trip_defaults_fired_to_zero() -> None:
    """A deadline read without 'fired' has fired none of its steps."""
    d = DEADLINE.to_dict()
    assert ArmedDeadline.from_dict(d) == DEADLINE
    d.pop("fired")
    assert ArmedDeadline.from_dict(d).fired == 0


def test_notice_round_trip() -> None:
    """Notice.from_dict(to_dict()) is equal, params included."""
    assert Notice.from_dict(through_json(NOTICE.to_dict())) == NOTICE


def test_from_dict_refuses_an_unhashable_type_as_format_error() -> None:
    """A ``type`` that is a list or an object is a FormatError, not a bare TypeError."""
    for bad in ([], {}):
        with pytest.raises(paketflow.FormatError):
            paketflow.Event.from_dict({"format": 2, "type": bad})


def test_from_dict_of_deep_stored_data_is_a_format_error() -> None:
    """Stored data nested deeper than the reading limit (256) is a FormatError naming
    the field, never a RecursionError."""
    deep: Any = 1
    for _ in range(3000):
        deep = {"x": deep}
    d = {
        "format": 1,
        "id": "i1",
        "definition": {"id": "mini", "version": "1.0.0", "hash": "h"},
        "state": "DRAFT",
        "data": {"d": deep},
        "version": 1,
        "entered_at": "2012-03-01T09:00:00+07:00",
        "signatures": [],
        "deadlines": [],
        "flags": [],
        "sets": {},
    }
    with pytest.raises(paketflow.FormatError) as info:
        paketflow.Instance.from_dict(d)
    assert "nesting deeper than 256 levels" in str(info.value)


def test_data_op_knows_only_its_operations() -> None:
    """A DataOp with another operation is a programming error (ArgumentValueError)."""
    with pytest.raises(paketflow.ArgumentValueError) as info:
        paketflow.DataOp("add", ("x",), 1)
    assert str(info.value) == "DataOp(op=...) must be set, unset or append, got 'add'"


def test_armed_deadline_fired_must_be_in_range() -> None:
    """A stored deadline whose ``fired`` count is outside 0..len(steps) is refused."""
    d = {"id": "TM", "due": "2012-03-01T00:00:00+07:00", "steps": [], "fired": -1}
    with pytest.raises(paketflow.FormatError) as info:
        paketflow.ArmedDeadline.from_dict(d)
    assert str(info.value) == "deadline: 'fired' must be 0 to 0, got -1"


def test_as_dict_renders_notices_in_a_language() -> None:
    """``Event.as_dict(lang)`` is ``to_dict()`` with each notice's message in the
    language; without ``lang`` it is ``to_dict()`` exactly; an Instance's ``as_dict``
    adds the notices of its command and reads back with ``from_dict``."""
    import datetime as _dt

    import paketflow

    when = _dt.datetime(2012, 6, 5, tzinfo=_dt.UTC)
    notice = paketflow.Notice("WARN_TERLAMBAT", "Terlambat 1 hari.", "1 day late.", ("PJOK",))
    actor = paketflow.Actor("faskel-1", {"FASKEL"})
    event = paketflow.Started(
        instance_id="i-1",
        seq=1,
        at=when,
        actor=actor,
        notices=(notice,),
        definition=paketflow.DefinitionRef("p", "1.0.0", "sha256:" + "0" * 64),
        state="DRAF",
        data={"a": 1},
    )
    assert event.as_dict() == event.to_dict()
    assert event.as_dict("id")["notices"][0]["message"] == "Terlambat 1 hari."
    from paketflow._runtime.fold import apply_event

    instance = apply_event(None, event)
    doc = instance.as_dict("en")
    assert doc["notices"] == [] and doc["state"] == "DRAF"
    assert paketflow.Instance.from_dict(doc) == instance
