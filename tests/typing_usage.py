"""A typed usage of the public API, checked by ``mypy --strict`` in CI (see
``[tool.mypy] files``): if a public signature changes shape, this file stops
type-checking. It is not a test module and is not collected by pytest."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import paketflow


def usage() -> list[str]:
    at = dt.datetime(2012, 2, 13, 8, tzinfo=ZoneInfo("Asia/Pontianak"))
    definition: paketflow.ProcessDefinition = paketflow.load_definition("processes/paket.json")
    engine = paketflow.Engine([definition], clock=paketflow.ManualClock(at))
    actor = paketflow.Actor("faskel-1", {"FASKEL"}, None, "Fasilitator")
    instance: paketflow.Instance = engine.start(
        definition="paket", instance_id="x", data={"bkm_status": "berdaya"}, actor=actor
    )
    codes: list[str] = []
    try:
        instance = engine.fire(instance.id, "jadwalkan_sosialisasi", actor=actor, at=at)
    except paketflow.Refused as refusal:
        codes = [r.code for r in refusal.reasons]
    perms: paketflow.Permissions = engine.allowed(instance.id, actor)
    events: Sequence[paketflow.Event] = engine.tick(at + dt.timedelta(days=400))
    replayed = paketflow.replay(definition, engine.history(instance.id))
    assert replayed.version >= len(events)
    try:
        paketflow.load_definition({"format": 1})
    except paketflow.DefinitionError as err:
        codes += [p.code for p in err.errors]
    return codes + list(perms.events)
