"""CEL text expressions, translated at load time into JSON expression trees.

A definition may write an expression as text in the syntax of CEL, the Common
Expression Language (``data.rab.total >= 10000000 && size(event.lines) > 0``). The text
is parsed once, when the definition is loaded, by the CEL grammar of ``cel-python``
(:mod:`celpy.celparser`, a Lark LALR parser: linear in the text, no evaluation), and the
parse tree is translated into the closed JSON expression language of
:mod:`paketflow._expr`, which compiles it onto the same bounded closures as every other
expression. Nothing is evaluated by CEL's own runtime and nothing reaches ``eval``.

Only the part of CEL that has a meaning in the JSON language is accepted: literals,
lists, maps with string keys, ``! && || ?:``, comparisons, ``in``, ``+ - * /``, member
access and indexing on the roots of ``var``, ``has()``, and the functions of the JSON
language (``size``, ``min``, ``max``, ``sum``, ``percent``, ``pluck``, ``where``,
``difference``, ``coalesce``, ``get``, ``keys``, ``values``, ``concat``, ``date``, ``addDays``,
``daysBetween``, ``workingDaysBetween``), called as ``f(x, …)`` or ``x.f(…)``. Anything
else (macros such as ``all``/``exists``/``map``, ``%``, bytes, messages) is a syntax
error that names the character and what to write instead.

Two extra roots exist only at load time: ``params.NAME`` is replaced by the value of a
parameter, ``defs.NAME`` by a named expression (both given by the caller).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from typing import Any

from paketflow._expr import ROOTS, ExprSyntaxError, compile_expr

__all__ = ["MAX_TEXT", "expand", "is_cel", "quote", "translate"]

MAX_TEXT = 4000
"""The longest CEL text accepted (characters): bounds parse time and tree depth."""

_FUNCTIONS: dict[str, str] = {
    "size": "len",
    "len": "len",
    "min": "min",
    "max": "max",
    "sum": "sum",
    "percent": "percent",
    "pluck": "pluck",
    "where": "where",
    "difference": "difference",
    "coalesce": "coalesce",
    "get": "get",
    "keys": "keys",
    "values": "values",
    "concat": "concat",
    "date": "date",
    "addDays": "addDays",
    "daysBetween": "daysBetween",
    "workingDaysBetween": "workingDaysBetween",
}
_MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})
_BINARY = {
    "relation_lt": "<",
    "relation_le": "<=",
    "relation_gt": ">",
    "relation_ge": ">=",
    "relation_eq": "==",
    "relation_ne": "!=",
    "relation_in": "in",
    "addition_add": "+",
    "addition_sub": "-",
    "multiplication_mul": "*",
    "multiplication_div": "div",
}
_OPERATOR_HINTS = {
    "=>": "'>=' (greater or equal)",
    "=<": "'<=' (less or equal)",
    "<>": "'!=' (not equal)",
    "=": "'==' (equal)",
    "and": "'&&'",
    "or": "'||'",
    "not": "'!'",
    "AND": "'&&'",
    "OR": "'||'",
    "NOT": "'!'",
}
_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    '"': '"',
    "'": "'",
    "\\": "\\",
    "`": "`",
    "?": "?",
}

Params = Mapping[str, Any]
Defs = Callable[[str, str], Any]
"""``defs(name, pointer)``: the JSON tree of a named expression (raises ExprSyntaxError)."""

_PARSER: Any = None


def _parser() -> Any:
    global _PARSER
    if _PARSER is None:
        from celpy.celparser import CELParser  # lazily: only definitions with CEL text pay

        _PARSER = CELParser()
    return _PARSER


def is_cel(node: Any) -> bool:
    """``{"cel": "<text>"}``: the operator form of a CEL text expression."""
    return type(node) is dict and len(node) == 1 and isinstance(node.get("cel"), str)


def translate(
    text: str,
    pointer: str,
    *,
    params: Params | None = None,
    defs: Defs | None = None,
) -> Any:
    """The JSON expression tree of the CEL ``text`` at ``pointer``.

    Raises :class:`ExprSyntaxError` (code ``expr.cel-syntax``) whose message names the
    character (1-based) and shows the text around it, or ``expr.unknown-root`` /
    ``expr.unknown-function`` / ``param.unknown`` with a did-you-mean.
    """
    if len(text) > MAX_TEXT:
        raise ExprSyntaxError(
            "expr.cel-syntax",
            pointer,
            f"the expression has {len(text)} characters, more than {MAX_TEXT}",
            text[:80] + "…",
        )
    if not text.strip():
        raise ExprSyntaxError("expr.cel-syntax", pointer, "the expression text is empty", text)
    from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedToken

    _parser()
    from celpy.celparser import CELParser

    try:
        tree = CELParser.CEL_PARSER.parse(text)  # type: ignore[union-attr]
    except UnexpectedToken as exc:
        if exc.token.type == "$END":
            raise _syntax(text, pointer, None, None) from None
        raise _syntax(text, pointer, exc.line, exc.column) from None
    except UnexpectedCharacters as exc:
        raise _syntax(text, pointer, exc.line, exc.column) from None
    except (LarkError, RecursionError):
        raise _syntax(text, pointer, None, None) from None
    try:
        result = _Translator(text, pointer, params or {}, defs).expr(tree)
        compile_expr(result, pointer)
    except RecursionError:
        raise ExprSyntaxError(
            "expr.too-deep", pointer, "the expression is nested too deeply", text[:80]
        ) from None
    except ExprSyntaxError as exc:
        if exc.code.startswith("expr.") and exc.pointer != pointer:  # from compile_expr
            raise ExprSyntaxError(
                exc.code, pointer, f"{exc.message} (in the CEL text {_short(text)})", text
            ) from None
        raise
    return result


def expand(
    node: Any,
    pointer: str,
    *,
    text_is_cel: bool = False,
    params: Params | None = None,
    defs: Defs | None = None,
) -> Any:
    """``node`` with every ``{"cel": text}`` replaced by its JSON tree; with
    ``text_is_cel`` (format 2) a string ``node`` is CEL text too. Trees without CEL
    are returned as they are (the same object)."""
    if text_is_cel and isinstance(node, str):
        return translate(node, pointer, params=params, defs=defs)
    return _expand(node, pointer, params, defs)


def _expand(node: Any, pointer: str, params: Params | None, defs: Defs | None) -> Any:
    if is_cel(node):
        return translate(node["cel"], f"{pointer}/cel", params=params, defs=defs)
    if isinstance(node, dict):
        out = {k: _expand(v, f"{pointer}/{_esc(k)}", params, defs) for k, v in node.items()}
        return node if all(out[k] is node[k] for k in node) else out
    if isinstance(node, list):
        items = [_expand(v, f"{pointer}/{i}", params, defs) for i, v in enumerate(node)]
        return node if all(a is b for a, b in zip(items, node, strict=True)) else items
    return node


def _esc(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _short(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:59] + "…")


def _offset(text: str, line: int | None, column: int | None) -> int:
    """0-based offset into ``text`` of a 1-based line/column (end of text when unknown)."""
    if line is None or column is None:
        return len(text)
    lines = text.split("\n")
    return sum(len(s) + 1 for s in lines[: line - 1]) + column - 1


def _syntax(text: str, pointer: str, line: int | None, column: int | None) -> ExprSyntaxError:
    at = _offset(text, line, column)
    rest = text[at:]
    hint = ""
    word = re.match(r"\w+", rest)
    prev = re.search(r"(\w+)\s*$", text[:at])
    for wrong, right in sorted(_OPERATOR_HINTS.items(), key=lambda kv: -len(kv[0])):
        if wrong.isalpha():
            found = (word is not None and word.group() == wrong) or (
                prev is not None and prev.group(1) == wrong
            )
        else:
            found = wrong in text[max(0, at - len(wrong) + 1) : at + len(wrong)]
        if found:
            hint = f"; did you mean {right}?"
            break
    what = f"unexpected {rest[0]!r}" if rest else "the expression ends too early"
    return ExprSyntaxError(
        "expr.cel-syntax",
        pointer,
        f"CEL syntax error at character {at + 1}: {what}: {_caret(text, at)}{hint}",
        text,
    )


def _caret(text: str, at: int) -> str:
    """The text with ``⟨here⟩`` marking offset ``at`` (one line, shortened)."""
    before, after = text[:at], text[at:]
    if len(before) > 40:
        before = "…" + before[-39:]
    if len(after) > 40:
        after = after[:39] + "…"
    return (before + "⟨here⟩" + after).replace("\n", " ")


class _Translator:
    def __init__(self, text: str, pointer: str, params: Params, defs: Defs | None) -> None:
        self.text = text
        self.pointer = pointer
        self.params = params
        self.defs = defs

    # -- errors ----------------------------------------------------------------

    def fail(self, node: Any, message: str, code: str = "expr.cel-syntax") -> ExprSyntaxError:
        at = _position(node, self.text)
        return ExprSyntaxError(
            code,
            self.pointer,
            f"{message} at character {at + 1}: {_caret(self.text, at)}",
            self.text,
        )

    # -- the grammar -------------------------------------------------------------

    def expr(self, t: Any) -> Any:
        name = t.data
        kids = t.children
        method = getattr(self, f"n_{name}", None)
        if method is not None:
            return method(t, kids)
        if len(kids) == 1:
            return self.expr(kids[0])
        raise self.fail(t, f"'{name}' is not supported here")

    def n_expr(self, t: Any, kids: list[Any]) -> Any:
        if len(kids) == 1:
            return self.expr(kids[0])
        cond, a, b = kids
        return {"if": [self.expr(cond), self.expr(a), self.expr(b)]}

    def _chain(self, op: str, t: Any, kids: list[Any]) -> Any:
        if len(kids) == 1:
            return self.expr(kids[0])
        left, right = self.expr(kids[0]), self.expr(kids[1])
        if isinstance(left, dict) and list(left) == [op]:
            return {op: [*left[op], right]}
        return {op: [left, right]}

    def n_conditionalor(self, t: Any, kids: list[Any]) -> Any:
        return self._chain("or", t, kids)

    def n_conditionaland(self, t: Any, kids: list[Any]) -> Any:
        return self._chain("and", t, kids)

    def _binary(self, t: Any, kids: list[Any]) -> Any:
        if len(kids) == 1:
            return self.expr(kids[0])
        head, right = kids
        if head.data == "multiplication_mod":
            raise self.fail(
                head, "'%' (remainder) is not in the expression language; use percent(a, b) or div"
            )
        op = _BINARY[head.data]
        left = self.expr(head.children[0])
        rhs = self.expr(right)
        if op in ("+", "*") and isinstance(left, dict) and list(left) == [op]:
            return {op: [*left[op], rhs]}
        return {op: [left, rhs]}

    n_relation = _binary
    n_addition = _binary
    n_multiplication = _binary

    def n_unary(self, t: Any, kids: list[Any]) -> Any:
        if len(kids) == 1:
            return self.expr(kids[0])
        head, operand = kids
        value = self.expr(operand)
        if head.data == "unary_not":
            return {"not": value}
        if isinstance(value, int | float) and not isinstance(value, bool):
            return -value
        return {"-": [value]}

    def n_member(self, t: Any, kids: list[Any]) -> Any:
        return self.expr(kids[0])

    def n_primary(self, t: Any, kids: list[Any]) -> Any:
        return self.expr(kids[0])

    def n_paren_expr(self, t: Any, kids: list[Any]) -> Any:
        return self.expr(kids[0])

    def n_list_lit(self, t: Any, kids: list[Any]) -> Any:
        return [self.expr(k) for k in (kids[0].children if kids else [])]

    def n_map_lit(self, t: Any, kids: list[Any]) -> Any:
        items = kids[0].children if kids else []
        out: dict[str, Any] = {}
        for key_node, value_node in zip(items[::2], items[1::2], strict=True):
            key = self.expr(key_node)
            if not isinstance(key, str):
                raise self.fail(key_node, "a map key is a string literal")
            out[key] = self.expr(value_node)
        return {"object": out}

    def n_member_object(self, t: Any, kids: list[Any]) -> Any:
        raise self.fail(
            t, "message construction (Type{field: …}) is not supported; use a map {'field': …}"
        )

    def n_dot_ident(self, t: Any, kids: list[Any]) -> Any:
        raise self.fail(t, "a leading '.' is not supported; start the path with its root")

    n_dot_ident_arg = n_dot_ident

    def n_literal(self, t: Any, kids: list[Any]) -> Any:
        token = kids[0]
        kind, value = token.type, str(token)
        if kind == "BOOL_LIT":
            return value == "true"
        if kind == "NULL_LIT":
            return None
        if kind in ("INT_LIT", "UINT_LIT"):
            digits = value.rstrip("uU")
            sign = -1 if digits.startswith("-") else 1
            digits = digits.lstrip("-")
            if len(digits) > 30:
                raise self.fail(token, "the number has too many digits")
            return sign * (int(digits, 16) if digits[:2].lower() == "0x" else int(digits))
        if kind == "FLOAT_LIT":
            if len(value) > 40:
                raise self.fail(token, "the number has too many digits")
            return float(value)
        if kind in ("STRING_LIT", "MLSTRING_LIT"):
            return self.string(token, value)
        raise self.fail(token, "bytes literals are not supported; use a string")

    def string(self, token: Any, raw: str) -> str:
        is_raw = raw[:1] in "rR"
        body = raw[1:] if is_raw else raw
        width = 3 if body[:3] in ('"""', "'''") else 1
        body = body[width:-width]
        if is_raw:
            return body
        out: list[str] = []
        i = 0
        while i < len(body):
            ch = body[i]
            if ch != "\\":
                out.append(ch)
                i += 1
                continue
            nxt = body[i + 1 : i + 2]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
            elif nxt in ("u", "U", "x"):
                width = {"u": 4, "U": 8, "x": 2}[nxt]
                hexdigits = body[i + 2 : i + 2 + width]
                try:
                    code = int(hexdigits, 16)
                    if len(hexdigits) != width or 0xD800 <= code <= 0xDFFF:
                        raise ValueError(hexdigits)
                    out.append(chr(code))
                except ValueError:
                    raise self.fail(token, f"bad escape '\\{nxt}{hexdigits}'") from None
                i += 2 + width
            elif nxt.isdigit():
                digits = body[i + 1 : i + 4]
                try:
                    out.append(chr(int(digits, 8)))
                except ValueError:
                    raise self.fail(token, f"bad escape '\\{digits}'") from None
                i += 4
            else:
                raise self.fail(token, f"bad escape '\\{nxt}'")
        return "".join(out)

    # -- names, paths and calls --------------------------------------------------

    def n_ident(self, t: Any, kids: list[Any]) -> Any:
        return self.path_expr(t)

    def n_member_dot(self, t: Any, kids: list[Any]) -> Any:
        return self.path_expr(t)

    def n_member_index(self, t: Any, kids: list[Any]) -> Any:
        path = self.path(t)
        if path is not None:
            return self.path_expr(t)
        base, index = kids
        return {"get": [self.expr(base), self.expr(index)]}

    def path(self, t: Any) -> list[Any] | None:
        """The segments of a member chain that starts at an identifier, else ``None``.
        A segment is a string/int (static) or a JSON tree (dynamic index)."""
        kind = getattr(t, "data", None)
        if kind in ("member", "primary") and len(t.children) == 1:
            return self.path(t.children[0])
        if kind == "ident":
            return [str(t.children[0])]
        if kind == "member_dot":
            inner = self.path(t.children[0])
            return None if inner is None else [*inner, str(t.children[1])]
        if kind == "member_index":
            inner = self.path(t.children[0])
            if inner is None:
                return None
            index = self.expr(t.children[1])
            if isinstance(index, bool) or not isinstance(index, str | int | dict):
                raise self.fail(t.children[1], "an index is a string, an integer or an expression")
            return [*inner, index]
        return None

    def path_expr(self, t: Any) -> Any:
        segs = self.path(t)
        if segs is None:  # a field of a computed value: x.f → get(x, "f")
            base, field = t.children
            return {"get": [self.expr(base), str(field)]}
        root = segs[0]
        if root == "params":
            return self.param(t, segs)
        if root == "defs":
            if len(segs) != 2 or not isinstance(segs[1], str) or self.defs is None:
                raise self.fail(
                    t, "'defs.NAME' names one expression of /$defs/expressions", "ref.expression"
                )
            return self.defs(segs[1], self.pointer)
        if root not in ROOTS:
            known = sorted(ROOTS | ({"params"} if self.params else set()))
            close = difflib.get_close_matches(root, known, n=1) or [
                k for k in known if k.lower() == root.lower()
            ]
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise self.fail(
                t,
                f"unknown name {root!r} (a path starts with one of: {', '.join(known)}){hint}",
                "expr.unknown-root",
            )
        static = all(isinstance(s, str | int) and not isinstance(s, bool) for s in segs)
        if static and all(isinstance(s, str) and "." not in s for s in segs):
            return {"var": ".".join(str(s) for s in segs)}
        return {"var": [root, *segs[1:]]}

    def param(self, t: Any, segs: list[Any]) -> Any:
        if len(segs) < 2 or not isinstance(segs[1], str):
            raise self.fail(t, "'params.NAME' names one parameter", "param.unknown")
        name = segs[1]
        if name not in self.params:
            close = difflib.get_close_matches(name, list(self.params), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise self.fail(t, f"unknown parameter {name!r}{hint}", "param.unknown")
        value = self.params[name]
        for seg in segs[2:]:
            in_dict = isinstance(value, dict) and isinstance(seg, str) and seg in value
            in_list = isinstance(value, list) and isinstance(seg, int) and 0 <= seg < len(value)
            if in_dict or in_list:
                value = value[seg]
            else:
                raise self.fail(t, f"parameter {name!r} has no part {seg!r}", "param.unknown")
        return quote(value)

    def n_ident_arg(self, t: Any, kids: list[Any]) -> Any:
        name = str(kids[0])
        args = [self.expr(a) for a in (kids[1].children if len(kids) > 1 else [])]
        return self.call(kids[0], name, args)

    def n_member_dot_arg(self, t: Any, kids: list[Any]) -> Any:
        name = str(kids[1])
        if name in _MACROS:
            raise self.fail(
                kids[1],
                f"the CEL macro '{name}' is not supported (no loops in definitions); "
                "use where(list, key, value), pluck(list, key) or difference(a, b)",
                "expr.unknown-function",
            )
        receiver = self.expr(kids[0])
        args = [self.expr(a) for a in (kids[2].children if len(kids) > 2 else [])]
        return self.call(kids[1], name, [receiver, *args])

    def call(self, token: Any, name: str, args: list[Any]) -> Any:
        if name == "has":
            if len(args) != 1 or not (isinstance(args[0], dict) and "var" in args[0]):
                raise self.fail(token, "has() takes one field path, e.g. has(data.rab)")
            return {"!=": [args[0], None]}
        op = _FUNCTIONS.get(name)
        if op is None:
            known = sorted({*_FUNCTIONS, "has"})
            close = difflib.get_close_matches(name, known, n=1) or [
                k for k in known if k.lower() == name.lower()
            ]
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise self.fail(
                token,
                f"unknown function {name!r} (known: {', '.join(known)}){hint}",
                "expr.unknown-function",
            )
        unary = ("len", "sum", "keys", "values", "date")
        return {op: args[0] if len(args) == 1 and op in unary else args}


def quote(value: Any) -> Any:
    """A JSON tree that evaluates to ``value`` (lists and objects are rebuilt literally)."""
    if isinstance(value, dict):
        return {"object": {k: quote(v) for k, v in value.items()}}
    if isinstance(value, list):
        return [quote(v) for v in value]
    return value


def _position(node: Any, text: str) -> int:
    """0-based offset of the first character of ``node`` (a Tree or a Token)."""
    line = getattr(node, "line", None)
    column = getattr(node, "column", None)
    if line is None:
        meta = getattr(node, "meta", None)
        if meta is not None and not getattr(meta, "empty", True):
            line, column = meta.line, meta.column
    return min(_offset(text, line, column), len(text))
