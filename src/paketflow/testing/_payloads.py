"""Payloads from an event's JSON Schema: a few representatives, and a Hypothesis strategy.

paketflow generates payloads itself instead of using ``hypothesis-jsonschema``. The
bounded checker needs a small, deterministic set of *representative* payloads per
event (the schema's minimum, each enum value, values seen in a scenario, codes
present in the instance data); a strategy cannot give that, so a generator walking
the schema is needed anyway, and the same walk yields the strategy for
:func:`paketflow.testing.machine_for`. Payload schemas use the small subset the
engine's fast validator compiles (type, properties, required, items, enum, const,
minimum/maximum, minLength, minItems, format date); for any other keyword the
strategy falls back to JSON values, which the engine then refuses or accepts, both
fine for a property test. This keeps ``paketflow[testing]`` at Hypothesis alone.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

from hypothesis import strategies as st

__all__ = ["representatives", "strategy"]

_JSON_LEAVES = st.none() | st.booleans() | st.integers(-5, 10**9) | st.text(max_size=8)
_JSON = st.recursive(
    _JSON_LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def _kind(schema: Mapping[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        return str(kind[0]) if kind else None
    return kind if isinstance(kind, str) else None


def minimal(schema: Any, today: dt.date) -> Any:
    """The smallest value the schema accepts (for the subset above)."""
    if not isinstance(schema, Mapping):
        return None
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = _kind(schema)
    if kind == "object":
        props = schema.get("properties", {})
        return {k: minimal(props.get(k, {}), today) for k in schema.get("required", ())}
    if kind == "array":
        return [minimal(schema.get("items", {}), today) for _ in range(schema.get("minItems", 0))]
    if kind == "string":
        if schema.get("format") == "date":
            return today.isoformat()
        return "x" * max(1, int(schema.get("minLength", 1)))
    if kind == "integer" or kind == "number":
        low = schema.get("minimum", 0)
        high = schema.get("maximum")
        return low if high is None or low <= high else high
    if kind == "boolean":
        return False
    return None


def _full(schema: Mapping[str, Any], today: dt.date) -> Any:
    """Every declared property filled with its minimal value."""
    props = schema.get("properties", {})
    return {k: minimal(sub, today) for k, sub in props.items()}


def representatives(
    schema: Mapping[str, Any] | None,
    *,
    today: dt.date,
    seen: Iterable[Mapping[str, Any]] = (),
    strings: Iterable[str] = (),
    big: int | None = None,
    limit: int = 8,
) -> list[dict[str, Any]]:
    """A few payloads for one event, deduplicated, at most ``limit``.

    Always the empty payload first (what :meth:`Engine.allowed` evaluates), then the
    schema's minimal payload, one per value of each top-level enum or boolean, the
    ``seen`` payloads (from a scenario), each seen payload with a top-level string
    replaced by one of ``strings`` (codes in the instance data, e.g. deferred budget
    lines) and a top-level integer raised to ``big`` (more than any amount in the
    data)."""
    out: list[dict[str, Any]] = [{}]
    schema = schema or {}
    props: Mapping[str, Any] = schema.get("properties", {}) if _kind(schema) == "object" else {}
    base = minimal(schema, today) if props or schema.get("required") else {}
    if isinstance(base, dict):
        out.append(base)
        full = {**_full(schema, today), **base}
        for key, sub in props.items():
            if not isinstance(sub, Mapping):
                continue
            values = sub.get("enum") or ([True, False] if _kind(sub) == "boolean" else [])
            for value in values:
                out.append({**base, key: value})
        out.append(full)
    samples = [dict(s) for s in seen]
    out.extend(samples)
    variants: list[dict[str, Any]] = []
    for sample in samples or ([base] if isinstance(base, dict) else []):
        for key, sub in props.items():
            if not isinstance(sub, Mapping):
                continue
            if _kind(sub) == "string" and "enum" not in sub and "format" not in sub:
                variants.extend({**sample, key: s} for s in strings if s != sample.get(key))
            if _kind(sub) == "integer" and big is not None and "maximum" not in sub:
                variants.append({**sample, key: big})
    out.extend(variants)
    unique: list[dict[str, Any]] = []
    keys: set[str] = set()
    for payload in out:
        key = json.dumps(payload, sort_keys=True, default=str)
        if key not in keys:
            keys.add(key)
            unique.append(payload)
    # keep the empty, minimal and seen payloads; trim the rest
    return unique[: max(limit, len(samples) + 2)]


def strategy(schema: Any) -> st.SearchStrategy[Any]:
    """A Hypothesis strategy of values for ``schema`` (mostly valid, sometimes not)."""
    if not isinstance(schema, Mapping):
        return _JSON
    if "const" in schema:
        return st.just(schema["const"])
    if schema.get("enum"):
        return st.sampled_from(list(schema["enum"]))
    kind = _kind(schema)
    if kind == "object":
        props = schema.get("properties", {})
        required = [k for k in schema.get("required", ()) if k in props]
        optional = [k for k in props if k not in required]
        return st.fixed_dictionaries(
            {k: strategy(props[k]) for k in required},
            optional={k: strategy(props[k]) for k in optional},
        )
    if kind == "array":
        low = int(schema.get("minItems", 0))
        return st.lists(strategy(schema.get("items", {})), min_size=low, max_size=low + 3)
    if kind == "string":
        if schema.get("format") == "date":
            return st.dates(dt.date(2010, 1, 1), dt.date(2030, 12, 31)).map(dt.date.isoformat)
        return st.text(
            st.characters(codec="utf-8", categories=("L", "N")),
            min_size=int(schema.get("minLength", 0)),
            max_size=8,
        )
    if kind == "integer":
        low = schema.get("minimum", -5)
        return st.integers(low, schema.get("maximum", max(low, 0) + 10**9))
    if kind == "number":
        low = schema.get("minimum", -5)
        return st.integers(low, low + 10**9)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return _JSON
