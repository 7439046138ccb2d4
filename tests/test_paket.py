"""The shipped PAKET definitions and scenarios: SC-1 (Saigon 2012), SC-2, SC-3 and SC-4
run end to end through the public API, with replay checked on every instance."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import paketflow
from paketflow import Actor, Engine, Refused
from paketflow._runtime.simulate import load_scenario, run_scenario

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = ROOT / "processes"
SCENARIOS = {
    "sc-1-saigon-2012.json": "paket-tahap-tunggal.json",
    "sc-2-mekar-sari-2013.json": "paket.json",
    "sc-3-tanjung-sari-2013.json": "paket.json",
    "sc-4-tranche-blocked.json": "paket.json",
    "sc-5-batas-revisi.json": "paket.json",
}


def run(scenario: str) -> tuple[Any, Engine]:
    definition = paketflow.load_definition(PROCESSES / SCENARIOS[scenario])
    engine = Engine([definition])
    result = run_scenario(definition, load_scenario(PROCESSES / "scenarios" / scenario),
                          engine=engine)  # fmt: skip
    return result, engine


@pytest.mark.parametrize("name", sorted(p.name for p in PROCESSES.glob("*.json")))
def test_every_shipped_definition_is_valid(name: str) -> None:
    """Every definition in processes/ loads without a problem."""
    definition = paketflow.load_definition(PROCESSES / name)
    assert definition.hash.startswith("sha256:")


@pytest.mark.parametrize("name", sorted(p.name for p in PROCESSES.glob("*.json")))
def test_every_label_is_bilingual(name: str) -> None:
    """N-23: every state, role, event, element, flag and message has non-empty
    Indonesian and English text."""
    d = paketflow.load_definition(PROCESSES / name)
    items = [*d.states.values(), *d.roles.values(), *d.events.values(), *d.elements.values()]
    labels = [i.labels for i in items] + list(d.flags.values())
    labels += [m.labels for m in d.messages.values()]
    for label in labels:
        assert label.id.strip() and label.en.strip()


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_scenario_expectations_hold_and_replay_matches(scenario: str) -> None:
    """Each shipped scenario meets every expectation, and its history replays to the
    live instance."""
    result, engine = run(scenario)
    failures = [(s.index, f) for s in result.steps for f in s.failures]
    assert failures == []
    inst = result.instance
    assert inst is not None
    assert (
        paketflow.replay(engine.definition(inst.definition_hash), engine.history(inst.id)) == inst
    )


def test_sc1_disbursement_is_92_days_and_64_working_days_late() -> None:
    """SC-1: funds due 2012-06-04 arrived 2012-09-04: 92 calendar days late, 64
    working days counting Indonesian public holidays."""
    result, engine = run("sc-1-saigon-2012.json")
    tranche = engine.get("saigon-2012").data["tranches"][0]
    assert (tranche["days_late"], tranche["working_days_late"]) == (92, 64)
    received = next(s for s in result.steps if s.event == "dana_diterima")
    assert received.state_after == "MUSYAWARAH_PRIORITAS"
    assert "WARN_TERLAMBAT" in [n.code for n in received.notices]
    assert "92" in next(n.message_en for n in received.notices if n.code == "WARN_TERLAMBAT")


def test_sc1_with_cuti_bersama_counts_62_working_days() -> None:
    """With the calendar set to count cuti bersama (joint leave), the same delay is 62
    working days."""
    base = paketflow.load_definition(PROCESSES / "paket-tahap-tunggal.json")
    doc = json.loads(json.dumps(base.document))
    doc["calendars"]["pontianak"]["cutiBersama"] = True
    definition = paketflow.load_definition(doc)
    engine = Engine([definition])
    scenario = load_scenario(PROCESSES / "scenarios" / "sc-1-saigon-2012.json")
    run_scenario(definition, scenario, engine=engine)
    tranche = engine.get("saigon-2012").data["tranches"][0]
    assert (tranche["days_late"], tranche["working_days_late"]) == (92, 62)


def test_sc1_refusals_name_their_codes_and_the_missing_element() -> None:
    """SC-1: the incomplete meetings name the absent element, the second escalates to
    the Lurah and Kasubid Kesra, and the early payout is refused for both reasons."""
    result, _ = run("sc-1-saigon-2012.json")
    meetings = [s for s in result.steps if s.event == "rapat_pakem_dilaksanakan"]
    for step in meetings[:2]:
        (incomplete,) = [n for n in step.notices if n.code == "ERR_UNSUR_TIDAK_LENGKAP"]
        assert "care group" in incomplete.message_en
        assert "kelompok peduli" in incomplete.message_id.lower()
    escalation = next(n for n in meetings[1].notices if n.code == "NOTE_ESKALASI")
    assert set(escalation.notify) == {"LURAH", "KASUBID_KESRA"}
    payout = next(s for s in result.steps if s.event == "dana_disalurkan" and not s.accepted)
    assert [r.code for r in payout.reasons] == [
        "ERR_PERUNTUKAN_BELUM_DIPAHAMI",
        "ERR_DANA_KURANG_MUSYAWARAH",
    ]
    ticks = [e.name for s in result.steps for e in s.ticked]
    assert [t for t in ticks if "DISB" in t] == ["TM-DISB/h1", "TM-DISB/h14", "TM-DISB/h30"]


def test_sc3_segregation_of_duties() -> None:
    """SC-3: the Lurah who acknowledged the proposal may not verify it (SoD-2), the
    PAKEM chair is not authorised, and a recommending Pokja member may not approve
    (SoD-3)."""
    result, _ = run("sc-3-tanjung-sari-2013.json")
    refused = [(s.event or s.command, r.code, r.rule) for s in result.steps for r in s.reasons]
    assert any(code == "ERR_PEMISAHAN_TUGAS" and rule == "SoD-2" for _, code, rule in refused)
    assert any(code == "ERR_PERAN_TIDAK_BERWENANG" for _, code, _ in refused)
    assert any(
        ev == "penetapan" and code in ("ERR_PEMISAHAN_TUGAS", "ERR_PERAN_TIDAK_BERWENANG")
        for ev, code, _ in refused
    )


def test_refused_command_on_paket_changes_nothing() -> None:
    """A refused PAKET command leaves the stored instance and its history as they were."""
    _, engine = run("sc-1-saigon-2012.json")
    before, history = engine.get("saigon-2012"), engine.history("saigon-2012")
    with pytest.raises(Refused):
        engine.fire("saigon-2012", "audit_dicatat", actor=Actor("x", {"LURAH"}))
    assert engine.get("saigon-2012") == before
    assert engine.history("saigon-2012") == history


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_history_round_trips_through_canonical_json(scenario: str) -> None:
    """Every recorded event survives canonical JSON (what durable stores will persist)
    unchanged, and the decoded history replays to the live instance."""
    result, engine = run(scenario)
    inst = result.instance
    assert inst is not None
    history = engine.history(inst.id)
    decoded = [paketflow.Event.from_dict(json.loads(e.canonical())) for e in history]
    assert decoded == history
    assert paketflow.replay(engine.definition(inst.definition_hash), decoded) == inst
