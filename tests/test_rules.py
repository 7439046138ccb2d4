"""Rule checks of paketflow._runtime._rules: the per-command evaluation budget of the
scope and its refusal ``ERR_BATAS_EVALUASI``."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import L, at
from paketflow import Actor, Engine, Refused, load_definition
from paketflow._expr import MAX_OPERATIONS

ACTOR = Actor("ana", {"R"})


def process(*, effects: Any = (), guards: Any = ()) -> dict[str, Any]:
    """One event ``go`` from A to the final state B with the given effects/guards."""
    go = {"roles": ["R"], "target": "B", "effects": list(effects), "guards": list(guards)}
    return {
        "format": 1,
        "id": "p",
        "version": "1.0.0",
        "labels": L("P"),
        "roles": {"R": {"labels": L("R")}},
        "events": {"go": {"labels": L("Go")}},
        "initial": "A",
        "states": {
            "A": {"labels": L("A"), "on": {"go": go}},
            "B": {"labels": L("B"), "final": True},
        },
    }


def refusal(doc: dict[str, Any], data: Any, payload: Any = None) -> Refused:
    engine = Engine([load_definition(doc)])
    engine.start(definition="p", instance_id="i", data=data, actor=ACTOR, at=at("2012-03-05"))
    with pytest.raises(Refused) as info:
        engine.fire("i", "go", actor=ACTOR, data=payload, at=at("2012-03-05"))
    assert engine.get("i").state == "A"  # nothing changed
    assert len(engine.history("i")) == 1
    return info.value


def doubling(op: str, value: Any, n: int) -> Refused:
    eff = {"set": "/v", "value": {op: [{"var": "data.v"}, {"var": "data.v"}]}}
    return refusal(process(effects=[eff] * n), {"v": value})


def test_text_doubling_is_refused_with_the_limit_code() -> None:
    """27 effects ``v = concat(v, v)`` are refused with ERR_BATAS_EVALUASI at the
    effect that would pass 1 MiB of text, in both languages."""
    (reason,) = doubling("concat", "ab", 27).reasons
    assert reason.code == "ERR_BATAS_EVALUASI"
    assert reason.message_id == (
        "Aturan /states/A/on/go/effects/19/value/concat melampaui batas evaluasi per "
        "perintah (karakter per teks: 1.048.576)."
    )
    assert reason.message_en == (
        "Rule /states/A/on/go/effects/19/value/concat exceeds the per-command "
        "evaluation limit (characters per text: 1.048.576)."
    )


def test_integer_squaring_is_refused_with_the_limit_code() -> None:
    """22 effects ``x = x * x`` are refused once the integer passes 2**53 - 1."""
    (reason,) = doubling("*", 3, 22).reasons
    assert reason.message_en == (
        "Rule /states/A/on/go/effects/5/value/* exceeds the per-command evaluation "
        "limit (largest integer: 9.007.199.254.740.991)."
    )
    assert reason.message_id.endswith("(bilangan bulat terbesar: 9.007.199.254.740.991).")


def test_list_limit_reason_text() -> None:
    """A list beyond the item limit names it in both languages."""
    # Payloads are bounded at the boundary (20,000 values), so the big list is built
    # by the rule itself.
    walk = {"not": {"in": [-1, {"var": "event.xs"}]}}
    eff = {"set": "/k", "value": {"and": [walk] * 6}}
    payload = {"xs": list(range(19_000))}
    (reason,) = refusal(process(effects=[eff]), {}, payload).reasons
    assert reason.message_id.endswith("(operasi: 100.000).")  # walking it costs first
    assert reason.params["limit"] == "operations"


def test_guards_and_effects_share_one_budget() -> None:
    """The budget is per command: a guard and an effect each within the operation
    limit are refused together when their sum passes it."""
    xs = list(range(19_000))  # walked 3 times: 57% of the budget
    walk = {"and": [{"not": {"in": [-1, {"var": "event.xs"}]}}] * 3}
    guard = {"id": "g", "if": walk, "code": "ERR_EKSPRESI"}
    eff = {"set": "/found", "value": walk}
    engine = Engine([load_definition(process(guards=[guard]))])
    engine.start(definition="p", instance_id="i", data={}, actor=ACTOR, at=at("2012-03-05"))
    assert engine.fire("i", "go", actor=ACTOR, data={"xs": xs}).state == "B"
    (reason,) = refusal(process(guards=[guard], effects=[eff]), {}, {"xs": xs}).reasons
    assert reason.code == "ERR_BATAS_EVALUASI"
    where = reason.params["location"]
    assert where.startswith("/states/A/on/go/effects/0/value/and/") and where.endswith("/in")
    assert reason.message_en == (
        f"Rule {where} exceeds the per-command evaluation limit (operations: 100.000)."
    )


def test_an_exhausted_budget_is_reported_once() -> None:
    """Every guard evaluated after the budget ran out fails too; the refusal carries
    one ERR_BATAS_EVALUASI, not one per guard."""
    walk = {"and": [{"not": {"in": [-1, {"var": "event.xs"}]}}] * 3}
    guards = [{"id": f"g{i}", "if": walk, "code": "ERR_EKSPRESI"} for i in range(5)]
    xs = list(range(MAX_OPERATIONS * 19 // 100))  # walked 3 times: 57% of the budget
    reasons = refusal(process(guards=guards), {}, {"xs": xs}).reasons
    assert [r.code for r in reasons] == ["ERR_BATAS_EVALUASI"]
    assert reasons[0].params["location"].startswith("/states/A/on/go/guards/1/if/and/")
