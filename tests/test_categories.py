"""Refusal categories: every built-in code has one, definitions declare theirs, and
the schema accepts only the seven categories."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

import paketflow
from paketflow._categories import BUILTIN_CATEGORIES, CATEGORIES, DEFAULT_CATEGORY, category_of
from paketflow._runtime.messages import BUILTIN

ROOT = Path(__file__).resolve().parent.parent


def test_every_builtin_code_has_a_category() -> None:
    """Each code of the engine's message table has a built-in category."""
    assert set(BUILTIN) <= set(BUILTIN_CATEGORIES)
    assert set(BUILTIN_CATEGORIES.values()) <= set(CATEGORIES)


def test_builtin_category_wins_over_a_declaration() -> None:
    """A definition may reword a built-in code but not recategorise it."""
    assert category_of("ERR_PERAN_TIDAK_BERWENANG", {"ERR_PERAN_TIDAK_BERWENANG": "data"}) == (
        "permission"
    )


def test_declared_and_default_categories() -> None:
    """A definition's own code takes its declared category; undeclared or unknown
    values fall back to the default."""
    assert category_of("ERR_X", {"ERR_X": "budget"}) == "budget"
    assert category_of("ERR_X", {"ERR_X": None}) == DEFAULT_CATEGORY == "rule"
    assert category_of("ERR_Y") == "rule"


@pytest.mark.parametrize("path", sorted((ROOT / "processes").glob("*.json")), ids=lambda p: p.name)
def test_shipped_definitions_declare_every_refusal_category(path: Path) -> None:
    """Every ERR_ message of a shipped definition declares its category."""
    definition = paketflow.load_definition(path)
    undeclared = [
        code
        for code, msg in definition.messages.items()
        if code.startswith("ERR_") and msg.category is None
    ]
    assert not undeclared
    assert definition.category("ERR_SHARING_PEMDA") == "budget"


def _with_category(mini_doc: dict[str, Any], category: Any) -> dict[str, Any]:
    doc = copy.deepcopy(mini_doc)
    doc.setdefault("messages", {})["ERR_MINI"] = {"id": "x", "en": "x", "category": category}
    return doc


def test_definition_category_method(mini_doc: dict[str, Any]) -> None:
    """``ProcessDefinition.category`` reads ``/messages/<code>/category``."""
    definition = paketflow.load_definition(_with_category(mini_doc, "deadline"))
    assert definition.messages["ERR_MINI"].category == "deadline"
    assert definition.category("ERR_MINI") == "deadline"
    assert definition.category("ERR_STATUS_AKHIR") == "state"


def test_schema_rejects_an_unknown_category(mini_doc: dict[str, Any]) -> None:
    """A category outside the seven is a schema problem at its pointer."""
    with pytest.raises(paketflow.DefinitionError) as info:
        paketflow.load_definition(_with_category(mini_doc, "money"))
    assert [p.pointer for p in info.value.errors] == ["/messages/ERR_MINI/category"]
    assert json.dumps(CATEGORIES)
