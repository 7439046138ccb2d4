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


# -- people rules: documents, expected signers, separations, confined events, attendance --

WIB_DAY = "2012-03-05"


def people_process() -> dict[str, Any]:
    """A meeting state M collecting two documents (BA: one signer per element; SPJ: a
    payer and a member), the element-a slot reserved for ``data.wakil_a``; ``ganti``
    replaces that representative; ``prioritas`` exists only in M (rule SoD-9);
    ``rapat`` needs both elements present (members from ``data.anggota``)."""
    slot_a = {
        "roles": ["MEMBER"],
        "element": "a",
        "document": "BA",
        "only": {"var": "data.wakil_a"},
        "expected": {"var": "data.wakil_a_nama"},
    }
    return {
        "format": 1,
        "id": "p",
        "version": "1.0.0",
        "labels": L("P"),
        "elements": {"a": {"labels": L("Element A")}, "b": {"labels": L("Element B")}},
        "roles": {
            "MEMBER": {"labels": L("Member")},
            "PAYER": {"labels": L("Payer")},
            "SECRETARY": {"labels": L("Secretary")},
        },
        "documents": {"BA": {"labels": L("Minutes")}, "SPJ": {"labels": L("Payment")}},
        "separations": {
            "SoD-10": {"roles": ["SECRETARY"], "notWith": ["PAYER", "MEMBER"]},
        },
        "events": {
            "ganti": {"labels": L("Replace")},
            "rapat": {"labels": L("Meeting")},
            "bayar": {"labels": L("Pay")},
            "tutup": {"labels": L("Close")},
            "ke_x": {"labels": L("To X")},
            "prioritas": {
                "labels": L("Reprioritise"),
                "rule": "SoD-9",
                "reason": {"id": "hanya dalam musyawarah", "en": "only in a deliberation"},
            },
        },
        "initial": "M",
        "states": {
            "M": {
                "labels": L("Meeting"),
                "signatures": {
                    "slots": {
                        "a": slot_a,
                        "b": {"roles": ["MEMBER"], "element": "b", "document": "BA"},
                        "payer": {"roles": ["PAYER"], "document": "SPJ"},
                        "member": {"roles": ["MEMBER", "PAYER"], "document": "SPJ"},
                    }
                },
                "on": {
                    "ganti": {
                        "roles": ["MEMBER"],
                        "target": "M",
                        "effects": [
                            {"set": "/wakil_a", "value": {"var": "event.id"}},
                            {"set": "/wakil_a_nama", "value": {"var": "event.nama"}},
                        ],
                    },
                    "rapat": {
                        "roles": ["MEMBER"],
                        "requireSignatures": ["BA"],
                        "attendance": {
                            "present": {"var": "event.hadir"},
                            "members": {"var": "data.anggota"},
                            "expected": {"var": "data.nama"},
                        },
                        "target": "M",
                    },
                    "bayar": {"roles": ["PAYER"], "requireSignatures": ["SPJ"], "target": "M"},
                    "prioritas": {"roles": ["MEMBER"], "target": "M"},
                    "tutup": {"roles": ["MEMBER"], "target": "END"},
                },
            },
            "END": {
                "labels": L("End"),
                "on": {
                    "ganti": {"roles": ["MEMBER"], "target": "END"},
                    "ke_x": {"roles": ["MEMBER"], "target": "X"},
                },
            },
            "X": {"labels": L("X"), "final": True},
        },
    }


ANI = Actor("ani", {"MEMBER"}, "a", "Ani")
BUDI = Actor("budi", {"MEMBER"}, "a", "Budi")
CICI = Actor("cici", {"MEMBER"}, "b", "Cici")
PAYER = Actor("dodi", {"PAYER"}, None, "Dodi")


def people(data: Any = None) -> Engine:
    engine = Engine([load_definition(people_process())])
    engine.start(definition="p", instance_id="i", data=data or {}, actor=ANI, at=at(WIB_DAY))
    return engine


def refused(call: Any) -> Refused:
    with pytest.raises(Refused) as info:
        call()
    return info.value


def test_a_sign_that_fits_two_documents_is_refused_listing_the_choices() -> None:
    """An actor whose free slots sign different documents must name one: a bare
    ``sign`` is refused ERR_TANDA_TANGAN_AMBIGU listing the documents, nothing is
    recorded, and naming a document (or a slot) puts the signature there."""
    engine = people()
    err = refused(lambda: engine.sign("i", actor=CICI, at=at(WIB_DAY)))
    (r,) = err.reasons
    assert r.code == "ERR_TANDA_TANGAN_AMBIGU"
    assert r.message_en == (
        "Cici's signature fits more than one document: BA, SPJ; "
        "name the document or slot being signed."
    )
    assert r.message_id == (
        "Tanda tangan Cici dapat masuk ke lebih dari satu dokumen: BA, SPJ; "
        "sebutkan dokumen atau slot yang ditandatangani."
    )
    assert r.missing == ("BA", "SPJ")
    assert engine.get("i").signatures == ()
    inst = engine.sign("i", actor=CICI, slot="SPJ", at=at(WIB_DAY))
    assert [s.slot for s in inst.signatures] == ["member"]


def test_a_sign_naming_an_unknown_slot_is_refused_with_the_choices() -> None:
    """``slot`` must be a slot or a document of the state's rule."""
    err = refused(lambda: people().sign("i", actor=CICI, slot="SK", at=at(WIB_DAY)))
    assert err.reasons[0].code == "ERR_SLOT_TIDAK_DIKENAL"
    assert err.reasons[0].message_en == (
        "State Meeting has no signature document or slot SK. Choices: BA, SPJ, a, b, payer, member."
    )


def test_require_signatures_of_one_document_ignores_the_other() -> None:
    """``requireSignatures: ["SPJ"]`` needs only the SPJ slots: the payout goes
    through while the minutes are unsigned, and is refused naming only SPJ slots."""
    engine = people()
    err = refused(lambda: engine.fire("i", "bayar", actor=PAYER, at=at(WIB_DAY)))
    assert err.reasons[0].code == "ERR_TANDA_TANGAN_KURANG"
    assert err.reasons[0].missing == ("payer", "member")
    engine.sign("i", actor=PAYER, slot="payer", at=at(WIB_DAY))
    engine.sign("i", actor=CICI, slot="member", at=at(WIB_DAY))
    assert engine.fire("i", "bayar", actor=PAYER, at=at(WIB_DAY)).state == "M"


def test_only_the_expected_person_may_sign_and_a_replacement_takes_over() -> None:
    """A slot whose ``only`` names a person refuses anyone else (ERR_BUKAN_PENANDATANGAN
    naming who is expected); after a replacement the old representative is refused,
    their earlier signature stops counting, and the new one can sign."""
    engine = people({"wakil_a": "ani", "wakil_a_nama": "Ani"})
    err = refused(lambda: engine.sign("i", actor=BUDI, slot="BA", at=at(WIB_DAY)))
    (r,) = err.reasons
    assert r.code == "ERR_BUKAN_PENANDATANGAN"
    assert r.message_en == "Budi is not the expected signatory for a. Expected: Ani."
    assert r.message_id == (
        "Budi bukan penandatangan yang diharapkan untuk a. Yang diharapkan: Ani."
    )
    assert r.expected == ("Ani",)
    engine.sign("i", actor=ANI, slot="BA", at=at(WIB_DAY))
    engine.fire("i", "ganti", actor=CICI, data={"id": "budi", "nama": "Budi"}, at=at(WIB_DAY))
    err = refused(lambda: engine.fire("i", "rapat", actor=CICI, at=at(WIB_DAY)))
    assert "a" in err.reasons[-1].missing  # Ani's signature no longer counts
    assert (
        refused(lambda: engine.sign("i", actor=Actor("ani2", {"MEMBER"}, "a", "Ani"), slot="BA"))
        .reasons[0]
        .code
        == "ERR_BUKAN_PENANDATANGAN"
    )
    inst = engine.sign("i", actor=BUDI, slot="BA", at=at(WIB_DAY))
    assert [(s.actor, s.slot) for s in inst.signatures] == [("ani", "a"), ("budi", "a")]


def test_roles_kept_apart_by_a_separation_are_refused_with_the_rule() -> None:
    """An actor holding roles a ``/separations`` rule keeps apart is refused every
    command with ERR_PEMISAHAN_TUGAS carrying that rule id (SoD-10)."""
    engine = people()
    both = Actor("eka", {"SECRETARY", "PAYER"}, None, "Eka")
    fired = refused(lambda: engine.fire("i", "bayar", actor=both, at=at(WIB_DAY))).reasons
    signed = refused(lambda: engine.sign("i", actor=both, slot="payer", at=at(WIB_DAY))).reasons
    for r, action in ((fired[0], "“Pay”"), (signed[0], "signing")):
        assert r.code == "ERR_PEMISAHAN_TUGAS"
        assert r.rule == "SoD-10"
        assert r.message_en == (
            f"Eka may not perform {action}: role SECRETARY may not be held together with "
            "PAYER (rule SoD-10)."
        )
    assert len(signed) == 1
    assert engine.get("i").signatures == ()


def test_a_confined_event_elsewhere_is_refused_as_its_sod_rule() -> None:
    """An event declared with ``rule`` fired in a state that does not offer it is
    refused ERR_PEMISAHAN_TUGAS with that rule and reason, not ERR_EVENT_TIDAK_BERLAKU."""
    engine = people()
    engine.fire("i", "tutup", actor=ANI, at=at(WIB_DAY))
    (r,) = refused(lambda: engine.fire("i", "prioritas", actor=ANI, at=at(WIB_DAY))).reasons
    assert r.code == "ERR_PEMISAHAN_TUGAS"
    assert r.rule == "SoD-9"
    assert r.category == "segregation_of_duties"
    assert (
        r.message_en == "Ani may not perform “Reprioritise”: only in a deliberation (rule SoD-9)."
    )
    assert r.message_id == (
        "Ani tidak boleh melakukan “Reprioritise (id)”: hanya dalam musyawarah (aturan SoD-9)."
    )
    engine.fire("i", "ke_x", actor=ANI, at=at(WIB_DAY))
    (r,) = refused(lambda: engine.fire("i", "prioritas", actor=ANI, at=at(WIB_DAY))).reasons
    assert r.code == "ERR_STATUS_AKHIR"  # a final state stays final


def test_a_meeting_without_every_element_is_refused_before_signatures() -> None:
    """``attendance``: an element without a current member present is refused
    ERR_UNSUR_TIDAK_LENGKAP naming the element and its expected members, ahead of the
    missing signatures; persons who are not members do not count."""
    engine = people({"anggota": {"a": ["Ani", "Budi"], "b": ["cici"]}, "nama": {"b": ["Cici"]}})
    err = refused(
        lambda: engine.fire(
            "i", "rapat", actor=ANI, data={"hadir": {"a": ["Ani"], "b": ["Tamu"]}}, at=at(WIB_DAY)
        )
    )
    first = err.reasons[0]
    assert first.code == "ERR_UNSUR_TIDAK_LENGKAP"
    assert first.message_en == (
        "Elements incomplete: Element B. Expected representatives: Cici. Deadline: -."
    )
    assert first.message_id == (
        "Unsur belum lengkap: Element B (id). Wakil yang diharapkan: Cici. Batas waktu: -."
    )
    assert first.missing == ("b",)
    assert [r.code for r in err.reasons] == ["ERR_UNSUR_TIDAK_LENGKAP", "ERR_TANDA_TANGAN_KURANG"]
    engine.sign("i", actor=ANI, slot="a", at=at(WIB_DAY))
    engine.sign("i", actor=CICI, slot="b", at=at(WIB_DAY))
    ok = engine.fire(
        "i", "rapat", actor=ANI, data={"hadir": {"a": ["Ani"], "b": ["cici"]}}, at=at(WIB_DAY)
    )
    assert ok.state == "M"
    assert engine.history("i")[-1].payload == {"hadir": {"a": ["Ani"], "b": ["cici"]}}


def test_attendance_counts_numbers_when_no_members_are_known() -> None:
    """Without members, a number of attendees per element counts; zero is missing."""
    engine = people()
    err = refused(lambda: engine.fire("i", "rapat", actor=ANI, data={"hadir": {"a": 3, "b": 0}}))
    assert err.reasons[0].missing == ("b",)


def test_a_second_signature_carries_the_rule_of_distinct_persons() -> None:
    """``signatures.rule`` names the SoD rule of ERR_SUDAH_MENANDATANGANI (SoD-8)."""
    doc = people_process()
    doc["states"]["M"]["signatures"]["rule"] = "SoD-8"
    engine = Engine([load_definition(doc)])
    engine.start(definition="p", instance_id="i", data={}, actor=ANI, at=at(WIB_DAY))
    engine.sign("i", actor=PAYER, slot="payer", at=at(WIB_DAY))
    (r,) = refused(lambda: engine.sign("i", actor=PAYER, slot="member", at=at(WIB_DAY))).reasons
    assert (r.code, r.rule) == ("ERR_SUDAH_MENANDATANGANI", "SoD-8")
    assert r.message_en == "Dodi has already signed in this state."
