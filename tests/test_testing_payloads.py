"""Representative payloads and the payload strategy of paketflow.testing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from jsonschema import Draft202012Validator

from paketflow.testing._payloads import minimal, representatives, strategy

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "hasil": {"enum": ["layak", "perbaikan"]},
        "ok": {"type": "boolean"},
        "pos": {"type": "string"},
        "jumlah": {"type": "integer", "minimum": 1},
        "tanggal": {"type": "string", "format": "date"},
        "lines": {"type": "array", "minItems": 1, "items": {"type": "integer"}},
    },
    "required": ["hasil", "jumlah", "lines"],
}
TODAY = dt.date(2012, 9, 4)


def test_minimal_payload_is_valid() -> None:
    """The minimal payload holds only the required fields, each at its minimum."""
    value = minimal(SCHEMA, TODAY)
    assert value == {"hasil": "layak", "jumlah": 1, "lines": [0]}
    Draft202012Validator(SCHEMA).validate(value)


def test_representatives_start_empty_and_cover_enums_seen_strings_and_big() -> None:
    """Representatives: the empty payload first, the minimal one, each enum and
    boolean value, the seen payloads, a seen payload with a string from the data and
    one with a big amount."""
    seen = [{"hasil": "layak", "jumlah": 5, "lines": [1], "pos": "A"}]
    reps = representatives(SCHEMA, today=TODAY, seen=seen, strings=["C"], big=999, limit=20)
    assert reps[0] == {}
    assert reps[1] == {"hasil": "layak", "jumlah": 1, "lines": [0]}
    assert {"hasil": "perbaikan", "jumlah": 1, "lines": [0]} in reps
    assert {"hasil": "layak", "jumlah": 1, "lines": [0], "ok": True} in reps
    assert seen[0] in reps
    assert {**seen[0], "pos": "C"} in reps
    assert {**seen[0], "jumlah": 999} in reps
    assert len(reps) == len({str(sorted(r.items())) for r in reps})


def test_no_schema_gives_the_empty_payload() -> None:
    """An event without a payload schema is tried with the empty payload."""
    assert representatives(None, today=TODAY) == [{}]


@settings(max_examples=60, database=None)
@given(strategy(SCHEMA))
def test_strategy_values_match_the_schema(value: Any) -> None:
    """For the supported subset every generated value is valid."""
    Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(value)
