"""Invariants declared in a definition: schema, the loader's static checks, the model."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from conftest import MINI
from paketflow import DefinitionError, load_definition
from paketflow._definition._invariants import (
    ReachInvariant,
    StateInvariant,
    TransitionInvariant,
    compile_invariants,
)

L = {"id": "x (id)", "en": "x"}


def _with(invariants: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(MINI)
    doc["invariants"] = invariants
    return doc


def _problems(invariants: dict[str, Any]) -> list[str]:
    with pytest.raises(DefinitionError) as info:
        load_definition(_with(invariants))
    return [f"{p.pointer}: {p.code} {p.message}" for p in info.value.errors]


def test_the_three_forms_load_and_compile_in_order() -> None:
    """A state, a transition and a temporal invariant load; the model has one class
    per kind, in document order."""
    doc = _with(
        {
            "A": {"labels": L, "always": {">=": [{"var": "data.required"}, 0]}, "in": ["DRAFT"]},
            "B": {
                "labels": L,
                "on": "submit",
                "from": ["DRAFT"],
                "to": ["CHECK"],
                "require": True,
                "rule": "R-02",
            },
            "C": {"labels": L, "reachable": "final"},
            "D": {"labels": L, "reachable": ["DONE"]},
        }
    )
    definition = load_definition(doc)
    a, b, c, d = compile_invariants(definition.document)
    assert isinstance(a, StateInvariant) and a.states == ("DRAFT",)
    assert isinstance(b, TransitionInvariant) and (b.event, b.sources, b.targets, b.rule) == (
        "submit",
        ("DRAFT",),
        ("CHECK",),
        "R-02",
    )
    assert isinstance(c, ReachInvariant) and c.targets == ()
    assert isinstance(d, ReachInvariant) and d.targets == ("DONE",)


def test_undefined_event_and_states_are_reported() -> None:
    """An undefined event or state in an invariant is a definition error at its place."""
    assert _problems(
        {
            "B": {"labels": L, "on": "nope", "from": ["NOWHERE"], "require": True},
            "C": {"labels": L, "reachable": ["GONE"]},
        }
    ) == [
        "/invariants/B/from/0: ref.state undefined state 'NOWHERE'",
        "/invariants/B/on: ref.event undefined event 'nope'",
        "/invariants/C/reachable/0: ref.state undefined state 'GONE'",
    ]


def test_a_state_invariant_may_not_read_the_command() -> None:
    """`always` reading `event` or `actor` is refused with what to do instead."""
    with pytest.raises(DefinitionError) as info:
        load_definition(_with({"A": {"labels": L, "always": {"var": "event.amount"}}}))
    (problem,) = info.value.errors
    assert (problem.code, problem.pointer, problem.message, problem.hint) == (
        "invariant.reads-command",
        "/invariants/A/always",
        "a state invariant reads event, which only a command has",
        "use a transition invariant (on + require) to speak about a command",
    )


def test_bad_expressions_and_empty_labels_are_reported() -> None:
    """An expression that does not compile and an empty label are reported."""
    problems = _problems({"A": {"labels": {"id": " ", "en": "x"}, "always": {"nosuchop": [1]}}})
    assert problems[0].startswith("/invariants/A/always")
    assert "/invariants/A/labels/id: labels.missing the Indonesian text is empty" in problems


def test_the_schema_refuses_an_invariant_of_no_known_form() -> None:
    """An invariant with none (or two) of always / on / reachable fails the schema."""
    with pytest.raises(DefinitionError):
        load_definition(_with({"A": {"labels": L}}))
    with pytest.raises(DefinitionError):
        load_definition(_with({"A": {"labels": L, "always": True, "reachable": "final"}}))


def test_paket_declares_its_invariants() -> None:
    """processes/paket.json declares the PAKET invariants the docs promise."""
    from planted_bugs import PROCESSES

    ids = {i.id for i in compile_invariants(load_definition(PROCESSES / "paket.json").document)}
    assert {
        "INV-PAKEM-TIGA-UNSUR",
        "INV-USULAN-TIGA-UNSUR",
        "INV-MUSYAWARAH-TIGA-UNSUR",
        "INV-VERIFIKATOR-BUKAN-PENGUSUL",
        "INV-PENYALURAN-SETELAH-PEMAHAMAN",
        "INV-DISALURKAN-TIDAK-MELEBIHI-TERSEDIA",
        "INV-TAHAP-BERIKUTNYA-SETELAH-LPJ",
        "INV-SELESAI-TERJANGKAU",
    } <= ids
