"""The fast payload check agrees with jsonschema on the subset it compiles, and
declines (returns None) for schemas outside it."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from paketflow._definition._payload import payload_validator
from paketflow._fastschema import fast_predicate

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-5, max_value=5),
    st.sampled_from([0.0, 1.0, 1.5, -2.5]),
    st.sampled_from(["", "a", "abc", "layak"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["a", "b", "jumlah", "ok"]), inner, max_size=3),
    ),
    max_leaves=8,
)
TYPES = st.sampled_from(["object", "string", "integer", "number", "boolean", "array", "null"])


def schemas(depth: int = 2) -> st.SearchStrategy[dict[str, Any]]:
    leaf: dict[str, st.SearchStrategy[Any]] = {
        "type": st.one_of(TYPES, st.lists(TYPES, min_size=1, max_size=2, unique=True)),
        "enum": st.lists(SCALARS, min_size=1, max_size=3),
        "const": SCALARS,
        "minimum": st.integers(-3, 3),
        "maximum": st.integers(-3, 3),
        "exclusiveMinimum": st.sampled_from([-1, 0, 0.5]),
        "exclusiveMaximum": st.sampled_from([1, 2.5]),
        "minLength": st.integers(0, 3),
        "maxLength": st.integers(0, 3),
        "minItems": st.integers(0, 2),
        "maxItems": st.integers(0, 2),
        "pattern": st.sampled_from(["^a", "b", "^(a+)+$", "^[a-z]*$", "ak$", "é"]),
        "required": st.lists(st.sampled_from(["a", "b", "jumlah"]), max_size=2, unique=True),
        "additionalProperties": st.booleans(),
        "description": st.just("annotation"),
        "format": st.just("date"),
    }
    if depth > 0:
        leaf["properties"] = st.dictionaries(
            st.sampled_from(["a", "b", "jumlah", "ok"]), schemas(depth - 1), max_size=2
        )
        leaf["items"] = schemas(depth - 1)
    return st.fixed_dictionaries({}, optional=leaf)


@settings(max_examples=400, deadline=None)
@given(schema=schemas(), value=VALUES)
def test_fast_check_agrees_with_jsonschema(schema: dict[str, Any], value: Any) -> None:
    """On the supported subset the fast predicate accepts exactly what jsonschema
    accepts (so it can never let an invalid payload through)."""
    check = fast_predicate(schema)
    assert check is not None
    assert check(value) == payload_validator(schema).is_valid(value)
    assert check(value) == Draft202012Validator(schema).is_valid(value)


def test_unsupported_keywords_get_no_predicate() -> None:
    """Schemas using keywords outside the subset (oneOf, $ref, a schema for
    additionalProperties, patternProperties) are left entirely to jsonschema."""
    for schema in (
        {"type": "object", "patternProperties": {"^a": {}}},
        {"oneOf": [{"type": "string"}]},
        {"$ref": "#/$defs/x"},
        {"type": "object", "additionalProperties": {"type": "string"}},
        {"properties": {"a": {"anyOf": []}}},
    ):
        assert fast_predicate(schema) is None


def test_typical_payload_schema() -> None:
    """A typical PAKET payload schema: required amount, non-negative integer."""
    check = fast_predicate(
        {
            "type": "object",
            "required": ["jumlah"],
            "properties": {"jumlah": {"type": "integer", "minimum": 0}},
        }
    )
    assert check is not None
    assert check({"jumlah": 5}) and check({"jumlah": 5.0, "x": 1})
    assert not check({}) and not check({"jumlah": -1}) and not check({"jumlah": True})
