"""Message templates: ``{name}`` placeholders only, Indonesian number grouping, and
the built-in bilingual refusal messages."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paketflow._runtime.messages import BUILTIN, render


def test_render_fills_placeholders() -> None:
    """Each ``{name}`` is replaced by its parameter."""
    assert render("{a} and {b}, {a}", {"a": "x", "b": 2}) == "x and 2, x"


def test_render_leaves_unknown_placeholders() -> None:
    """A placeholder without a parameter stays as written."""
    assert render("Tahap {tahap}: {x}", {"tahap": "DRAFT"}) == "Tahap DRAFT: {x}"


def test_render_without_placeholders() -> None:
    """A template without placeholders is returned unchanged; extra params are ignored."""
    assert render("Dana kurang.", {"a": 1}) == "Dana kurang."
    assert render("", {}) == ""


@pytest.mark.parametrize(
    "template",
    [
        "{x.__class__}",
        "{x.__class__.__mro__}",
        "{x[0]}",
        "{x!r}",
        "{x:>10}",
        "{0}",
        "{}",
        "{ x }",
        "{1x}",
    ],
)
def test_render_does_not_interpret_format_syntax(template: str) -> None:
    """Attribute access, indexing, conversions, format specs and positional fields
    are never interpreted: they stay literal (no str.format on user templates)."""
    assert render(template, {"x": [1, 2], "0": "zero"}) == template


def test_render_is_a_single_pass() -> None:
    """A parameter value that looks like a placeholder is not expanded again."""
    assert render("{a}", {"a": "{b}", "b": "secret"}) == "{b}"


def test_render_double_braces() -> None:
    """There is no brace escaping: ``{{a}}`` fills the inner placeholder."""
    assert render("{{a}}", {"a": 1}) == "{1}"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (130_000_000, "130.000.000"),
        (10_000, "10.000"),
        (9_999, "9999"),
        (1_000, "1000"),
        (0, "0"),
        (-250_000, "-250.000"),
        (1_234_567_890, "1.234.567.890"),
        (1.5, "1.5"),
        (100000.5, "100000.5"),
        (True, "True"),
        (False, "False"),
        (None, "-"),
        ("teks", "teks"),
    ],
)
def test_render_value_formatting(value: Any, text: str) -> None:
    """Integers of five digits or more get Indonesian thousands dots; booleans,
    floats and strings are written plainly; null is '-'."""
    assert render("{v}", {"v": value}) == text


def test_render_rupiah() -> None:
    """Amounts read as Rupiah: Rp130.000.000."""
    assert render("Rp{jumlah}", {"jumlah": 130_000_000}) == "Rp130.000.000"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (["a", "b"], "a, b"),
        (("x",), "x"),
        ([], "-"),
        ([None, 20_000, [1, 2]], "-, 20.000, 1, 2"),
        (frozenset({"only"}), "only"),
        ({"one"}, "one"),
    ],
)
def test_render_lists(value: Any, text: str) -> None:
    """Lists, tuples and sets are joined with ', ' (each item formatted); empty is '-'."""
    assert render("{v}", {"v": value}) == text


@given(st.dictionaries(st.from_regex(r"[a-z_][a-z0-9_]{0,5}", fullmatch=True), st.text()))
def test_render_never_fails_on_text(params: dict[str, str]) -> None:
    """Rendering any placeholder names with text values substitutes them verbatim."""
    template = " ".join("{" + k + "}" for k in params)
    assert render(template, params) == " ".join(params.values())


PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@pytest.mark.parametrize("code", sorted(BUILTIN))
def test_builtin_messages_are_bilingual(code: str) -> None:
    """Every built-in code has an Indonesian and an English text, both non-empty,
    distinct, ending with a full stop and using the same number of placeholders."""
    entry = BUILTIN[code]
    assert isinstance(entry, tuple) and len(entry) == 2
    text_id, text_en = entry
    assert text_id and text_en and text_id != text_en
    assert text_id.endswith(".") and text_en.endswith(".")
    assert len(set(PLACEHOLDER.findall(text_id))) == len(set(PLACEHOLDER.findall(text_en)))
    assert code.startswith("ERR_")


@pytest.mark.parametrize("code", sorted(BUILTIN))
def test_builtin_messages_render_fully(code: str) -> None:
    """With every placeholder supplied, no braces remain in either language."""
    for text in BUILTIN[code]:
        params = {name: "X" for name in PLACEHOLDER.findall(text)}
        rendered = render(text, params)
        assert "{" not in rendered and "}" not in rendered


def test_builtin_example() -> None:
    """The role refusal renders in both languages with lists joined."""
    text_id, text_en = BUILTIN["ERR_PERAN_TIDAK_BERWENANG"]
    params = {
        "peran": "MEMBER",
        "aksi": "submit",
        "berwenang": ["HEAD", "CHECKER"],
        "role": "MEMBER",
        "action": "submit",
        "authorised": ["HEAD", "CHECKER"],
    }
    assert render(text_id, params) == (
        "Peran MEMBER tidak berwenang melakukan submit. Yang berwenang: HEAD, CHECKER."
    )
    assert render(text_en, params) == (
        "Role MEMBER is not authorised to perform submit. Authorised: HEAD, CHECKER."
    )


def test_loader_knows_exactly_the_builtin_codes() -> None:
    """The definition loader accepts exactly the engine's built-in message codes
    without a declaration (the two lists cannot drift apart)."""
    from paketflow._definition import BUILTIN_MESSAGES

    assert frozenset(BUILTIN) == BUILTIN_MESSAGES
