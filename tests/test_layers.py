"""The layer picture of the source tree: lower layers never import upper ones.

errors → JSON utilities → records (events) → stores; the runtime sits above the stores
and the definitions; nothing below the runtime imports it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "paketflow"

#: For each module (or package), the paketflow modules it may import.
ALLOWED = {
    "_errors": {"paketflow._json", "paketflow._categories"},  # lazily: frozen params, categories
    "_categories": set(),
    "_json": {"paketflow._errors"},
    "_events": {"paketflow._errors", "paketflow._json"},
    "_store": {"paketflow._errors", "paketflow._json", "paketflow._events", "paketflow._store"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("paketflow"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("paketflow"))
    return found


def _files(layer: str) -> list[Path]:
    target = SRC / layer
    return sorted(target.rglob("*.py")) if target.is_dir() else [SRC / f"{layer}.py"]


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_lower_layers_import_only_lower_layers(layer: str) -> None:
    """Each lower layer imports only the paketflow modules below it (the stores only
    the records, the JSON utilities and the errors)."""
    for path in _files(layer):
        bad = {
            m
            for m in _imports(path)
            if not any(m == a or m.startswith(a + ".") for a in ALLOWED[layer])
        }
        assert not bad, f"{path.relative_to(SRC)} imports {sorted(bad)}"


def test_nothing_below_the_runtime_imports_it() -> None:
    """No module outside ``paketflow._runtime`` (except the package itself, the CLI and
    the testing kit) imports the runtime."""
    upper = {"__init__.py", "__main__.py", "_cli.py"}
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC)
        if rel.parts[0] in {"_runtime", "testing"} or (rel.name in upper and len(rel.parts) == 1):
            continue
        if rel.parts[0].startswith(("_cli", "_export", "_report", "_audit")):
            continue
        runtime = {m for m in _imports(path) if m.startswith("paketflow._runtime")}
        assert not runtime, f"{rel} imports {sorted(runtime)}"
