"""JSON utilities (paketflow._json): the strict boundary check, frozen containers,
freeze/thaw, RFC 8785 canonical bytes and RFC 6901 pointers."""

from __future__ import annotations

import copy
import enum
import json
import pickle
import types
from collections.abc import Callable
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from paketflow import ImmutableError
from paketflow._json import (
    MAX_DEPTH,
    MAX_INT,
    MAX_NODES,
    MAX_STRING,
    FrozenDict,
    FrozenList,
    JSONValueError,
    canonical,
    check,
    freeze,
    parse_pointer,
    pointer,
    thaw,
)

# Floats of magnitude 2**53 or more are left out: RFC 8785 writes them without an
# exponent (5.1e16 as 51425035728123940), which a JSON reader turns into an integer.
SAFE = 2**53 - 1
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-SAFE, SAFE)
    | st.floats(-float(SAFE), float(SAFE))
    | st.text(max_size=6),
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=4), kids, max_size=4)
    ),
    max_leaves=16,
)


def refusal(value: Any, **limits: int) -> JSONValueError:
    with pytest.raises(JSONValueError) as info:
        check(value, **limits)
    return info.value


def place(err: JSONValueError) -> tuple[str, str]:
    """Where (RFC 6901, relative to the value checked) and what, in English."""
    return err.pointer, err.problem


def nested(depth: int, leaf: Any = 0) -> Any:
    """``depth`` lists inside each other, ``leaf`` innermost (built without recursion)."""
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def is_deeply_frozen(value: Any) -> bool:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            if type(v) is not FrozenDict:
                return False
            stack.extend(v.values())
        elif isinstance(v, list | tuple):
            if type(v) is not FrozenList:
                return False
            stack.extend(v)
    return True


# --------------------------------------------------------------------------- check: accepted


@settings(deadline=None)
@given(json_values)
def test_check_returns_an_equal_deeply_frozen_copy(value: Any) -> None:
    """Any JSON value passes check unchanged in value, comes back deeply frozen and
    canonicalises like the original."""
    out = check(value)
    assert out == value
    assert is_deeply_frozen(out)
    assert canonical(out) == rfc8785.dumps(value)


def test_check_copies_so_the_caller_cannot_change_it() -> None:
    """The checked copy does not share containers with the caller's value."""
    value: dict[str, Any] = {"a": [1, {"b": 2}], "t": (1, 2)}
    out = check(value)
    value["a"][1]["b"] = 3
    value["a"].append(4)
    value["new"] = 1
    assert out == {"a": [1, {"b": 2}], "t": [1, 2]}
    assert type(out["t"]) is FrozenList


def test_check_accepts_any_mapping_and_keeps_booleans() -> None:
    """A read-only mapping is accepted as an object; True stays a bool, not 1."""
    out = check(types.MappingProxyType({"ok": True, "n": 1.5}))
    assert type(out) is FrozenDict
    assert out == {"ok": True, "n": 1.5}
    assert out["ok"] is True


@pytest.mark.parametrize(
    "value", [MAX_INT - 1, -(MAX_INT - 1), 0, -0.0, 9007199254740991.0, 1.5e15, -5e-324]
)
def test_check_accepts_numbers_within_range(value: Any) -> None:
    """Integers inside ±2**53 and every finite float are accepted."""
    assert check([value]) == [value]


# --------------------------------------------------------------------------- check: refused


@pytest.mark.parametrize(
    ("value", "ptr", "shown"),
    [
        ({"x": float("nan")}, "/x", "nan"),
        ({"x": float("inf")}, "/x", "inf"),
        ({"x": [float("-inf")]}, "/x/0", "-inf"),
    ],
)
def test_check_refuses_non_finite_floats(value: Any, ptr: str, shown: str) -> None:
    """NaN and ±infinity are refused at their place, in English and Indonesian."""
    err = refusal(value)
    assert place(err) == (ptr, f"{shown} is not a JSON number")
    assert err.problem_id == f"{shown} bukan bilangan JSON"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (b"x", "bytes b'x'"),
        (bytearray(b"x"), "bytearray bytearray(b'x')"),
        ({1, 2}, "set {1, 2}"),
        (1j, "complex 1j"),
    ],
)
def test_check_refuses_non_json_types(value: Any, shown: str) -> None:
    """bytes, sets and other Python values are refused, naming the type and value
    and saying what to use."""
    err = refusal({"v": value})
    assert place(err) == (
        "/v",
        f"{shown} is not a JSON value (use strings, numbers, booleans, null, lists and objects)",
    )
    assert err.problem_id == (
        f"{shown} bukan nilai JSON (gunakan teks, angka, boolean, null, daftar dan objek)"
    )


def test_check_refuses_an_object() -> None:
    """A plain object() is refused with its type."""
    err = refusal({"v": [object()]})
    assert err.pointer == "/v/0"
    assert err.problem.startswith("object <object object at ")
    assert err.problem.endswith(
        "is not a JSON value (use strings, numbers, booleans, null, lists and objects)"
    )


def test_check_refuses_subclasses_of_json_types() -> None:
    """An IntEnum member is not a plain int: refused rather than guessed."""

    class Level(enum.IntEnum):
        LOW = 1

    assert refusal({"v": Level.LOW}).problem.startswith("Level <Level.LOW: 1> is not a JSON value")


def test_check_survives_a_hostile_repr() -> None:
    """A value whose repr raises is still refused with a JSONValueError; long reprs
    are cut to 60 characters."""

    class Hostile:
        def __repr__(self) -> str:
            raise RuntimeError("no")

    assert refusal([Hostile()]).problem.startswith("Hostile <Hostile> is not a JSON value")

    class Long:
        def __repr__(self) -> str:
            return "L" * 100

    assert refusal([Long()]).problem.startswith(f"Long {'L' * 57}... is not")


@pytest.mark.parametrize(
    ("value", "ptr"),
    [({"x": "a\ud800b"}, "/x"), (["\udfff"], "/0"), ({"k\ud83d": 1}, "/k\ud83d")],
)
def test_check_refuses_lone_surrogates_in_values_and_keys(value: Any, ptr: str) -> None:
    """A string or key with a lone surrogate is not Unicode text: refused."""
    err = refusal(value)
    assert (err.pointer, err.problem) == (
        ptr,
        "string contains a lone surrogate (not valid Unicode text)",
    )
    assert err.problem_id == "teks berisi surrogate tunggal (bukan teks Unicode yang sah)"


def test_check_accepts_paired_surrogates_as_text() -> None:
    """An emoji (a character outside the BMP) is fine."""
    assert check({"\U0001f600": "\U0001f600"}) == {"\U0001f600": "\U0001f600"}


@pytest.mark.parametrize(
    ("key", "shown"), [(1, "1"), (None, "None"), (True, "True"), ((1,), "(1,)")]
)
def test_check_refuses_non_string_keys(key: Any, shown: str) -> None:
    """Object keys must be strings (JSON would silently turn 1 into "1")."""
    err = refusal({"o": {key: 1}})
    assert place(err) == ("/o", f"object key {shown} is not a string")
    assert err.problem_id == f"kunci objek {shown} bukan teks"


@pytest.mark.parametrize(
    "value",
    [MAX_INT + 1, -(MAX_INT + 1), 10**5000, -(10**5000)],
    ids=["above", "below", "huge", "minus-huge"],
)
def test_check_refuses_integers_outside_2_53(value: int) -> None:
    """Integers beyond ±2**53 are refused without printing them (10**5000 has no
    repr in Python 3.11 anyway)."""
    assert place(refusal({"n": value})) == (
        "/n",
        "integer is outside the accepted range ±(2**53 - 1) (use a string for larger numbers)",
    )


def test_check_depth_limit() -> None:
    """MAX_DEPTH nested containers are accepted; one more is refused at the deepest
    container's place; the limit can be lowered per call."""
    assert check(nested(MAX_DEPTH)) == nested(MAX_DEPTH)
    err = refusal(nested(MAX_DEPTH + 1))
    assert err.pointer == "/0" * MAX_DEPTH
    assert err.problem == f"nesting deeper than {MAX_DEPTH} levels (the limit)"
    assert err.problem_id == f"bersarang lebih dari {MAX_DEPTH} tingkat (batas)"
    assert refusal({"a": {"b": {}}}, max_depth=2).pointer == "/a/b"


@pytest.mark.parametrize("depth", [900, 100_000])
def test_check_hostile_nesting_is_a_json_value_error_not_recursion(depth: int) -> None:
    """Nesting far beyond the limit (900 levels, which used to exhaust the stack, or
    100 000) is refused with JSONValueError, never RecursionError."""
    err = refusal({"a": nested(depth)})
    assert err.problem == f"nesting deeper than {MAX_DEPTH} levels (the limit)"
    assert err.pointer == "/a" + "/0" * (MAX_DEPTH - 1)


def test_check_node_limit() -> None:
    """A value of MAX_NODES parts (containers and scalars) is accepted; one more is
    refused; the limit can be lowered per call."""
    assert len(check([0] * (MAX_NODES - 1))) == MAX_NODES - 1
    err = refusal([0] * MAX_NODES)
    assert err.problem == f"value has more than {MAX_NODES} parts (the limit)"
    assert err.problem_id == f"nilai memiliki lebih dari {MAX_NODES} bagian (batas)"
    assert check({"a": 1}, max_nodes=2) == {"a": 1}
    assert refusal({"a": [1]}, max_nodes=2).problem == "value has more than 2 parts (the limit)"


@pytest.mark.parametrize("where", ["value", "key"])
def test_check_string_limit(where: str) -> None:
    """Strings and keys of MAX_STRING characters are accepted; one more is refused."""

    def make(n: int) -> Any:
        return {"s": "x" * n} if where == "value" else {"x" * n: 1}

    assert check(make(MAX_STRING)) == make(MAX_STRING)
    err = refusal(make(MAX_STRING + 1))
    assert err.problem == (
        f"string of {MAX_STRING + 1} characters is longer than the limit of {MAX_STRING}"
    )
    assert err.pointer == ("/s" if where == "value" else "/" + "x" * (MAX_STRING + 1))


def test_check_pointer_escapes_keys() -> None:
    """The place of a refusal is an RFC 6901 pointer: '/' and '~' in keys escaped."""
    assert refusal({"a/b": {"c~d": float("nan")}}).pointer == "/a~1b/c~0d"


def test_json_value_error_for_the_root() -> None:
    """A refusal of the value itself has the empty pointer; its text reads '/'
    before the problem."""
    err = refusal(b"raw")
    assert err.pointer == ""
    assert str(err).startswith("/: bytes b'raw' is not a JSON value")


# --------------------------------------------------------------------------- freeze / thaw


def test_freeze_is_deep_and_keeps_frozen_values() -> None:
    """freeze makes dicts, lists and tuples frozen at every level, keeps scalars, and
    returns an already frozen container as it is."""
    out = freeze({"a": [1, (2, {"b": [3]})], "s": "x"})
    assert out == {"a": [1, [2, {"b": [3]}]], "s": "x"}
    assert is_deeply_frozen(out)
    assert freeze(out) is out
    assert freeze(out["a"]) is out["a"]
    assert freeze(5) == 5
    assert freeze(None) is None


def test_thaw_gives_plain_mutable_copies() -> None:
    """thaw turns every frozen container into a plain dict or list, deeply; the
    result can be changed without touching the frozen value."""
    frozen = check({"a": [1, {"b": [2]}]})
    plain = thaw(frozen)
    assert plain == frozen
    assert type(plain) is dict
    assert type(plain["a"]) is list
    assert type(plain["a"][1]) is dict
    plain["a"][1]["b"].append(3)
    assert frozen == {"a": [1, {"b": [2]}]}


@settings(deadline=None)
@given(json_values)
def test_thaw_inverts_freeze(value: Any) -> None:
    """thaw(freeze(v)) == v with only plain containers, and freeze(thaw(f)) == f."""
    frozen = freeze(value)
    plain = thaw(frozen)
    assert plain == value
    assert not isinstance(plain, FrozenDict | FrozenList)
    assert freeze(plain) == frozen


# --------------------------------------------------------------------------- frozen containers

FD = check({"a": 1, "b": [1, 2], "c": {"d": None}})
FL = check([3, 1, [2]])
MESSAGE = (
    "this {} is part of a recorded snapshot or event and cannot be changed; copy it "
    "first (paketflow.thaw(value) gives mutable dicts and lists)"
)


def _ior(d: Any) -> None:
    d |= {"x": 1}


def _iadd(items: Any) -> None:
    items += [1]


def _imul(items: Any) -> None:
    items *= 2


def _del_slice(items: Any) -> None:
    del items[0:1]


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.__setitem__("a", 2),
        lambda d: d.__delitem__("a"),
        lambda d: d.clear(),
        lambda d: d.pop("a"),
        lambda d: d.pop("zz", None),
        lambda d: d.popitem(),
        lambda d: d.setdefault("a", 1),
        lambda d: d.update(a=2),
        _ior,
    ],
)
def test_frozen_dict_refuses_every_change(mutate: Callable[[Any], None]) -> None:
    """Every mutating method of FrozenDict raises ImmutableError (also a TypeError)
    with the exact message and leaves it unchanged."""
    with pytest.raises(ImmutableError) as info:
        mutate(FD)
    assert isinstance(info.value, TypeError)
    assert str(info.value) == MESSAGE.format("FrozenDict")
    assert FD == {"a": 1, "b": [1, 2], "c": {"d": None}}


@pytest.mark.parametrize(
    "mutate",
    [
        lambda x: x.__setitem__(0, 9),
        lambda x: x.__setitem__(slice(0, 1), [9]),
        lambda x: x.__delitem__(0),
        _del_slice,
        lambda x: x.append(1),
        lambda x: x.extend([1]),
        lambda x: x.insert(0, 1),
        lambda x: x.pop(),
        lambda x: x.remove(3),
        lambda x: x.clear(),
        lambda x: x.sort(),
        lambda x: x.sort(key=str),
        lambda x: x.reverse(),
        _iadd,
        _imul,
    ],
)
def test_frozen_list_refuses_every_change(mutate: Callable[[Any], None]) -> None:
    """Every mutating method of FrozenList raises ImmutableError with the exact
    message and leaves it unchanged."""
    with pytest.raises(ImmutableError) as info:
        mutate(FL)
    assert str(info.value) == MESSAGE.format("FrozenList")
    assert FL == [3, 1, [2]]


def test_frozen_containers_are_equal_to_plain_ones() -> None:
    """A FrozenDict equals the dict and a FrozenList the list with the same items;
    both are instances of dict and list; their repr is the plain one."""
    assert FD == {"a": 1, "b": [1, 2], "c": {"d": None}}
    assert {"a": 1, "b": [1, 2], "c": {"d": None}} == FD  # noqa: SIM300 (both sides)
    assert FL == [3, 1, [2]]
    assert FL != (3, 1, [2])
    assert isinstance(FD, dict)
    assert isinstance(FL, list)
    assert repr(FD) == repr({"a": 1, "b": [1, 2], "c": {"d": None}})
    assert repr(FL) == "[3, 1, [2]]"


def test_frozen_containers_serialise_like_plain_ones() -> None:
    """json.dumps writes frozen containers exactly like dicts and lists."""
    plain = {"a": 1, "b": [1, 2], "c": {"d": None}}
    assert json.dumps(FD) == json.dumps(plain)
    assert json.dumps(FD, sort_keys=True, indent=1) == json.dumps(plain, sort_keys=True, indent=1)
    assert json.dumps(FL) == "[3, 1, [2]]"


def test_frozen_containers_copy_and_deepcopy_to_themselves() -> None:
    """Copying an immutable value needs no new object: copy and deepcopy return it."""
    assert copy.copy(FD) is FD
    assert copy.deepcopy(FD) is FD
    assert copy.copy(FL) is FL
    assert copy.deepcopy({"x": FL})["x"] is FL


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_frozen_containers_pickle(protocol: int) -> None:
    """Pickling keeps the value and the frozen types at every level."""
    back = pickle.loads(pickle.dumps(FD, protocol))
    assert back == FD
    assert is_deeply_frozen(back)
    back_list = pickle.loads(pickle.dumps(FL, protocol))
    assert back_list == FL
    assert is_deeply_frozen(back_list)


def test_frozen_containers_are_hashable() -> None:
    """Equal frozen values hash equal, so they can be set members and dict keys."""
    assert hash(check({"a": [1], "b": 2})) == hash(check({"b": 2, "a": [1]}))
    assert hash(check([1, [2]])) == hash(check((1, (2,))))
    assert len({check({"a": 1}), check({"a": 1})}) == 1


def test_non_mutating_operations_give_plain_values() -> None:
    """Operators that build a new value work and leave the frozen one alone."""
    merged = FD | {"z": 1}
    merged["y"] = 2
    longer = FL + [4]  # noqa: RUF005 (the operator is what is tested)
    longer.append(5)
    assert (FD.get("zz"), sorted(FL[:2]), FL * 1) == (None, [1, 3], [3, 1, [2]])
    assert "z" not in FD
    assert FL == [3, 1, [2]]


# --------------------------------------------------------------------------- canonical


def test_canonical_sorts_keys_by_utf16_code_units() -> None:
    """RFC 8785 §3.2.3: keys sort by their UTF-16 code units, so U+1F600 (D83D DE00)
    comes before U+FB33 although its code point is larger."""
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    order = [json.loads(b"[" + canonical(k) + b"]")[0] for k in value]
    keys = list(json.loads(canonical(value)))
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    assert sorted(order, key=lambda k: k.encode("utf-16-be")) == keys


def test_canonical_rfc8785_example() -> None:
    """RFC 8785 §3.2.2's example: numbers in ECMAScript form, minimal string escapes,
    literals, sorted keys, no whitespace."""
    value = json.loads(
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    assert (
        canonical(value)
        == (
            '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
            '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
        ).encode()
    )


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (4.5, "4.5"),
        (0.002, "0.002"),
        (0.000001, "0.000001"),
        (1e-7, "1e-7"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1e23, "1e+23"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (9007199254740992.0, "9007199254740992"),
        (-1.5, "-1.5"),
        (SAFE, "9007199254740991"),
    ],
)
def test_canonical_number_formatting(number: float, text: str) -> None:
    """Numbers are written as ECMAScript does (RFC 8785 §3.2.2.3 / appendix B)."""
    assert canonical(number) == text.encode()


def test_canonical_string_escapes() -> None:
    """Only '"', '\\' and control characters are escaped (short forms, else \\u00xx
    lowercase); '/', U+2028 and non-ASCII are written as UTF-8."""
    assert canonical('"\\/\b\t\n\f\r\x00\x1f\u2028é') == (
        b'"\\"\\\\/\\b\\t\\n\\f\\r\\u0000\\u001f' + "\u2028é".encode() + b'"'
    )


def test_canonical_of_frozen_equals_canonical_of_plain() -> None:
    """Frozen containers canonicalise exactly like the plain ones."""
    plain = {"b": [1, {"d": None, "c": True}], "a": "ü"}
    assert (
        canonical(freeze(plain))
        == canonical(plain)
        == ('{"a":"ü","b":[1,{"c":true,"d":null}]}'.encode())
    )


@settings(deadline=None)
@given(st.dictionaries(st.text(max_size=5), json_values, max_size=6))
def test_canonical_ignores_insertion_order(d: dict[str, Any]) -> None:
    """A dict and its reversed-insertion copy have the same canonical bytes, which
    parse back to an equal value."""
    assert canonical(d) == canonical(dict(reversed(list(d.items()))))
    assert json.loads(canonical(d)) == d


# --------------------------------------------------------------------------- pointers


def test_pointer_escapes_and_parse_unescapes() -> None:
    """pointer writes RFC 6901 pointers (~0, ~1, indices as text); parse_pointer reads
    them back; the empty pointer has no tokens."""
    assert pointer(["a", "b/c", 0, "m~n"]) == "/a/b~1c/0/m~0n"
    assert pointer([]) == ""
    assert parse_pointer("/a/b~1c/0/m~0n") == ("a", "b/c", "0", "m~n")
    assert parse_pointer("") == ()
    assert parse_pointer("/") == ("",)


@settings(deadline=None)
@given(st.lists(st.text(max_size=5), max_size=5))
def test_pointer_round_trip(tokens: list[str]) -> None:
    """parse_pointer(pointer(tokens)) gives the tokens back."""
    assert parse_pointer(pointer(tokens)) == tuple(tokens)
