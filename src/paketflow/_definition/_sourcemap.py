"""Where a node of a resolved document came from: a prefix map of JSON Pointers, and
the line of a pointer in a JSON text.

Resolution (stages flattened, fragments and parameters expanded, variants applied)
copies parts of one document into another place. Each copy records
``new pointer prefix → old pointer``; a problem found at a pointer of the result is
mapped back by its longest recorded prefix, so ``/states/DRAF/on/batalkan/roles/0``
becomes ``/states/PERSIAPAN/on/batalkan/roles/0`` (the stage that wrote it once).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

__all__ = ["Origins", "line_of", "tokens"]

_DECODER = json.JSONDecoder()


def tokens(pointer: str) -> list[str]:
    """The reference tokens of a JSON Pointer (unescaped)."""
    if not pointer:
        return []
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _join(parts: Iterable[str]) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


class Origins:
    """A prefix map ``new pointer → old pointer``."""

    def __init__(self) -> None:
        self._map: dict[str, str] = {}

    def add(self, new: str, old: str) -> None:
        """Record that the node at ``new`` (and everything below) came from ``old``."""
        self._map[new] = old

    def __len__(self) -> int:
        return len(self._map)

    def find(self, pointer: str) -> str | None:
        """The old pointer of ``pointer`` by its longest recorded prefix; ``None`` when
        no prefix is recorded."""
        parts = tokens(pointer)
        for cut in range(len(parts), -1, -1):
            head = _join(parts[:cut])
            old = self._map.get(head)
            if old is not None:
                return old + _join(parts[cut:])
        return None

    def map(self, pointer: str) -> str:
        """The old pointer of ``pointer`` (itself when no prefix is recorded)."""
        found = self.find(pointer)
        return pointer if found is None else found


def line_of(text: str, pointer: str) -> int | None:
    """The 1-based line where the value at ``pointer`` starts in the JSON ``text``, or
    the line of the deepest existing parent; ``None`` when the text is not JSON."""
    try:
        return _line(text, tokens(pointer))
    except (ValueError, IndexError):
        return None


def _ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


def _line(text: str, parts: list[str]) -> int:
    i = _ws(text, 0)
    for token in parts:
        start = i
        if text[i] == "{":
            i = _ws(text, i + 1)
            found = False
            while text[i] != "}":
                key, i = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
                i = _ws(text, i)
                i = _ws(text, i + 1)  # the colon
                if key == token:
                    found = True
                    break
                _, i = _DECODER.raw_decode(text, i)
                i = _ws(text, i)
                if text[i] == ",":
                    i = _ws(text, i + 1)
            if not found:
                i = start
                break
        elif text[i] == "[" and token.isdigit():
            i = _ws(text, i + 1)
            index = int(token)
            n = 0
            while text[i] != "]" and n < index:
                _, i = _DECODER.raw_decode(text, i)
                i = _ws(text, i)
                if text[i] == ",":
                    i = _ws(text, i + 1)
                n += 1
            if text[i] == "]":
                i = start
                break
        else:
            break
    return text.count("\n", 0, i) + 1
