"""Tests of the published JSON Schema and the generated docs reference."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from paketflow._cli import main
from paketflow._definition import SCHEMA_ID, schema

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILE = ROOT / "src" / "paketflow" / "_definition" / "schemas" / "definition-v1.json"


def test_schema_is_valid_draft_2020_12() -> None:
    """The schema passes the draft 2020-12 meta-schema and has the versioned $id."""
    sch = schema()
    Draft202012Validator.check_schema(sch)
    assert sch["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert sch["$id"] == SCHEMA_ID == "urn:paketflow:schema:definition:1"


def test_schema_function_returns_the_package_data() -> None:
    """schema() returns the file shipped as package data, as a fresh copy."""
    assert schema() == json.loads(SCHEMA_FILE.read_text("utf-8"))
    first = schema()
    first["$id"] = "changed"
    assert schema()["$id"] == SCHEMA_ID


def test_cli_schema_prints_the_package_data(capsys: pytest.CaptureFixture[str]) -> None:
    """`paketflow schema` prints exactly the schema."""
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == schema()


def _walk_properties(node: Any, where: str = "") -> list[str]:
    missing: list[str] = []
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            if not (isinstance(sub, dict) and sub.get("description")):
                missing.append(f"{where}/properties/{name}")
        for key, sub in node.items():
            if key == "if":  # a condition, not a documented property
                continue
            missing.extend(_walk_properties(sub, f"{where}/{key}"))
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            missing.extend(_walk_properties(sub, f"{where}/{i}"))
    return missing


def test_every_property_has_a_description() -> None:
    """Every property in the schema is described (the docs reference is built from it)."""
    assert _walk_properties(schema()) == []


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location(
        "gen_schema_reference", ROOT / "scripts" / "gen_schema_reference.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_reference_is_up_to_date() -> None:
    """docs/definition-language.md ends with the reference generated from the schema;
    run scripts/gen_schema_reference.py when this fails."""
    gen = _generator()
    doc = ROOT / "docs" / "definition-language.md"
    current = doc.read_text("utf-8")
    assert gen.regenerate(current, schema(2)) == current


def test_format_2_schema_is_generated_from_format_1() -> None:
    """schemas/definition-v2.json is what scripts/gen_schema_v2.py derives from the
    format-1 schema; it is valid draft 2020-12 and every property is described."""
    spec = importlib.util.spec_from_file_location(
        "gen_schema_v2", ROOT / "scripts" / "gen_schema_v2.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.build() == schema(2)
    Draft202012Validator.check_schema(schema(2))
    assert schema(2)["$id"] == "urn:paketflow:schema:definition:2"
    assert _walk_properties(schema(2)) == []


def test_cli_schema_prints_format_2(capsys: pytest.CaptureFixture[str]) -> None:
    """`paketflow schema --format 2` prints the schema of format 2."""
    assert main(["schema", "--format", "2"]) == 0
    assert json.loads(capsys.readouterr().out) == schema(2)


def test_errors_doc_is_up_to_date_and_covers_the_corpus() -> None:
    """docs/errors.md equals what scripts/gen_errors_doc.py renders (exact output lines)
    and documents every code of the invalid corpus."""
    spec = importlib.util.spec_from_file_location(
        "gen_errors_doc", ROOT / "scripts" / "gen_errors_doc.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    current = (ROOT / "docs" / "errors.md").read_text("utf-8")
    assert module.render() == current
    corpus = json.loads((ROOT / "processes" / "invalid" / "expected.json").read_text("utf-8"))
    for entry in corpus.values():
        assert f"\n### {entry['code']}\n" in current
