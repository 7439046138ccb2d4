"""Size and repetition of a definition file: ``python scripts/measure_definition.py FILE``.

*Size* is the file's bytes as shipped. *Repetition* is the share of the document's
bytes that sit in repeated blocks: every JSON object or list whose compact form
(``json.dumps(..., separators=(",", ":"), sort_keys=True)``) is at least
``MIN_BLOCK`` bytes and occurs more than once in the document counts with all of its
occurrences (a block inside a counted block is not counted again), divided by the
compact size of the whole document. Issue 9 sets the targets for ``processes/paket.json``:
at most ``MAX_BYTES`` bytes and at most ``MAX_REPEATED`` repeated.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

MIN_BLOCK = 64
"""The smallest block (compact bytes) counted as repetition: shorter ones (a label
pair, a role list) are cheaper to write than to name."""
MAX_BYTES = 60_000
MAX_REPEATED = 0.05


def _compact(node: Any) -> str:
    return json.dumps(node, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def measure(path: str | Path) -> dict[str, Any]:
    """``bytes`` (file), ``compact`` (compact JSON bytes), ``repeated`` (bytes in
    repeated blocks) and ``ratio`` (repeated / compact) of the definition at ``path``."""
    raw = Path(path).read_bytes()
    doc = json.loads(raw)
    seen: dict[str, list[tuple[Any, ...]]] = {}

    def walk(node: Any, where: tuple[Any, ...]) -> None:
        if isinstance(node, dict | list):
            text = _compact(node)
            if len(text.encode()) >= MIN_BLOCK:
                seen.setdefault(text, []).append(where)
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, value in items:
                walk(value, (*where, key))

    walk(doc, ())
    counted: list[tuple[Any, ...]] = []
    repeated = 0
    # largest blocks first, so that a block inside a counted one is not counted again
    for text, places in sorted(seen.items(), key=lambda kv: -len(kv[0])):
        if len(places) < 2:
            continue
        for where in places:
            if not any(where[: len(c)] == c for c in counted):
                counted.append(where)
                repeated += len(text.encode())
    compact = len(_compact(doc).encode())
    return {
        "bytes": len(raw),
        "compact": compact,
        "repeated": repeated,
        "ratio": repeated / compact,
    }


def main(argv: list[str]) -> int:
    """Print the figures of each file; exit 1 when ``--check`` is given and a file
    misses the issue-9 targets."""
    check = "--check" in argv
    failed = False
    for name in [a for a in argv if a != "--check"]:
        m = measure(name)
        ok = m["bytes"] <= MAX_BYTES and m["ratio"] <= MAX_REPEATED
        failed |= check and not ok
        print(
            f"{name}: {m['bytes']} bytes, {m['repeated']} of {m['compact']} compact bytes "
            f"in repeated blocks ({m['ratio']:.1%})"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
