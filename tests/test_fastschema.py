"""The fast payload check agrees with jsonschema on the subset it compiles, and
declines (returns None) for schemas outside it; the compiled language schema (what
load_definition asks first) accepts only what jsonschema accepts."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from paketflow._definition import loader
from paketflow._definition._payload import payload_validator
from paketflow._definition._schema_errors import schema as language_schema
from paketflow._definition._strict_json import read_file
from paketflow._fastschema import fast_predicate, schema_validator

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


# -- the definition language's schema (schema_validator, used by load_definition) ----------


ROOT = Path(__file__).resolve().parent.parent
DEFINITIONS = sorted((ROOT / "processes").glob("*.json"))


def _resolved(path: Path) -> dict[str, Any]:
    """The format-1 document the loader validates for ``path`` (format 2 resolved)."""
    doc = read_file(str(path))
    if doc.get("format") == 2 and "extends" not in doc:
        doc = loader._resolve_v2(doc, str(path), loader._located(str(path)))[0]
    return doc


RESOLVED = [_resolved(p) for p in DEFINITIONS if "extends" not in read_file(str(p))]
JSONSCHEMA = {fmt: Draft202012Validator(language_schema(fmt)) for fmt in (1, 2)}


def test_both_language_schemas_compile() -> None:
    """Every keyword the language schemas use is compiled (no silent fallback)."""
    assert schema_validator(language_schema(1)) is not None
    assert schema_validator(language_schema(2)) is not None


@pytest.mark.parametrize("path", DEFINITIONS, ids=lambda p: p.name)
def test_shipped_definitions_are_valid_for_both(path: Path) -> None:
    """The shipped definitions (resolved when written in format 2) are valid for
    jsonschema and for the compiled predicate."""
    doc = _resolved(path)
    fmt = 2 if doc.get("format") == 2 else 1
    assert JSONSCHEMA[fmt].is_valid(doc)
    check = schema_validator(language_schema(fmt))
    assert check is not None and check(doc)


def _readable(path: Path) -> bool:
    try:
        read_file(str(path))
    except Exception:  # not JSON the reader accepts: refused before any schema
        return False
    return True


INVALID = [p for p in sorted((ROOT / "processes" / "invalid").glob("*.json")) if _readable(p)]


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_what_jsonschema_rejects_in_the_invalid_corpus_the_predicate_rejects(path: Path) -> None:
    """Each readable document of processes/invalid that jsonschema rejects is rejected
    by the predicate too (so the loader reports jsonschema's problems for it)."""
    doc = read_file(str(path))
    for fmt in (1, 2):
        check = schema_validator(language_schema(fmt))
        assert check is not None
        if not JSONSCHEMA[fmt].is_valid(doc):
            assert not check(doc)


def _paths(doc: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [here]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*here, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*here, i))
    return out


MUTATIONS = st.sampled_from(["drop", "null", "string", "number", "list", "extra", "empty"])


@settings(max_examples=80, deadline=None)
@given(
    base=st.sampled_from(range(len(RESOLVED))),
    picks=st.lists(st.tuples(st.integers(0, 10**6), MUTATIONS), min_size=1, max_size=3),
)
def test_a_mutated_definition_is_accepted_only_if_jsonschema_accepts_it(
    base: int, picks: list[tuple[int, str]]
) -> None:
    """Anywhere in a real definition, dropping a member, replacing a value by another
    type or adding an unknown member: the predicate never accepts what jsonschema
    rejects (and, for these documents, agrees with it both ways)."""
    doc = copy.deepcopy(RESOLVED[base])
    for index, how in picks:
        paths = [p for p in _paths(doc) if p]
        path = paths[index % len(paths)]
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        if how == "drop":
            del parent[key]
        elif how == "extra" and isinstance(parent[key], dict):
            parent[key]["zz_unknown"] = 1
        else:
            parent[key] = {"null": None, "string": "x", "number": 1.5, "list": [], "empty": {}}.get(
                how, 0
            )
    check = schema_validator(language_schema(1))
    assert check is not None
    assert check(doc) == JSONSCHEMA[1].is_valid(doc), json.dumps(doc)[:300]
