"""A fast validity check for the simple JSON Schemas that event payloads use.

Payload schemas are checked on every command. ``jsonschema`` costs about 8 µs even for
``{"type": "object", "required": ["amount"]}``, a third of a command. This module
compiles the common subset (``type``, ``required``, ``properties``,
``additionalProperties`` as a boolean, ``enum``, ``const``, numeric and length bounds,
``items``, ``minItems``/``maxItems``, ``pattern`` (matched by RE2, like the
jsonschema validator of payload schemas), and the annotations ``title``, ``description``,
``$comment``, ``format``, ``default``, ``examples``) into a plain predicate. A schema
using anything else gets no predicate. The engine asks the predicate first and, only
when it says "not valid" (or there is none), asks ``jsonschema`` for the errors, so
messages and edge cases always come from ``jsonschema``. A predicate never accepts
what ``jsonschema`` rejects (a property test pins that).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from paketflow._definition._payload import regex
from paketflow._json import FrozenDict, FrozenList

__all__ = ["fast_predicate", "schema_validator"]

Check = Callable[[Any], bool]

_ANNOTATIONS = frozenset({"title", "description", "$comment", "format", "default", "examples"})
_SUPPORTED = _ANNOTATIONS | {
    "type",
    "required",
    "properties",
    "additionalProperties",
    "enum",
    "const",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "items",
    "minItems",
    "maxItems",
    "pattern",
}


_KIND: dict[type, type] = {FrozenDict: dict, FrozenList: list}


def _is_type(value: Any, name: str) -> bool:
    t = type(value)
    if name == "object":
        return t is dict or t is FrozenDict
    if name == "string":
        return t is str
    if name == "integer":
        return t is int or (t is float and value.is_integer())
    if name == "number":
        return t is int or t is float
    if name == "boolean":
        return t is bool
    if name == "array":
        return t is list or t is FrozenList
    if name == "null":
        return value is None
    return False


def _strict_equal(a: Any, b: Any) -> bool:
    """JSON equality as jsonschema sees it for enum/const: booleans are not numbers."""
    if type(a) is bool or type(b) is bool:
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if _KIND.get(type(a), type(a)) is not _KIND.get(type(b), type(b)):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_strict_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_strict_equal(a[k], b[k]) for k in a)
    return bool(a == b)


def fast_predicate(schema: Any) -> Check | None:
    """A predicate that returns True only for instances ``schema`` accepts, or
    ``None`` when the schema uses keywords outside the supported subset."""
    if schema is True or schema == {}:
        return lambda _v: True
    if not isinstance(schema, Mapping) or not set(schema) <= _SUPPORTED:
        return None
    checks: list[Check] = []
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else list(types)
        if not all(isinstance(n, str) for n in names):
            return None
        checks.append(_types(tuple(names)))
    if "enum" in schema:
        options = list(schema["enum"])
        checks.append(lambda v: any(_strict_equal(v, o) for o in options))
    if "const" in schema:
        const = schema["const"]
        checks.append(lambda v: _strict_equal(v, const))
    numeric = [
        (k, schema[k])
        for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
        if k in schema
    ]
    for key, bound in numeric:
        if type(bound) not in (int, float):
            return None
        checks.append(_bound(key, bound))
    for key, kind in (
        ("minLength", str),
        ("maxLength", str),
        ("minItems", list),
        ("maxItems", list),
    ):
        if key in schema:
            n = schema[key]
            if type(n) is not int:
                return None
            checks.append(_length(kind, n, key.startswith("min")))
    if "pattern" in schema:
        if not isinstance(schema["pattern"], str):
            return None
        search = regex(schema["pattern"]).search
        checks.append(lambda v: type(v) is not str or search(v) is not None)
    if "items" in schema:
        item = fast_predicate(schema["items"])
        if item is None:
            return None
        checks.append(lambda v: not isinstance(v, list) or all(item(x) for x in v))
    obj = _object_checks(schema)
    if obj is None:
        return None
    checks.extend(obj)
    if len(checks) == 1:
        return checks[0]
    return lambda v: all(c(v) for c in checks)


def _types(names: tuple[str, ...]) -> Check:
    return lambda v: any(_is_type(v, n) for n in names)


def _length(kind: type[Any], n: int, at_least: bool) -> Check:
    def check(v: Any) -> bool:
        if not isinstance(v, kind):
            return True
        size = len(v)
        return size >= n if at_least else size <= n

    return check


def _bound(key: str, bound: float) -> Check:
    def number(v: Any) -> bool:
        return type(v) is int or type(v) is float

    if key == "minimum":
        return lambda v: not number(v) or v >= bound
    if key == "maximum":
        return lambda v: not number(v) or v <= bound
    if key == "exclusiveMinimum":
        return lambda v: not number(v) or v > bound
    return lambda v: not number(v) or v < bound


def _object_checks(schema: Mapping[str, Any]) -> list[Check] | None:
    checks: list[Check] = []
    required = schema.get("required")
    if required is not None:
        if not isinstance(required, list) or not all(isinstance(k, str) for k in required):
            return None
        names = tuple(required)
        checks.append(lambda v: not isinstance(v, dict) or all(k in v for k in names))
    props: dict[str, Check] = {}
    properties = schema.get("properties") or {}
    if not isinstance(properties, Mapping):
        return None
    for name, sub in properties.items():
        check = fast_predicate(sub)
        if check is None:
            return None
        props[name] = check
    if props:
        checks.append(
            lambda v: (
                not isinstance(v, dict) or all(check(v[k]) for k, check in props.items() if k in v)
            )
        )
    extra = schema.get("additionalProperties", True)
    if extra is False:
        allowed = frozenset(props)
        checks.append(lambda v: not isinstance(v, dict) or set(v) <= allowed)
    elif extra is not True:
        return None
    return checks


# -- whole documents: the definition language's own schema ----------------------------------

_DOCUMENT_ANNOTATIONS = _ANNOTATIONS | {
    "$schema",
    "$id",
    "$defs",
    "deprecated",
    "readOnly",
    "writeOnly",
}


class _Unsupported(Exception):
    """The schema uses something :func:`schema_validator` does not compile."""


def schema_validator(schema: Mapping[str, Any]) -> Check | None:
    """A predicate that returns True only for documents ``schema`` (JSON Schema Draft
    2020-12, local ``$ref`` only, no format assertion) accepts, or ``None`` when the
    schema uses a keyword outside the compiled set.

    It answers "valid" fast; for every problem, its place and its message the loader
    still asks ``jsonschema`` (the predicate says False, then ``jsonschema`` runs).
    Python's ``re.search`` matches ``pattern``, as ``jsonschema`` does for this schema.
    """
    cells: dict[str, list[Check]] = {}

    def resolve(ref: str) -> Any:
        if ref == "#":
            return schema
        if not ref.startswith("#/"):
            raise _Unsupported(ref)
        node: Any = schema
        for raw in ref[2:].split("/"):
            key = raw.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, Mapping) or key not in node:
                raise _Unsupported(ref)
            node = node[key]
        return node

    def reference(ref: str) -> Check:
        cell = cells.get(ref)
        if cell is None:
            cell = cells[ref] = []
            cell.append(build(resolve(ref)))
        return lambda v: cell[0](v)

    def build(node: Any) -> Check:
        if node is True:
            return lambda _v: True
        if node is False:
            return lambda _v: False
        if not isinstance(node, Mapping):
            raise _Unsupported(node)
        checks: list[Check] = []
        for key, value in node.items():
            if key in _DOCUMENT_ANNOTATIONS or key in _HANDLED_WITH_PROPERTIES:
                continue
            maker = _KEYWORDS.get(key)
            if maker is None:
                raise _Unsupported(key)
            checks.append(maker(value, build, reference))
        if any(k in node for k in ("properties", "patternProperties", "additionalProperties")):
            checks.append(_properties(node, build))
        if "if" in node:
            test = build(node["if"])
            then = build(node.get("then", True))
            other = build(node.get("else", True))
            checks.append(lambda v: then(v) if test(v) else other(v))
        if not checks:
            return lambda _v: True
        if len(checks) == 1:
            return checks[0]
        return lambda v: all(c(v) for c in checks)

    try:
        return build(schema)
    except (_Unsupported, re.error, TypeError, ValueError):
        return None


_HANDLED_WITH_PROPERTIES = frozenset({"properties", "patternProperties", "then", "else"})


def _properties(node: Mapping[str, Any], build: Callable[[Any], Check]) -> Check:
    props = {name: build(sub) for name, sub in (node.get("properties") or {}).items()}
    written = node.get("patternProperties") or {}
    patterns = [(re.compile(p).search, build(sub)) for p, sub in written.items()]
    extra = node.get("additionalProperties", True)
    rest = None if extra is True else build(extra)

    def check(v: Any) -> bool:
        if not _is_type(v, "object"):
            return True
        for key, item in v.items():
            known = props.get(key)
            matched = False
            if known is not None:
                matched = True
                if not known(item):
                    return False
            for search, sub in patterns:
                if search(key) is not None:
                    matched = True
                    if not sub(item):
                        return False
            if not matched and rest is not None and not rest(item):
                return False
        return True

    return check


Maker = Callable[[Any, Callable[[Any], Check], Callable[[str], Check]], Check]


def _k_type(value: Any, build: Any, ref: Any) -> Check:
    names = (value,) if isinstance(value, str) else tuple(value)
    if not all(isinstance(n, str) for n in names):
        raise _Unsupported(value)
    return _types(names)


def _k_ref(value: Any, build: Any, ref: Any) -> Check:
    if not isinstance(value, str):
        raise _Unsupported(value)
    return ref(value)  # type: ignore[no-any-return]


def _k_enum(value: Any, build: Any, ref: Any) -> Check:
    options = list(value)
    return lambda v: any(_strict_equal(v, o) for o in options)


def _k_const(value: Any, build: Any, ref: Any) -> Check:
    return lambda v: _strict_equal(v, value)


def _k_required(value: Any, build: Any, ref: Any) -> Check:
    names = tuple(value)
    if not all(isinstance(k, str) for k in names):
        raise _Unsupported(value)
    return lambda v: not _is_type(v, "object") or all(k in v for k in names)


def _count(kind: str, at_least: bool) -> Maker:
    def maker(value: Any, build: Any, ref: Any) -> Check:
        if type(value) is not int:
            raise _Unsupported(value)

        def check(v: Any) -> bool:
            if not _is_type(v, kind):
                return True
            return len(v) >= value if at_least else len(v) <= value

        return check

    return maker


def _number(key: str) -> Maker:
    def maker(value: Any, build: Any, ref: Any) -> Check:
        if type(value) not in (int, float):
            raise _Unsupported(value)
        return _bound(key, value)

    return maker


def _k_pattern(value: Any, build: Any, ref: Any) -> Check:
    search = re.compile(value).search
    return lambda v: type(v) is not str or search(v) is not None


def _k_items(value: Any, build: Any, ref: Any) -> Check:
    item = build(value)
    return lambda v: not _is_type(v, "array") or all(item(x) for x in v)


def _k_property_names(value: Any, build: Any, ref: Any) -> Check:
    name = build(value)
    return lambda v: not _is_type(v, "object") or all(name(k) for k in v)


def _k_unique(value: Any, build: Any, ref: Any) -> Check:
    if value is not True:
        return lambda _v: True

    def check(v: Any) -> bool:
        if not _is_type(v, "array"):
            return True
        items = list(v)
        return not any(
            _strict_equal(items[i], items[j])
            for i in range(len(items))
            for j in range(i + 1, len(items))
        )

    return check


def _k_dependent_required(value: Any, build: Any, ref: Any) -> Check:
    if not isinstance(value, Mapping) or not all(
        isinstance(names, list) and all(isinstance(n, str) for n in names)
        for names in value.values()
    ):
        raise _Unsupported(value)
    pairs = [(key, tuple(names)) for key, names in value.items()]
    return lambda v: (
        not _is_type(v, "object")
        or all(all(n in v for n in names) for key, names in pairs if key in v)
    )


def _k_all_of(value: Any, build: Any, ref: Any) -> Check:
    subs = [build(s) for s in value]
    return lambda v: all(s(v) for s in subs)


def _k_any_of(value: Any, build: Any, ref: Any) -> Check:
    subs = [build(s) for s in value]
    return lambda v: any(s(v) for s in subs)


def _k_one_of(value: Any, build: Any, ref: Any) -> Check:
    subs = [build(s) for s in value]
    return lambda v: sum(1 for s in subs if s(v)) == 1


def _k_not(value: Any, build: Any, ref: Any) -> Check:
    sub = build(value)
    return lambda v: not sub(v)


def _k_if(value: Any, build: Any, ref: Any) -> Check:
    return lambda _v: True  # compiled with then/else in schema_validator


def _k_additional(value: Any, build: Any, ref: Any) -> Check:
    return lambda _v: True  # compiled with properties in _properties


_KEYWORDS: dict[str, Maker] = {
    "type": _k_type,
    "$ref": _k_ref,
    "enum": _k_enum,
    "const": _k_const,
    "required": _k_required,
    "minProperties": _count("object", True),
    "maxProperties": _count("object", False),
    "minItems": _count("array", True),
    "maxItems": _count("array", False),
    "minLength": _count("string", True),
    "maxLength": _count("string", False),
    "minimum": _number("minimum"),
    "maximum": _number("maximum"),
    "exclusiveMinimum": _number("exclusiveMinimum"),
    "exclusiveMaximum": _number("exclusiveMaximum"),
    "pattern": _k_pattern,
    "items": _k_items,
    "propertyNames": _k_property_names,
    "uniqueItems": _k_unique,
    "dependentRequired": _k_dependent_required,
    "allOf": _k_all_of,
    "anyOf": _k_any_of,
    "oneOf": _k_one_of,
    "not": _k_not,
    "if": _k_if,
    "additionalProperties": _k_additional,
}
