"""The closed JSON expression language of conditions, parameters and effects.

An expression is JSON: a literal (string, number, boolean, null), an array (each item
an expression; evaluates to a list) or an object with exactly one key, the operator.
Expressions are compiled once, at load time, into Python closures. Nothing is ever
passed to ``eval``/``exec``; there are no loops, no clock and no randomness, so an
expression's cost is bounded by its size and the size of the data it reads.

Operators (see docs/definition-language.md for examples):

``var`` ``==`` ``!=`` ``<`` ``<=`` ``>`` ``>=`` ``and`` ``or`` ``not`` ``if``
``+`` ``-`` ``*`` ``div`` ``percent`` ``min`` ``max`` ``sum`` ``len`` ``in``
``pluck`` ``where`` ``difference`` ``coalesce`` ``get`` ``object`` ``keys`` ``values`` ``concat``
``date`` ``addDays`` ``daysBetween`` ``workingDaysBetween``.

``var`` reads from the evaluation scope, whose roots are: ``data`` (instance data),
``event`` (the command's payload), ``actor`` (``id``, ``roles``, ``element``), ``at``
(the command time, ISO 8601), ``today`` (its local date), ``state``, ``flags``,
``sets`` (person sets), ``signers`` (signatures of this visit) and ``deadlines``
(armed deadline id → due instant).

Cost is bounded per command (docs/limits.md): every evaluation spends from a
:class:`Budget` found in the scope under ``"_budget"`` (the engine puts one fresh
budget in the scope of each command, shared by its guards and effects; a scope without
one gets a fresh budget per call). Each JSON value of an evaluated expression costs one
operation, as does each list item or object member an operator walks (every JSON value
of both lists for ``difference``) and each ``TEXT_PER_OPERATION`` characters of text
``concat`` builds or ``in`` searches; each day ``workingDaysBetween`` counts costs
``DAY_OPERATIONS``. A produced string holds at most ``MAX_TEXT`` characters, a produced list at
most ``MAX_ITEMS`` items and a produced integer lies within ``±MAX_INT`` (the integers
RFC 8785 can write). Going beyond any of these raises :class:`ExprLimitError`.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import attrs

__all__ = [
    "DAY_OPERATIONS",
    "MAX_INT",
    "MAX_ITEMS",
    "MAX_OPERATIONS",
    "MAX_TEXT",
    "ROOTS",
    "TEXT_PER_OPERATION",
    "Budget",
    "Expr",
    "ExprEvalError",
    "ExprLimitError",
    "ExprSyntaxError",
    "PathSegment",
    "compile_expr",
    "compile_path",
    "parse_date",
    "var_roots",
]

ROOTS = frozenset(
    {"data", "event", "actor", "at", "today", "state", "flags", "sets", "signers", "deadlines"}
)

# The per-command evaluation limits (docs/limits.md; tests/test_docs.py keeps the table
# there equal to these). 100,000 operations is about 50 ms of the slowest operators and
# several hundred times what the PAKET definition spends on its busiest command; 1 MiB
# of text and 100,000 list items are far beyond any label, note or ledger a procedure
# keeps; ±(2**53 - 1) are the integers every JSON reader (I-JSON, RFC 8785) agrees on.
MAX_OPERATIONS = 100_000
MAX_TEXT = 1_048_576
MAX_ITEMS = 100_000
MAX_INT = 2**53 - 1
TEXT_PER_OPERATION = 100
DAY_OPERATIONS = 10  # a calendar day counted by workingDaysBetween (and its year's holidays)

Scope = Mapping[str, Any]
Fn = Callable[[Scope], Any]


class CalendarLookup(Protocol):
    def working_days_between(self, start: dt.date, end: dt.date) -> int: ...


class ExprSyntaxError(Exception):
    """An expression is malformed. Carries ``code``, ``pointer`` and ``value``."""

    def __init__(self, code: str, pointer: str, message: str, value: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.pointer = pointer
        self.message = message
        self.value = value


class ExprEvalError(Exception):
    """An expression could not be evaluated on this data (a wrong type, division by
    zero). Carries the JSON Pointer of the expression in the definition."""

    def __init__(self, pointer: str, message: str) -> None:
        super().__init__(f"{pointer}: {message}")
        self.pointer = pointer
        self.message = message


class ExprLimitError(ExprEvalError):
    """An evaluation went beyond a per-command limit. ``limit`` names it
    (``"operations"``, ``"text"``, ``"items"`` or ``"integer"``) and ``bound`` is its
    value."""

    def __init__(self, pointer: str, limit: str, bound: int) -> None:
        super().__init__(pointer, f"{_LIMIT_TEXT[limit]} exceeds the limit of {bound}")
        self.limit = limit
        self.bound = bound


_LIMIT_TEXT = {
    "operations": "the number of operations",
    "text": "the length of a text",
    "items": "the length of a list",
    "integer": "the size of an integer",
}


class Budget:
    """The operations one command may still spend on evaluating expressions."""

    __slots__ = ("left", "total")

    def __init__(self, operations: int = MAX_OPERATIONS) -> None:
        self.left = operations
        self.total = operations

    def spend(self, n: int, pointer: str) -> None:
        """Spend ``n`` operations; raise :class:`ExprLimitError` when none are left."""
        self.left -= n
        if self.left < 0:
            raise ExprLimitError(pointer, "operations", self.total)


@attrs.frozen
class Expr:
    """A compiled expression: ``expr(scope)`` evaluates it, spending ``size``
    operations (its node count) and what its operators walk from the scope's budget."""

    raw: Any = attrs.field(eq=True)
    pointer: str = attrs.field(eq=False)
    fn: Fn = attrs.field(eq=False, repr=False)
    size: int = attrs.field(default=1, eq=False, repr=False)

    def __call__(self, scope: Scope) -> Any:
        budget = scope.get("_budget")
        if budget is None:
            budget = Budget()
            scope = {**scope, "_budget": budget}
        budget.left -= self.size
        if budget.left < 0:
            raise ExprLimitError(self.pointer, "operations", budget.total)
        try:
            return self.fn(scope)
        except ExprEvalError:
            raise
        except (TypeError, ValueError, ArithmeticError, RecursionError) as exc:
            # overflow (float to int, dates), NaN, huge int to text, deep data
            raise ExprEvalError(self.pointer, str(exc) or type(exc).__name__) from None


PathSegment = str | int | Expr


def parse_date(value: Any, tz: dt.tzinfo | None = None) -> dt.date:
    """A date from an ISO string (date or date-time) or a date/datetime object.
    Date-times are converted to ``tz`` (when given) before taking the date."""
    if isinstance(value, dt.datetime):
        return value.astimezone(tz).date() if tz else value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        if len(value) == 10:
            return dt.date.fromisoformat(value)
        moment = dt.datetime.fromisoformat(value)
        return moment.astimezone(tz).date() if (tz and moment.tzinfo) else moment.date()
    raise TypeError(f"expected an ISO date, got {value!r}")


def _num(v: Any, ptr: str, op: str) -> int | float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ExprEvalError(ptr, f"'{op}' needs numbers, got {v!r}")
    return v


def _list(v: Any, ptr: str, op: str) -> list[Any]:
    if not isinstance(v, list | tuple):
        raise ExprEvalError(ptr, f"'{op}' needs a list, got {v!r}")
    return list(v)


def _walk(s: Scope, v: list[Any], ptr: str) -> list[Any]:
    """Charge walking the items of ``v`` to the budget of ``s``; return ``v``."""
    s["_budget"].spend(len(v), ptr)
    return v


def _result(r: int | float, ptr: str) -> int | float:
    """``r`` when it is a bounded integer or a finite float."""
    if type(r) is int:
        if -MAX_INT <= r <= MAX_INT:
            return r
        raise ExprLimitError(ptr, "integer", MAX_INT)
    if math.isfinite(r):
        return r
    raise ExprEvalError(ptr, f"the result {r!r} is not a finite number")


def _items(out: list[Any], ptr: str) -> list[Any]:
    if len(out) > MAX_ITEMS:
        raise ExprLimitError(ptr, "items", MAX_ITEMS)
    return out


_LIST = object()  # tags the hash key of a list, so it never equals a scalar's
_MAP = object()


def _key(v: Any) -> Any:
    """A hashable key equal for values ``==`` finds equal (scalars are their own key;
    lists and objects are keyed by their items), so membership tests hash instead of
    comparing every pair."""
    if isinstance(v, list | tuple):
        return (_LIST, tuple(_key(x) for x in v))
    if isinstance(v, Mapping):
        return (_MAP, frozenset((k, _key(x)) for k, x in v.items()))
    return v


_ORDER: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _cmp(op: str, a: Any, b: Any, ptr: str) -> bool:
    if a is None or b is None:
        return False
    ta, tb = type(a), type(b)
    if not ((ta is str and tb is str) or (ta in _NUMBER and tb in _NUMBER)):
        raise ExprEvalError(ptr, f"'{op}' compares two numbers or two strings, got {a!r}, {b!r}")
    return bool(_ORDER[op](a, b))


_NUMBER = (int, float)
_CONTAINERS = (list, tuple, dict)


def _lookup(value: Any, seg: Any) -> Any:
    if isinstance(value, dict) and type(seg) is str:  # the hot path: JSON objects
        return value.get(seg)
    if isinstance(value, Mapping):
        return value.get(seg if isinstance(seg, str) else str(seg))
    if isinstance(value, list | tuple):
        if isinstance(seg, str):
            if not seg.isdigit():
                return None
            seg = int(seg)
        if isinstance(seg, int) and not isinstance(seg, bool) and 0 <= seg < len(value):
            return value[seg]
    return None


_ARITY: dict[str, tuple[int, int | None]] = {
    "==": (2, 2),
    "!=": (2, 2),
    "<": (2, 2),
    "<=": (2, 2),
    ">": (2, 2),
    ">=": (2, 2),
    "and": (1, None),
    "or": (1, None),
    "not": (1, 1),
    "if": (3, 3),
    "+": (1, None),
    "-": (1, 2),
    "*": (1, None),
    "div": (2, 2),
    "percent": (2, 2),
    "min": (1, None),
    "max": (1, None),
    "sum": (1, 1),
    "len": (1, 1),
    "in": (2, 2),
    "pluck": (2, 2),
    "where": (3, 3),
    "difference": (2, 2),
    "coalesce": (1, None),
    "get": (2, 2),
    "keys": (1, 1),
    "values": (1, 1),
    "concat": (1, None),
    "date": (1, 1),
    "addDays": (2, 2),
    "daysBetween": (2, 2),
    "workingDaysBetween": (3, 3),
}

OPERATORS = frozenset(_ARITY) | {"var", "object"}


def compile_expr(node: Any, pointer: str = "") -> Expr:
    """Compile a JSON expression. Raise :class:`ExprSyntaxError` when malformed."""
    try:
        return Expr(node, pointer, _compile(node, pointer), _size(node))
    except RecursionError:
        raise ExprSyntaxError(
            "expr.too-deep", pointer, "the expression is nested too deeply", None
        ) from None


def _size(node: Any) -> int:
    """The number of JSON nodes of ``node`` (iterative)."""
    n = 0
    stack = [node]
    while stack:
        x = stack.pop()
        n += 1
        if isinstance(x, dict):
            stack.extend(x.values())
        elif isinstance(x, list):
            stack.extend(x)
    return n


def compile_path(node: Any, pointer: str) -> tuple[PathSegment, ...]:
    """Compile a data path: a JSON Pointer string (``"/tranches/0/due"``) or an array
    of segments, each a string, an integer or an expression (``{"var": ...}``)."""
    if isinstance(node, str):
        if node == "" or not node.startswith("/"):
            raise ExprSyntaxError(
                "expr.bad-path", pointer, "a data path is a JSON Pointer starting with '/'", node
            )
        return tuple(s.replace("~1", "/").replace("~0", "~") for s in node[1:].split("/"))
    if isinstance(node, list) and node:
        segs: list[PathSegment] = []
        for i, seg in enumerate(node):
            if isinstance(seg, str) or (isinstance(seg, int) and not isinstance(seg, bool)):
                segs.append(seg)
            elif isinstance(seg, dict):
                segs.append(compile_expr(seg, f"{pointer}/{i}"))
            else:
                raise ExprSyntaxError(
                    "expr.bad-path",
                    f"{pointer}/{i}",
                    "a path segment is a string, an integer or an expression",
                    seg,
                )
        return tuple(segs)
    raise ExprSyntaxError(
        "expr.bad-path", pointer, "a data path is a JSON Pointer string or a non-empty array", node
    )


def _compile(node: Any, ptr: str) -> Fn:
    if node is None or isinstance(node, bool | int | float | str):
        if type(node) is int and not -MAX_INT <= node <= MAX_INT:
            raise ExprSyntaxError(
                "expr.number-too-large",
                ptr,
                f"an integer literal lies within ±{MAX_INT} (2**53 - 1)",
                node,
            )
        value = node
        return lambda _s: value
    if isinstance(node, list):
        items = [_compile(x, f"{ptr}/{i}") for i, x in enumerate(node)]
        return lambda s: [f(s) for f in items]
    if not isinstance(node, dict):
        raise ExprSyntaxError("expr.bad-node", ptr, "not a JSON expression", node)
    if len(node) != 1:
        raise ExprSyntaxError(
            "expr.bad-node",
            ptr,
            f"an expression object has exactly one key, the operator; got {sorted(node)}",
            node,
        )
    ((op, arg),) = node.items()
    p = f"{ptr}/{_esc(op)}"
    if op == "var":
        return _compile_var(arg, p)
    if op == "object":
        if not isinstance(arg, dict):
            raise ExprSyntaxError("expr.arity", p, "'object' takes an object of expressions", arg)
        fields = {k: _compile(v, f"{p}/{_esc(k)}") for k, v in arg.items()}
        return lambda s: {k: f(s) for k, f in fields.items()}
    if op not in _ARITY:
        raise ExprSyntaxError(
            "expr.unknown-operator",
            ptr,
            f"unknown operator {op!r}; use one of: {', '.join(sorted(OPERATORS))}",
            op,
        )
    args = arg if isinstance(arg, list) else [arg]
    lo, hi = _ARITY[op]
    if len(args) < lo or (hi is not None and len(args) > hi):
        want = str(lo) if lo == hi else f"{lo} or more" if hi is None else f"{lo} to {hi}"
        raise ExprSyntaxError(
            "expr.arity", p, f"'{op}' takes {want} argument(s), got {len(args)}", arg
        )
    fs = [_compile(a, f"{p}/{i}" if isinstance(arg, list) else p) for i, a in enumerate(args)]
    return _build(op, fs, p)


def _esc(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _compile_var(arg: Any, p: str) -> Fn:
    shift = 0  # parts[i] is arg[i - shift] in the array form
    if isinstance(arg, str):
        parts: list[Any] = arg.split(".")
    elif isinstance(arg, list) and arg and isinstance(arg[0], str):
        parts = [*arg[0].split("."), *arg[1:]]
        shift = len(parts) - len(arg)
    else:
        raise ExprSyntaxError(
            "expr.bad-var", p, "'var' takes a dotted path ('data.a.b') or an array", arg
        )
    root = parts[0]
    if root not in ROOTS:
        raise ExprSyntaxError(
            "expr.unknown-root",
            p,
            f"unknown root {root!r}; a path starts with one of: {', '.join(sorted(ROOTS))}",
            arg,
        )
    segs: list[Any] = []
    for i, seg in enumerate(parts[1:], start=1):
        if isinstance(seg, dict):
            segs.append(_compile(seg, f"{p}/{i - shift}"))
        elif isinstance(seg, str | int) and not isinstance(seg, bool):
            segs.append(seg)
        else:
            raise ExprSyntaxError("expr.bad-var", f"{p}/{i - shift}", "bad path segment", seg)
    if all(not callable(s) for s in segs):
        static = tuple(segs)

        def read(s: Scope) -> Any:
            v = s.get(root)
            for seg in static:
                if v is None:
                    return None
                v = _lookup(v, seg)
            return v

        return read

    def read_dynamic(s: Scope) -> Any:
        v = s.get(root)
        for seg in segs:
            if v is None:
                return None
            v = _lookup(v, seg(s) if callable(seg) else seg)
        return v

    return read_dynamic


def _build(op: str, fs: list[Fn], p: str) -> Fn:
    if op in ("==", "!="):
        a, b = fs
        same = op == "=="

        def equal(s: Scope) -> bool:
            x, y = a(s), b(s)
            if type(x) in _CONTAINERS:  # comparing walks the items
                s["_budget"].spend(len(x), p)
            return bool(x == y) if same else bool(x != y)

        return equal
    if op in ("<", "<=", ">", ">="):
        a, b = fs
        return lambda s: _cmp(op, a(s), b(s), p)
    if op == "and":
        return lambda s: all(bool(f(s)) for f in fs)
    if op == "or":
        return lambda s: any(bool(f(s)) for f in fs)
    if op == "not":
        (a,) = fs
        return lambda s: not a(s)
    if op == "if":
        c, a, b = fs
        return lambda s: a(s) if c(s) else b(s)
    if op == "+":
        return lambda s: _result(sum(_num(f(s), p, op) for f in fs), p)
    if op == "-":
        if len(fs) == 1:
            (a,) = fs
            return lambda s: _result(-_num(a(s), p, op), p)
        a, b = fs
        return lambda s: _result(_num(a(s), p, op) - _num(b(s), p, op), p)
    if op == "*":

        def mul(s: Scope) -> int | float:
            r: int | float = 1
            for f in fs:  # bounded at every step: no huge intermediate value
                r = _result(r * _num(f(s), p, op), p)
            return r

        return mul
    if op in ("div", "percent"):
        a, b = fs
        scale = 100 if op == "percent" else 1

        def div(s: Scope) -> int:
            x, y = _num(a(s), p, op), _num(b(s), p, op)
            if y == 0:
                raise ExprEvalError(p, f"'{op}' by zero")
            return int(_result((x * scale) // y, p))

        return div
    if op in ("min", "max", "sum"):
        pick = {"min": min, "max": max, "sum": sum}[op]

        def agg(s: Scope) -> Any:
            vals = _walk(s, _list(fs[0](s), p, op), p) if len(fs) == 1 else [f(s) for f in fs]
            nums = [_num(v, p, op) for v in vals]
            if not nums:
                if op == "sum":
                    return 0
                raise ExprEvalError(p, f"'{op}' of an empty list")
            return _result(pick(nums), p)  # type: ignore[operator]

        return agg
    if op == "len":
        (a,) = fs

        def length(s: Scope) -> int:
            v = a(s)
            if v is None:
                return 0
            if not isinstance(v, list | tuple | str | Mapping):
                raise ExprEvalError(p, f"'len' needs a list, string or object, got {v!r}")
            return len(v)

        return length
    if op == "in":
        a, b = fs

        def contains(s: Scope) -> bool:
            hay = b(s)
            if hay is None:
                return False
            if isinstance(hay, str):
                needle = a(s)
                s["_budget"].spend(len(hay) // TEXT_PER_OPERATION, p)
                return isinstance(needle, str) and needle in hay
            if isinstance(hay, list | tuple):
                s["_budget"].spend(len(hay), p)
                return a(s) in hay  # one linear pass
            if isinstance(hay, Mapping | frozenset | set):
                needle = a(s)
                try:
                    return needle in hay
                except TypeError:  # unhashable: never a key
                    return False
            raise ExprEvalError(p, f"'in' needs a list, string or object, got {hay!r}")

        return contains
    if op == "pluck":
        a, b = fs

        def pluck(s: Scope) -> list[Any]:
            items, key = _walk(s, _list(a(s) or [], p, op), p), b(s)  # the key once
            return _items([_lookup(x, key) for x in items], p)

        return pluck
    if op == "where":
        a, b, c = fs

        def where(s: Scope) -> list[Any]:
            items, key, want = _walk(s, _list(a(s) or [], p, op), p), b(s), c(s)
            if type(want) in _CONTAINERS:
                s["_budget"].spend(len(items) * len(want), p)
            return _items([x for x in items if _lookup(x, key) == want], p)

        return where
    if op == "difference":
        a, b = fs

        def diff(s: Scope) -> list[Any]:
            # linear: hash keys instead of a scan of ``other`` for each item
            other, items = _list(b(s) or [], p, op), _list(a(s) or [], p, op)
            # one per JSON value of both lists: keying an object walks all of it
            s["_budget"].spend(_size(other) + _size(items) - 2, p)
            try:
                drop = set(map(_key, other))
                return _items([x for x in items if _key(x) not in drop], p)
            except TypeError:  # an item that is not JSON (cannot be keyed): pairwise
                s["_budget"].spend(len(items) * len(other), p)
                return _items([x for x in items if x not in other], p)

        return diff
    if op == "coalesce":

        def coalesce(s: Scope) -> Any:
            for f in fs:
                v = f(s)
                if v is not None:
                    return v
            return None

        return coalesce
    if op == "get":
        a, b = fs
        return lambda s: _lookup(a(s), b(s))
    if op == "keys":
        (a,) = fs

        def keys(s: Scope) -> list[str]:
            v = a(s)
            if v is None:
                return []
            if not isinstance(v, Mapping):
                raise ExprEvalError(p, f"'keys' needs an object, got {v!r}")
            return _items(_walk(s, list(v), p), p)

        return keys
    if op == "values":
        (a,) = fs

        def values(s: Scope) -> list[Any]:
            v = a(s)
            if v is None:
                return []
            if not isinstance(v, Mapping):
                raise ExprEvalError(p, f"'values' needs an object, got {v!r}")
            return _items(_walk(s, list(v.values()), p), p)

        return values
    if op == "concat":

        def concat(s: Scope) -> str:
            parts = [
                "" if v is None else v if type(v) is str else str(v) for v in (f(s) for f in fs)
            ]
            size = sum(map(len, parts))
            if size > MAX_TEXT:
                raise ExprLimitError(p, "text", MAX_TEXT)
            s["_budget"].spend(size // TEXT_PER_OPERATION, p)
            return "".join(parts)

        return concat
    if op == "date":
        (a,) = fs
        return lambda s: _date(a(s), s, p).isoformat()
    if op == "addDays":
        a, b = fs
        return lambda s: (_date(a(s), s, p) + dt.timedelta(days=int(_num(b(s), p, op)))).isoformat()
    if op == "daysBetween":
        a, b = fs
        return lambda s: (_date(b(s), s, p) - _date(a(s), s, p)).days
    # workingDaysBetween
    a, b, c = fs

    def working(s: Scope) -> int:
        cals = s.get("_calendars") or {}
        name = c(s)
        cal = cals.get(name) if isinstance(name, str) else None
        if cal is None:
            raise ExprEvalError(p, f"no calendar {name!r} in this definition")
        start, end = _date(a(s), s, p), _date(b(s), s, p)
        s["_budget"].spend(abs((end - start).days) * DAY_OPERATIONS, p)  # counted day by day
        result: int = cal.working_days_between(start, end)
        return result

    return working


def _date(v: Any, s: Scope, p: str) -> dt.date:
    try:
        return parse_date(v, s.get("_tz"))
    except (TypeError, ValueError, OverflowError) as exc:
        raise ExprEvalError(p, f"expected an ISO 8601 date, got {v!r}") from exc


def var_roots(node: Any) -> frozenset[str]:
    """The ``var`` roots (``data``, ``event``, …) read anywhere in a JSON document of
    expressions (iterative: no recursion limit)."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("var") if len(item) == 1 else None
            if isinstance(ref, str):
                found.add(ref.split(".")[0])
            elif isinstance(ref, list) and ref and isinstance(ref[0], str):
                found.add(ref[0].split(".")[0])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return frozenset(found)
