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

from collections.abc import Callable, Mapping
from typing import Any

from paketflow._definition._payload import regex
from paketflow._json import FrozenDict, FrozenList

__all__ = ["fast_predicate"]

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
