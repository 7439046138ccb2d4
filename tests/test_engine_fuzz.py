"""Hostile arguments to every command: only paketflow's documented exceptions escape,
and a command that raises changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paketflow
from conftest import MINI, at
from paketflow import Actor, Engine, ManualClock

DEFINITION = paketflow.load_definition(MINI)
HEAD = Actor("hadi", "HEAD")

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.just(10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["\ud800", "a\udfffb", "x" * 70_000, "", " ", "i0", "../etc"]),
    st.binary(max_size=8),
    st.builds(object),
    st.datetimes(),
)
_json_like = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=5), st.integers(0, 3)), inner, max_size=4),
        st.tuples(inner),
        st.frozensets(st.integers(0, 3), max_size=2),
    ),
    max_leaves=12,
)


def _deep(n: int) -> Any:
    value: Any = 1
    for _ in range(n):
        value = {"x": value}
    return value


_times = st.one_of(
    st.none(),
    st.datetimes(timezones=st.just(dt.UTC)),
    st.datetimes(),  # naive
    st.just(dt.datetime.max.replace(tzinfo=dt.UTC)),
    st.just(dt.datetime.min.replace(tzinfo=dt.UTC)),
    _scalars,
)
_actors = st.one_of(
    st.just(HEAD),
    st.builds(
        Actor,
        st.one_of(st.text(max_size=10), st.just("\ud800"), st.just("x" * 500)),
        st.one_of(st.just("HEAD"), st.lists(st.text(max_size=5), max_size=3)),
        st.one_of(st.none(), st.text(max_size=5)),
        st.one_of(st.none(), st.text(max_size=5), st.just("\x00")),
    ),
    _scalars,
)
_data = st.one_of(
    st.none(),
    st.dictionaries(st.text(max_size=5), _json_like, max_size=4),
    st.just({"required": _deep(900)}),
    st.just({"required": 10**400}),
    _json_like,
)
_ids = st.one_of(st.just("i1"), st.just("nope"), st.text(max_size=10), _scalars)
_keys = st.one_of(st.none(), st.just("k1"), st.text(max_size=10), _scalars)


def _state(engine: Engine) -> Any:
    store = engine.store
    return (
        dict(store._instances),  # type: ignore[attr-defined]
        {k: list(v) for k, v in store._events.items()},  # type: ignore[attr-defined]
        dict(store._keys),  # type: ignore[attr-defined]
    )


def _engine() -> Engine:
    engine = Engine([DEFINITION], clock=ManualClock(at("2012-03-01")))
    engine.start(definition="mini", instance_id="i1", data={"required": 5}, actor=HEAD)
    return engine


_commands = st.one_of(
    st.tuples(
        st.just("start"),
        st.fixed_dictionaries(
            {
                "definition": st.one_of(st.just("mini"), _scalars),
                "instance_id": st.one_of(st.none(), _ids),
                "data": _data,
                "actor": _actors,
                "at": _times,
                "idempotency_key": _keys,
            }
        ),
    ),
    st.tuples(
        st.just("sign"),
        st.fixed_dictionaries(
            {
                "instance_id": _ids,
                "actor": _actors,
                "slot": st.one_of(st.none(), st.just("a"), _scalars),
                "at": _times,
                "idempotency_key": _keys,
            }
        ),
    ),
    st.tuples(
        st.just("fire"),
        st.fixed_dictionaries(
            {
                "instance_id": _ids,
                "event": st.one_of(st.sampled_from(["submit", "cancel"]), _scalars),
                "actor": _actors,
                "data": _data,
                "at": _times,
                "idempotency_key": _keys,
            }
        ),
    ),
    st.tuples(st.just("tick"), st.fixed_dictionaries({"now": _times})),
    st.tuples(
        st.just("allowed"),
        st.fixed_dictionaries({"instance_id": _ids, "actor": _actors, "at": _times}),
    ),
    st.tuples(st.just("get"), st.fixed_dictionaries({"instance_id": _ids})),
    st.tuples(st.just("history"), st.fixed_dictionaries({"instance_id": _ids})),
)


def _call(engine: Engine, name: str, kwargs: dict[str, Any]) -> Any:
    kw = dict(kwargs)
    if name in ("sign", "fire", "allowed", "get", "history"):
        iid = kw.pop("instance_id")
        if name == "fire":
            return engine.fire(iid, kw.pop("event"), **kw)
        return getattr(engine, name)(iid, **kw)
    return getattr(engine, name)(**kw)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(command=_commands)
def test_only_paketflow_errors_escape_and_nothing_changes(command: tuple[str, Any]) -> None:
    """Every command, given hostile ids, actors, payloads, times and keys, either
    succeeds or raises a PaketflowError; when it raises, the store (snapshots,
    histories, idempotency keys) is exactly as before, and every stored history can
    still be hashed and replayed."""
    engine = _engine()
    name, kwargs = command
    before = _state(engine)
    try:
        _call(engine, name, kwargs)
    except paketflow.PaketflowError:
        assert _state(engine) == before
    for iid, events in _state(engine)[1].items():
        for event in events:
            event.canonical()
        assert paketflow.replay(DEFINITION, events) == engine.get(iid)


def test_a_900_deep_payload_is_refused_not_a_recursion_error() -> None:
    """A 900-deep payload is refused with ERR_DATA_TIDAK_SAH naming the limit."""
    engine = _engine()
    try:
        engine.fire("i1", "submit", actor=HEAD, data={"x": _deep(900)})
    except paketflow.Refused as refusal:
        assert refusal.codes == ("ERR_DATA_TIDAK_SAH",)
        assert refusal.reasons[0].message_en == (
            "Data cannot be accepted at data/x/x/x/x/x/x/x/x/x/x/x/x/x/x/x/x/x/x/x/x/x/x/x/x/"
            "x/x/x/x/x/x/x/x: nesting deeper than 32 levels (the limit)."
        )
    else:
        raise AssertionError("not refused")


def test_start_with_a_wrong_id_type_stores_nothing() -> None:
    """start(instance_id=123) raises ArgumentTypeError (a TypeError) before anything is
    stored; tick keeps working."""
    engine = _engine()
    before = _state(engine)
    try:
        engine.start(definition="mini", instance_id=123, data={"required": 1}, actor=HEAD)  # type: ignore[arg-type]
    except paketflow.ArgumentTypeError as exc:
        assert isinstance(exc, TypeError)
        assert str(exc) == "instance_id must be a string, got int 123"
    assert _state(engine) == before
    assert engine.tick(at("2012-03-02")) == []


def test_actor_none_is_a_type_error() -> None:
    """actor=None raises ArgumentTypeError naming the argument."""
    engine = _engine()
    try:
        engine.fire("i1", "submit", actor=None)  # type: ignore[arg-type]
    except paketflow.ArgumentTypeError as exc:
        assert str(exc) == "actor must be a paketflow.Actor, got NoneType None"
    else:
        raise AssertionError("not raised")


def test_dates_near_year_9999_are_refused() -> None:
    """A command time near year 9999 is refused with ERR_WAKTU_TIDAK_VALID, never an
    OverflowError."""
    engine = _engine()
    late = dt.datetime(9999, 12, 31, 23, tzinfo=dt.UTC)
    try:
        engine.start(definition="mini", data={"required": 1}, actor=HEAD, at=late)
    except paketflow.Refused as refusal:
        assert refusal.codes == ("ERR_WAKTU_TIDAK_VALID",)
        assert refusal.reasons[0].message_en == (
            "Time at 9999-12-31T23:00:00+00:00 is outside the supported range "
            "(1970-01-01 to before 2200-01-01)."
        )
    else:
        raise AssertionError("not refused")


def test_a_huge_integer_is_refused() -> None:
    """10**5000 in a payload is refused with ERR_DATA_TIDAK_SAH (it could never be
    written as canonical JSON)."""
    engine = _engine()
    before = _state(engine)
    try:
        engine.fire("i1", "submit", actor=HEAD, data={"n": 10**5000})
    except paketflow.Refused as refusal:
        assert refusal.codes == ("ERR_DATA_TIDAK_SAH",)
        assert refusal.reasons[0].message_en == (
            "Data cannot be accepted at data/n: integer is outside the accepted range "
            "±(2**53 - 1) (use a string for larger numbers)."
        )
    assert _state(engine) == before
