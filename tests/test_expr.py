"""The JSON expression language: every operator, compile errors, paths, and the
property that nothing but ExprSyntaxError / ExprEvalError ever escapes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import WIB
from paketflow._calendar import WorkingCalendar
from paketflow._expr import (
    DAY_OPERATIONS,
    MAX_INT,
    MAX_ITEMS,
    MAX_OPERATIONS,
    MAX_TEXT,
    TEXT_PER_OPERATION,
    Budget,
    Expr,
    ExprEvalError,
    ExprLimitError,
    ExprSyntaxError,
    compile_expr,
    compile_path,
    parse_date,
)

OPERATOR_LIST = (
    "!=, *, +, -, <, <=, ==, >, >=, addDays, and, coalesce, concat, date, daysBetween, "
    "difference, div, get, if, in, keys, len, max, min, not, object, or, percent, pluck, "
    "sum, values, var, where, workingDaysBetween"
)
ROOT_LIST = "actor, at, data, deadlines, event, flags, sets, signers, state, today"


def ev(node: Any, scope: dict[str, Any] | None = None) -> Any:
    """Compile ``node`` at pointer ``/x`` and evaluate it on ``scope``."""
    return compile_expr(node, "/x")(scope or {})


def eval_error(node: Any, scope: dict[str, Any] | None = None) -> ExprEvalError:
    with pytest.raises(ExprEvalError) as info:
        ev(node, scope)
    return info.value


def syntax_error(node: Any) -> ExprSyntaxError:
    with pytest.raises(ExprSyntaxError) as info:
        compile_expr(node, "/x")
    return info.value


# --------------------------------------------------------------------------- literals


@pytest.mark.parametrize("value", [None, True, False, 0, -3, 2.5, "", "text"])
def test_literals_evaluate_to_themselves(value: Any) -> None:
    """A JSON scalar literal evaluates to itself."""
    assert ev(value) == value
    assert type(ev(value)) is type(value)


def test_array_evaluates_each_item() -> None:
    """An array is a list of expressions: each item is evaluated."""
    assert ev([1, {"var": "data.a"}, [{"+": [1, 2]}]], {"data": {"a": "x"}}) == [1, "x", [3]]


def test_expr_keeps_raw_and_pointer_and_compares_by_raw() -> None:
    """A compiled Expr carries the raw JSON and its pointer; equality is by raw only."""
    e = compile_expr({"var": "data.a"}, "/p")
    assert e.raw == {"var": "data.a"}
    assert e.pointer == "/p"
    assert e == compile_expr({"var": "data.a"}, "/other")
    assert e != compile_expr({"var": "data.b"}, "/p")


# --------------------------------------------------------------------------- var


def test_var_reads_dotted_path() -> None:
    """``var`` follows a dotted path through objects."""
    assert ev({"var": "data.a.b"}, {"data": {"a": {"b": 7}}}) == 7


def test_var_reads_root_alone() -> None:
    """``var`` with only a root returns the whole root value."""
    assert ev({"var": "state"}, {"state": "DRAFT"}) == "DRAFT"


def test_var_indexes_lists_with_digit_segments() -> None:
    """A numeric dotted segment indexes a list."""
    assert ev({"var": "data.items.1.n"}, {"data": {"items": [{"n": 1}, {"n": 2}]}}) == 2


def test_var_array_form_with_integer_and_dynamic_segments() -> None:
    """The array form takes integer segments and expression segments evaluated on
    the same scope."""
    scope = {"data": {"tranches": [{"due": "a"}, {"due": "b"}], "tahap": 1}}
    assert ev({"var": ["data.tranches", {"var": "data.tahap"}, "due"]}, scope) == "b"
    assert ev({"var": ["data.tranches", 0, "due"]}, scope) == "a"


def test_var_dynamic_segment_keys_an_object() -> None:
    """A dynamic segment can pick an object key."""
    scope = {"data": {"by": {"x": 1, "y": 2}}, "event": {"k": "y"}}
    assert ev({"var": ["data.by", {"var": "event.k"}]}, scope) == 2


@pytest.mark.parametrize(
    ("path", "scope"),
    [
        ("data.missing", {"data": {}}),
        ("data.a.b.c", {"data": {"a": None}}),
        ("data.a.b", {"data": {"a": 5}}),
        ("data.items.5", {"data": {"items": [1]}}),
        ("data.items.x", {"data": {"items": [1]}}),
        ("data.items.-1", {"data": {"items": [1]}}),
        ("event.x", {}),
    ],
)
def test_var_missing_is_none(path: str, scope: dict[str, Any]) -> None:
    """A path that does not exist (missing key, out of range index, non-container,
    missing root) evaluates to None, never an error."""
    assert ev({"var": path}, scope) is None


def test_var_dynamic_segment_none_gives_none() -> None:
    """A dynamic segment on a missing value stops with None."""
    assert ev({"var": ["data.a", {"var": "event.k"}, "b"]}, {"data": {}}) is None


def test_var_integer_segment_on_object_uses_its_string_form() -> None:
    """An integer segment on an object reads the key spelled as that integer."""
    assert ev({"var": ["data.m", 3]}, {"data": {"m": {"3": "three"}}}) == "three"


def test_var_reads_the_scope_roots() -> None:
    """Each documented root can be read."""
    for root in ROOT_LIST.split(", "):
        assert ev({"var": root}, {root: 1}) == 1


# --------------------------------------------------------------------------- comparisons


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        ({"==": [1, 1]}, True),
        ({"==": [1, 1.0]}, True),
        ({"==": ["a", "b"]}, False),
        ({"==": [None, None]}, True),
        ({"==": [[1, 2], [1, 2]]}, True),
        ({"!=": [1, 2]}, True),
        ({"!=": ["a", "a"]}, False),
        ({"<": [1, 2]}, True),
        ({"<": [2, 2]}, False),
        ({"<=": [2, 2]}, True),
        ({">": [3, 2.5]}, True),
        ({">=": [2, 3]}, False),
        ({"<": ["abc", "abd"]}, True),
        ({">=": ["b", "a"]}, True),
    ],
)
def test_comparisons(node: Any, expected: bool) -> None:
    """Equality compares any values; ordering compares numbers or strings."""
    assert ev(node) is expected


@pytest.mark.parametrize("op", ["<", "<=", ">", ">="])
@pytest.mark.parametrize("args", [[None, 1], [1, None], [None, None], [{"var": "data.x"}, 0]])
def test_ordering_with_none_is_false(op: str, args: list[Any]) -> None:
    """An ordering comparison with a null (or missing) side is False."""
    assert ev({op: args}, {"data": {}}) is False


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        ([1, "a"], "1, 'a'"),
        (["a", 1], "'a', 1"),
        ([True, 1], "True, 1"),
        ([[1], [2]], "[1], [2]"),
        ([{"object": {}}, 1], "{}, 1"),
    ],
)
def test_ordering_type_error(args: list[Any], shown: str) -> None:
    """Ordering mixed types (or booleans, lists, objects) is an ExprEvalError that
    names the operator's pointer."""
    err = eval_error({"<": args})
    assert err.pointer == "/x/<"
    assert err.message == f"'<' compares two numbers or two strings, got {shown}"
    assert str(err) == f"/x/<: '<' compares two numbers or two strings, got {shown}"


# --------------------------------------------------------------------------- logic


def test_and_or_not() -> None:
    """``and``/``or`` return booleans of their operands' truth; ``not`` negates."""
    assert ev({"and": [1, "x", True]}) is True
    assert ev({"and": [1, 0]}) is False
    assert ev({"or": [0, "", None]}) is False
    assert ev({"or": [0, "x"]}) is True
    assert ev({"not": None}) is True
    assert ev({"not": [[1]]}) is False
    assert ev({"and": True}) is True


def test_and_or_short_circuit() -> None:
    """``and`` stops at the first false operand and ``or`` at the first true one, so
    a later failing operand is never evaluated."""
    boom = {"div": [1, 0]}
    assert ev({"and": [False, boom]}) is False
    assert ev({"or": [True, boom]}) is True


def test_if_evaluates_only_the_chosen_branch() -> None:
    """``if`` picks a branch on the condition's truth and evaluates only that one."""
    boom = {"div": [1, 0]}
    assert ev({"if": [True, "yes", boom]}) == "yes"
    assert ev({"if": [{"var": "data.n"}, boom, "no"]}, {"data": {"n": 0}}) == "no"


# --------------------------------------------------------------------------- arithmetic


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        ({"+": [1, 2, 3]}, 6),
        ({"+": 4}, 4),
        ({"+": [1, 0.5]}, 1.5),
        ({"-": [10, 3]}, 7),
        ({"-": 5}, -5),
        ({"-": [2.5]}, -2.5),
        ({"*": [2, 3, 4]}, 24),
        ({"*": 7}, 7),
        ({"div": [7, 2]}, 3),
        ({"div": [-7, 2]}, -4),
        ({"div": [7.9, 2]}, 3),
        ({"percent": [1, 3]}, 33),
        ({"percent": [2, 3]}, 66),
        ({"percent": [-1, 3]}, -34),
        ({"percent": [130_000_000, 130_000_000]}, 100),
    ],
)
def test_arithmetic(node: Any, expected: Any) -> None:
    """``+ - *`` are ordinary arithmetic; ``div`` and ``percent`` floor to an integer."""
    result = ev(node)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize("op", ["div", "percent"])
@pytest.mark.parametrize("zero", [0, 0.0])
def test_division_by_zero(op: str, zero: Any) -> None:
    """``div``/``percent`` by zero is an ExprEvalError at the operator's pointer."""
    err = eval_error({op: [1, zero]})
    assert (err.pointer, err.message) == (f"/x/{op}", f"'{op}' by zero")


@pytest.mark.parametrize("op", ["+", "-", "*", "div", "percent"])
@pytest.mark.parametrize("bad", ["1", True, None, [1]])
def test_arithmetic_needs_numbers(op: str, bad: Any) -> None:
    """Arithmetic on a non-number (strings, booleans, null, lists) is refused with
    the operator and the value in the message."""
    err = eval_error({op: [1, bad]})
    assert err.pointer == f"/x/{_esc(op)}"
    assert err.message == f"'{op}' needs numbers, got {bad!r}"


def _esc(op: str) -> str:
    return op.replace("~", "~0").replace("/", "~1")


# --------------------------------------------------------------------------- aggregates


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        ({"min": [3, 1, 2]}, 1),
        ({"max": [3, 1, 2]}, 3),
        ({"min": [[4, 5]]}, 4),
        ({"max": {"var": "data.l"}}, 9),
        ({"sum": {"var": "data.l"}}, 12),
        ({"sum": [[1.5, 2]]}, 3.5),
        ({"sum": [[]]}, 0),
    ],
)
def test_min_max_sum(node: Any, expected: Any) -> None:
    """``min``/``max`` take several numbers or one list; ``sum`` takes one list and
    the sum of an empty list is 0."""
    assert ev(node, {"data": {"l": [3, 9, 0]}}) == expected


@pytest.mark.parametrize("op", ["min", "max"])
def test_min_max_of_empty_list(op: str) -> None:
    """``min``/``max`` of an empty list is an error."""
    err = eval_error({op: [[]]})
    assert (err.pointer, err.message) == (f"/x/{op}", f"'{op}' of an empty list")


@pytest.mark.parametrize("op", ["min", "max", "sum"])
def test_aggregates_need_a_list_and_numbers(op: str) -> None:
    """A single non-list argument or a non-number item is an error."""
    assert eval_error({op: "x"}).message == f"'{op}' needs a list, got 'x'"
    assert eval_error({op: [[1, "2"]]}).message == f"'{op}' needs numbers, got '2'"


def test_single_min_argument_must_be_a_list() -> None:
    """With one argument, ``min`` reads it as the list: a lone number is an error."""
    assert eval_error({"min": 5}).message == "'min' needs a list, got 5"


def test_sum_of_missing_list_is_an_error() -> None:
    """``sum`` of a missing value (null) is not a list."""
    assert eval_error({"sum": {"var": "data.x"}}, {"data": {}}).message == (
        "'sum' needs a list, got None"
    )


def test_sum_takes_exactly_one_argument() -> None:
    """``sum`` has arity 1: several numbers are an arity error."""
    err = syntax_error({"sum": [1, 2]})
    assert (err.code, err.message) == ("expr.arity", "'sum' takes 1 argument(s), got 2")


# --------------------------------------------------------------------------- len, in


@pytest.mark.parametrize(
    ("value", "expected"),
    [([1, 2, 3], 3), ("abcd", 4), ({"a": 1}, 1), (None, 0), ([], 0)],
)
def test_len(value: Any, expected: int) -> None:
    """``len`` counts list items, string characters or object keys; null is 0."""
    assert ev({"len": {"var": "data.v"}}, {"data": {"v": value}}) == expected


def test_len_of_number_is_an_error() -> None:
    """``len`` of a number is an error naming the value."""
    err = eval_error({"len": {"var": "data.v"}}, {"data": {"v": 5}})
    assert (err.pointer, err.message) == ("/x/len", "'len' needs a list, string or object, got 5")


@pytest.mark.parametrize(
    ("needle", "hay", "expected"),
    [
        ("a", ["a", "b"], True),
        ("c", ["a", "b"], False),
        (1, [1.0], True),
        ("ell", "hello", True),
        ("x", "hello", False),
        (1, "1", False),
        ("k", {"k": 1}, True),
        ("v", {"k": "v"}, False),
        ("a", None, False),
        ([1], [[1], [2]], True),
        ([1], {"k": 1}, False),
        ({"a": 1}, {"k": 1}, False),
    ],
)
def test_in(needle: Any, hay: Any, expected: bool) -> None:
    """``in`` tests list membership, substring (strings only), or object keys; a
    null haystack is False; an unhashable needle is never an object key."""
    scope = {"data": {"n": needle, "h": hay}}
    assert ev({"in": [{"var": "data.n"}, {"var": "data.h"}]}, scope) is expected


def test_in_a_number_is_an_error() -> None:
    """``in`` on a number is an error."""
    err = eval_error({"in": [1, 5]})
    assert (err.pointer, err.message) == ("/x/in", "'in' needs a list, string or object, got 5")


# --------------------------------------------------------------------------- collections

LINES = [
    {"kind": "a", "amount": 10},
    {"kind": "b", "amount": 20},
    {"kind": "a", "amount": 5},
    {"amount": 1},
]


def test_pluck() -> None:
    """``pluck`` reads one key of every item; missing keys give None; null list is []."""
    scope = {"data": {"lines": LINES}}
    assert ev({"pluck": [{"var": "data.lines"}, "kind"]}, scope) == ["a", "b", "a", None]
    assert ev({"sum": {"pluck": [{"var": "data.lines"}, "amount"]}}, scope) == 36
    assert ev({"pluck": [{"var": "data.none"}, "kind"]}, scope) == []
    assert ev({"pluck": [[[1, 2], [3]], 1]}) == [2, None]


def test_where() -> None:
    """``where`` keeps items whose key equals the value; null list is []."""
    scope = {"data": {"lines": LINES}}
    got = ev({"where": [{"var": "data.lines"}, "kind", "a"]}, scope)
    assert got == [LINES[0], LINES[2]]
    assert ev({"where": [{"var": "data.lines"}, "kind", None]}, scope) == [LINES[3]]
    assert ev({"where": [None, "kind", "a"]}) == []


def test_difference() -> None:
    """``difference`` keeps items of the first list not in the second, in order."""
    assert ev({"difference": [["a", "b", "c", "a"], ["b"]]}) == ["a", "c", "a"]
    assert ev({"difference": [["a"], None]}) == ["a"]
    assert ev({"difference": [None, ["a"]]}) == []
    assert ev({"difference": [[[1], {"object": {"k": 1}}], [[1]]]}) == [{"k": 1}]


@pytest.mark.parametrize("op", ["pluck", "difference"])
def test_collection_ops_need_lists(op: str) -> None:
    """Collection operators on a non-list are an error naming the operator."""
    err = eval_error({op: ["abc", ["x"]]})
    assert (err.pointer, err.message) == (f"/x/{op}", f"'{op}' needs a list, got 'abc'")


def test_where_needs_a_list() -> None:
    """``where`` on a number is an error."""
    assert eval_error({"where": [3, "k", 1]}).message == "'where' needs a list, got 3"


def test_coalesce() -> None:
    """``coalesce`` returns the first non-null value, else None; falsy values count."""
    assert ev({"coalesce": [None, {"var": "data.x"}, 0, 5]}, {"data": {}}) == 0
    assert ev({"coalesce": [None, None]}) is None
    assert ev({"coalesce": [None, False]}) is False


def test_coalesce_is_lazy() -> None:
    """``coalesce`` stops evaluating at the first non-null value."""
    assert ev({"coalesce": [1, {"div": [1, 0]}]}) == 1


def test_get() -> None:
    """``get`` looks up a key or index computed at run time; missing is None."""
    scope = {"data": {"m": {"a": 1}, "l": [10, 20]}, "event": {"k": "a", "i": 1}}
    assert ev({"get": [{"var": "data.m"}, {"var": "event.k"}]}, scope) == 1
    assert ev({"get": [{"var": "data.l"}, {"var": "event.i"}]}, scope) == 20
    assert ev({"get": [{"var": "data.l"}, "1"]}, scope) == 20
    assert ev({"get": [{"var": "data.l"}, 9]}, scope) is None
    assert ev({"get": [{"var": "data.l"}, True]}, scope) is None
    assert ev({"get": [5, "a"]}) is None


def test_object_builds_a_dict() -> None:
    """``object`` evaluates every field."""
    scope = {"event": {"amount": 5}, "actor": {"id": "putu"}}
    node = {"object": {"amount": {"var": "event.amount"}, "by": {"var": "actor.id"}, "k": 1}}
    assert ev(node, scope) == {"amount": 5, "by": "putu", "k": 1}
    assert ev({"object": {}}) == {}


def test_keys() -> None:
    """``keys`` lists an object's keys in order; null gives []; others are errors."""
    assert ev({"keys": {"object": {"b": 1, "a": 2}}}) == ["b", "a"]
    assert ev({"keys": None}) == []
    err = eval_error({"keys": [[1]]})
    assert (err.pointer, err.message) == ("/x/keys", "'keys' needs an object, got [1]")


def test_values() -> None:
    """``values`` lists an object's values in key order (so ``pluck`` and ``min`` reach a
    ledger keyed by budget line); null gives []; others are errors."""
    scope = {"data": {"pos": {"B": {"paid": 5}, "A": {"paid": 7}}}}
    node = {"var": "data.pos"}
    assert ev({"values": node}, scope) == [{"paid": 5}, {"paid": 7}]
    assert ev({"pluck": [{"values": node}, "paid"]}, scope) == [5, 7]
    assert ev({"values": None}) == []
    err = eval_error({"values": [[1]]})
    assert (err.pointer, err.message) == ("/x/values", "'values' needs an object, got [1]")


def test_concat() -> None:
    """``concat`` joins the text of its arguments; null is the empty string."""
    assert ev({"concat": ["Rp", 130, None, "-", 1.5, True]}) == "Rp130-1.5True"
    assert ev({"concat": "x"}) == "x"


# --------------------------------------------------------------------------- dates


def test_date_of_date_and_datetime_strings() -> None:
    """``date`` gives the ISO date of a date or a date-time string."""
    assert ev({"date": "2012-06-04"}) == "2012-06-04"
    assert ev({"date": "2012-06-04T23:30:00"}) == "2012-06-04"


def test_date_converts_aware_datetimes_to_scope_timezone() -> None:
    """An aware date-time is converted to scope['_tz'] before taking its date."""
    late_utc = "2012-06-04T20:00:00+00:00"  # 03:00 next day in Pontianak (UTC+7)
    assert ev({"date": late_utc}, {"_tz": WIB}) == "2012-06-05"
    assert ev({"date": late_utc}) == "2012-06-04"
    assert ev({"date": {"var": "at"}}, {"at": late_utc, "_tz": WIB}) == "2012-06-05"


def test_date_naive_datetime_ignores_timezone() -> None:
    """A naive date-time string is taken as a local date-time."""
    assert ev({"date": "2012-06-04T23:00:00"}, {"_tz": WIB}) == "2012-06-04"


def test_date_accepts_python_dates_in_scope() -> None:
    """Dates and date-times already in the scope are accepted."""
    moment = dt.datetime(2012, 6, 4, 20, tzinfo=dt.UTC)
    assert ev({"date": {"var": "at"}}, {"at": moment, "_tz": WIB}) == "2012-06-05"
    assert ev({"date": {"var": "today"}}, {"today": dt.date(2012, 1, 2)}) == "2012-01-02"


@pytest.mark.parametrize("bad", ["not a date", "2012-13-01", 20120604, None, ""])
def test_date_rejects_non_dates(bad: Any) -> None:
    """A value that is not an ISO 8601 date is an ExprEvalError."""
    err = eval_error({"date": [bad]})
    assert (err.pointer, err.message) == ("/x/date", f"expected an ISO 8601 date, got {bad!r}")


def test_add_days() -> None:
    """``addDays`` adds whole days (negative too) and returns an ISO date."""
    assert ev({"addDays": ["2012-02-28", 1]}) == "2012-02-29"
    assert ev({"addDays": ["2012-03-01", -1]}) == "2012-02-29"
    assert ev({"addDays": ["2012-12-31T23:00:00+00:00", 1]}, {"_tz": WIB}) == "2013-01-02"
    assert ev({"addDays": ["2012-01-01", 1.9]}) == "2012-01-02"


def test_add_days_needs_a_number() -> None:
    """``addDays`` with a non-number count is an error."""
    err = eval_error({"addDays": ["2012-01-01", "1"]})
    assert err.message == "'addDays' needs numbers, got '1'"


def test_days_between() -> None:
    """``daysBetween`` is end minus start in calendar days (negative when reversed)."""
    assert ev({"daysBetween": ["2012-06-04", "2012-09-04"]}) == 92
    assert ev({"daysBetween": ["2012-09-04", "2012-06-04"]}) == -92
    assert ev({"daysBetween": ["2012-06-04", "2012-06-04T23:59:00"]}) == 0
    scope = {"_tz": WIB, "at": "2012-06-04T18:00:00+00:00"}
    assert ev({"daysBetween": ["2012-06-04", {"var": "at"}]}, scope) == 1


def test_working_days_between_uses_scope_calendars() -> None:
    """``workingDaysBetween`` counts with the named calendar from scope['_calendars']."""
    scope = {"_calendars": {"pnk": WorkingCalendar("ID")}}
    assert ev({"workingDaysBetween": ["2012-06-04", "2012-09-04", "pnk"]}, scope) == 64
    assert ev({"workingDaysBetween": ["2012-09-04", "2012-06-04", "pnk"]}, scope) == -64


@pytest.mark.parametrize("name", ["nope", None, ["pnk"], 1])
def test_working_days_between_unknown_calendar(name: Any) -> None:
    """An unknown calendar name (or one that is not a string) is an ExprEvalError."""
    scope = {"_calendars": {"pnk": WorkingCalendar("ID")}, "data": {"c": name}}
    err = eval_error({"workingDaysBetween": ["2012-06-04", "2012-06-05", {"var": "data.c"}]}, scope)
    assert err.pointer == "/x/workingDaysBetween"
    assert err.message == f"no calendar {name!r} in this definition"


def test_working_days_between_without_calendars_in_scope() -> None:
    """Without scope['_calendars'] every calendar is unknown."""
    err = eval_error({"workingDaysBetween": ["2012-06-04", "2012-06-05", "pnk"]})
    assert err.message == "no calendar 'pnk' in this definition"


def test_parse_date() -> None:
    """parse_date accepts ISO dates, date-times, dates and datetimes; others raise
    TypeError."""
    assert parse_date("2012-06-04") == dt.date(2012, 6, 4)
    assert parse_date("2012-06-04T20:00:00+00:00", WIB) == dt.date(2012, 6, 5)
    assert parse_date(dt.datetime(2012, 6, 4, 20, tzinfo=dt.UTC), WIB) == dt.date(2012, 6, 5)
    assert parse_date(dt.datetime(2012, 6, 4, 20, tzinfo=dt.UTC)) == dt.date(2012, 6, 4)
    with pytest.raises(TypeError, match=r"^expected an ISO date, got 5$"):
        parse_date(5)


# --------------------------------------------------------------------------- compile errors


def test_unknown_operator() -> None:
    """An unknown operator names itself and lists every operator; the pointer is the
    expression's own."""
    err = syntax_error({"foo": 1})
    assert (err.code, err.pointer, err.value) == ("expr.unknown-operator", "/x", "foo")
    assert err.message == f"unknown operator 'foo'; use one of: {OPERATOR_LIST}"
    assert str(err) == err.message


@pytest.mark.parametrize(
    ("node", "message"),
    [
        ({"not": [1, 2]}, "'not' takes 1 argument(s), got 2"),
        ({"==": [1]}, "'==' takes 2 argument(s), got 1"),
        ({"-": [1, 2, 3]}, "'-' takes 1 to 2 argument(s), got 3"),
        ({"and": []}, "'and' takes 1 or more argument(s), got 0"),
        ({"if": [1, 2]}, "'if' takes 3 argument(s), got 2"),
        ({"workingDaysBetween": ["a", "b"]}, "'workingDaysBetween' takes 3 argument(s), got 2"),
        ({"div": 4}, "'div' takes 2 argument(s), got 1"),
    ],
)
def test_arity_errors(node: dict[str, Any], message: str) -> None:
    """A wrong number of arguments is ``expr.arity`` at the operator's pointer."""
    err = syntax_error(node)
    ((op, _),) = node.items()
    assert (err.code, err.pointer, err.message) == ("expr.arity", f"/x/{_esc(op)}", message)


def test_object_needs_an_object() -> None:
    """``object`` takes an object of expressions."""
    err = syntax_error({"object": [1]})
    assert (err.code, err.pointer, err.message) == (
        "expr.arity",
        "/x/object",
        "'object' takes an object of expressions",
    )


@pytest.mark.parametrize("node", [{}, {"var": "data.a", "+": [1]}])
def test_expression_object_has_exactly_one_key(node: dict[str, Any]) -> None:
    """An expression object with zero or several keys is ``expr.bad-node``."""
    err = syntax_error(node)
    assert (err.code, err.pointer) == ("expr.bad-node", "/x")
    assert err.message == (
        f"an expression object has exactly one key, the operator; got {sorted(node)}"
    )


def test_multi_key_object_message() -> None:
    """The multi-key message lists the keys sorted."""
    err = syntax_error({"var": "data.a", "+": [1]})
    assert err.message == "an expression object has exactly one key, the operator; got ['+', 'var']"


def test_unknown_var_root() -> None:
    """A ``var`` path must start with a known root."""
    err = syntax_error({"var": "dta.a"})
    assert (err.code, err.pointer, err.value) == ("expr.unknown-root", "/x/var", "dta.a")
    assert err.message == f"unknown root 'dta'; a path starts with one of: {ROOT_LIST}"


@pytest.mark.parametrize("arg", [5, None, [], [1, "a"], {"var": "data"}, True])
def test_bad_var_argument(arg: Any) -> None:
    """``var`` takes a dotted string or an array starting with one."""
    err = syntax_error({"var": arg})
    assert (err.code, err.pointer) == ("expr.bad-var", "/x/var")
    assert err.message == "'var' takes a dotted path ('data.a.b') or an array"


@pytest.mark.parametrize("seg", [True, None, 1.5, [1]])
def test_bad_var_segment_points_at_the_array_item(seg: Any) -> None:
    """A bad segment of the array form is ``expr.bad-var`` pointing at that item of
    the array (its index in the document, not in the split dotted path)."""
    err = syntax_error({"var": ["data.a.b", "c", seg]})
    assert (err.code, err.pointer, err.message) == ("expr.bad-var", "/x/var/2", "bad path segment")


def test_dynamic_var_segment_errors_point_into_the_document() -> None:
    """Errors inside a dynamic segment carry the pointer of that array item."""
    err = syntax_error({"var": ["data.a.b", {"nope": 1}]})
    assert err.pointer == "/x/var/1"
    bad = compile_expr({"var": ["data.a.b", {"div": [1, 0]}]}, "/x")
    with pytest.raises(ExprEvalError) as info:
        bad({"data": {"a": {"b": {}}}})
    assert info.value.pointer == "/x/var/1/div"


def test_nested_pointers_escape_operator_names() -> None:
    """Nested pointers are JSON Pointers: each level adds the operator and the index."""
    err = syntax_error({"and": [True, {"if": [1, 2, {"-": [1, 2, 3]}]}]})
    assert err.pointer == "/x/and/1/if/2/-"
    err2 = eval_error({"object": {"a/b": {"div": [1, 0]}}})
    assert err2.pointer == "/x/object/a~1b/div"


def test_not_a_json_node() -> None:
    """A value that is not JSON (e.g. a tuple or a set) is ``expr.bad-node``."""
    err = syntax_error({1, 2})
    assert (err.code, err.pointer, err.message) == ("expr.bad-node", "/x", "not a JSON expression")


# --------------------------------------------------------------------------- compile_path


def test_compile_path_json_pointer() -> None:
    """A JSON Pointer splits on '/' and unescapes ~1 and ~0."""
    assert compile_path("/tranches/0/due", "/p") == ("tranches", "0", "due")
    assert compile_path("/a~1b/c~0d", "/p") == ("a/b", "c~d")
    assert compile_path("/", "/p") == ("",)
    assert compile_path("/payments/-", "/p") == ("payments", "-")


def test_compile_path_array_with_expressions() -> None:
    """The array form keeps strings and integers and compiles objects to Exprs with
    their own pointers."""
    segs = compile_path(["tranches", 0, {"var": "event.i"}], "/p")
    assert segs[:2] == ("tranches", 0)
    assert isinstance(segs[2], Expr)
    assert segs[2].pointer == "/p/2"
    assert segs[2]({"event": {"i": 3}}) == 3


@pytest.mark.parametrize("node", ["", "a/b", "tranches"])
def test_compile_path_rejects_non_pointers(node: str) -> None:
    """A string path must be a JSON Pointer starting with '/'."""
    with pytest.raises(ExprSyntaxError) as info:
        compile_path(node, "/p")
    err = info.value
    assert (err.code, err.pointer, err.value) == ("expr.bad-path", "/p", node)
    assert err.message == "a data path is a JSON Pointer starting with '/'"


@pytest.mark.parametrize("node", [[], None, 5, {"var": "data.a"}])
def test_compile_path_rejects_other_values(node: Any) -> None:
    """A path is a pointer string or a non-empty array."""
    with pytest.raises(ExprSyntaxError) as info:
        compile_path(node, "/p")
    assert (info.value.code, info.value.pointer) == ("expr.bad-path", "/p")
    assert info.value.message == "a data path is a JSON Pointer string or a non-empty array"


@pytest.mark.parametrize("seg", [True, None, 1.5, ["a"]])
def test_compile_path_rejects_bad_segments(seg: Any) -> None:
    """A segment that is not a string, an integer or an expression is refused at its
    own pointer."""
    with pytest.raises(ExprSyntaxError) as info:
        compile_path(["a", seg], "/p")
    assert (info.value.code, info.value.pointer) == ("expr.bad-path", "/p/1")
    assert info.value.message == "a path segment is a string, an integer or an expression"


def test_compile_path_segment_expression_errors_propagate() -> None:
    """A malformed segment expression is reported with its pointer."""
    with pytest.raises(ExprSyntaxError) as info:
        compile_path(["a", {"var": "nope.x"}], "/p")
    assert (info.value.code, info.value.pointer) == ("expr.unknown-root", "/p/1/var")


# --------------------------------------------------------------------------- robustness


def test_deeply_nested_expression_is_a_syntax_error() -> None:
    """An expression nested beyond the recursion limit is an ExprSyntaxError
    (``expr.too-deep``), not a RecursionError."""
    node: Any = 1
    for _ in range(5000):
        node = [node]
    err = syntax_error(node)
    assert (err.code, err.pointer) == ("expr.too-deep", "/x")
    assert err.message == "the expression is nested too deeply"


def test_deeply_nested_data_comparison_is_an_eval_error() -> None:
    """Comparing data nested beyond the recursion limit is an ExprEvalError."""

    def deep() -> Any:
        node: Any = 1
        for _ in range(5000):
            node = [node]
        return node

    scope = {"data": {"a": deep(), "b": deep()}}
    err = eval_error({"difference": [[{"var": "data.a"}], [{"var": "data.b"}, 1]]}, scope)
    assert err.pointer == "/x"


@pytest.mark.parametrize(
    "node",
    [
        {"div": [1e308, 1e-308]},
        {"percent": [1e307, 1e-307]},
        {"addDays": ["2012-01-01", 1e20]},
        {"addDays": ["9999-12-31", 1]},
        {"addDays": ["0001-01-01", -1]},
        {"date": "0001-01-01T00:00:00+07:00"},
        {"concat": [{"*": [2**40] * 50}]},
    ],
)
def test_overflows_are_eval_errors(node: Any) -> None:
    """Arithmetic and date overflows surface as ExprEvalError, never as
    OverflowError or ValueError."""
    eval_error(node, {"_tz": dt.UTC})


class _CountingCalendar:
    """Every day is a working day: fast for any date range."""

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        return (end - start).days


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["2012-06-04", "2012-06-04T08:00:00+07:00", "data.a", "pnk", "-", "0"])
)
json_values = st.recursive(
    json_scalars,
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=6), kids, max_size=4)
    ),
    max_leaves=20,
)
OPS = sorted({*OPERATOR_LIST.split(", ")} - {"var", "object"})
var_paths = st.builds(
    lambda root, rest: ".".join([root, *rest]),
    st.sampled_from(ROOT_LIST.split(", ")),
    st.lists(st.sampled_from(["a", "b", "0", "1", "x"]), max_size=3),
)
exprs = st.recursive(
    json_scalars | st.builds(lambda p: {"var": p}, var_paths),
    lambda kids: (
        st.builds(lambda op, args: {op: args}, st.sampled_from(OPS), st.lists(kids, max_size=4))
        | st.builds(lambda d: {"object": d}, st.dictionaries(st.text(max_size=4), kids, max_size=3))
        | st.builds(lambda p, k: {"var": [p, k]}, var_paths, kids)
        | st.lists(kids, max_size=3)
    ),
    max_leaves=15,
)
scopes = st.fixed_dictionaries(
    {root: json_values for root in ROOT_LIST.split(", ")},
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(json_values | exprs)
def test_compile_returns_expr_or_syntax_error(node: Any) -> None:
    """compile_expr on any JSON value either returns an Expr or raises
    ExprSyntaxError; nothing else."""
    try:
        compiled = compile_expr(node, "/p")
    except ExprSyntaxError as err:
        assert err.code.startswith("expr.")
        assert err.pointer.startswith("/p")
    else:
        assert isinstance(compiled, Expr)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(exprs, scopes)
def test_evaluation_raises_only_expr_eval_error(node: Any, scope: dict[str, Any]) -> None:
    """Evaluating any well-formed expression on any JSON scope data returns a value
    or raises ExprEvalError; no other exception escapes."""
    try:
        compiled = compile_expr(node, "/p")
    except ExprSyntaxError:
        return
    scope = {**scope, "_tz": WIB, "_calendars": {"pnk": _CountingCalendar()}}
    try:
        compiled(scope)
    except ExprEvalError as err:
        assert err.pointer.startswith("/p")


# ------------------------------------------------------------- per-command budget


def limit_error(node: Any, scope: dict[str, Any] | None = None) -> ExprLimitError:
    with pytest.raises(ExprLimitError) as info:
        ev(node, scope)
    return info.value


def test_each_node_costs_one_operation() -> None:
    """Evaluating an expression spends its node count from the scope's budget, and
    the budget is shared by every evaluation that uses the same scope."""
    budget = Budget(10)
    scope = {"_budget": budget, "data": {"a": 1}}
    expr = compile_expr({"==": [{"var": "data.a"}, 1]}, "/x")  # 5 JSON values
    assert expr(scope) is True
    assert budget.left == 5
    assert expr(scope) is True
    assert budget.left == 0
    with pytest.raises(ExprLimitError) as info:
        expr(scope)
    assert (info.value.limit, info.value.bound) == ("operations", 10)
    assert str(info.value) == "/x: the number of operations exceeds the limit of 10"


def test_operation_limit_default_bounds_walking_lists() -> None:
    """Without a budget in the scope each evaluation gets MAX_OPERATIONS; an operator
    walking a list spends one per item, so a list of that length is refused."""
    assert MAX_OPERATIONS == 100_000
    xs = list(range(MAX_OPERATIONS))
    assert ev({"in": [-1, {"var": "data.xs"}]}, {"data": {"xs": xs[:-10]}}) is False
    err = limit_error({"in": [-1, {"var": "data.xs"}]}, {"data": {"xs": xs}})
    assert (err.limit, err.bound, err.pointer) == ("operations", MAX_OPERATIONS, "/x/in")


@pytest.mark.parametrize(
    ("node", "cost"),
    [
        ({"sum": {"var": "data.xs"}}, 3 + 50),
        ({"pluck": [{"var": "data.xs"}, "a"]}, 5 + 50),
        ({"where": [{"var": "data.xs"}, "a", 1]}, 6 + 50),
        ({"difference": [{"var": "data.xs"}, {"var": "data.xs"}]}, 6 + 100),
        ({"keys": {"var": "data.o"}}, 3 + 2),
        ({"==": [{"var": "data.xs"}, []]}, 5 + 50),
        ({"concat": ["a" * 1000, "b" * 1000]}, 4 + 20),
        ({"in": ["z", "a" * 1000]}, 4 + 10),
    ],
)
def test_operators_spend_for_what_they_walk(node: Any, cost: int) -> None:
    """An evaluation spends one operation per JSON value of the expression, list
    operators one per item walked, and text one per TEXT_PER_OPERATION characters."""
    assert TEXT_PER_OPERATION == 100
    budget = Budget()
    ev(node, {"_budget": budget, "data": {"xs": list(range(50)), "o": {"a": 1, "b": 2}}})
    assert MAX_OPERATIONS - budget.left == cost


def test_working_days_between_spends_one_operation_per_day() -> None:
    """``workingDaysBetween`` counts day by day (loading each year's holidays), so each
    day of the span costs DAY_OPERATIONS: a span of centuries is refused instead of
    running for seconds."""
    assert DAY_OPERATIONS == 10
    scope = {"_tz": WIB, "_calendars": {"pnk": _CountingCalendar()}}
    assert ev({"workingDaysBetween": ["2012-01-01", "2012-12-31", "pnk"]}, scope) == 365
    err = limit_error({"workingDaysBetween": ["0001-01-01", "9999-12-31", "pnk"]}, scope)
    assert err.limit == "operations"


def test_text_limit() -> None:
    """``concat`` never builds a text longer than MAX_TEXT characters."""
    assert MAX_TEXT == 1_048_576
    half = "a" * (MAX_TEXT // 2)
    assert len(ev({"concat": [{"var": "data.s"}, {"var": "data.s"}]}, {"data": {"s": half}})) == (
        MAX_TEXT
    )
    err = limit_error(
        {"concat": [{"var": "data.s"}, {"var": "data.s"}, "!"]}, {"data": {"s": half}}
    )
    assert (err.limit, err.bound) == ("text", MAX_TEXT)
    assert str(err) == "/x/concat: the length of a text exceeds the limit of 1048576"


def test_repeated_doubling_is_refused_quickly() -> None:
    """27 doublings of a text (each one evaluation on a shared budget) stop at the
    text limit after about 20; the work done is bounded by twice the limit."""
    budget = Budget()
    expr = compile_expr({"concat": [{"var": "data.s"}, {"var": "data.s"}]}, "/x")
    s = "ab"
    with pytest.raises(ExprLimitError) as info:
        for _ in range(27):
            s = expr({"_budget": budget, "data": {"s": s}})
    assert info.value.limit == "text"
    assert len(s) == 2**20


def test_list_limit() -> None:
    """An operator never builds a list longer than MAX_ITEMS items."""
    assert MAX_ITEMS == 100_000
    big = {str(i): i for i in range(MAX_ITEMS + 1)}
    scope = {"_budget": Budget(10 * MAX_ITEMS), "data": {"o": big}}
    err = limit_error({"keys": {"var": "data.o"}}, scope)
    assert (err.limit, err.bound) == ("items", MAX_ITEMS)
    assert str(err) == "/x/keys: the length of a list exceeds the limit of 100000"
    del big["0"]
    assert len(ev({"keys": {"var": "data.o"}}, {**scope, "_budget": Budget(10 * MAX_ITEMS)})) == (
        MAX_ITEMS
    )


@pytest.mark.parametrize(
    "node",
    [
        {"*": [{"var": "data.n"}, 2]},
        {"+": [{"var": "data.n"}, {"var": "data.n"}]},
        {"-": [{"-": {"var": "data.n"}}, {"var": "data.n"}]},
        {"percent": [{"var": "data.n"}, 1]},
        {"sum": [[{"var": "data.n"}, 1]]},
    ],
)
def test_integer_limit(node: Any) -> None:
    """A produced integer lies within ±MAX_INT (2**53 - 1, what RFC 8785 can write)."""
    assert MAX_INT == 2**53 - 1
    err = limit_error(node, {"data": {"n": MAX_INT}})
    assert (err.limit, err.bound) == ("integer", MAX_INT)
    assert err.message == "the size of an integer exceeds the limit of 9007199254740991"


def test_integer_limit_is_inclusive() -> None:
    """±MAX_INT themselves are fine."""
    assert ev({"+": [{"var": "data.n"}, 1]}, {"data": {"n": MAX_INT - 1}}) == MAX_INT
    assert ev({"-": [{"var": "data.n"}, 1]}, {"data": {"n": -MAX_INT + 1}}) == -MAX_INT


def test_repeated_squaring_is_refused_at_once() -> None:
    """``x * x`` repeated stops at the integer limit, never building a huge integer."""
    expr = compile_expr({"*": [{"var": "data.x"}, {"var": "data.x"}]}, "/x")
    x = 3
    with pytest.raises(ExprLimitError) as info:
        for _ in range(22):
            x = expr({"data": {"x": x}})
    assert info.value.limit == "integer"
    assert x == 3**32


def test_non_finite_results_are_eval_errors() -> None:
    """A float result that overflows to infinity is an ExprEvalError (not JSON)."""
    err = eval_error({"*": [1e308, 10]})
    assert not isinstance(err, ExprLimitError)
    assert err.message == "the result inf is not a finite number"


def test_integer_literal_out_of_range_is_a_syntax_error() -> None:
    """An integer literal beyond ±MAX_INT is refused when the expression is compiled."""
    err = syntax_error({"+": [1, 2**53]})
    assert (err.code, err.pointer, err.value) == ("expr.number-too-large", "/x/+/1", 2**53)
    assert err.message == "an integer literal lies within ±9007199254740991 (2**53 - 1)"


def test_limit_error_is_an_eval_error() -> None:
    """ExprLimitError is an ExprEvalError: callers that handle evaluation errors
    handle it too."""
    assert issubclass(ExprLimitError, ExprEvalError)


def test_difference_spends_linearly_on_long_lists() -> None:
    """``difference`` of two 20,000-item lists (scalars or objects) hashes instead of
    comparing every pair: it spends one operation per JSON value of its lists, not
    one per pair."""
    a, b = list(range(20_000)), list(range(10_000, 30_000))
    budget = Budget()
    assert ev(
        {"difference": [{"var": "data.a"}, {"var": "data.b"}]},
        {"_budget": budget, "data": {"a": a, "b": b}},
    ) == list(range(10_000))
    assert MAX_OPERATIONS - budget.left == 6 + 40_000
    budget = Budget(10 * MAX_OPERATIONS)
    objs = ev(
        {"difference": [{"var": "data.a"}, {"var": "data.b"}]},
        {"_budget": budget, "data": {"a": [{"k": i} for i in a], "b": [{"k": i} for i in b]}},
    )
    assert objs == [{"k": i} for i in range(10_000)]
    assert 10 * MAX_OPERATIONS - budget.left == 6 + 80_000  # two values an item


@given(st.lists(json_values, max_size=8), st.lists(json_values, max_size=8))
def test_difference_agrees_with_pairwise_equality(a: list[Any], b: list[Any]) -> None:
    """``difference`` keeps exactly the items of the first list that ``==`` finds in
    no item of the second, in order, duplicates kept."""
    got = ev({"difference": [{"var": "data.a"}, {"var": "data.b"}]}, {"data": {"a": a, "b": b}})
    assert got == [x for x in a if all(x != y for y in b)]


def test_pluck_evaluates_its_key_once() -> None:
    """``pluck`` evaluates its key expression once, not once per item."""
    budget = Budget()
    key = {"concat": ["a" * 500, ""]}  # 4 JSON values, and 5 for its text
    ev({"pluck": [{"var": "data.xs"}, key]}, {"_budget": budget, "data": {"xs": [{}] * 100}})
    assert MAX_OPERATIONS - budget.left == 4 + 4 + 5 + 100
