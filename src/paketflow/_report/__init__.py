"""The compliance report (domain R-11, R-16): planned vs actual per stage, delays in
calendar and working days, escalations, incomplete meetings, refusals, the shortfall
deliberation and deferred budget lines, warnings and funding per source; as text, JSON
or one self-contained HTML page. ``paketflow report`` and ``simulate --report`` use it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from paketflow._definition.model import ProcessDefinition
from paketflow._errors import Refused
from paketflow._report._main import render, scenario_report
from paketflow._report._model import Refusal, Report, build_report
from paketflow._runtime.model import Actor, Event

__all__ = ["Report", "build_report", "compliance_report", "render", "scenario_report"]


def compliance_report(
    definition: ProcessDefinition,
    history: Sequence[Event],
    *,
    lang: str = "en",
    format: str = "text",
    refusals: Iterable[tuple[dt.datetime, Actor | None, Refused]] | None = None,
    as_of: dt.datetime | None = None,
) -> str:
    """The compliance report of the instance whose ``history`` is given, as ``format``
    (``text``, ``json`` or ``html``: one self-contained page) in ``lang``.

    ``refusals`` are the refused commands the application saw, as ``(at, actor,
    refusal)``; refused commands change nothing, so the history cannot hold them
    (``None``: the report says they are unknown). ``as_of`` defaults to the time of the
    last event; nothing reads the clock.
    """
    entries = None
    if refusals is not None:
        entries = [
            Refusal(
                at,
                actor,
                definition.events[r.command].labels.get(lang)
                if r.command in definition.events
                else r.command,
                r.reasons,
            )
            for at, actor, r in refusals
        ]
    report = build_report(definition, history, lang=lang, refusals=entries, as_of=as_of)
    return render(report, format)
