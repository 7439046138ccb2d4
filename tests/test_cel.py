"""CEL text expressions: translation into JSON expression trees, exact error texts
that name the character, and the properties that translated text evaluates like the
tree it stands for and that nothing but ExprSyntaxError ever escapes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paketflow._cel import MAX_TEXT, expand, translate
from paketflow._expr import ExprSyntaxError, compile_expr


def tr(text: str, **kw: Any) -> Any:
    return translate(text, "/g/if", **kw)


def err(text: str, **kw: Any) -> ExprSyntaxError:
    with pytest.raises(ExprSyntaxError) as info:
        translate(text, "/g/if", **kw)
    return info.value


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("data.rab.total >= 10", {">=": [{"var": "data.rab.total"}, 10]}),
        ("a_b", None),
        ("true && !false", {"and": [True, {"not": False}]}),
        (
            "data.a || data.b || data.c",
            {"or": [{"var": "data.a"}, {"var": "data.b"}, {"var": "data.c"}]},
        ),
        ("1 + 2 + 3", {"+": [1, 2, 3]}),
        ("data.a - 5", {"-": [{"var": "data.a"}, 5]}),
        ("-data.a", {"-": [{"var": "data.a"}]}),
        ("-5", -5),
        ("10 / 3", {"div": [10, 3]}),
        ("data.x ? 'y' : \"n\"", {"if": [{"var": "data.x"}, "y", "n"]}),
        ("'x' in data.tags", {"in": ["x", {"var": "data.tags"}]}),
        ("size(event.lines)", {"len": {"var": "event.lines"}}),
        ("event.lines.size()", {"len": {"var": "event.lines"}}),
        (
            "event.lines.pluck('amount').sum()",
            {"sum": {"pluck": [{"var": "event.lines"}, "amount"]}},
        ),
        ("has(data.rab)", {"!=": [{"var": "data.rab"}, None]}),
        (
            "data.tranches[data.tahap].due",
            {"var": ["data", "tranches", {"var": "data.tahap"}, "due"]},
        ),
        ("data.tranches[0]", {"var": ["data", "tranches", 0]}),
        ("data['a.b']", {"var": ["data", "a.b"]}),
        ("[1, 'a', null]", [1, "a", None]),
        ("{'line': event.line}", {"object": {"line": {"var": "event.line"}}}),
        ("keys(data.pakem)[0]", {"get": [{"keys": {"var": "data.pakem"}}, 0]}),
        ("values(data.pos)", {"values": {"var": "data.pos"}}),
        ("0x1F + 2u", {"+": [31, 2]}),
        ("1.5e1", 15.0),
        (r"'a\n\u00e9\'' + r'\n'", {"+": ["a\né'", "\\n"]}),
        ("'''two\nlines'''", "two\nlines"),
        ("// a comment\n data.a", {"var": "data.a"}),
    ],
)
def test_translation(text: str, tree: Any) -> None:
    """Each CEL construct becomes the JSON tree of the same meaning."""
    if tree is None:
        assert err(text).code == "expr.unknown-root"
    else:
        assert tr(text) == tree


def test_params_are_replaced_by_their_values() -> None:
    """``params.NAME`` is the parameter's value, lists and objects rebuilt literally."""
    params = {"split": [40, 60], "cfg": {"a": [1]}, "days": 30}
    assert tr("params.split", params=params) == [40, 60]
    assert tr("params.cfg", params=params) == {"object": {"a": [1]}}
    assert tr("params.cfg.a[0] + params.days", params=params) == {"+": [1, 30]}


def test_defs_are_inlined() -> None:
    """``defs.NAME`` asks the caller for the named expression."""
    seen: list[str] = []

    def defs(name: str, pointer: str) -> Any:
        seen.append(name)
        return {"var": "data.x"}

    assert tr("!defs.lengkap", defs=defs) == {"not": {"var": "data.x"}}
    assert seen == ["lengkap"]


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        (
            "data.a => 3",
            "expr.cel-syntax",
            "CEL syntax error at character 8: unexpected '=': data.a ⟨here⟩=> 3; "
            "did you mean '>=' (greater or equal)?",
        ),
        (
            "data.a <> 3",
            "expr.cel-syntax",
            "CEL syntax error at character 9: unexpected '>': data.a <⟨here⟩> 3; "
            "did you mean '!=' (not equal)?",
        ),
        (
            "data.a = 3",
            "expr.cel-syntax",
            "CEL syntax error at character 8: unexpected '=': data.a ⟨here⟩= 3; "
            "did you mean '==' (equal)?",
        ),
        (
            "data.a and data.b",
            "expr.cel-syntax",
            "CEL syntax error at character 8: unexpected 'a': data.a ⟨here⟩and data.b; "
            "did you mean '&&'?",
        ),
        (
            "data.a > 3 &&",
            "expr.cel-syntax",
            "CEL syntax error at character 14: the expression ends too early: data.a > 3 &&⟨here⟩",
        ),
        (
            "Data.rab > 1",
            "expr.unknown-root",
            "unknown name 'Data' (a path starts with one of: actor, at, data, deadlines, "
            "event, flags, sets, signers, state, today); did you mean 'data'? "
            "at character 1: ⟨here⟩Data.rab > 1",
        ),
        (
            "summ(data.x)",
            "expr.unknown-function",
            "unknown function 'summ' (known: addDays, coalesce, concat, date, daysBetween, "
            "difference, get, has, keys, len, max, min, percent, pluck, size, sum, values, where, "
            "workingDaysBetween); did you mean 'sum'? at character 1: ⟨here⟩summ(data.x)",
        ),
        (
            "data.x.exists(y, y > 1)",
            "expr.unknown-function",
            "the CEL macro 'exists' is not supported (no loops in definitions); use "
            "where(list, key, value), pluck(list, key) or difference(a, b) at character 8: "
            "data.x.⟨here⟩exists(y, y > 1)",
        ),
        (
            "data.a % 2",
            "expr.cel-syntax",
            "'%' (remainder) is not in the expression language; use percent(a, b) or div "
            "at character 1: ⟨here⟩data.a % 2",
        ),
        (
            "percent(data.a)",
            "expr.arity",
            "'percent' takes 2 argument(s), got 1 (in the CEL text 'percent(data.a)')",
        ),
        (
            "b'x'",
            "expr.cel-syntax",
            "bytes literals are not supported; use a string at character 1: ⟨here⟩b'x'",
        ),
        ("  ", "expr.cel-syntax", "the expression text is empty"),
    ],
)
def test_errors_name_the_character(text: str, code: str, message: str) -> None:
    """Syntax errors name the 1-based character, mark it, and suggest the fix."""
    e = err(text)
    assert (e.code, e.pointer, e.message) == (code, "/g/if", message)


def test_unknown_parameter_has_did_you_mean() -> None:
    """A misspelt parameter is named with the closest declared one."""
    e = err("params.tranche_splt", params={"tranche_split": [1]})
    assert e.code == "param.unknown"
    assert e.message == (
        "unknown parameter 'tranche_splt'; did you mean 'tranche_split'? "
        "at character 1: ⟨here⟩params.tranche_splt"
    )


def test_overlong_text_is_refused() -> None:
    """Text longer than MAX_TEXT is refused before parsing (bounded load cost)."""
    e = err("1+" * (MAX_TEXT // 2) + "1")
    assert e.message.endswith(f"more than {MAX_TEXT}")


def test_expand_replaces_cel_nodes_and_keeps_other_trees() -> None:
    """``{"cel": text}`` anywhere in a tree is translated; a tree without CEL is
    returned as the same object; bare strings are CEL only in format 2."""
    tree = {"and": [{"cel": "data.a > 1"}, {"var": "data.b"}]}
    assert expand(tree, "/p") == {"and": [{">": [{"var": "data.a"}, 1]}, {"var": "data.b"}]}
    plain = {"==": [{"var": "data.a"}, "layak"]}
    assert expand(plain, "/p") is plain
    assert expand("data.a", "/p") == "data.a"
    assert expand("data.a", "/p", text_is_cel=True) == {"var": "data.a"}
    with pytest.raises(ExprSyntaxError) as info:
        expand({"not": {"cel": "data.a =>"}}, "/p")
    assert info.value.pointer == "/p/not/cel"


# --------------------------------------------------------------------------- properties

_LEAF = st.one_of(
    st.integers(-1000, 1000),
    st.sampled_from(["data.a", "data.b", "data.n.c"]),
)


def _render(tree: Any) -> tuple[str, Any]:
    """(CEL text, JSON tree) of a generated arithmetic/comparison tree."""
    if isinstance(tree, int):
        return (f"({tree})" if tree < 0 else str(tree)), tree
    if isinstance(tree, str):
        return tree, {"var": tree}
    op, left, right = tree
    lt, lj = _render(left)
    rt, rj = _render(right)
    json_op = {"/": "div", "&&": "and", "||": "or"}.get(op, op)
    return f"({lt} {op} {rt})", {json_op: [lj, rj]}


_TREES = st.recursive(
    _LEAF,
    lambda inner: st.tuples(st.sampled_from(["+", "-", "*", "==", "!=", "<", ">="]), inner, inner),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(_TREES, st.integers(-50, 50), st.integers(-50, 50), st.integers(-50, 50))
def test_translated_text_evaluates_like_the_tree(tree: Any, a: int, b: int, c: int) -> None:
    """CEL text and the JSON tree it renders give the same value (or the same error)."""
    text, json_tree = _render(tree)
    scope = {"data": {"a": a, "b": b, "n": {"c": c}}}
    want = compile_expr(json_tree, "/x")
    got = compile_expr(translate(text, "/x"), "/x")
    try:
        expected: Any = want(scope)
    except Exception as exc:
        with pytest.raises(type(exc)):
            got(scope)
    else:
        assert got(scope) == expected


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("data.x[]()!&|=<>+-*/%?:'\"0123 ,{}\\nu")), max_size=40)
)
def test_arbitrary_text_only_raises_syntax_errors(text: str) -> None:
    """Whatever the text, translation returns a tree that compiles or raises
    ExprSyntaxError at the slot's pointer."""
    try:
        tree = translate(text, "/x")
    except ExprSyntaxError as exc:
        assert exc.pointer == "/x"
    else:
        compile_expr(tree, "/x")


# --------------------------------------------------------------------------- in a definition


def _first_guarded(doc: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    for sid, state in doc["states"].items():
        for ev, trans in state.get("on", {}).items():
            if trans.get("guards"):
                return sid, ev, trans
    raise AssertionError("the fixture has a guard")


def test_format_1_definitions_accept_the_cel_operator(mini_doc: dict[str, Any]) -> None:
    """``{"cel": text}`` is a JSON expression in format 1: compiled like the tree."""
    from paketflow._definition import load_definition

    sid, ev, trans = _first_guarded(mini_doc)
    trans["guards"][0]["if"] = {"cel": "data.required >= 0 && !('x' in event)"}
    definition = load_definition(mini_doc)
    guard = definition.states[sid].transitions[ev].guards[0]
    assert guard.condition.raw == {
        "and": [{">=": [{"var": "data.required"}, 0]}, {"not": {"in": ["x", {"var": "event"}]}}]
    }
    assert guard.condition({"data": {"required": 1}, "event": {}}) is True


def test_a_cel_syntax_error_is_a_definition_problem(mini_doc: dict[str, Any]) -> None:
    """A syntax error is reported at the expression's pointer with the character."""
    from paketflow._definition import load_definition
    from paketflow._errors import DefinitionError

    sid, ev, trans = _first_guarded(mini_doc)
    trans["guards"][0]["if"] = {"cel": "data.required => 0"}
    with pytest.raises(DefinitionError) as info:
        load_definition(mini_doc)
    (problem,) = info.value.errors
    assert problem.pointer == f"/states/{sid}/on/{ev}/guards/0/if/cel"
    assert problem.code == "expr.cel-syntax"
    assert "at character 15" in problem.message
