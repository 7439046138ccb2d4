"""Regenerate the JSON Schema of format 2 from the schema of format 1.

Format 2 is format 1 plus stages (a state with child ``states``), ``parameters``,
``$defs``, opting out of an inherited event (``"event": null``) and CEL text in every
expression slot. ``$use`` and ``$param`` are replaced before the schema is applied, so
the schema describes the document after they are expanded.

    python scripts/gen_schema_v2.py          # rewrite schemas/definition-v2.json
    python scripts/gen_schema_v2.py --check  # exit 1 when it is out of date
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

SCHEMAS = Path(__file__).resolve().parent.parent / "src" / "paketflow" / "_definition" / "schemas"
V1, V2 = SCHEMAS / "definition-v1.json", SCHEMAS / "definition-v2.json"
ID1, ID2 = "urn:paketflow:schema:definition:1", "urn:paketflow:schema:definition:2"

PARAMETER = {
    "description": "A typed parameter with a default (/parameters/<name>).",
    "type": "object",
    "properties": {
        "type": {
            "enum": [
                "integer",
                "number",
                "string",
                "boolean",
                "duration",
                "date",
                "role",
                "list",
                "object",
            ],
            "description": "The type of the value (list: a list of items of type items).",
        },
        "items": {
            "enum": ["integer", "number", "string", "boolean", "duration", "date", "role"],
            "description": "The type of the items of a list.",
        },
        "default": {"description": "The value, unless a variant sets another one."},
        "minimum": {"type": "number", "description": "Smallest number (or list item)."},
        "maximum": {"type": "number", "description": "Largest number (or list item)."},
        "sum": {"type": "number", "description": "A list of numbers must add up to this."},
        "enum": {"type": "array", "description": "The allowed values."},
        "labels": {"$ref": "#/$defs/labels", "description": "Name in Indonesian and English."},
        "description": {"type": "string", "description": "What the knob changes."},
    },
    "required": ["type", "default"],
    "additionalProperties": False,
}

STAGE = {
    "description": "A stage (/states/<id> with child states): its on and deadlines apply to "
    "every state inside it unless a state overrides them.",
    "type": "object",
    "properties": {
        "labels": {"$ref": "#/$defs/labels", "description": "Name in Indonesian and English."},
        "initial": {
            "$ref": "#/$defs/id",
            "description": "The state entered when a transition targets the stage "
            "(default: its first child).",
        },
        "states": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"$ref": "#/$defs/id"},
            "additionalProperties": {"$ref": "#/$defs/stateOrStage"},
            "description": "The states (and stages) inside the stage.",
        },
        "deadlines": {
            "type": "object",
            "propertyNames": {"$ref": "#/$defs/id"},
            "additionalProperties": {"$ref": "#/$defs/deadline"},
            "description": "Deadlines armed when the stage is entered, kept in all its states.",
        },
        "on": {
            "type": "object",
            "propertyNames": {"$ref": "#/$defs/id"},
            "additionalProperties": {"$ref": "#/$defs/transition"},
            "description": "Transitions every non-final state inside inherits.",
        },
    },
    "required": ["labels", "states"],
    "additionalProperties": False,
}


def build() -> dict[str, Any]:
    v1 = json.loads(V1.read_text("utf-8"))
    text = json.dumps(v1).replace(ID1, ID2)
    schema: dict[str, Any] = json.loads(text)
    schema["title"] = "paketflow process definition, format 2"
    schema["description"] = (
        "A paketflow process definition of format 2 (or a variant of one), after $use and "
        "$param are expanded. See docs/definition-language.md."
    )
    defs = schema["$defs"]
    defs["expression"]["description"] = (
        "An expression: CEL text (a string) or a JSON expression tree (see docs/expressions.md)."
    )
    for name in ("definition", "variant"):
        props = defs[name]["properties"]
        props["format"] = {"const": 2, "description": "Language version, 2."}
    props = defs["definition"]["properties"]
    props["parameters"] = {
        "type": "object",
        "propertyNames": {"$ref": "#/$defs/id"},
        "additionalProperties": {"$ref": "#/$defs/parameter"},
        "description": 'Typed parameters by name: params.NAME in CEL, {"$param": NAME} '
        "anywhere, {params.NAME} in messages.",
    }
    props["$defs"] = {
        "type": "object",
        "propertyNames": {"$ref": "#/$defs/id"},
        "description": 'Named fragments: {"$use": NAME} anywhere, defs.NAME in CEL.',
    }
    props["states"]["additionalProperties"] = {"$ref": "#/$defs/stateOrStage"}
    props["initial"]["description"] = "Id of the initial state (or stage)."
    variant = defs["variant"]
    variant["properties"]["parameters"] = {
        "type": "object",
        "propertyNames": {"$ref": "#/$defs/id"},
        "description": "New values of the base's parameters, by name.",
    }
    variant["anyOf"] = [
        {"required": ["patch"]},
        {"required": ["jsonPatch"]},
        {"required": ["parameters"]},
    ]
    variant["description"] = (
        "A variant of a base definition: the base, then parameters, then patch (RFC 7396), "
        "then jsonPatch (RFC 6902), applied to the base as written (stages, $defs)."
    )
    state_on = defs["state"]["properties"]["on"]
    state_on["additionalProperties"] = {"anyOf": [{"$ref": "#/$defs/transition"}, {"type": "null"}]}
    state_on["description"] = "Transitions by event id; null opts out of an inherited one."
    defs["parameter"] = PARAMETER
    defs["stage"] = copy.deepcopy(STAGE)
    defs["stateOrStage"] = {
        "description": "A state, or a stage when it has child states.",
        "if": {"type": "object", "required": ["states"]},
        "then": {"$ref": "#/$defs/stage"},
        "else": {"$ref": "#/$defs/state"},
    }
    return schema


def render() -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        return 0 if V2.exists() and V2.read_text("utf-8") == text else 1
    V2.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
