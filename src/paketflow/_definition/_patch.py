"""RFC 7396 JSON Merge Patch and RFC 6902 JSON Patch on plain JSON values."""

from __future__ import annotations

import copy
from typing import Any


class PatchError(Exception):
    """A JSON Patch operation failed. ``code`` is ``variant.patch-failed`` or
    ``variant.test-failed``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def merge_patch(target: Any, patch: Any) -> Any:
    """Apply an RFC 7396 merge patch; return the result (inputs are not modified)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _tokens(pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise PatchError("variant.patch-failed", f"{pointer!r} is not a JSON Pointer")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _index(container: list[Any], token: str, pointer: str, *, append: bool) -> int:
    if append and token == "-":
        return len(container)
    if not token.isdigit() or (token != "0" and token.startswith("0")):
        raise PatchError("variant.patch-failed", f"{pointer!r}: {token!r} is not an array index")
    i = int(token)
    if i > len(container) or (i == len(container) and not append):
        raise PatchError("variant.patch-failed", f"{pointer!r}: index {i} is out of range")
    return i


def _parent(doc: Any, pointer: str) -> tuple[Any, str]:
    tokens = _tokens(pointer)
    if not tokens:
        raise PatchError("variant.patch-failed", "the operation needs a path below the root")
    node = doc
    for token in tokens[:-1]:
        node = _child(node, token, pointer)
    return node, tokens[-1]


def _child(node: Any, token: str, pointer: str) -> Any:
    if isinstance(node, dict):
        if token not in node:
            raise PatchError("variant.patch-failed", f"{pointer!r}: no member {token!r}")
        return node[token]
    if isinstance(node, list):
        return node[_index(node, token, pointer, append=False)]
    raise PatchError("variant.patch-failed", f"{pointer!r}: cannot descend into a scalar")


def get(doc: Any, pointer: str) -> Any:
    """The value at ``pointer``; :class:`PatchError` when it does not exist."""
    node = doc
    for token in _tokens(pointer):
        node = _child(node, token, pointer)
    return node


def _add(doc: Any, pointer: str, value: Any) -> Any:
    if pointer == "":
        return value
    parent, last = _parent(doc, pointer)
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, pointer, append=True), value)
    else:
        raise PatchError("variant.patch-failed", f"{pointer!r}: the parent is not a container")
    return doc


def _remove(doc: Any, pointer: str) -> Any:
    parent, last = _parent(doc, pointer)
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError("variant.patch-failed", f"{pointer!r}: no member {last!r}")
        return parent.pop(last)
    if isinstance(parent, list):
        return parent.pop(_index(parent, last, pointer, append=False))
    raise PatchError("variant.patch-failed", f"{pointer!r}: the parent is not a container")


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return (type(a) is type(b) and a == b) or (
        isinstance(a, int | float) and isinstance(b, int | float) and a == b
    )


def apply_op(doc: Any, op: dict[str, Any]) -> Any:
    """Apply one RFC 6902 operation to ``doc`` (modified in place); return the new doc."""
    kind, path = op["op"], op["path"]
    if kind == "add":
        return _add(doc, path, copy.deepcopy(op["value"]))
    if kind == "remove":
        _remove(doc, path)
        return doc
    if kind == "replace":
        if path == "":
            return copy.deepcopy(op["value"])
        get(doc, path)
        _remove(doc, path)
        return _add(doc, path, copy.deepcopy(op["value"]))
    if kind == "move":
        src = op["from"]
        if path != src and path.startswith(src + "/"):
            raise PatchError("variant.patch-failed", f"cannot move {src!r} into itself")
        if path == src:
            get(doc, src)
            return doc
        value = _remove(doc, src) if src else doc
        return _add(doc, path, value)
    if kind == "copy":
        return _add(doc, path, copy.deepcopy(get(doc, op["from"])))
    # test
    try:
        actual = get(doc, path)
    except PatchError as exc:
        raise PatchError("variant.test-failed", f"test of {path!r} failed: {exc.message}") from None
    if not _equal(actual, op["value"]):
        raise PatchError(
            "variant.test-failed",
            f"test of {path!r} failed: expected {op['value']!r:.80}, found {actual!r:.80}",
        )
    return doc
