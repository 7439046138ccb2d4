"""Every file of processes/invalid/ must fail to load with its expected problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from paketflow._definition import load_definition
from paketflow._errors import DefinitionError

CORPUS = Path(__file__).resolve().parent.parent / "processes" / "invalid"
EXPECTED: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text("utf-8"))
FILES = sorted(p.name for p in CORPUS.glob("*.json") if p.name != "expected.json")


def test_manifest_lists_every_file() -> None:
    """expected.json names exactly the broken files of the corpus (at least 30)."""
    assert sorted(EXPECTED) == FILES
    assert len(FILES) >= 30


@pytest.mark.parametrize("name", FILES)
def test_broken_definition_fails_with_expected_problem(name: str) -> None:
    """Loading the file raises DefinitionError including the expected code at the pointer."""
    entry = EXPECTED[name]
    base = load_definition(CORPUS / entry["base"]) if "base" in entry else None
    with pytest.raises(DefinitionError) as info:
        load_definition(CORPUS / name, base=base)
    got = {(p.code, p.pointer) for p in info.value.errors}
    assert (entry["code"], entry["pointer"]) in got, info.value


@pytest.mark.parametrize("path", sorted((CORPUS / "base").glob("*.json")), ids=lambda p: p.name)
def test_corpus_bases_are_valid(path: Path) -> None:
    """The bases the corpus variants extend are themselves valid."""
    assert load_definition(path).source == str(path)
