"""JSON Schema validation of definitions, with errors mapped to :class:`Problem`.

Codes derive from the failing keyword (``schema.type``, ``schema.required``,
``schema.additional-property`` …). For ``oneOf``/``anyOf`` failures the branch that
came closest (fewest errors, then most relevant) is reported instead of every branch.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Iterable, Iterator
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, relevance

from paketflow._definition._strict_json import esc
from paketflow._errors import Problem, problem_value

SCHEMA_ID = "urn:paketflow:schema:definition:1"


SCHEMA_ID_V2 = "urn:paketflow:schema:definition:2"


@functools.cache
def _schema_text(fmt: int = 1) -> str:
    return (
        resources.files("paketflow._definition")
        .joinpath(f"schemas/definition-v{fmt}.json")
        .read_text(encoding="utf-8")
    )


def schema(fmt: int = 1) -> dict[str, Any]:
    """The JSON Schema of format ``fmt`` (1 or 2) of the definition language (a fresh
    copy)."""
    result: dict[str, Any] = json.loads(_schema_text(fmt))
    return result


@functools.cache
def _validator(fmt: int = 1) -> Draft202012Validator:
    return Draft202012Validator(schema(fmt))


def _pointer(path: Iterable[Any]) -> str:
    return "".join(f"/{esc(str(p))}" for p in path)


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def _branch_errors(error: ValidationError) -> list[ValidationError]:
    """The errors of the closest branch of a failed ``oneOf``/``anyOf``."""
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context or ():
        branches.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    if not branches:
        return []

    def score(item: tuple[int, list[ValidationError]]) -> tuple[int, int, int]:
        index, errs = item
        # Fewer errors is closer; an error deeper in the instance means the branch matched
        # the outer shape; a type error at the same level means the branch does not apply.
        depth = max(len(e.absolute_path) for e in errs)
        same_level_type = sum(
            1
            for e in errs
            if len(e.absolute_path) == len(error.absolute_path) and e.validator == "type"
        )
        return (same_level_type, len(errs) - depth * 10, index)

    _, best = min(branches.items(), key=score)
    return sorted(best, key=relevance)


def _flatten(error: ValidationError) -> Iterator[ValidationError]:
    if error.validator in ("oneOf", "anyOf") and error.context:
        if all(
            sub.validator == "required" and len(sub.absolute_path) == len(error.absolute_path)
            for sub in error.context
        ):
            yield error  # "give one of these keys": clearer than any one branch
            return
        subs = _branch_errors(error)
        if subs:
            for sub in subs:
                yield from _flatten(sub)
            return
    yield error


_LABEL_SCHEMA_KEYS = {"id", "en"}
_MESSAGE_SCHEMA_KEYS = {"id", "en", "category"}  # a message is labels plus its category


def _is_labels_schema(sch: Any) -> bool:
    return (
        isinstance(sch, dict)
        and sch.get("required") == ["id", "en"]
        and _LABEL_SCHEMA_KEYS <= set(sch.get("properties", {})) <= _MESSAGE_SCHEMA_KEYS
    )


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _problems_for(error: ValidationError, file: str) -> Iterator[Problem]:
    ptr = _pointer(error.absolute_path)
    keyword = str(error.validator)
    sch = error.schema if isinstance(error.schema, dict) else {}
    if "propertyNames" in error.relative_schema_path or "propertyNames" in (
        error.absolute_schema_path
    ):
        key = error.instance
        yield Problem(
            "schema.property-name",
            f"{ptr}/{esc(str(key))}",
            f"{key!r} is not a valid name here",
            "ids match ^[A-Za-z][A-Za-z0-9_-]{0,63}$ (message codes ^[A-Z][A-Z0-9_]{1,63}$)",
            file,
            key,
        )
        return
    if keyword == "required":
        missing = _missing_name(error)
        if _is_labels_schema(sch):
            yield Problem(
                "labels.missing",
                f"{ptr}/{esc(missing)}",
                f"the {'Indonesian' if missing == 'id' else 'English'} text ({missing!r}) "
                "is missing",
                f'add "{missing}": "…"; every label is given in Indonesian and English',
                file,
                None,
            )
            return
        yield Problem(
            "schema.required",
            f"{ptr}/{esc(missing)}",
            f"the required property {missing!r} is missing",
            f"add {missing!r}",
            file,
            None,
        )
        return
    if keyword in ("additionalProperties", "unevaluatedProperties") and isinstance(
        error.instance, dict
    ):
        allowed = sorted(sch.get("properties", {}))
        for key in error.instance:
            if key in allowed:
                continue
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            hint += f"allowed here: {', '.join(allowed)}" if allowed else "remove it"
            yield Problem(
                "schema.additional-property",
                f"{ptr}/{esc(key)}",
                f"unknown property {key!r}",
                hint,
                file,
                key,
            )
        return
    code = "schema." + _kebab(keyword)
    value = error.instance
    if keyword == "type":
        want = _vv(error)
        want_text = " or ".join(want) if isinstance(want, list) else str(want)
        msg = f"expected {want_text}, got {_type_name(value)} {problem_value(value)}"
        hint = f"use {want_text}"
    elif keyword == "enum":
        msg = f"{problem_value(value)} is not one of the allowed values"
        hint = "use one of: " + ", ".join(json.dumps(v) for v in _vv(error))
    elif keyword == "const":
        msg = f"{problem_value(value)} is not allowed here"
        hint = f"use {json.dumps(_vv(error))}"
    elif keyword == "pattern":
        msg = f"{problem_value(value)} does not match the pattern"
        hint = f"use a value matching {_vv(error)}"
    elif keyword == "oneOf":
        # every branch matched (target and alternatives both given) or none explained
        keys = [k for b in _vv(error) if isinstance(b, dict) for k in b.get("required", [])]
        if keys and isinstance(value, dict) and sum(k in value for k in keys) > 1:
            present = [k for k in keys if k in value]
            msg = f"give only one of {', '.join(map(repr, present))}"
            hint = f"remove all but one of: {', '.join(present)}"
        elif keys and isinstance(value, dict) and not any(k in value for k in keys):
            msg = f"needs one of {', '.join(map(repr, keys))}"
            hint = f"add exactly one of: {', '.join(keys)}"
        else:
            msg = "matches none of the allowed forms"
            hint = "see the reference in docs/definition-language.md"
    elif keyword == "anyOf":
        keys = [k for b in _vv(error) if isinstance(b, dict) for k in b.get("required", [])]
        msg = "matches none of the allowed forms"
        if keys:
            msg = f"needs at least one of {', '.join(map(repr, keys))}"
        hint = f"add {' or '.join(keys)}" if keys else "see the reference"
    elif keyword in ("minimum", "maximum"):
        msg = f"{problem_value(value)} is {'below' if keyword == 'minimum' else 'above'} "
        msg += f"the {keyword} {_vv(error)}"
        hint = f"use a number {'≥' if keyword == 'minimum' else '≤'} {_vv(error)}"
    elif keyword in ("minItems", "minProperties"):
        msg = f"needs at least {_vv(error)} "
        msg += "item(s)" if keyword == "minItems" else "entries"
        hint = "add the missing entries"
    elif keyword == "uniqueItems":
        msg, hint = "items are repeated", "list each item once"
    else:
        msg, hint = error.message[:200], "see the reference in docs/definition-language.md"
    yield Problem(code, ptr, msg, hint, file, value if _small(value) else problem_value(value))


def _vv(error: ValidationError) -> Any:
    value: Any = error.validator_value
    return value


def _missing_name(error: ValidationError) -> str:
    required = _vv(error)
    if isinstance(required, list) and isinstance(error.instance, dict):
        for name in required:
            # jsonschema reports one error per missing name; pick it via the message
            if name not in error.instance and repr(name) in error.message:
                return str(name)
        for name in required:
            if name not in error.instance:
                return str(name)
    return "?"


def _small(value: Any) -> bool:
    return (
        value is None
        or isinstance(value, bool | int | float)
        or (isinstance(value, str) and len(value) <= 200)
    )


def validate(doc: Any, file: str, fmt: int = 1) -> list[Problem]:
    """Every schema problem of ``doc`` against format ``fmt`` (root causes; duplicates
    removed)."""
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for error in _validator(fmt).iter_errors(doc):
        for leaf in _flatten(error):
            for problem in _problems_for(leaf, file):
                key = (problem.code, problem.pointer)
                if key not in seen:
                    seen.add(key)
                    problems.append(problem)
    return problems
