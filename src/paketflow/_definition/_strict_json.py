"""Strict reading of definition documents.

JSON text is parsed with hooks that refuse what the JSON grammar of RFC 8259 allows
parsers to disagree on (duplicate keys, ``NaN``/``Infinity``, very large numbers), and
every document, read from a file or given as a Python mapping, is normalised into plain
JSON values (``dict``/``list``/``str``/``int``/``float``/``bool``/``None``) with bounded
nesting. Nothing here raises anything but :class:`_ReadFailed`.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from typing import Any

from paketflow._errors import Problem

# Definition size limits (docs/limits.md). PAKET itself is ~200 KB, ~7,100 values and
# 30 levels deep; these leave several times that room while keeping the later passes
# (jsonschema costs ~40 µs a value: PAKET loads in ~0.3 s) to about two seconds at most.
MAX_BYTES = 5 * 1024 * 1024  # the file, or the text (strings and keys) of a mapping
MAX_DEPTH = 64  # nesting of arrays and objects
MAX_DIGITS = 100
MAX_NODES = 50_000  # JSON values in the document, counted as written out (no sharing)
MAX_POINTER_TEXT = 50_000_000  # the JSON Pointers of all values together, in characters
_SURROGATE = re.compile("[\ud800-\udfff]")


class _ReadFailed(Exception):
    """Carries the problems found while reading (never escapes the package)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


class _Constant:
    """What ``NaN``/``Infinity``/``-Infinity`` parse to, so the walk can locate them."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


class _BigNumber:
    """What a number with too many digits (or a float overflowing to infinity) parses to."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text if len(self.text) <= 40 else f"{self.text[:20]}…({len(self.text)} chars)"


class _Pairs(dict[str, Any]):
    """A parsed JSON object that remembers its duplicate keys."""

    duplicates: list[str]


def _pairs_hook(pairs: list[tuple[str, Any]]) -> _Pairs:
    obj = _Pairs(pairs)
    obj.duplicates = []
    if len(obj) != len(pairs):  # rare: find the duplicates only then
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                obj.duplicates.append(key)
            seen.add(key)
    return obj


class _Counted(Exception):
    """Raised by the parse hooks once the document certainly has too many values."""


def _parse_int(text: str) -> int | _BigNumber:
    if len(text.lstrip("-")) > MAX_DIGITS:
        return _BigNumber(text)
    return int(text)


def _parse_float(text: str) -> float | _BigNumber:
    mantissa = text.lstrip("-").split("e")[0].split("E")[0]
    value = float(text)
    if len(mantissa) > MAX_DIGITS + 1 or math.isinf(value):
        return _BigNumber(text)
    return value


def esc(key: str) -> str:
    """Escape one JSON Pointer reference token (RFC 6901)."""
    return key.replace("~", "~0").replace("/", "~1")


def read_file(path: str) -> Any:
    """Read and parse ``path``; return the normalised JSON value."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise _ReadFailed(
            [Problem("file.not-found", "", "no such file", "check the path", path, path)]
        ) from None
    except (OSError, ValueError) as exc:
        raise _ReadFailed(
            [
                Problem(
                    "file.unreadable",
                    "",
                    f"cannot read the file: {type(exc).__name__}: {exc}"[:300],
                    "check that the path names a readable file",
                    path,
                    None,
                )
            ]
        ) from None
    if len(raw) > MAX_BYTES:
        raise _ReadFailed(
            [
                Problem(
                    "json.too-large",
                    "",
                    f"the file is larger than {MAX_BYTES} bytes",
                    "a process definition is far smaller; check that this is the right file",
                    path,
                    None,
                )
            ]
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _ReadFailed(
            [
                Problem(
                    "json.syntax",
                    "",
                    f"the file is not UTF-8 (byte {exc.start})",
                    "save the file as UTF-8",
                    path,
                    None,
                )
            ]
        ) from None
    return parse_text(text, path)


def parse_text(text: str, file: str) -> Any:
    """Parse JSON ``text`` strictly and normalise it. The parse stops early once the
    document certainly holds more than ``MAX_NODES`` values (the hooks see each value
    at most twice: as an object member and as a number or object)."""
    seen = [0]

    def pairs(items: list[tuple[str, Any]]) -> _Pairs:
        seen[0] += len(items) + 1
        if seen[0] > 2 * MAX_NODES:
            raise _Counted
        return _pairs_hook(items)

    def integer(text: str) -> int | _BigNumber:
        seen[0] += 1
        return _parse_int(text)

    try:
        value = json.loads(
            text,
            object_pairs_hook=pairs,
            parse_constant=_Constant,
            parse_int=integer,
            parse_float=_parse_float,
        )
    except _Counted:
        raise _ReadFailed([too_many(file, True)]) from None
    except RecursionError:
        raise _ReadFailed([_too_deep("", file)]) from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        hint = "fix the JSON syntax"
        if not text.strip():
            msg, hint = "the file is empty", "a definition is a JSON object: {...}"
        else:
            msg = f"invalid JSON at {where}: {exc.msg}"
        raise _ReadFailed([Problem("json.syntax", "", msg, hint, file, None)]) from None
    except (ValueError, TypeError) as exc:  # e.g. an int hook limit
        raise _ReadFailed(
            [Problem("json.syntax", "", f"invalid JSON: {exc}"[:300], "fix the JSON", file, None)]
        ) from None
    return normalise(value, file)


def _too_deep(pointer: str, file: str) -> Problem:
    return Problem(
        "json.too-deep",
        pointer,
        f"nesting deeper than {MAX_DEPTH} levels",
        "flatten the structure; definitions need only a few levels",
        file,
        None,
    )


class _Path:
    """A JSON Pointer built only when a problem needs it: building every value's
    pointer as text would cost the sum of all pointer lengths."""

    __slots__ = ("length", "parent", "token")
    length: int

    def __init__(self, parent: _Path | None, token: str) -> None:
        self.parent = parent
        self.token = token
        self.length = (parent.length if parent else 0) + len(token) + 1

    def __str__(self) -> str:
        parts: list[str] = []
        node: _Path | None = self
        while node is not None and node.parent is not None:
            parts.append(node.token)
            node = node.parent
        return "".join(f"/{t}" for t in reversed(parts))


def normalise(value: Any, file: str) -> Any:
    """Copy ``value`` into plain JSON values, collecting every problem; raise
    :class:`_ReadFailed` when there is one. Iterative: safe on deep or cyclic input.

    Linear in the size of the document written out: a mapping that shares one
    sub-tree in many places (which JSON text cannot) is counted, and copied, once per
    place, and the walk stops as soon as a size limit is passed, so sharing cannot
    make it (or any later pass) exponential."""
    if count_nodes(value) > MAX_NODES:  # cheap, before any copying
        raise _ReadFailed([too_many(file, True)])
    problems: list[Problem] = []
    root: list[Any] = [None]
    # work items: (value, container, key, pointer, depth)
    stack: list[tuple[Any, Any, Any, _Path, int]] = [(value, root, 0, _Path(None, ""), 0)]
    too_deep = False
    nodes = text = pointers = 0
    while stack:
        val, container, key, path, depth = stack.pop()
        nodes += 1
        pointers += path.length
        if nodes > MAX_NODES or pointers > MAX_POINTER_TEXT:
            problems.append(too_many(file, nodes > MAX_NODES))
            break
        if depth >= MAX_DEPTH and isinstance(val, Mapping | list | tuple):
            if not too_deep:
                problems.append(_too_deep(str(path), file))
                too_deep = True
            continue
        out: Any
        if val is None or isinstance(val, bool):
            out = val
        elif isinstance(val, str):
            text += len(val)
            if text > MAX_BYTES:
                problems.append(_too_much_text(file))
                break
            if _SURROGATE.search(val):
                problems.append(_surrogate(str(path), file))
            out = str(val)
        elif isinstance(val, int):
            if val.bit_length() > 333:  # ~100 decimal digits
                problems.append(_number_problem(str(path), file, "<a very large integer>"))
                out = None
            else:
                out = int(val)
        elif isinstance(val, float):
            if math.isnan(val) or math.isinf(val):
                problems.append(_nan_problem(str(path), file, repr(val)))
                out = None
            else:
                out = float(val)
        elif isinstance(val, _Constant):
            problems.append(_nan_problem(str(path), file, val.text))
            out = None
        elif isinstance(val, _BigNumber):
            problems.append(_number_problem(str(path), file, repr(val)))
            out = None
        elif isinstance(val, Mapping):
            out = {}
            for dup in getattr(val, "duplicates", ()):
                problems.append(
                    Problem(
                        "json.duplicate-key",
                        f"{path}/{esc(dup)}",
                        f"the key {dup!r} appears more than once in this object",
                        "keep one; JSON readers disagree on which duplicate wins",
                        file,
                        dup,
                    )
                )
            try:
                items = list(val.items())
            except Exception as exc:  # a hostile Mapping implementation
                problems.append(
                    _not_json(str(path), file, f"cannot read the mapping: {exc!r}"[:200])
                )
                items = []
            kept: list[tuple[str, Any]] = []
            for k, v in items:
                if not isinstance(k, str):
                    problems.append(
                        _not_json(
                            str(path), file, f"object keys are strings, got {type(k).__name__}"
                        )
                    )
                    continue
                text += len(k)
                if _SURROGATE.search(k):
                    problems.append(_surrogate(str(path), file))
                    continue
                out[k] = None  # keys keep document order (slots are ordered)
                kept.append((k, v))
            for k, v in reversed(kept):
                stack.append((v, out, k, _Path(path, esc(k)), depth + 1))
        elif isinstance(val, list | tuple):
            out = [None] * len(val)
            for i in range(len(val) - 1, -1, -1):
                stack.append((val[i], out, i, _Path(path, str(i)), depth + 1))
        else:
            problems.append(
                _not_json(str(path), file, f"a {type(val).__name__} is not a JSON value")
            )
            out = None
        container[key] = out
    if problems:
        raise _ReadFailed(problems)
    return root[0]


def count_nodes(value: Any, limit: int = MAX_NODES) -> int:
    """The number of values of ``value`` as written out, counted up to just past
    ``limit`` (containers below MAX_DEPTH are not entered: normalise reports those)."""
    n = 0
    stack = [(value, 0)]
    while stack and n <= limit:
        val, depth = stack.pop()
        n += 1
        if depth < MAX_DEPTH:
            if type(val) is dict or type(val) is _Pairs:
                stack.extend((v, depth + 1) for v in val.values())
            elif type(val) is list:
                stack.extend((v, depth + 1) for v in val)
    return n


def too_many(file: str, nodes: bool = True) -> Problem:
    if nodes:
        message = f"the document holds more than {MAX_NODES} JSON values"
    else:
        message = f"the JSON Pointers of the document's values exceed {MAX_POINTER_TEXT} characters"
    return Problem(
        "json.too-many-nodes",
        "",
        message + " (counted as written out: a sub-tree used in several places counts in each)",
        "a process definition is far smaller; split it, or use shorter keys",
        file,
        None,
    )


def _too_much_text(file: str) -> Problem:
    return Problem(
        "json.too-large",
        "",
        f"the document holds more than {MAX_BYTES} characters of text",
        "a process definition is far smaller; check that this is the right document",
        file,
        None,
    )


def _surrogate(ptr: str, file: str) -> Problem:
    return Problem(
        "json.syntax",
        ptr,
        "a string holds an unpaired UTF-16 surrogate (\\ud800-\\udfff)",
        "use valid Unicode text",
        file,
        None,
    )


def _nan_problem(ptr: str, file: str, text: str) -> Problem:
    return Problem(
        "json.nan",
        ptr,
        f"{text} is not a JSON number",
        "use a finite number (or null)",
        file,
        text,
    )


def _number_problem(ptr: str, file: str, text: str) -> Problem:
    return Problem(
        "json.number-too-large",
        ptr,
        f"number with more than {MAX_DIGITS} digits (or out of range): {text}",
        "use a smaller number",
        file,
        text,
    )


def _not_json(ptr: str, file: str, msg: str) -> Problem:
    return Problem("json.not-json", ptr, msg, "give only JSON values", file, None)


def source_name(source: object) -> str:
    """The file name shown in problems for ``source``."""
    if isinstance(source, str | os.PathLike):
        try:
            name = os.fspath(source)
        except Exception:
            return "<path>"
        return name if isinstance(name, str) else repr(name)
    return "<mapping>"
