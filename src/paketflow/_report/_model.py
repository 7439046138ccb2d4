"""The compliance report (domain R-11, R-16) as data: built from a definition, an
instance's history and, when known, the commands that were refused.

Nothing here reads the clock: the report is "as of" the last recorded event (or the
``as_of`` the caller passes). Every section is derived from recorded events; the
budget sections read the PAKET data layout (``/usulan``, ``/tranches``, ``/apbd``,
``/musyawarah``) when the instance data has it, and are empty otherwise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from paketflow._calendar import WorkingCalendar, to_local_date, zone
from paketflow._definition.model import ProcessDefinition
from paketflow._errors import PaketflowError, Reason
from paketflow._runtime.fold import apply_event
from paketflow._runtime.model import Actor, Event, Instance

__all__ = [
    "Escalation",
    "Funding",
    "Issue",
    "Refusal",
    "Report",
    "Stage",
    "build_report",
]


@attrs.frozen
class Stage:
    """One planned stage: a deadline from the moment it was armed (``start``) to its
    due instant (``planned``) and to the moment the instance left its scope
    (``actual``; ``None`` while still open)."""

    deadline: str
    label: str
    state: str
    state_label: str
    start: dt.datetime
    planned: dt.datetime
    actual: dt.datetime | None
    days_late: int
    working_days_late: int
    escalations: int

    @property
    def open(self) -> bool:
        return self.actual is None


@attrs.frozen
class Escalation:
    """An escalation tier or timeout that fired."""

    at: dt.datetime
    deadline: str
    label: str
    step: str
    notify: tuple[str, ...]
    message: str


@attrs.frozen
class Issue:
    """A notice recorded on an accepted command or a deadline step (warnings
    ``WARN_*``, problems ``ERR_*`` such as an incomplete meeting, notes ``NOTE_*``)."""

    at: dt.datetime
    code: str
    event: str
    message: str
    notify: tuple[str, ...]
    missing: tuple[str, ...] = ()


@attrs.frozen
class Refusal:
    """A refused command: who tried what, when, and every reason."""

    at: dt.datetime
    actor: Actor | None
    command: str
    reasons: tuple[Reason, ...]


@attrs.frozen
class Funding:
    """One funding source: planned (proposal) and received amounts in rupiah;
    ``received`` is ``None`` for in-kind sources (not cash)."""

    source: str
    planned: int
    received: int | None
    in_kind: bool = False


@attrs.frozen
class BudgetLine:
    code: str
    description: str
    cost: int | None


@attrs.frozen
class Report:
    """Everything the compliance report shows, in one language."""

    lang: str
    title: str
    definition: str
    instance: str
    state: str
    state_label: str
    as_of: dt.datetime
    started: dt.datetime
    flags: tuple[str, ...]
    stages: tuple[Stage, ...]
    escalations: tuple[Escalation, ...]
    meetings: tuple[Issue, ...]
    shortfalls: tuple[Issue, ...]
    warnings: tuple[Issue, ...]
    notes: tuple[Issue, ...]
    refusals: tuple[Refusal, ...] | None
    deferred: tuple[BudgetLine, ...]
    deliberation: Mapping[str, Any] | None
    funding: tuple[Funding, ...]
    events: int

    @property
    def late_stages(self) -> tuple[Stage, ...]:
        return tuple(s for s in self.stages if s.days_late > 0)


#: Notice codes that report an incomplete meeting (the missing elements are in the
#: notice's ``unsur`` parameter).
MEETING_CODES = frozenset({"ERR_UNSUR_TIDAK_LENGKAP"})
#: Notice codes that report a funding shortfall that calls for a deliberation (R-05).
SHORTFALL_CODES = frozenset({"ERR_DANA_KURANG_MUSYAWARAH"})


def _snapshots(history: Sequence[Event]) -> list[Instance]:
    """The instance after each event of ``history``."""
    out: list[Instance] = []
    current: Instance | None = None
    for event in history:
        current = apply_event(current, event)
        out.append(current)
    return out


def _calendar(definition: ProcessDefinition, deadline: str) -> WorkingCalendar:
    for state in definition.states.values():
        for dl in state.deadlines:
            name = dl.due.calendar
            if dl.id == deadline and name is not None and name in definition.calendars:
                spec = definition.calendars[name]
                return _working(spec.country, spec.cuti_bersama, spec.extra_holidays, spec.workdays)
    if definition.calendars:
        spec = next(iter(definition.calendars.values()))
        return _working(spec.country, spec.cuti_bersama, spec.extra_holidays, spec.workdays)
    return WorkingCalendar("ID")


def _working(
    country: str, cuti: bool, extra: Iterable[dt.date], workdays: Iterable[int]
) -> WorkingCalendar:
    return WorkingCalendar(country, cuti_bersama=cuti, extra_holidays=extra, workdays=workdays)


def _lateness(
    planned: dt.datetime, actual: dt.datetime, tz: dt.tzinfo, cal: WorkingCalendar
) -> tuple[int, int]:
    """Whole days (calendar, working) from the due date to the actual date; 0 when on
    time. The due instant is local midnight starting its due date (a due date of
    2012-06-04 met on 2012-06-04 is on time), so lateness counts local dates."""
    due_day, got_day = to_local_date(planned, tz), to_local_date(actual, tz)
    if actual <= planned or got_day <= due_day:
        return 0, 0
    return (got_day - due_day).days, cal.working_days_between(due_day, got_day)


def build_report(
    definition: ProcessDefinition,
    history: Sequence[Event],
    *,
    lang: str = "en",
    refusals: Iterable[Refusal] | None = None,
    as_of: dt.datetime | None = None,
) -> Report:
    """The compliance report of the instance whose ``history`` is given.

    ``refusals`` are the refused commands (they change nothing, so the history does
    not hold them; the scenario runner and an application's own log do); ``None``
    means unknown, which the report says. ``as_of`` defaults to the last event's time.
    """
    if lang not in ("id", "en"):
        raise PaketflowError(f"lang: {lang!r} is not a language of paketflow; use 'id' or 'en'")
    if not history:
        raise PaketflowError("history: empty; a report needs at least the 'started' event")
    snaps = _snapshots(history)
    final = snaps[-1]
    if final.definition_hash != definition.hash:
        raise PaketflowError(
            f"definition: instance {final.id!r} runs {final.definition}@"
            f"{final.definition_version} ({final.definition_hash}), not {definition.key} "
            f"({definition.hash}); pass the definition file the instance started on"
        )
    tz = zone(definition.timezone)
    as_of = as_of or history[-1].at
    labels = _Labels(definition, lang)

    stages: list[Stage] = []
    open_: dict[str, tuple[Instance, dt.datetime, str]] = {}
    escalations: list[Escalation] = []
    fired: dict[str, int] = {}
    previous: Instance | None = None
    for event, snap in zip(history, snaps, strict=True):
        before = {a.id: a for a in previous.deadlines} if previous else {}
        after = {a.id: a for a in snap.deadlines}
        for did in after.keys() - before.keys():
            open_[did] = (snap, event.at, snap.state)
        for did in before.keys() - after.keys():
            stages.append(_stage(definition, labels, did, open_.pop(did), event.at, tz, fired))
        if event.type in ("escalated", "timed_out"):
            did, _, step = (getattr(event, "name", None) or "").partition("/")
            fired[did] = fired.get(did, 0) + 1
            notify = tuple(labels.role(r) for n in event.notices for r in n.notify)
            message = " ".join(n.message(lang) for n in event.notices)
            escalations.append(
                Escalation(event.at, did, labels.deadline(did), step or event.type, notify, message)
            )
        previous = snap
    for did, opened in open_.items():
        stages.append(_stage(definition, labels, did, opened, None, tz, fired, as_of=as_of))
    stages.sort(key=lambda s: (s.start, s.deadline))

    meetings: list[Issue] = []
    shortfalls: list[Issue] = []
    warnings: list[Issue] = []
    notes: list[Issue] = []
    for event in history:
        if event.type in ("escalated", "timed_out"):
            continue  # listed with the escalations
        name = getattr(event, "name", None)
        where = labels.event(name) if event.type == "fired" else (name or event.type)
        for n in event.notices:
            issue = Issue(
                event.at,
                n.code,
                where,
                n.message(lang),
                tuple(labels.role(r) for r in n.notify),
                tuple(str(u) for u in _listify(n.params.get("unsur"))),
            )
            if n.code in MEETING_CODES:
                meetings.append(issue)
            elif n.code in SHORTFALL_CODES:
                shortfalls.append(issue)
            elif n.code.startswith("WARN_"):
                warnings.append(issue)
            else:
                notes.append(issue)
    deferred, deliberation, funding = _budget(final.data)
    return Report(
        lang=lang,
        title=definition.labels.get(lang),
        definition=definition.key,
        instance=final.id,
        state=final.state,
        state_label=labels.state(final.state),
        as_of=as_of,
        started=history[0].at,
        flags=tuple(labels.flag(f) for f in sorted(final.flags)),
        stages=tuple(stages),
        escalations=tuple(escalations),
        meetings=tuple(meetings),
        shortfalls=tuple(shortfalls),
        warnings=tuple(warnings),
        notes=tuple(notes),
        refusals=tuple(refusals) if refusals is not None else None,
        deferred=deferred,
        deliberation=deliberation,
        funding=funding,
        events=len(history),
    )


def _listify(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def _stage(
    definition: ProcessDefinition,
    labels: _Labels,
    did: str,
    opened: tuple[Instance, dt.datetime, str],
    closed: dt.datetime | None,
    tz: dt.tzinfo,
    fired: Mapping[str, int],
    *,
    as_of: dt.datetime | None = None,
) -> Stage:
    snap, start, state = opened
    armed = next(a for a in snap.deadlines if a.id == did)
    cal = _calendar(definition, did)
    days, wdays = _lateness(armed.due, closed or as_of or start, tz, cal)
    return Stage(
        deadline=did,
        label=labels.deadline(did),
        state=state,
        state_label=labels.state(state),
        start=start,
        planned=armed.due,
        actual=closed,
        days_late=days,
        working_days_late=wdays,
        escalations=fired.get(did, 0),
    )


def _budget(
    data: Mapping[str, Any],
) -> tuple[tuple[BudgetLine, ...], Mapping[str, Any] | None, tuple[Funding, ...]]:
    """Deferred budget lines, the prioritisation deliberation and funding per source,
    read from the PAKET data layout when present."""
    proposal = data.get("usulan") if isinstance(data.get("usulan"), Mapping) else {}
    assert isinstance(proposal, Mapping)
    lines = {str(p.get("kode")): p for p in proposal.get("pos", ()) or () if isinstance(p, Mapping)}
    deliberation = data.get("musyawarah") if isinstance(data.get("musyawarah"), Mapping) else None
    deferred: list[BudgetLine] = []
    if deliberation is not None:
        for code in deliberation.get("ditunda", ()) or ():
            line = lines.get(str(code), {})
            cost = line.get("biaya")
            deferred.append(
                BudgetLine(
                    str(code), str(line.get("uraian", "")), cost if isinstance(cost, int) else None
                )
            )
    tranches = [t for t in data.get("tranches", ()) or () if isinstance(t, Mapping)]
    apbd = data.get("apbd") if isinstance(data.get("apbd"), Mapping) else {}
    assert isinstance(apbd, Mapping)
    funding: list[Funding] = []
    for src in proposal.get("sumber", ()) or ():
        if not isinstance(src, Mapping):
            continue
        code, planned = str(src.get("kode")), int(src.get("jumlah") or 0)
        if src.get("natura"):
            funding.append(Funding(code, planned, None, in_kind=True))
        elif code.startswith("PAKET"):
            got = sum(int(t.get("diterima") or 0) for t in tranches)
            funding.append(Funding(code, planned, got))
        elif code.startswith("APBD"):
            got_apbd = apbd.get("diterima")
            received = (
                int(got_apbd)
                if isinstance(got_apbd, int) and not isinstance(got_apbd, bool)
                else int(apbd.get("jumlah") or 0)
                if got_apbd is True
                else 0
            )
            funding.append(Funding(code, planned, received))
        else:
            funding.append(Funding(code, planned, None))
    return tuple(deferred), deliberation, tuple(funding)


class _Labels:
    def __init__(self, definition: ProcessDefinition, lang: str) -> None:
        self.d = definition
        self.lang = lang
        self.deadlines = {
            dl.id: dl.labels.get(lang) if dl.labels else dl.id
            for s in definition.states.values()
            for dl in s.deadlines
        }

    def state(self, sid: str) -> str:
        s = self.d.states.get(sid)
        return s.labels.get(self.lang) if s else sid

    def event(self, eid: str | None) -> str:
        e = self.d.events.get(eid or "")
        return e.labels.get(self.lang) if e else (eid or "")

    def deadline(self, did: str) -> str:
        return self.deadlines.get(did, did)

    def flag(self, fid: str) -> str:
        f = self.d.flags.get(fid)
        return f.get(self.lang) if f else fid

    def role(self, rid: str) -> str:
        r = self.d.roles.get(rid)
        return r.labels.get(self.lang) if r else rid
