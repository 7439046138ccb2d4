"""Payload schemas (paketflow._definition._payload): references stay inside the schema
and resolve, patterns are RE2 (linear time), and jsonschema never runs Python's
backtracking ``re`` on a definition's pattern."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from conftest import L
from paketflow import Actor, Engine, Refused, load_definition
from paketflow._definition._payload import MAX_SCHEMA_NODES, payload_validator, schema_problems
from paketflow._errors import DefinitionError, Problem

ACTOR = Actor("ana", {"R"})
ON = "/states/A/on/go/data"


def process(schema: Any) -> dict[str, Any]:
    """One event ``go`` from A to the final state B whose payload schema is ``schema``."""
    return {
        "format": 1,
        "id": "p",
        "version": "1.0.0",
        "labels": L("P"),
        "roles": {"R": {"labels": L("R")}},
        "events": {"go": {"labels": L("Go")}},
        "initial": "A",
        "states": {
            "A": {"labels": L("A"), "on": {"go": {"roles": ["R"], "target": "B", "data": schema}}},
            "B": {"labels": L("B"), "final": True},
        },
    }


def problems(schema: Any) -> list[Problem]:
    with pytest.raises(DefinitionError) as info:
        load_definition(process(schema))
    return list(info.value.errors)


def one(schema: Any) -> Problem:
    (problem,) = problems(schema)
    return problem


@pytest.mark.parametrize(
    "ref",
    [
        "https://example.org/amount.json",
        "http://example.org/amount.json#/x",
        "file:///etc/passwd",
        "amount.json",
        "urn:example:amount",
        "",
    ],
)
def test_remote_or_file_ref_is_refused_at_load(ref: str) -> None:
    """A $ref to anything but a part of the same schema (remote, file, relative or
    any URI) is a load problem naming its pointer; nothing is fetched."""
    p = one({"type": "object", "properties": {"n": {"$ref": ref}}})
    assert (p.code, p.pointer, p.value) == ("data.remote-ref", f"{ON}/properties/n/$ref", ref)
    assert p.message == f"the $ref {ref!r} refers outside this schema"
    assert p.hint == (
        "payload schemas are self-contained: copy the part you need under $defs and "
        "refer to it with '#/$defs/…'"
    )


def test_dynamic_ref_and_embedded_id_are_refused() -> None:
    """``$dynamicRef`` follows the same rule, and an embedded ``$id`` (which would make
    internal references resolve against another document) is refused too."""
    got = {
        (p.code, p.pointer, p.message)
        for p in problems(
            {
                "$defs": {"x": {"$id": "https://example.org/x"}},
                "items": {"$dynamicRef": "https://example.org/meta"},
            }
        )
    }
    assert got == {
        (
            "data.remote-ref",
            f"{ON}/$defs/x/$id",
            "an embedded $id 'https://example.org/x' refers outside this schema",
        ),
        (
            "data.remote-ref",
            f"{ON}/items/$dynamicRef",
            "the $dynamicRef 'https://example.org/meta' refers outside this schema",
        ),
    }


@pytest.mark.parametrize("ref", ["#/$defs/nope", "#nowhere", "#/properties/n/items"])
def test_unresolvable_internal_ref_is_a_load_problem(ref: str) -> None:
    """An internal $ref that points to nothing is refused at load (never a
    ``referencing`` exception when a command runs)."""
    p = one({"$defs": {"amount": {"type": "integer"}}, "properties": {"n": {"$ref": ref}}})
    assert (p.code, p.pointer, p.value) == ("data.unresolvable-ref", f"{ON}/properties/n/$ref", ref)
    assert p.message == f"the $ref {ref!r} points to nothing in this schema"


def test_internal_refs_load_and_validate() -> None:
    """Pointers and anchors inside the schema resolve, at load and at run time."""
    schema = {
        "$id": "https://example.org/payload",
        "$defs": {"amount": {"type": "integer", "minimum": 0}, "tag": {"$anchor": "tag"}},
        "type": "object",
        "properties": {"n": {"$ref": "#/$defs/amount"}, "t": {"$ref": "#tag"}},
    }
    engine = Engine([load_definition(process(schema))])
    engine.start(definition="p", instance_id="i", actor=ACTOR)
    with pytest.raises(Refused) as info:
        engine.fire("i", "go", actor=ACTOR, data={"n": -1})
    assert info.value.reasons[0].code == "ERR_DATA_TIDAK_VALID"
    assert engine.fire("i", "go", actor=ACTOR, data={"n": 1}).state == "B"


@pytest.mark.parametrize(
    ("schema", "where", "pattern"),
    [
        ({"type": "string", "pattern": r"^(a)\1$"}, "/pattern", r"^(a)\1$"),
        ({"properties": {"s": {"pattern": "^(?=a)"}}}, "/properties/s/pattern", "^(?=a)"),
        ({"patternProperties": {"(?<!x)y": {}}}, "/patternProperties", "(?<!x)y"),
        ({"type": "string", "pattern": "a{1001}"}, "/pattern", "a{1001}"),
    ],
)
def test_pattern_re2_cannot_compile_is_refused(schema: Any, where: str, pattern: str) -> None:
    """A pattern RE2 cannot compile (backreferences, lookaround, huge repetitions) is
    a load problem naming its pointer."""
    p = one(schema)
    assert (p.code, p.pointer, p.value) == ("data.pattern", ON + where, pattern)
    assert p.message == f"RE2 cannot compile the pattern {pattern!r}"
    assert p.hint == (
        "patterns are matched by RE2 in linear time: rewrite it without backreferences "
        "or lookaround (see docs/limits.md)"
    )


def test_unevaluated_properties_with_pattern_properties_is_refused() -> None:
    """jsonschema matches the patterns of unevaluatedProperties' evaluation with
    Python's re, so the combination is refused."""
    p = one({"patternProperties": {"^a": {}}, "unevaluatedProperties": False})
    assert (p.code, p.pointer) == ("data.unsupported", f"{ON}/unevaluatedProperties")
    assert p.message == (
        "unevaluatedProperties together with patternProperties is not supported "
        "(jsonschema would match those patterns with a backtracking engine)"
    )


def test_catastrophic_pattern_is_matched_by_re2() -> None:
    """``^(a+)+$`` on 40 characters and a non-matching end (seconds to hours with a
    backtracking engine) is answered by RE2; the command is refused, not stuck."""
    schema = {"type": "object", "properties": {"s": {"type": "string", "pattern": "^(a+)+$"}}}
    engine = Engine([load_definition(process(schema))])
    engine.start(definition="p", instance_id="i", actor=ACTOR)
    with pytest.raises(Refused) as info:
        engine.fire("i", "go", actor=ACTOR, data={"s": "a" * 40 + "!"})
    assert info.value.reasons[0].message_en == (
        "Data of “Go” is not valid at /s: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!' does not "
        "match '^(a+)+$'."
    )
    assert engine.fire("i", "go", actor=ACTOR, data={"s": "a" * 40}).state == "B"


def test_python_re_never_sees_a_definition_pattern(monkeypatch: pytest.MonkeyPatch) -> None:
    """Checking a payload schema at load (``format: regex`` included) and validating
    payloads (``pattern``, ``patternProperties``, ``additionalProperties``) never call
    Python's ``re``."""
    schema = {
        "type": "object",
        "properties": {"s": {"pattern": "^[a-z]+$"}},
        "patternProperties": {"^x-": {"type": "integer"}},
        "additionalProperties": False,
    }
    validator = payload_validator(schema)

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"re called with {args!r}")

    monkeypatch.setattr(re, "search", boom)
    monkeypatch.setattr(re, "match", boom)
    monkeypatch.setattr(re, "compile", boom)
    assert schema_problems(schema, "/data", "<mapping>") == []
    assert schema_problems({"pattern": "(a)\\1"}, "/data", "<mapping>")[0].code == "data.pattern"
    assert validator.is_valid({"s": "abc", "x-n": 1})
    messages = [e.message for e in validator.iter_errors({"s": "ABC", "x-n": "1", "y": 0})]
    assert sorted(messages) == [
        "'1' is not of type 'integer'",
        "'ABC' does not match '^[a-z]+$'",
        "'y' does not match any of the regexes: '^x-'",
    ]


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-2, 2)
    | st.sampled_from([0.0, 1.0, 1.5])
    | st.text(max_size=2),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(JSON, max_size=6))
def test_unique_items_agrees_with_jsonschema(items: list[Any]) -> None:
    """``uniqueItems`` by hashing gives jsonschema's answer (booleans are not numbers,
    1 equals 1.0, objects compare by members) without comparing every pair."""
    schema = {"uniqueItems": True}
    assert payload_validator(schema).is_valid(items) == Draft202012Validator(schema).is_valid(items)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.sampled_from(["a", "ab", "b", "x-1", "é"]), st.integers(0, 1), max_size=4),
    st.sampled_from([False, {"type": "integer", "maximum": 0}]),
)
def test_additional_properties_agrees_with_jsonschema(instance: dict[str, Any], extra: Any) -> None:
    """With RE2 patterns, ``additionalProperties`` reports exactly jsonschema's errors."""
    schema = {"properties": {"a": {}}, "patternProperties": {"^x-": {}, "b$": {}}}
    schema["additionalProperties"] = extra
    ours = sorted(e.message for e in payload_validator(schema).iter_errors(instance))
    theirs = sorted(e.message for e in Draft202012Validator(schema).iter_errors(instance))
    assert ours == theirs


def test_recursive_schema_is_refused() -> None:
    """A schema recursive through its $refs is refused: with ``anyOf`` its validation
    cost doubles with every level of payload nesting."""
    branch = {"type": "array", "items": {"$ref": "#/$defs/n"}}
    schema = {"$defs": {"n": {"anyOf": [{**branch, "maxItems": 0}, branch]}}, "$ref": "#/$defs/n"}
    p = one(schema)
    assert (p.code, p.pointer, p.value) == (
        "data.recursive-ref",
        f"{ON}/$defs/n/anyOf/0/items/$ref",
        "#/$defs/n",
    )
    assert p.message == (
        "the $ref '#/$defs/n' makes the schema recursive, so its cost would grow with the "
        "nesting of the payload"
    )
    assert one({"type": "object", "properties": {"x": {"$ref": "#"}}}).code == (
        "data.recursive-ref"
    )


def test_schema_size_counted_through_refs_is_limited() -> None:
    """Subschemas are counted through $refs (each use counts): parts that each use the
    next twice, 30 levels deep, are refused at once instead of validating 2**30 checks."""
    assert MAX_SCHEMA_NODES == 10_000
    defs = {
        f"d{i}": {
            "anyOf": [{"$ref": f"#/$defs/d{i + 1}"}, {"items": {"$ref": f"#/$defs/d{i + 1}"}}]
        }
        for i in range(30)
    }
    defs["d30"] = {"type": "integer"}
    p = one({"$defs": defs, "$ref": "#/$defs/d0"})
    assert (p.code, p.pointer) == ("data.too-large", ON)
    assert p.message == (
        "the schema has more than 10000 subschemas, counted through its $refs (each use "
        "of a part counts)"
    )
    small = {k: v for k, v in defs.items() if int(k[1:]) >= 25}
    load_definition(process({"$defs": small, "$ref": "#/$defs/d25"}))  # a few hundred: fine
