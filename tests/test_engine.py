"""Runtime engine: commands, refusals, signatures, segregation of duties, budgets,
deadlines, idempotency and replay, driven through the public API."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

import paketflow
from conftest import WIB, at
from paketflow import Actor, Engine, Refused


@pytest.fixture
def engine(mini_doc: dict[str, Any]) -> Engine:
    return Engine([paketflow.load_definition(mini_doc)])


A1 = Actor("ani", {"MEMBER"}, "a", "Ani")
B1 = Actor("budi", {"MEMBER"}, "b", "Budi")
HEAD = Actor("hadi", {"HEAD"}, None, "Hadi")
C1 = Actor("citra", {"CHECKER"})
C2 = Actor("cahyo", {"CHECKER"})
PAYER = Actor("putu", {"PAYER"})


def started(engine: Engine, required: int = 100) -> str:
    inst = engine.start(
        definition="mini",
        instance_id="i1",
        data={"required": required},
        actor=HEAD,
        at=at("2012-03-05"),
    )
    return inst.id


def to_check(engine: Engine) -> str:
    iid = started(engine)
    for who in (A1, B1, HEAD):
        engine.sign(iid, actor=who, at=at("2012-03-06"))
    engine.fire(iid, "submit", actor=HEAD, at=at("2012-03-07"))
    return iid


def to_spend(engine: Engine, amount: int = 80) -> str:
    iid = to_check(engine)
    engine.sign(iid, actor=C1, at=at("2012-03-08"))
    engine.sign(iid, actor=C2, at=at("2012-03-08"))
    engine.fire(iid, "check", actor=C1, data={"ok": True}, at=at("2012-03-08", 10))
    engine.fire(iid, "receive", actor=PAYER, data={"amount": amount}, at=at("2012-03-09"))
    return iid


def refusal(fn: Any, *args: Any, **kwargs: Any) -> Refused:
    with pytest.raises(Refused) as info:
        fn(*args, **kwargs)
    return info.value


def test_start_enters_initial_state_and_arms_deadline(engine: Engine) -> None:
    """start() puts the instance in the initial state, version 1, with the state's
    deadline armed at local midnight ten days later."""
    inst = engine.get(started(engine))
    assert (inst.state, inst.version) == ("DRAFT", 1)
    (armed,) = inst.deadlines
    assert armed.id == "TM-SUBMIT"
    assert armed.due == dt.datetime(2012, 3, 15, tzinfo=WIB)
    assert armed.steps[0][0] == dt.datetime(2012, 3, 16, tzinfo=WIB)


def test_start_rejects_data_that_breaks_the_data_schema(engine: Engine) -> None:
    """Instance data is checked against the definition's data schema at start."""
    err = refusal(
        engine.start, definition="mini", data={"required": -1}, actor=HEAD, at=at("2012-03-05")
    )
    assert err.codes == ("ERR_DATA_TIDAK_VALID",)
    assert err.reasons[0].missing == ("/required",)


def test_missing_signatures_refuse_and_name_the_missing_slots(engine: Engine) -> None:
    """An event that requires signatures is refused while slots are empty; the reason
    lists each missing element and who can fix it."""
    iid = started(engine)
    engine.sign(iid, actor=A1, at=at("2012-03-06"))
    err = refusal(engine.fire, iid, "submit", actor=HEAD, at=at("2012-03-06"))
    (reason,) = err.reasons
    assert reason.code == "ERR_TANDA_TANGAN_KURANG"
    assert reason.missing == ("b", "head")
    assert set(reason.fix) == {"MEMBER", "HEAD"}
    assert reason.deadline == dt.datetime(2012, 3, 15, tzinfo=WIB)
    assert reason.message_en == "Missing signatures: b, head. Expected: MEMBER, HEAD."


def test_refused_command_changes_nothing(engine: Engine) -> None:
    """A refused command leaves state, data, history and version untouched."""
    iid = started(engine)
    before, history = engine.get(iid), engine.history(iid)
    refusal(engine.fire, iid, "submit", actor=HEAD, at=at("2012-03-06"))
    assert engine.get(iid) == before
    assert engine.history(iid) == history


def test_one_person_cannot_sign_for_two_elements(engine: Engine) -> None:
    """SoD-1: a second signature by the same person is refused, naming the element
    they already represent."""
    iid = started(engine)
    engine.sign(iid, actor=A1, at=at("2012-03-06"))
    twice = Actor("ani", {"MEMBER"}, "b", "Ani")
    err = refusal(engine.sign, iid, actor=twice, at=at("2012-03-06"))
    assert err.codes == ("ERR_SATU_ORANG_SATU_UNSUR",)
    assert err.reasons[0].message_en == (
        "Ani already signed as a; one person may represent only one element."
    )
    assert err.reasons[0].rule == "SoD-1"


def test_signing_without_a_fitting_role_is_refused(engine: Engine) -> None:
    """A signer who holds none of the slots' roles is refused as unauthorised."""
    iid = started(engine)
    err = refusal(engine.sign, iid, actor=PAYER, at=at("2012-03-06"))
    assert err.codes == ("ERR_PERAN_TIDAK_BERWENANG",)
    assert set(err.reasons[0].fix) == {"HEAD", "MEMBER"}
    assert "tidak berwenang melakukan penandatanganan." in err.reasons[0].message_id
    assert "not authorised to perform signing." in err.reasons[0].message_en
    assert err.reasons[0].params["event"] == "sign"


def test_role_permission_is_checked_per_event(engine: Engine) -> None:
    """Firing an event without one of its roles is refused with the authorised roles."""
    iid = started(engine)
    err = refusal(engine.fire, iid, "cancel", actor=A1, at=at("2012-03-06"))
    assert err.codes == ("ERR_PERAN_TIDAK_BERWENANG",)
    assert err.reasons[0].message_en == (
        "Role Member is not authorised to perform “Cancel”. Authorised: Head."
    )
    assert err.reasons[0].message_id == (
        "Peran Member (id) tidak berwenang melakukan “Cancel (id)”. Yang berwenang: Head (id)."
    )


def test_event_not_available_in_state(engine: Engine) -> None:
    """An event the current state does not declare is refused, listing what is
    available."""
    iid = started(engine)
    err = refusal(engine.fire, iid, "pay", actor=PAYER, at=at("2012-03-06"))
    assert err.codes == ("ERR_EVENT_TIDAK_BERLAKU",)
    assert err.reasons[0].message_en == (
        "Action “Pay” is not available in state Draft. Available: “Cancel”, “Submit”."
    )
    assert err.reasons[0].message_id == (
        "Aksi “Pay (id)” tidak berlaku pada tahap Draft (id). "
        "Yang berlaku: “Cancel (id)”, “Submit (id)”."
    )


def test_signatures_belong_to_one_visit(engine: Engine) -> None:
    """Leaving a state and entering another starts an empty signature set."""
    iid = to_check(engine)
    inst = engine.get(iid)
    assert inst.state == "CHECK"
    assert inst.signatures == ()
    assert inst.sets["signers"] == frozenset({"ani", "budi", "hadi"})


def test_four_eyes_excludes_earlier_signers(engine: Engine) -> None:
    """SoD-2: a person who signed the proposal may not sign or record its check."""
    iid = to_check(engine)
    both = Actor("budi", {"MEMBER", "CHECKER"}, "b")
    err = refusal(engine.sign, iid, actor=both, at=at("2012-03-08"))
    assert err.codes == ("ERR_PEMISAHAN_TUGAS",)
    assert err.reasons[0].rule == "SoD-2"
    err = refusal(engine.fire, iid, "check", actor=both, data={"ok": True}, at=at("2012-03-08"))
    assert "ERR_PEMISAHAN_TUGAS" in err.codes


def test_quorum_needs_distinct_checkers(engine: Engine) -> None:
    """A quorum of two checkers needs two different persons."""
    iid = to_check(engine)
    engine.sign(iid, actor=C1, at=at("2012-03-08"))
    err = refusal(engine.fire, iid, "check", actor=C1, data={"ok": True}, at=at("2012-03-08"))
    assert err.codes == ("ERR_TANDA_TANGAN_KURANG",)
    assert err.reasons[0].missing == ("checkers",)
    assert refusal(engine.sign, iid, actor=C1, at=at("2012-03-08")).codes == (
        "ERR_SUDAH_MENANDATANGANI",
    )


def test_payload_schema_is_enforced(engine: Engine) -> None:
    """A payload that breaks the event's data schema is refused with its pointer."""
    iid = to_check(engine)
    engine.sign(iid, actor=C1, at=at("2012-03-08"))
    engine.sign(iid, actor=C2, at=at("2012-03-08"))
    err = refusal(engine.fire, iid, "check", actor=C1, data={"ok": "yes"}, at=at("2012-03-08"))
    assert err.codes == ("ERR_DATA_TIDAK_VALID",)
    assert err.reasons[0].missing == ("/ok",)


def test_alternative_otherwise_sends_back_with_fresh_signatures(engine: Engine) -> None:
    """The default alternative returns the proposal; its signatures must be given
    again."""
    iid = to_check(engine)
    engine.sign(iid, actor=C1, at=at("2012-03-08"))
    engine.sign(iid, actor=C2, at=at("2012-03-08"))
    inst = engine.fire(iid, "check", actor=C2, data={"ok": False}, at=at("2012-03-08"))
    assert inst.state == "DRAFT"
    assert inst.signatures == ()


def test_shortfall_flags_and_notifies(engine: Engine) -> None:
    """Receiving less than required raises the shortfall flag and a notice."""
    iid = to_spend(engine, amount=80)
    inst = engine.get(iid)
    assert inst.state == "SPEND"
    assert "short" in inst.flags
    assert inst.data["available"] == 80
    assert inst.data["received_at"] == "2012-03-09"
    (notice,) = engine.history(iid)[-1].notices
    assert (notice.code, notice.notify, notice.message_en) == (
        "NOTE_SHORT",
        ("HEAD",),
        "Funds are short.",
    )


def test_all_failing_guards_are_reported_together(engine: Engine) -> None:
    """Every failing guard is one reason: unacknowledged purpose and an amount over
    the balance are reported at once, bilingually."""
    iid = to_spend(engine, amount=80)
    err = refusal(engine.fire, iid, "pay", actor=PAYER, data={"amount": 90}, at=at("2012-03-10"))
    assert err.codes == ("ERR_NOT_ACK", "ERR_OVER")
    assert err.reasons[0].rule == "R-06"
    assert err.reasons[1].message_id == "Jumlah 90 melebihi sisa 80."
    assert err.reasons[1].message_en == "Amount 90 exceeds the balance 80."


def test_payout_after_acknowledgement_reaches_final_state(engine: Engine) -> None:
    """After the purpose is acknowledged payouts run until the funds are spent; a final
    state accepts nothing more."""
    iid = to_spend(engine, amount=80)
    engine.fire(iid, "ack", actor=PAYER, at=at("2012-03-10"))
    inst = engine.fire(iid, "pay", actor=PAYER, data={"amount": 30}, at=at("2012-03-11"))
    assert (inst.state, inst.data["paid"]) == ("SPEND", 30)
    inst = engine.fire(iid, "pay", actor=PAYER, data={"amount": 50}, at=at("2012-03-12"))
    assert inst.state == "DONE"
    assert inst.data["payments"] == [{"amount": 30, "by": "putu"}, {"amount": 50, "by": "putu"}]
    err = refusal(engine.fire, iid, "pay", actor=PAYER, data={"amount": 1}, at=at("2012-03-13"))
    assert err.codes == ("ERR_STATUS_AKHIR",)


def test_escalation_fires_once_and_never_early(engine: Engine) -> None:
    """A tier fires at due + after, not a second earlier, and only once."""
    iid = started(engine)
    assert engine.tick(dt.datetime(2012, 3, 15, 23, 59, 59, tzinfo=WIB)) == []
    (ev,) = engine.tick(dt.datetime(2012, 3, 16, tzinfo=WIB))
    assert (ev.type, ev.name) == ("escalated", "TM-SUBMIT/h1")
    assert ev.notices[0].message_en == "Draft is 1 days late."
    assert "late" in engine.get(iid).flags
    assert engine.tick(dt.datetime(2012, 3, 20, tzinfo=WIB)) == []


class CountingStore(paketflow.MemoryStore):
    """A store without claims that counts the reads of ``due``."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def due(self, now: dt.datetime) -> list[str]:
        self.reads += 1
        return super().due(now)


class ReClaimingStore(CountingStore):
    """A store whose claims never hide anything (a lease of 0 s): every claim returns
    every due instance, including those already handed out."""

    def __init__(self) -> None:
        super().__init__()
        self.limits: list[int] = []

    def claim_due(self, now: dt.datetime, limit: int) -> list[str]:
        self.limits.append(limit)
        return ["ghost", *self.due(now)][:limit]


def test_tick_without_claim_due_reads_due_once(mini_doc: dict[str, Any]) -> None:
    """On a store without ``claim_due`` (the Store protocol, MemoryStore) tick reads
    ``due`` once per call and fires what is due."""
    store = CountingStore()
    engine = Engine([paketflow.load_definition(mini_doc)], store=store)
    started(engine)
    (ev,) = engine.tick(dt.datetime(2012, 3, 16, tzinfo=WIB))
    assert (ev.type, ev.name, store.reads) == ("escalated", "TM-SUBMIT/h1", 1)


def test_tick_with_claims_ticks_each_instance_once_and_stops(mini_doc: dict[str, Any]) -> None:
    """On a store with ``claim_due`` tick claims in batches of 500 until a claim brings
    nothing new: an instance claimed twice is ticked once, one it cannot load is
    skipped, and the call ends even if claims keep returning the same ids."""
    store = ReClaimingStore()
    engine = Engine([paketflow.load_definition(mini_doc)], store=store)
    iid = started(engine)
    events = engine.tick(dt.datetime(2012, 3, 16, tzinfo=WIB))
    assert [(e.instance_id, e.name) for e in events] == [(iid, "TM-SUBMIT/h1")]
    assert store.limits == [500, 500]


def test_interrupting_timeout_counts_working_days(engine: Engine) -> None:
    """The check deadline is five working days (weekends and holidays skipped); its
    timeout sends the instance back to DRAFT and disarms the deadline."""
    iid = to_check(engine)  # entered CHECK on Wed 2012-03-07
    (armed,) = engine.get(iid).deadlines
    assert armed.due == dt.datetime(2012, 3, 14, tzinfo=WIB)
    assert engine.tick(dt.datetime(2012, 3, 13, 12, tzinfo=WIB)) == []
    (ev,) = engine.tick(dt.datetime(2012, 3, 14, 1, tzinfo=WIB))
    assert (ev.type, ev.name, ev.target) == ("timed_out", "expire", "DRAFT")
    inst = engine.get(iid)
    assert inst.state == "DRAFT"
    assert [a.id for a in inst.deadlines] == ["TM-SUBMIT"]


def test_replay_equals_live_instance(engine: Engine) -> None:
    """Folding the recorded history rebuilds exactly the live instance."""
    iid = to_spend(engine, amount=80)
    engine.fire(iid, "ack", actor=PAYER, at=at("2012-03-10"))
    engine.tick(at("2012-04-01"))
    definition = engine.definition("mini")
    assert paketflow.replay(definition, engine.history(iid)) == engine.get(iid)


def test_idempotency_key_returns_without_firing_twice(engine: Engine) -> None:
    """A repeated command with the same key is not applied again; the same key for a
    different command is refused."""
    iid = to_spend(engine, amount=80)
    engine.fire(iid, "ack", actor=PAYER, at=at("2012-03-10"))
    first = engine.fire(
        iid, "pay", actor=PAYER, data={"amount": 10}, at=at("2012-03-10"), idempotency_key="k1"
    )
    again = engine.fire(
        iid, "pay", actor=PAYER, data={"amount": 10}, at=at("2012-03-10"), idempotency_key="k1"
    )
    assert again == first
    assert engine.get(iid).data["paid"] == 10
    err = refusal(
        engine.fire,
        iid,
        "pay",
        actor=PAYER,
        data={"amount": 11},
        at=at("2012-03-10"),
        idempotency_key="k1",
    )
    assert err.codes == ("ERR_DUPLIKAT_PERINTAH",)


def test_allowed_explains_each_refused_event(engine: Engine) -> None:
    """allowed() lists what the actor may do and why everything else is refused."""
    iid = started(engine)
    perms = engine.allowed(iid, HEAD, at=at("2012-03-06"))
    assert perms.events == ("cancel",)
    assert [r.code for r in perms.refused["submit"]] == ["ERR_TANDA_TANGAN_KURANG"]
    assert perms.sign == "head"
    perms = engine.allowed(iid, PAYER, at=at("2012-03-06"))
    assert perms.events == ()
    assert perms.sign is None
    assert [r.code for r in perms.sign_refused] == ["ERR_PERAN_TIDAK_BERWENANG"]


def test_naive_time_is_rejected(engine: Engine) -> None:
    """Times must be timezone-aware; a naive datetime is a programming error."""
    with pytest.raises(ValueError, match="timezone-aware"):
        engine.start(
            definition="mini", data={"required": 1}, actor=HEAD, at=dt.datetime(2012, 3, 5)
        )


def test_unknown_instance_and_definition(engine: Engine) -> None:
    """Unknown ids raise paketflow errors that say what to do."""
    with pytest.raises(paketflow.UnknownInstance, match=r"start it with Engine\.start"):
        engine.get("nope")
    with pytest.raises(paketflow.UnknownDefinition, match=r"known: mini@1\.0\.0"):
        engine.start(definition="other", data={}, actor=HEAD, at=at("2012-03-05"))


def test_clock_is_used_when_no_time_is_given(mini_doc: dict[str, Any]) -> None:
    """Without ``at`` the engine asks its injected clock."""
    clock = paketflow.ManualClock(at("2012-03-05"))
    engine = Engine([paketflow.load_definition(mini_doc)], clock=clock)
    inst = engine.start(definition="mini", instance_id="c", data={"required": 1}, actor=HEAD)
    assert inst.entered_at == at("2012-03-05")
    clock.set(dt.datetime(2012, 3, 16, tzinfo=WIB))
    assert [e.name for e in engine.tick()] == ["TM-SUBMIT/h1"]


def test_a_null_guard_after_a_failed_guard_is_still_reported(mini_doc: dict[str, Any]) -> None:
    """A guard evaluating to null is a failed guard even when an earlier guard already
    failed: both refusals are reported, in definition order (it was once dropped)."""
    pay = mini_doc["states"]["SPEND"]["on"]["pay"]
    pay["data"]["properties"]["note"] = {"type": "string"}  # optional
    pay["guards"][1]["if"] = {"var": "event.note"}  # null when absent, not an error
    engine = paketflow.Engine(
        [paketflow.load_definition(mini_doc)], clock=paketflow.ManualClock(at("2012-03-01"))
    )
    head = Actor("hadi", "HEAD")
    engine.start(definition="mini", instance_id="g", data={"required": 1}, actor=head)
    for signer in (Actor("ani", "MEMBER", "a"), Actor("budi", "MEMBER", "b"), head):
        engine.sign("g", actor=signer)
    engine.fire("g", "submit", actor=head)
    for i in range(2):
        engine.sign("g", actor=Actor(f"c{i}", "CHECKER"))
    engine.fire("g", "check", actor=Actor("c0", "CHECKER"), data={"ok": True})
    payer = Actor("putu", "PAYER")
    engine.fire("g", "receive", actor=payer, data={"amount": 5})
    with pytest.raises(Refused) as info:
        engine.fire("g", "pay", actor=payer, data={"amount": 1})
    assert info.value.codes == ("ERR_NOT_ACK", "ERR_OVER")


def _sc1_until_waiting_for_elements() -> tuple[Any, Any]:
    from pathlib import Path

    from paketflow._runtime.simulate import load_scenario, run_scenario

    root = Path(__file__).resolve().parent.parent
    definition = paketflow.load_definition(root / "processes" / "paket-tahap-tunggal.json")
    scenario = dict(load_scenario(root / "processes" / "scenarios" / "sc-1-saigon-2012.json"))
    steps = scenario["steps"]
    scenario["steps"] = steps[:12]  # the second incomplete meeting: MENUNGGU_UNSUR
    eng = paketflow.Engine([definition])
    result = run_scenario(definition, scenario, engine=eng)
    assert result.instance is not None and result.instance.state == "MENUNGGU_UNSUR"
    return eng, paketflow.Actor.from_dict(scenario["actors"]["ketua"])


def test_allowed_lists_events_that_need_a_payload() -> None:
    """The PAKEM chair waiting for a missing element may hold a meeting or replace a
    representative, each with a payload: listed with their schema and required fields,
    not refused for the empty payload allowed() checks with; cancelling is refused."""
    eng, ketua = _sc1_until_waiting_for_elements()
    iid = "saigon-2012"
    perms = eng.allowed(iid, ketua, at=eng.history(iid)[-1].at)
    assert perms.events == ()
    assert set(perms.with_payload) == {"rapat_pakem_dilaksanakan", "anggota_pakem_diganti"}
    assert perms.with_payload["rapat_pakem_dilaksanakan"]["required"] == ["hadir"]
    assert set(perms.refused) == {"batalkan"}
    doc = perms.as_dict("id")
    json.dumps(doc)
    assert doc["state"] == {"id": "MENUNGGU_UNSUR", "label": "Menunggu Kelengkapan Unsur"}
    meeting = next(e for e in doc["with_payload"] if e["event"] == "rapat_pakem_dilaksanakan")
    assert meeting["label"] == "Rapat PAKEM dilaksanakan"
    assert meeting["schema"]["properties"]["hadir"]["type"] == "array"
    assert doc["refused"][0]["reasons"][0]["category"] == "permission"
    assert perms.label("batalkan") == {"id": "Dibatalkan", "en": "Cancelled"}


def test_fire_returns_the_commands_notices() -> None:
    """The snapshot fire returns carries that command's notices (the history's last
    event has the same); a loaded snapshot has none and still compares equal."""
    eng, ketua = _sc1_until_waiting_for_elements()
    iid = "saigon-2012"
    at_ = eng.history(iid)[-1].at + dt.timedelta(days=1)
    new = eng.fire(
        iid, "rapat_pakem_dilaksanakan", actor=ketua, data={"hadir": ["masyarakat"]}, at=at_
    )
    assert new.notices == eng.history(iid)[-1].notices
    assert [n.code for n in new.notices][:1] == ["ERR_UNSUR_TIDAK_LENGKAP"]
    loaded = eng.get(iid)
    assert loaded.notices == () and loaded == new
    doc = new.as_dict("en")
    assert doc["notices"][0]["message"].startswith("PAKEM elements incomplete")
    assert paketflow.Instance.from_dict(json.loads(json.dumps(doc))) == new


def test_data_errors_name_each_missing_field_in_both_languages() -> None:
    """An empty payload missing two required fields gives one reason per field, each
    pointing at its own field, with the detail in Indonesian and English."""
    eng, ketua = _sc1_until_waiting_for_elements()
    when = eng.history("saigon-2012")[-1].at
    err = refusal(eng.fire, "saigon-2012", "anggota_pakem_diganti", actor=ketua, data={}, at=when)
    assert [r.missing for r in err.reasons] == [("/unsur",), ("/nama",)]
    assert err.reasons[1].message_id == (
        "Data aksi “Wakil unsur PAKEM diganti” tidak valid di /nama: wajib diisi."
    )
    assert err.reasons[1].message_en == (
        "Data of “PAKEM representative replaced” is not valid at /nama: is required."
    )
    bad = refusal(
        eng.fire,
        "saigon-2012",
        "anggota_pakem_diganti",
        actor=ketua,
        data={"unsur": "x", "nama": "N"},
        at=when,
    )
    assert bad.reasons[0].message_id.endswith(
        "harus salah satu dari 'masyarakat', 'pemerintah', 'kelompok_peduli'."
    )


def test_history_keeps_times_in_the_process_zone(engine: Engine) -> None:
    """Times given in UTC (or any offset) are recorded in the process time zone
    (Asia/Pontianak, +07:00): the same instant, the local wall time, in the snapshot,
    every event and the escalations tick records."""
    utc = dt.UTC
    inst = engine.start(
        definition="mini",
        instance_id="z1",
        data={"required": 100},
        actor=HEAD,
        at=dt.datetime(2012, 3, 5, 2, tzinfo=utc),
    )
    engine.sign("z1", actor=A1, at=dt.datetime(2012, 3, 6, 2, tzinfo=utc))
    (tier,) = engine.tick(dt.datetime(2012, 3, 15, 17, tzinfo=utc))
    history = engine.history(inst.id)
    assert [e.at.isoformat() for e in history] == [
        "2012-03-05T09:00:00+07:00",
        "2012-03-06T09:00:00+07:00",
        "2012-03-16T00:00:00+07:00",
    ]
    assert tier.at == dt.datetime(2012, 3, 15, 17, tzinfo=utc)
    assert engine.get("z1").entered_at.isoformat() == "2012-03-05T09:00:00+07:00"


def test_an_event_that_meets_a_deadline_disarms_it_in_scope(mini_doc: dict[str, Any]) -> None:
    """A deadline with ``met_by`` is disarmed when one of its events is accepted, even
    by an internal transition that stays in the state: no escalation follows; the
    same definition without ``met_by`` escalates after the work was done."""
    spend = mini_doc["states"]["SPEND"]
    spend["deadlines"] = {
        "TM-ACK": {
            "due": {"duration": "P3D"},
            "escalations": {"h1": {"after": "P1D", "flag": "late", "notify": ["HEAD"]}},
        }
    }
    plain = Engine([paketflow.load_definition(mini_doc)])
    spend["deadlines"]["TM-ACK"]["met_by"] = ["ack"]
    met = Engine([paketflow.load_definition(mini_doc)])
    for engine in (plain, met):
        iid = to_spend(engine)
        assert [a.id for a in engine.get(iid).deadlines] == ["TM-ACK"]
        engine.fire(iid, "ack", actor=PAYER, at=at("2012-03-10"))
    assert met.history("i1")[-1].disarm == ("TM-ACK",)
    assert met.get("i1").deadlines == () and met.get("i1").state == "SPEND"
    assert met.tick(at("2012-03-20")) == []
    assert [e.name for e in plain.tick(at("2012-03-20"))] == ["TM-ACK/h1"]
    assert paketflow.replay(met.definition("mini"), met.history("i1")) == met.get("i1")
