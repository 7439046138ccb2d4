"""Source maps: longest-prefix mapping of JSON Pointers and the line of a pointer in a
JSON text."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from paketflow._definition._sourcemap import Origins, line_of, tokens


def test_longest_recorded_prefix_wins() -> None:
    """A pointer maps through its longest recorded prefix; unrecorded ones stay."""
    o = Origins()
    o.add("/states/A", "/states/S/states/A")
    o.add("/states/A/on/x", "/states/S/on/x")
    assert o.map("/states/A/on/x/roles/0") == "/states/S/on/x/roles/0"
    assert o.map("/states/A/labels") == "/states/S/states/A/labels"
    assert o.map("/roles/R") == "/roles/R"
    assert o.find("/roles/R") is None
    assert len(o) == 2


def test_escaped_tokens_are_kept() -> None:
    """Keys with '/' and '~' survive the mapping."""
    o = Origins()
    o.add("/a~1b", "/c~0d")
    assert o.map("/a~1b/e") == "/c~0d/e"
    assert tokens("/a~1b/c~0d") == ["a/b", "c~d"]


TEXT = """{
  "a": 1,
  "b": {
    "c": [10,
          {"d": "x"}],
    "e~f": true
  }
}"""


def test_line_of_each_value() -> None:
    """The line where the value at a pointer starts; the deepest existing parent's
    line for a pointer that does not exist; None for text that is not JSON."""
    assert line_of(TEXT, "") == 1
    assert line_of(TEXT, "/a") == 2
    assert line_of(TEXT, "/b/c/1/d") == 5
    assert line_of(TEXT, "/b/e~0f") == 6
    assert line_of(TEXT, "/b/zz") == 3
    assert line_of(TEXT, "/b/c/9") == 4
    assert line_of("{", "/a") is None


@given(st.dictionaries(st.text(max_size=5), st.integers(), max_size=6))
def test_line_of_finds_every_key_of_an_indented_object(doc: dict[str, int]) -> None:
    """In ``json.dumps(indent=1)`` output key number i sits on line i + 2."""
    text = json.dumps({"top": doc}, indent=1)
    for i, key in enumerate(doc):
        pointer = "/top/" + key.replace("~", "~0").replace("/", "~1")
        assert line_of(text, pointer) == i + 3
