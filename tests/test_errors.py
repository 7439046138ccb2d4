"""Refusals as plain JSON: Reason/Refused ``as_dict(lang)``, categories recorded by the
engine from the definition, and the category that decides an answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import paketflow
from paketflow._runtime.simulate import load_scenario, run_scenario

ROOT = Path(__file__).resolve().parent.parent


def _reason(code: str, category: str | None = None) -> paketflow.Reason:
    return paketflow.Reason(code, f"{code} id", f"{code} en", category=category)


def test_reason_as_dict_in_both_shapes() -> None:
    """Without ``lang`` the message is ``{"id", "en"}``; with it, the text; the
    category is always there and the result is JSON."""
    reason = _reason("ERR_DATA_TIDAK_VALID")
    both = reason.as_dict()
    assert both["message"] == {"id": "ERR_DATA_TIDAK_VALID id", "en": "ERR_DATA_TIDAK_VALID en"}
    assert both["category"] == "data"
    assert reason.as_dict("id")["message"] == "ERR_DATA_TIDAK_VALID id"
    json.dumps(both)


def test_recorded_category_wins_for_a_definitions_code() -> None:
    """A definition's code carries the category the engine recorded; without one the
    default applies."""
    assert _reason("ERR_X", "budget").kind == "budget"
    assert _reason("ERR_X").kind == "rule"


@pytest.mark.parametrize(
    ("codes", "want"),
    [
        (["ERR_DATA_TIDAK_VALID", "ERR_PERAN_TIDAK_BERWENANG"], "permission"),
        (["ERR_TANDA_TANGAN_KURANG", "ERR_STATUS_AKHIR"], "state"),
        (["ERR_TANDA_TANGAN_KURANG", "ERR_PEMISAHAN_TUGAS"], "segregation_of_duties"),
        (["ERR_TANDA_TANGAN_KURANG"], "rule"),
    ],
)
def test_refused_category_follows_precedence(codes: list[str], want: str) -> None:
    """Who may act decides before what is possible, before what to fix."""
    refused = paketflow.Refused("i-1", "go", [_reason(c) for c in codes])
    assert refused.category == want
    doc = refused.as_dict("en")
    assert doc["category"] == want and doc["codes"] == codes and doc["instance"] == "i-1"
    json.dumps(doc)


def test_engine_records_definition_categories() -> None:
    """SC-1's refusals carry the categories paket.json declares (a deferred budget line
    is ``budget``; a role that may not sign is ``permission``)."""
    definition = paketflow.load_definition(ROOT / "processes" / "paket-tahap-tunggal.json")
    result = run_scenario(
        definition, load_scenario(ROOT / "processes" / "scenarios" / "sc-1-saigon-2012.json")
    )
    kinds = {r.code: r.kind for s in result.steps for r in s.reasons}
    assert kinds["ERR_BUKAN_PRIORITAS"] == "budget"
    assert kinds["ERR_PERAN_TIDAK_BERWENANG"] == "permission"
    assert kinds["ERR_PERUNTUKAN_BELUM_DIPAHAMI"] == "rule"
