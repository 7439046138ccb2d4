"""Boundary checks of command arguments (paketflow._runtime._boundary): programming
errors raise ArgumentTypeError/ArgumentValueError at once; caller data breaking a
documented rule raises Invalid, whose code and parameters fill the bilingual
refusal templates."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from paketflow import Actor, ArgumentTypeError, ArgumentValueError, PaketflowError
from paketflow._json import MAX_DEPTH, FrozenDict, FrozenList
from paketflow._runtime._boundary import (
    EARLIEST,
    LATEST,
    MAX_ID_LENGTH,
    MAX_KEY_LENGTH,
    MAX_NAME_LENGTH,
    MAX_ROLES,
    Invalid,
    check_actor,
    check_data,
    check_id,
    check_key,
    check_name,
    check_time,
)
from paketflow._runtime.messages import BUILTIN, render

ID_RULE_EN = "use 1 to 128 of A-Z a-z 0-9 . _ : @ -, starting with a letter or digit"
ID_RULE_ID = "gunakan 1 sampai 128 karakter A-Z a-z 0-9 . _ : @ -, diawali huruf atau angka"


def invalid(call: Any, *args: Any) -> Invalid:
    with pytest.raises(Invalid) as info:
        call(*args)
    return info.value


def texts(err: Invalid) -> tuple[str, str]:
    """The Indonesian and English refusal texts the engine renders for ``err``."""
    template_id, template_en = BUILTIN[err.code]
    return render(template_id, err.params), render(template_en, err.params)


def type_error(call: Any, *args: Any) -> str:
    with pytest.raises(ArgumentTypeError) as info:
        call(*args)
    assert isinstance(info.value, TypeError)
    assert isinstance(info.value, PaketflowError)
    return str(info.value)


def test_limits_are_documented_values() -> None:
    """The limits are consistent: ids shorter than keys and names, the time range
    is a half-open interval of aware datetimes."""
    assert (MAX_ID_LENGTH, MAX_KEY_LENGTH, MAX_NAME_LENGTH, MAX_ROLES) == (128, 200, 200, 64)
    assert EARLIEST.utcoffset() == LATEST.utcoffset() == dt.timedelta(0)
    assert EARLIEST < LATEST


# --------------------------------------------------------------------------- ids


@pytest.mark.parametrize(
    "value", ["i1", "a", "0", "PAKET-2012:ptk@desa_1.b", "x" * MAX_ID_LENGTH, "Z-"]
)
def test_check_id_accepts_ids(value: str) -> None:
    """Ids of 1-128 letters, digits and . _ : @ - starting with a letter or digit
    pass unchanged."""
    assert check_id(value, "instance_id") is value
    assert check_name(value, "event") is value


@pytest.mark.parametrize("value", ["", " a", "a b", "-a", ".a", "_a", "a/b", "é", "a\n", "a\x00"])
def test_check_id_refuses_malformed_ids(value: str) -> None:
    """An id with other characters, or starting with punctuation, is Invalid with
    code ERR_ID_TIDAK_VALID naming the argument and showing the value."""
    err = invalid(check_id, value, "instance_id")
    assert err.code == "ERR_ID_TIDAK_VALID"
    assert err.params == {
        "argumen": "instance_id",
        "argument": "instance_id",
        "nilai": repr(value),
        "value": repr(value),
        "masalah": ID_RULE_ID,
        "problem": ID_RULE_EN,
    }
    assert texts(err) == (
        f"instance_id {value!r} tidak sah: {ID_RULE_ID}.",
        f"instance_id {value!r} is not valid: {ID_RULE_EN}.",
    )


def test_check_id_refuses_long_ids_showing_a_short_value() -> None:
    """An id longer than 128 characters is refused as too long; the value shown is
    cut to 60 characters."""
    err = invalid(check_id, "x" * (MAX_ID_LENGTH + 1), "actor.id")
    shown = "'" + "x" * 56 + "..."
    assert texts(err) == (
        f"actor.id {shown} tidak sah: lebih dari 128 karakter.",
        f"actor.id {shown} is not valid: longer than 128 characters.",
    )


@pytest.mark.parametrize(
    ("value", "shown"), [(123, "int 123"), (None, "NoneType None"), (b"i1", "bytes b'i1'")]
)
def test_check_id_wrong_type_is_a_programming_error(value: Any, shown: str) -> None:
    """A non-string id raises ArgumentTypeError naming the argument and the type."""
    assert type_error(check_id, value, "instance_id") == (
        f"instance_id must be a string, got {shown}"
    )
    assert type_error(check_name, value, "event") == f"event must be a string, got {shown}"


def test_check_name_follows_the_id_rule() -> None:
    """Event names and slots follow the id rule, naming their own argument."""
    err = invalid(check_name, "bad name", "slot")
    assert (err.code, err.params["argument"]) == ("ERR_ID_TIDAK_VALID", "slot")


# --------------------------------------------------------------------------- keys


@pytest.mark.parametrize("value", [None, "k", "order 42 / retry", "é" * MAX_KEY_LENGTH])
def test_check_key_accepts_keys(value: str | None) -> None:
    """None (no key) and 1-200 characters of text pass unchanged."""
    assert check_key(value) is value


@pytest.mark.parametrize(
    ("value", "problem_id", "problem_en"),
    [
        ("", "panjangnya harus 1 sampai 200 karakter", "must be 1 to 200 characters long"),
        (
            "k" * (MAX_KEY_LENGTH + 1),
            "panjangnya harus 1 sampai 200 karakter",
            "must be 1 to 200 characters long",
        ),
        (
            "a\nb",
            "berisi karakter kontrol atau surrogate tunggal",
            "contains control characters or lone surrogates",
        ),
        (
            "a\x7f",
            "berisi karakter kontrol atau surrogate tunggal",
            "contains control characters or lone surrogates",
        ),
        (
            "a\ud800",
            "berisi karakter kontrol atau surrogate tunggal",
            "contains control characters or lone surrogates",
        ),
    ],
)
def test_check_key_refuses_bad_keys(value: str, problem_id: str, problem_en: str) -> None:
    """Empty, too long, control characters and lone surrogates: ERR_KUNCI_TIDAK_VALID
    with the exact bilingual text."""
    err = invalid(check_key, value)
    assert err.code == "ERR_KUNCI_TIDAK_VALID"
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    assert texts(err) == (
        f"Kunci idempotensi {shown} tidak sah: {problem_id}.",
        f"Idempotency key {shown} is not valid: {problem_en}.",
    )


def test_check_key_wrong_type() -> None:
    """A key that is not a string raises ArgumentTypeError."""
    assert type_error(check_key, 42) == "idempotency_key must be a string or None, got int 42"


# --------------------------------------------------------------------------- actors


def test_check_actor_accepts_and_returns_the_actor() -> None:
    """A well-formed actor (up to 64 roles, a 200-character name) is returned as is."""
    actor = Actor("ani", {"MEMBER"}, "a", "Ani Suryani")
    assert check_actor(actor) is actor
    big = Actor("x", {f"R{i}" for i in range(MAX_ROLES)}, None, "N" * MAX_NAME_LENGTH)
    assert check_actor(big) is big
    assert check_actor(Actor("x", ())) == Actor("x", ())


@pytest.mark.parametrize(
    ("value", "shown"),
    [(None, "NoneType None"), ({"id": "ani"}, "dict {'id': 'ani'}"), ("ani", "str 'ani'")],
)
def test_check_actor_wrong_type(value: Any, shown: str) -> None:
    """Anything but an Actor raises ArgumentTypeError (not AttributeError)."""
    assert type_error(check_actor, value) == f"actor must be a paketflow.Actor, got {shown}"


@pytest.mark.parametrize(
    ("actor", "field", "shown"),
    [
        (Actor("ani budi", ()), "actor.id", "'ani budi'"),
        (Actor("", ()), "actor.id", "''"),
        (Actor("ani", ("MEMBER", "bad role")), "actor.roles", "'bad role'"),
        (Actor("ani", (), "elem/a"), "actor.element", "'elem/a'"),
    ],
)
def test_check_actor_refuses_bad_ids(actor: Actor, field: str, shown: str) -> None:
    """A malformed id, role or element is ERR_AKTOR_TIDAK_VALID naming the field."""
    err = invalid(check_actor, actor)
    assert err.code == "ERR_AKTOR_TIDAK_VALID"
    assert texts(err) == (
        f"Pelaku tidak sah: {field} {shown}: {ID_RULE_ID}.",
        f"The actor is not valid: {field} {shown}: {ID_RULE_EN}.",
    )


def test_check_actor_refuses_too_many_roles() -> None:
    """More than 64 roles is refused, showing the first three roles."""
    actor = Actor("ani", {f"R{i:02}" for i in range(MAX_ROLES + 1)})
    err = invalid(check_actor, actor)
    assert texts(err) == (
        "Pelaku tidak sah: actor.roles ['R00', 'R01', 'R02']: lebih dari 64 peran.",
        "The actor is not valid: actor.roles ['R00', 'R01', 'R02']: more than 64 roles.",
    )


@pytest.mark.parametrize("name", ["N" * (MAX_NAME_LENGTH + 1), "Ani\nBudi", "Ani\ud800"])
def test_check_actor_refuses_bad_names(name: str) -> None:
    """A display name too long, with control characters or lone surrogates is
    refused."""
    err = invalid(check_actor, Actor("ani", (), None, name))
    assert err.params["field"] == "actor.name"
    assert err.params["problem"] == "use plain text of at most 200 characters"
    assert err.params["masalah"] == "gunakan teks biasa sampai 200 karakter"


@pytest.mark.parametrize(
    ("actor", "text"),
    [
        (Actor(7, ()), "actor.id must be a string, got int 7"),  # type: ignore[arg-type]
        (Actor("a", (), 5), "actor.element must be a string, got int 5"),  # type: ignore[arg-type]
        (Actor("a", [1]), "actor.roles must be role ids (strings), got int 1"),  # type: ignore[list-item]
        (Actor("a", (), None, 5), "actor.name must be a string or None, got int 5"),  # type: ignore[arg-type]
    ],
)
def test_check_actor_wrong_field_types(actor: Actor, text: str) -> None:
    """Fields of the wrong Python type are programming errors naming the field."""
    assert type_error(check_actor, actor) == text


def test_actor_roles_not_iterable() -> None:
    """Roles that are neither a string nor iterable raise ArgumentTypeError already
    when the Actor is built."""
    with pytest.raises(ArgumentTypeError) as info:
        Actor("a", 5)  # type: ignore[arg-type]
    assert str(info.value) == (
        "Actor(roles=...) must be a role id or an iterable of role ids, got 5"
    )


# --------------------------------------------------------------------------- data


def test_check_data_none_is_empty() -> None:
    """No payload is an empty frozen mapping."""
    out = check_data(None, "payload")
    assert out == {}
    assert type(out) is FrozenDict


def test_check_data_returns_a_frozen_copy() -> None:
    """A JSON mapping comes back equal and deeply frozen; the caller's dict can change
    afterwards without effect."""
    payload: dict[str, Any] = {"amount": 5, "items": [{"q": 1}]}
    out = check_data(payload, "payload")
    payload["items"][0]["q"] = 2
    assert out == {"amount": 5, "items": [{"q": 1}]}
    assert type(out["items"]) is FrozenList


@pytest.mark.parametrize(("value", "shown"), [([1], "list [1]"), ("x", "str 'x'"), (5, "int 5")])
def test_check_data_wrong_type(value: Any, shown: str) -> None:
    """A payload that is not a mapping raises ArgumentTypeError."""
    assert type_error(check_data, value, "payload") == (
        f"payload must be a mapping (dict) or None, got {shown}"
    )


@pytest.mark.parametrize(
    ("value", "location", "problem_id", "problem_en"),
    [
        ({"x": float("nan")}, "payload/x", "nan bukan bilangan JSON", "nan is not a JSON number"),
        (
            {"a": [1, 2**60]},
            "payload/a/1",
            "bilangan bulat di luar rentang ±(2**53 - 1) (gunakan teks untuk bilangan besar)",
            "integer is outside the accepted range ±(2**53 - 1) (use a string for larger numbers)",
        ),
        (
            {"s": "\udc00"},
            "payload/s",
            "teks berisi surrogate tunggal (bukan teks Unicode yang sah)",
            "string contains a lone surrogate (not valid Unicode text)",
        ),
    ],
)
def test_check_data_refuses_non_json(
    value: Any, location: str, problem_id: str, problem_en: str
) -> None:
    """A payload breaking a JSON rule is ERR_DATA_TIDAK_SAH at argument + pointer,
    with the exact bilingual text."""
    err = invalid(check_data, value, "payload")
    assert err.code == "ERR_DATA_TIDAK_SAH"
    assert texts(err) == (
        f"Data tidak dapat diterima di {location}: {problem_id}.",
        f"Data cannot be accepted at {location}: {problem_en}.",
    )


def test_check_data_refuses_deep_nesting_with_the_argument_named() -> None:
    """Nesting beyond the limit is refused in the named argument, never a
    RecursionError."""
    deep: Any = 0
    for _ in range(900):
        deep = [deep]
    err = invalid(check_data, {"d": deep}, "data")
    assert err.params["location"] == "data/d" + "/0" * (MAX_DEPTH - 1)
    assert err.params["problem"] == f"nesting deeper than {MAX_DEPTH} levels (the limit)"


# --------------------------------------------------------------------------- times


@pytest.mark.parametrize(
    "value",
    [
        EARLIEST,
        LATEST - dt.timedelta(microseconds=1),
        dt.datetime(2012, 3, 5, 9, tzinfo=dt.timezone(dt.timedelta(hours=7))),
    ],
)
def test_check_time_accepts_aware_times_in_range(value: dt.datetime) -> None:
    """Aware datetimes from EARLIEST (inclusive) to LATEST (exclusive) pass."""
    assert check_time(value, "at") is value


@pytest.mark.parametrize(
    "value",
    [
        EARLIEST - dt.timedelta(microseconds=1),
        LATEST,
        dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.timezone(-dt.timedelta(hours=5))),
        dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=5))),
    ],
    ids=["before", "latest", "overflow-max", "overflow-min"],
)
def test_check_time_refuses_times_out_of_range(value: dt.datetime) -> None:
    """Times outside the range, including ones whose UTC value overflows, are
    ERR_WAKTU_TIDAK_VALID (never OverflowError) with the exact bilingual text."""
    err = invalid(check_time, value, "now")
    assert err.code == "ERR_WAKTU_TIDAK_VALID"
    assert texts(err) == (
        f"Waktu now {value.isoformat()} di luar rentang yang didukung "
        "(1970-01-01 sampai sebelum 2200-01-01).",
        f"Time now {value.isoformat()} is outside the supported range "
        "(1970-01-01 to before 2200-01-01).",
    )


def test_check_time_naive_is_a_value_error() -> None:
    """A naive datetime raises ArgumentValueError (also a ValueError) saying how to
    make it aware."""
    with pytest.raises(ArgumentValueError) as info:
        check_time(dt.datetime(2012, 3, 5, 9), "at")
    assert isinstance(info.value, ValueError)
    assert str(info.value) == (
        "at must be a timezone-aware datetime, got datetime.datetime(2012, 3, 5, 9, 0); "
        "e.g. datetime(2012, 9, 4, 10, tzinfo=ZoneInfo('Asia/Pontianak'))"
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (dt.date(2012, 3, 5), "date datetime.date(2012, 3, 5)"),
        ("2012-03-05T09:00+07:00", "str '2012-03-05T09:00+07:00'"),
        (1331000000, "int 1331000000"),
    ],
)
def test_check_time_wrong_type(value: Any, shown: str) -> None:
    """A date, string or number raises ArgumentTypeError."""
    assert type_error(check_time, value, "at") == (
        f"at must be a timezone-aware datetime.datetime, got {shown}"
    )


def test_every_boundary_code_has_a_complete_template() -> None:
    """Each code Invalid can carry has a built-in template whose placeholders are all
    filled by the parameters the check gives."""
    samples = [
        invalid(check_id, "a b", "instance_id"),
        invalid(check_key, ""),
        invalid(check_actor, Actor("a b", ())),
        invalid(check_data, {"x": float("inf")}, "payload"),
        invalid(check_time, LATEST, "at"),
    ]
    assert {e.code for e in samples} == {
        "ERR_ID_TIDAK_VALID",
        "ERR_KUNCI_TIDAK_VALID",
        "ERR_AKTOR_TIDAK_VALID",
        "ERR_DATA_TIDAK_SAH",
        "ERR_WAKTU_TIDAK_VALID",
    }
    for err in samples:
        for text in texts(err):
            assert "{" not in text, text
