"""JSON utilities: the one canonical serialisation, strict value checks and frozen
JSON containers.

- :func:`canonical` is RFC 8785 (JSON Canonicalization Scheme, via the ``rfc8785``
  package). Every hash, fingerprint and derived id in paketflow is computed over it.
- :func:`check` is the boundary check for data coming from callers: JSON values only
  (``dict`` with ``str`` keys, ``list``/``tuple``, ``str``, ``bool``, ``None``, numbers
  within ±(2**53 − 1), floats finite), no lone surrogates, bounded size and nesting. It
  returns a deeply frozen copy, so nothing the caller keeps can change what the engine
  recorded.
- :class:`FrozenDict` and :class:`FrozenList` are ``dict``/``list`` subclasses whose
  mutating methods raise :class:`~paketflow.ImmutableError`; they compare equal to plain
  dicts and lists and serialise like them.
- :func:`pointer` and :func:`parse_pointer` are RFC 6901 JSON Pointers (``jsonpointer``).

This module imports nothing from the rest of paketflow except the errors.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NoReturn

import jsonpatch
import jsonpointer
import rfc8785

from paketflow._errors import ImmutableError

__all__ = [
    "MAX_DEPTH",
    "MAX_INT",
    "MAX_NODES",
    "MAX_STRING",
    "FrozenDict",
    "FrozenList",
    "JSONValueError",
    "PatchFailed",
    "PointerNotFound",
    "apply_patch_op",
    "canonical",
    "check",
    "freeze",
    "parse_pointer",
    "pointer",
    "resolve_pointer",
    "thaw",
]

#: Largest magnitude of a number accepted in caller data: the largest integer every
#: JSON reader agrees on (IEEE-754 doubles represent every integer up to it exactly,
#: and RFC 8785 writes no larger integer). Floats are held to the same range, since
#: RFC 8785 writes an integral float as an integer.
MAX_INT = 2**53 - 1
#: Deepest nesting of containers accepted in caller data.
MAX_DEPTH = 32
#: Most values (containers, keys and scalars) in one caller value.
MAX_NODES = 20_000
#: Longest string (in characters), keys included, accepted in caller data.
MAX_STRING = 65_536


class JSONValueError(Exception):
    """Internal: a caller value is not acceptable JSON. ``pointer`` is where (RFC 6901,
    relative to the value checked), ``problem`` says what, in English; the engine turns
    it into a bilingual refusal."""

    def __init__(self, pointer: str, problem: str, problem_id: str) -> None:
        super().__init__(problem)
        self.pointer = pointer
        self.problem = problem
        self.problem_id = problem_id

    def __str__(self) -> str:  # the pointer is completed while the error unwinds
        return f"{self.pointer or '/'}: {self.problem}"


def _immutable(self: Any, *args: Any, **kwargs: Any) -> NoReturn:
    raise ImmutableError(
        f"this {type(self).__name__} is part of a recorded snapshot or event and cannot be "
        "changed; copy it first (paketflow.thaw(value) gives mutable dicts and lists)"
    )


class FrozenDict(dict[str, Any]):
    """A read-only ``dict`` (every mutating method raises
    :class:`~paketflow.ImmutableError`). Equal to a plain ``dict`` with the same items."""

    __slots__ = ()
    __setitem__ = __delitem__ = __ior__ = _immutable
    clear = pop = popitem = setdefault = update = _immutable

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, memo: Any) -> FrozenDict:
        return self

    def __reduce__(self) -> Any:
        return (FrozenDict, (dict(self),))

    def __repr__(self) -> str:
        return dict.__repr__(self)


class FrozenList(list[Any]):
    """A read-only ``list`` (every mutating method raises
    :class:`~paketflow.ImmutableError`). Equal to a plain ``list`` with the same items."""

    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _immutable
    append = extend = insert = pop = remove = clear = sort = reverse = _immutable

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self))

    def __copy__(self) -> FrozenList:
        return self

    def __deepcopy__(self, memo: Any) -> FrozenList:
        return self

    def __reduce__(self) -> Any:
        return (FrozenList, (list(self),))

    def __repr__(self) -> str:
        return list.__repr__(self)


EMPTY = FrozenDict()


_AS_IS = frozenset({FrozenDict, FrozenList, str, int, float, bool, type(None)})


def freeze(value: Any) -> Any:
    """A deeply frozen copy of a value already known to be JSON (no checks). Frozen
    containers and scalars are returned as they are."""
    t = type(value)
    if t in _AS_IS:
        return value
    if isinstance(value, dict):
        return FrozenDict({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return FrozenList([freeze(v) for v in value])
    return value


def thaw(value: Any) -> Any:
    """A deep copy of a JSON value with plain (mutable) ``dict`` and ``list``."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [thaw(v) for v in value]
    return value


def _esc(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _fail(ptr: str, en: str, id_: str) -> NoReturn:
    raise JSONValueError(ptr, en, id_)


def _check_str(s: str, limit: int = MAX_STRING) -> None:
    if len(s) > limit:
        _fail(
            "",
            f"string of {len(s)} characters is longer than the limit of {limit}",
            f"teks {len(s)} karakter melebihi batas {limit}",
        )
    if not s.isascii():
        try:
            s.encode("utf-8")
        except UnicodeEncodeError:
            _fail(
                "",
                "string contains a lone surrogate (not valid Unicode text)",
                "teks berisi surrogate tunggal (bukan teks Unicode yang sah)",
            )


def check(
    value: Any,
    *,
    max_depth: int = MAX_DEPTH,
    max_nodes: int = MAX_NODES,
    max_string: int = MAX_STRING,
) -> Any:
    """Check that ``value`` is strict JSON within the limits and return a deeply frozen
    copy. Raises :class:`JSONValueError` naming the first offending place. The depth
    is checked before descending, so hostile nesting cannot exhaust the interpreter
    stack (the recursion is at most ``max_depth`` deep)."""
    budget = [max_nodes, max_nodes, max_string]  # remaining, limit, longest string
    return _check(value, 0, budget, max_depth)


def _check(v: Any, depth: int, budget: list[int], max_depth: int) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        _fail(
            "",
            f"value has more than {budget[1]} parts (the limit)",
            f"nilai memiliki lebih dari {budget[1]} bagian (batas)",
        )
    t = type(v)
    if t is str:
        _check_str(v, budget[2])
        return v
    if t is int:
        if not -MAX_INT <= v <= MAX_INT:
            _fail(
                "",
                "integer is outside the accepted range ±(2**53 - 1) "
                "(use a string for larger numbers)",
                "bilangan bulat di luar rentang ±(2**53 - 1) (gunakan teks untuk bilangan besar)",
            )
        return v
    if t is bool or v is None:
        return v
    if t is float:
        if not math.isfinite(v):
            _fail("", f"{v!r} is not a JSON number", f"{v!r} bukan bilangan JSON")
        if not -MAX_INT <= v <= MAX_INT:
            _fail(
                "",
                "number is outside the accepted range ±(2**53 - 1) "
                "(use a string for larger numbers)",
                "bilangan di luar rentang ±(2**53 - 1) (gunakan teks untuk bilangan besar)",
            )
        return v
    if isinstance(v, Mapping):
        if depth >= max_depth:
            _fail(
                "",
                f"nesting deeper than {max_depth} levels (the limit)",
                f"bersarang lebih dari {max_depth} tingkat (batas)",
            )
        out: dict[str, Any] = {}
        key: Any = None
        keyed = False  # whether a failure is inside the member ``key``
        try:
            for key, item in v.items():
                keyed = False
                if type(key) is not str:
                    _fail(
                        "",
                        f"object key {_short(key)} is not a string",
                        f"kunci objek {_short(key)} bukan teks",
                    )
                keyed = True
                if len(key) > 64 or not key.isascii():
                    _check_str(key, budget[2])
                t = type(item)
                # Inline the common scalars: a payload is mostly flat.
                if (
                    (t is str and len(item) <= 256 and item.isascii())
                    or (t is int and -MAX_INT <= item <= MAX_INT)
                    or t is bool
                    or item is None
                ):
                    budget[0] -= 1
                    out[key] = item
                else:
                    out[key] = _check(item, depth + 1, budget, max_depth)
            keyed = False
            if budget[0] < 0:
                _fail(
                    "",
                    f"value has more than {budget[1]} parts (the limit)",
                    f"nilai memiliki lebih dari {budget[1]} bagian (batas)",
                )
        except JSONValueError as exc:
            if keyed:
                exc.pointer = "/" + _esc(key) + exc.pointer
            raise
        return FrozenDict(out)
    if isinstance(v, list | tuple):
        if depth >= max_depth:
            _fail(
                "",
                f"nesting deeper than {max_depth} levels (the limit)",
                f"bersarang lebih dari {max_depth} tingkat (batas)",
            )
        items = []
        for i, item in enumerate(v):
            try:
                items.append(_check(item, depth + 1, budget, max_depth))
            except JSONValueError as exc:
                exc.pointer = f"/{i}{exc.pointer}"
                raise
        return FrozenList(items)
    _fail(
        "",
        f"{type(v).__name__} {_short(v)} is not a JSON value (use strings, numbers, "
        "booleans, null, lists and objects)",
        f"{type(v).__name__} {_short(v)} bukan nilai JSON (gunakan teks, angka, "
        "boolean, null, daftar dan objek)",
    )


def _short(v: Any) -> str:
    try:
        text = repr(v)
    except Exception:  # a hostile __repr__ must not escape
        text = f"<{type(v).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."


def canonical(value: Any) -> bytes:
    """RFC 8785 canonical JSON bytes of a JSON value (frozen containers included)."""
    return rfc8785.dumps(value)


def pointer(parts: Iterable[str | int]) -> str:
    """The RFC 6901 JSON Pointer of ``parts`` (``["a", "b/c", 0]`` → ``/a/b~1c/0``)."""
    return "".join("/" + jsonpointer.escape(str(p)) for p in parts)


class PointerNotFound(Exception):
    """Internal: a JSON Pointer names nothing in the document (or is malformed)."""


def resolve_pointer(doc: Any, text: str) -> Any:
    """The value at the RFC 6901 JSON Pointer ``text`` (via ``jsonpointer``)."""
    try:
        return jsonpointer.resolve_pointer(doc, text)
    except jsonpointer.JsonPointerException as exc:
        raise PointerNotFound(str(exc)) from None


def parse_pointer(text: str) -> Sequence[str]:
    """The reference tokens of an RFC 6901 JSON Pointer (unescaped)."""
    return tuple(jsonpointer.JsonPointer(text).parts)


class PatchFailed(Exception):
    """An RFC 6902 operation could not be applied. ``test`` is true when a ``test``
    operation failed; ``message`` says what, naming the path."""

    def __init__(self, message: str, *, test: bool) -> None:
        super().__init__(message)
        self.message = message
        self.test = test


def apply_patch_op(doc: Any, op: Mapping[str, Any]) -> Any:
    """Apply one RFC 6902 JSON Patch operation (via ``jsonpatch``) to ``doc``, in
    place where the operation allows it; return the resulting document. The
    operation's value is copied, never shared with the result."""
    path = op.get("path")
    try:
        return jsonpatch.JsonPatch([copy.deepcopy(dict(op))]).apply(doc, in_place=True)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
        if op.get("op") == "test":
            raise PatchFailed(f"test of {path!r} failed: {exc}", test=True) from None
        raise PatchFailed(f"{path!r}: {exc}", test=False) from None
