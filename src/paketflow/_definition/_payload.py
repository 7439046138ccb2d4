"""Payload schemas: the JSON Schemas (2020-12) a definition gives for command payloads
(``on.<event>.data``) and instance data (``data``), checked at load and validated with
bounded cost at run time.

At load (:func:`schema_problems`), besides the meta-schema:

- every ``$ref``/``$dynamicRef`` is internal (``#`` + JSON Pointer or anchor) and
  resolves inside the schema: a remote (``http:``, ``https:``, any URI) or file
  reference, or an embedded ``$id`` below the top, is refused, and so is a reference
  to nowhere, so that no reference is ever fetched or fails at run time;
- every ``pattern`` and ``patternProperties`` key compiles with RE2
  (``google-re2``), which matches in time linear in the text: backreferences and
  lookaround, which need backtracking, are refused;
- a schema that is recursive through its references, or that has more than
  ``MAX_SCHEMA_NODES`` subschemas counted through them, is refused: validation then
  costs at most that many checks per payload value;
- ``unevaluatedProperties`` together with ``patternProperties`` is refused, because
  jsonschema evaluates the patterns of that pair with Python's backtracking ``re``.

At run time (:func:`payload_validator`) jsonschema runs with ``pattern``,
``patternProperties`` and ``additionalProperties`` evaluated by RE2, ``uniqueItems``
by hashing (jsonschema compares every pair of unhashable items), an empty
``referencing`` registry (nothing is ever retrieved) and no format assertions. The
meta-schema check at load asserts ``format: regex`` with RE2 too, so Python's ``re``
never sees a definition's pattern.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from typing import Any, cast

import re2
from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators
from jsonschema.exceptions import SchemaError
from referencing import Registry
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from paketflow._definition._strict_json import esc
from paketflow._errors import Problem

__all__ = ["MAX_SCHEMA_NODES", "payload_validator", "regex", "schema_problems"]

# Subschemas of one payload schema, counted through its $refs (docs/limits.md):
# validating a payload costs at most this many schema checks per payload value.
MAX_SCHEMA_NODES = 10_000

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print every refused pattern to stderr


@functools.lru_cache(maxsize=4096)
def regex(pattern: str) -> Any:
    """``pattern`` compiled by RE2 (cached). Raises ``re2.error`` when RE2 cannot
    compile it (backreferences, lookaround, or too large)."""
    return re2.compile(pattern, options=_OPTIONS)


# -- run time ------------------------------------------------------------------------


def _pattern(validator: Any, patrn: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not regex(patrn).search(instance):
        yield ValidationError(f"{instance!r} does not match {patrn!r}")


def _pattern_properties(
    validator: Any, patterns: Mapping[str, Any], instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for patrn, subschema in patterns.items():
        search = regex(patrn).search
        for k, v in instance.items():
            if search(k):
                yield from validator.descend(v, subschema, path=k, schema_path=patrn)


def _additional_properties(
    validator: Any, extra: Any, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    """jsonschema's own keyword, with the patterns of ``patternProperties`` in RE2."""
    if not validator.is_type(instance, "object"):
        return
    properties = schema.get("properties", {})
    searches = [regex(p).search for p in schema.get("patternProperties", {})]
    extras = {
        k for k in instance if k not in properties and not any(search(k) for search in searches)
    }
    if validator.is_type(extra, "object"):
        for k in extras:
            yield from validator.descend(instance[k], extra, path=k)
    elif not extra and extras:
        ordered = sorted(extras, key=str)
        if "patternProperties" in schema:
            verb = "does" if len(extras) == 1 else "do"
            joined = ", ".join(repr(each) for each in ordered)
            patterns = ", ".join(repr(each) for each in sorted(schema["patternProperties"]))
            yield ValidationError(f"{joined} {verb} not match any of the regexes: {patterns}")
        else:
            verb = "was" if len(extras) == 1 else "were"
            listed = ", ".join(repr(each) for each in ordered)
            yield ValidationError(
                f"Additional properties are not allowed ({listed} {verb} unexpected)"
            )


_TRUE, _FALSE = object(), object()


def _json_key(value: Any) -> Any:
    """A hashable key equal exactly for values JSON Schema finds equal (booleans are
    not numbers, ``1`` equals ``1.0``, objects compare by members)."""
    if value is True:
        return _TRUE
    if value is False:
        return _FALSE
    if isinstance(value, list | tuple):
        return (list, tuple(_json_key(x) for x in value))
    if isinstance(value, Mapping):
        return (dict, frozenset((k, _json_key(v)) for k, v in value.items()))
    return value


def _unique_items(
    validator: Any, unique: Any, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if not unique or not validator.is_type(instance, "array"):
        return
    keys = [_json_key(x) for x in instance]
    if len(set(keys)) != len(keys):
        yield ValidationError(f"{instance!r} has non-unique elements")


_Payload = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator,
    {
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties,
        "uniqueItems": _unique_items,
    },
)

_NOTHING: Registry[Any] = Registry()  # no resources, no retrieval


def payload_validator(schema: Mapping[str, Any] | bool) -> Draft202012Validator:
    """A jsonschema validator of a payload schema that passed :func:`schema_problems`
    (an extension of ``Draft202012Validator``, with its interface)."""
    value = dict(schema) if isinstance(schema, Mapping) else schema
    return cast(Draft202012Validator, _Payload(value, registry=_NOTHING))


# -- load time -----------------------------------------------------------------------

_FORMATS = FormatChecker(formats=())


@_FORMATS.checks("regex", raises=re2.error)
def _is_regex(instance: object) -> bool:
    if isinstance(instance, str):
        regex(instance)
    return True


_ONE = (
    "additionalProperties",
    "items",
    "contains",
    "propertyNames",
    "not",
    "if",
    "then",
    "else",
    "unevaluatedItems",
    "unevaluatedProperties",
    "contentSchema",
)
_MANY = ("allOf", "anyOf", "oneOf", "prefixItems")
_NAMED = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")


def _subschemas(schema: Mapping[str, Any], pointer: str) -> Iterator[tuple[Any, str]]:
    for key in _ONE:
        if key in schema:
            yield schema[key], f"{pointer}/{key}"
    for key in _MANY:
        items = schema.get(key)
        if isinstance(items, list):
            for i, sub in enumerate(items):
                yield sub, f"{pointer}/{key}/{i}"
    for key in _NAMED:
        table = schema.get(key)
        if isinstance(table, Mapping):
            for name, sub in table.items():
                yield sub, f"{pointer}/{key}/{esc(name)}"


def schema_problems(schema: Any, pointer: str, file: str) -> list[Problem]:
    """Every problem of the payload schema ``schema`` found at ``pointer``."""
    fix = "fix the schema of the data"
    try:
        Draft202012Validator.check_schema(schema, format_checker=_FORMATS)
    except SchemaError as exc:
        where = "".join(f"/{esc(str(p))}" for p in exc.path)
        message = f"not a valid JSON Schema (2020-12): {exc.message}"[:300]
        if exc.validator == "format" and exc.validator_value == "regex":
            message = f"RE2 cannot compile the pattern {exc.instance!r}"[:300]
            value = exc.instance if isinstance(exc.instance, str) else None
            return [Problem("data.pattern", pointer + where, message, _PATTERN_HINT, file, value)]
        return [Problem("data.invalid-schema", pointer + where, message, fix, file, None)]
    problems: list[Problem] = []
    refs: list[tuple[str, str]] = []
    keywords: dict[str, str] = {}
    stack: list[tuple[Any, str]] = [(schema, pointer)]
    while stack:
        node, ptr = stack.pop()
        if not isinstance(node, Mapping):
            continue
        for key in ("unevaluatedProperties", "patternProperties"):
            if key in node:
                keywords.setdefault(key, f"{ptr}/{key}")
        if "$id" in node and ptr != pointer:
            problems.append(_external(f"{ptr}/$id", node["$id"], "an embedded $id", file))
        for key in ("$ref", "$dynamicRef"):
            ref = node.get(key)
            if isinstance(ref, str):
                if ref.startswith("#"):
                    refs.append((ref, f"{ptr}/{esc(key)}"))
                else:
                    problems.append(_external(f"{ptr}/{esc(key)}", ref, f"the {key}", file))
        stack.extend(_subschemas(node, ptr))
    if len(keywords) == 2:
        problems.append(
            Problem(
                "data.unsupported",
                keywords["unevaluatedProperties"],
                "unevaluatedProperties together with patternProperties is not supported "
                "(jsonschema would match those patterns with a backtracking engine)",
                "list the properties, or use additionalProperties instead",
                file,
                None,
            )
        )
    if isinstance(schema, Mapping) and not problems:
        resolver = _NOTHING.resolver_with_root(DRAFT202012.create_resource(schema))
        for ref, ptr in refs:
            try:
                resolver.lookup(ref)
            except Unresolvable:
                problems.append(
                    Problem(
                        "data.unresolvable-ref",
                        ptr,
                        f"the $ref {ref!r} points to nothing in this schema",
                        "point it at a part of the schema (e.g. '#/$defs/amount'), or "
                        "define that part",
                        file,
                        ref,
                    )
                )
        if not problems:
            problems.extend(_expanded_size(schema, resolver, pointer, file))
    return problems


class _Recursive(Exception):
    def __init__(self, pointer: str, ref: str) -> None:
        super().__init__(pointer)
        self.pointer = pointer
        self.ref = ref


def _expanded_size(schema: Any, resolver: Any, pointer: str, file: str) -> list[Problem]:
    """A problem when the schema is recursive through its references, or has more
    than MAX_SCHEMA_NODES subschemas counted through them: validating a payload costs
    at most (subschemas x payload values), so that bounds it. Each subschema is
    measured once (memo), so this is linear in the schema."""
    memo: dict[int, int] = {}
    active: set[int] = set()

    def size(node: Any, ptr: str) -> int:
        if not isinstance(node, Mapping):
            return 1
        key = id(node)
        if key in memo:
            return memo[key]
        active.add(key)
        n = 1
        for sub, sub_ptr in _subschemas(node, ptr):
            if n > MAX_SCHEMA_NODES:
                break
            n += size(sub, sub_ptr)
        for keyword in ("$ref", "$dynamicRef"):
            ref = node.get(keyword)
            if isinstance(ref, str) and n <= MAX_SCHEMA_NODES:
                target = resolver.lookup(ref).contents
                if isinstance(target, Mapping) and id(target) in active:
                    raise _Recursive(f"{ptr}/{esc(keyword)}", ref)
                n += size(target, f"{ptr}/{esc(keyword)}")
        active.discard(key)
        memo[key] = n
        return n

    try:
        total = size(schema, pointer)
    except _Recursive as exc:
        return [
            Problem(
                "data.recursive-ref",
                exc.pointer,
                f"the $ref {exc.ref!r} makes the schema recursive, so its cost would grow "
                "with the nesting of the payload",
                "describe the payload to a fixed depth (payloads of a procedure are shallow)",
                file,
                exc.ref,
            )
        ]
    if total > MAX_SCHEMA_NODES:
        return [
            Problem(
                "data.too-large",
                pointer,
                f"the schema has more than {MAX_SCHEMA_NODES} subschemas, counted through "
                "its $refs (each use of a part counts)",
                "simplify the schema; payload schemas need a few dozen subschemas",
                file,
                None,
            )
        ]
    return []


_PATTERN_HINT = (
    "patterns are matched by RE2 in linear time: rewrite it without backreferences "
    "or lookaround (see docs/limits.md)"
)


def _external(ptr: str, value: Any, what: str, file: str) -> Problem:
    shown = value if isinstance(value, str) and len(value) <= 200 else None
    return Problem(
        "data.remote-ref",
        ptr,
        f"{what} {value!r} refers outside this schema"[:300]
        if shown is not None
        else f"{what} refers outside this schema",
        "payload schemas are self-contained: copy the part you need under $defs and "
        "refer to it with '#/$defs/…'",
        file,
        shown,
    )
