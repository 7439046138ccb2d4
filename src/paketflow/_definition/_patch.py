"""RFC 7396 JSON Merge Patch and RFC 6902 JSON Patch (``jsonpatch``) on plain JSON
values."""

from __future__ import annotations

import copy
from typing import Any

from paketflow._json import PatchFailed, PointerNotFound, apply_patch_op, resolve_pointer


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


def get(doc: Any, pointer: str) -> Any:
    """The value at ``pointer`` (RFC 6901, via ``jsonpointer``); :class:`PatchError`
    when it does not exist."""
    try:
        return resolve_pointer(doc, pointer)
    except PointerNotFound as exc:
        raise PatchError("variant.patch-failed", f"{pointer!r}: {exc}") from None


def apply_op(doc: Any, op: dict[str, Any]) -> Any:
    """Apply one RFC 6902 operation to ``doc`` (modified in place); return the new doc.
    The JSON Patch itself is ``jsonpatch``'s (via :func:`paketflow._json.apply_patch_op`)."""
    try:
        return apply_patch_op(doc, op)
    except PatchFailed as exc:
        code = "variant.test-failed" if exc.test else "variant.patch-failed"
        raise PatchError(code, exc.message) from None
