"""Fuzz tests: whatever the input, load_definition raises only DefinitionError."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paketflow._definition import ProcessDefinition, load_definition
from paketflow._errors import DefinitionError

BASE_PATH = Path(__file__).resolve().parent.parent / "processes" / "invalid" / "base" / "mini.json"
BASE: dict[str, Any] = json.loads(BASE_PATH.read_text("utf-8"))

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=30,
)
KEYS = [
    "format",
    "id",
    "version",
    "labels",
    "roles",
    "events",
    "initial",
    "states",
    "extends",
    "patch",
    "jsonPatch",
    "on",
    "target",
    "alternatives",
    "signatures",
    "deadlines",
    "due",
]
definition_like = st.dictionaries(
    st.sampled_from(KEYS) | st.text(max_size=6), json_values, max_size=8
)

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _only_definition_error(source: Any) -> None:
    try:
        result = load_definition(source)
    except DefinitionError as exc:
        assert exc.errors, "a DefinitionError lists at least one problem"
        for problem in exc.errors:
            assert problem.code and isinstance(problem.pointer, str)
            assert problem.pointer == "" or problem.pointer.startswith("/")
    else:
        assert isinstance(result, ProcessDefinition)


@FUZZ
@given(json_values | definition_like)
def test_arbitrary_values_raise_only_definition_error(value: Any) -> None:
    """Any JSON-ish Python value as source: a definition or a DefinitionError."""
    _only_definition_error(value)


@FUZZ
@given(st.text(max_size=200) | st.binary(max_size=200))
def test_arbitrary_file_contents_raise_only_definition_error(
    tmp_path_factory: Any, content: str | bytes
) -> None:
    """Any text or bytes in a file: only DefinitionError escapes."""
    path = tmp_path_factory.mktemp("fuzz") / "d.json"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", errors="surrogatepass")
    else:
        path.write_bytes(content)
    _only_definition_error(path)


@FUZZ
@given(st.text(max_size=300))
def test_arbitrary_strings_as_paths(text: str) -> None:
    """Any string given as a path: only DefinitionError escapes."""
    _only_definition_error(text)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


ALL_PATHS = _paths(BASE)


@FUZZ
@given(
    st.lists(
        st.tuples(st.sampled_from(ALL_PATHS), st.booleans(), json_values), min_size=1, max_size=4
    )
)
def test_mutated_valid_definition(mutations: list[tuple[tuple[Any, ...], bool, Any]]) -> None:
    """Deleting or replacing random parts of a valid definition: success or
    DefinitionError, nothing else."""
    doc = copy.deepcopy(BASE)
    for path, delete, value in mutations:
        parent: Any = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            if delete:
                del parent[path[-1]]
            else:
                parent[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    _only_definition_error(doc)
