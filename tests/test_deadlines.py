"""Deadlines of paketflow._runtime._deadlines and their tiers: a date deadline armed
as soon as a transition within its state puts the date in the data, and conditional
escalation tiers (``when``, ``params``) that pass silently when they do not apply."""

from __future__ import annotations

from typing import Any

from conftest import L, at
from paketflow import Actor, Engine, load_definition

ACTOR = Actor("ana", {"R"}, None, "Ana")


def process() -> dict[str, Any]:
    """State W: ``minta`` records a request whose due date is 21 days later (the
    date deadline TM-D arms then); ``selesai`` closes the open item. The tier ``akhir``
    warns 0 days after the due date only while ``data.terbuka`` is true."""
    return {
        "format": 1,
        "id": "p",
        "version": "1.0.0",
        "labels": L("P"),
        "roles": {"R": {"labels": L("R")}},
        "events": {
            "minta": {"labels": L("Request")},
            "selesai": {"labels": L("Close")},
            "keluar": {"labels": L("Leave")},
        },
        "messages": {
            "WARN_D": {"id": "Jatuh tempo {tanggal}: {butir}.", "en": "Due {date}: {items}."}
        },
        "initial": "W",
        "states": {
            "W": {
                "labels": L("Waiting"),
                "deadlines": {
                    "TM-D": {
                        "due": {"date": {"var": "data.jatuh_tempo"}},
                        "escalations": {
                            "akhir": {
                                "after": "P0D",
                                "message": "WARN_D",
                                "notify": ["R"],
                                "when": {"==": [{"var": "data.terbuka"}, True]},
                                "params": {
                                    "butir": {"var": "data.butir"},
                                    "items": {"var": "data.butir"},
                                },
                            }
                        },
                    }
                },
                "on": {
                    "minta": {
                        "roles": ["R"],
                        "target": "W",
                        "effects": [
                            {"set": "/jatuh_tempo", "value": {"addDays": [{"var": "today"}, 21]}},
                            {"set": "/terbuka", "value": True},
                            {"set": "/butir", "value": ["tahap 1"]},
                        ],
                    },
                    "selesai": {
                        "roles": ["R"],
                        "target": "W",
                        "effects": [{"set": "/terbuka", "value": False}],
                    },
                    "keluar": {"roles": ["R"], "target": "END"},
                },
            },
            "END": {"labels": L("End"), "final": True},
        },
    }


def started() -> Engine:
    engine = Engine([load_definition(process())])
    engine.start(definition="p", instance_id="i", data={}, actor=ACTOR, at=at("2012-05-29"))
    return engine


def test_a_date_deadline_arms_when_a_transition_within_the_state_dates_it() -> None:
    """No date at entry, so nothing is armed; the request puts request + 21 days in
    the data and the deadline is armed then, due at local midnight of that day."""
    engine = started()
    assert engine.get("i").deadlines == ()
    inst = engine.fire("i", "minta", actor=ACTOR, at=at("2012-05-29"))
    (armed,) = inst.deadlines
    assert armed.id == "TM-D"
    assert armed.due.date().isoformat() == "2012-06-19"
    again = engine.fire("i", "minta", actor=ACTOR, at=at("2012-06-01"))
    assert again.deadlines == inst.deadlines  # armed once: a later date does not re-arm


def test_a_conditional_tier_warns_while_its_condition_holds() -> None:
    """The tier speaks (notice with its evaluated params) when ``when`` holds."""
    engine = started()
    engine.fire("i", "minta", actor=ACTOR, at=at("2012-05-29"))
    (fired,) = engine.tick(at("2012-06-20"))
    (notice,) = fired.notices
    assert notice.code == "WARN_D"
    assert notice.message_en == "Due 2012-06-19: tahap 1."
    assert notice.message_id == "Jatuh tempo 2012-06-19: tahap 1."


def test_a_conditional_tier_passes_silently_when_its_condition_fails() -> None:
    """When ``when`` is false at the tier's time the step is recorded without a notice
    or flag, and does not fire again."""
    engine = started()
    engine.fire("i", "minta", actor=ACTOR, at=at("2012-05-29"))
    engine.fire("i", "selesai", actor=ACTOR, at=at("2012-06-01"))
    (fired,) = engine.tick(at("2012-06-20"))
    assert fired.notices == ()
    assert engine.tick(at("2012-06-21")) == []
    assert engine.get("i").deadlines[0].fired == 1
