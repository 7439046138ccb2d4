"""The frozen, resolved model of a process definition.

A :class:`ProcessDefinition` is what :func:`paketflow.load_definition` returns: every
reference checked, every expression compiled, every duration parsed. Nothing in it is
mutable and nothing in it runs code from the document: conditions are compiled from a
closed JSON expression language (:mod:`paketflow._expr`).

The JSON language these classes come from is described in
``docs/definition-language.md``; the JSON Schema is ``schemas/definition-v1.json``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from paketflow._calendar import Duration
from paketflow._expr import Expr, PathSegment

__all__ = [
    "Alternative",
    "Attendance",
    "CalendarSpec",
    "Deadline",
    "DocumentDecl",
    "Due",
    "Effect",
    "Element",
    "Escalation",
    "EventDecl",
    "Exclusion",
    "Guard",
    "Labels",
    "MessageDecl",
    "Notice",
    "Offset",
    "ProcessDefinition",
    "Role",
    "Separation",
    "SignatureRule",
    "Slot",
    "State",
    "Timeout",
    "Transition",
]


@attrs.frozen
class Labels:
    """A label in Indonesian (``id``) and English (``en``)."""

    id: str
    en: str

    def get(self, lang: str) -> str:
        return self.id if lang == "id" else self.en


@attrs.frozen
class CalendarSpec:
    """A named working-day calendar (``/calendars/<id>``).

    Working days are ``workdays`` (ISO weekday numbers, Monday = 1) that are not public
    holidays of ``country`` (from the ``holidays`` package), not ``cuti_bersama`` joint
    leave days when that is on, and not in ``extra_holidays``.
    """

    id: str
    country: str = "ID"
    cuti_bersama: bool = False
    timezone: str = "Asia/Jakarta"
    extra_holidays: tuple[dt.date, ...] = ()
    workdays: tuple[int, ...] = (1, 2, 3, 4, 5)


@attrs.frozen
class Element:
    """A PAKEM element (``unsur``) or, generally, a constituency that signatures can
    require one representative of (``/elements/<id>``)."""

    id: str
    labels: Labels


@attrs.frozen
class Role:
    """A role (``/roles/<id>``). ``element`` ties holders to one element; ``pool`` is
    the largest number of distinct persons that can hold the role in one instance (used
    to reject quorums that can never be met)."""

    id: str
    labels: Labels
    element: str | None = None
    pool: int | None = None


@attrs.frozen
class EventDecl:
    """An event declared in ``/events/<id>`` with its labels.

    ``rule`` (with ``reason``) names the segregation-of-duties rule that confines the
    event to the states that offer it: firing it anywhere else is refused with
    ``ERR_PEMISAHAN_TUGAS`` carrying that rule, not as an unavailable action."""

    id: str
    labels: Labels
    rule: str | None = None
    reason: Labels | None = None


@attrs.frozen
class DocumentDecl:
    """A document (``/documents/<id>``) whose signatures a state collects."""

    id: str
    labels: Labels


@attrs.frozen
class Separation:
    """Roles one person may not hold together (``/separations/<rule>``): an actor
    holding one of ``roles`` and one of ``notWith`` is refused every command with
    ``ERR_PEMISAHAN_TUGAS`` naming ``rule``."""

    rule: str
    roles: tuple[str, ...]
    not_with: tuple[str, ...]
    reason: Labels | None = None


@attrs.frozen
class MessageDecl:
    """A message template (``/messages/<code>``) in both languages. Placeholders are
    ``{name}``; nothing else in the template is interpreted. ``category`` is the
    declared refusal category of the code (see :mod:`paketflow._categories`)."""

    code: str
    labels: Labels
    category: str | None = None


@attrs.frozen
class Slot:
    """One signature slot of a signature rule: ``count`` distinct signers holding any
    of ``roles`` (and, when ``element`` is set, representing that element).

    ``expected`` evaluates to the names of the persons expected to sign (shown in
    refusals). ``only`` evaluates to the persons (actor ids or names) who alone may
    sign the slot: when it names anyone, others are refused (``ERR_BUKAN_PENANDATANGAN``)
    and a signature by someone it no longer names (a representative replaced
    meanwhile) stops counting; when it evaluates to nothing (no data yet) anyone
    fitting the slot may sign.
    ``document`` is the document (``/documents/<id>``) the slot belongs to, so a
    state can collect the signatures of several documents.
    """

    id: str
    roles: tuple[str, ...]
    count: int = 1
    element: str | None = None
    labels: Labels | None = None
    expected: Expr | None = None
    only: Expr | None = None
    document: str | None = None


@attrs.frozen
class Exclusion:
    """Segregation of duties: actors in the person set ``set`` may not do this.
    ``rule`` is the domain rule id shown in the refusal (``SoD-2``)."""

    set: str
    rule: str | None = None
    reason: Labels | None = None


@attrs.frozen
class SignatureRule:
    """The signatures a state collects (``/states/<id>/signatures``).

    Signatures belong to one visit of the state: entering the state again starts an
    empty set. ``distinct_persons``: one person fills at most one slot place.
    Signers are added to the person set ``record`` when it is set.
    """

    slots: tuple[Slot, ...]
    distinct_persons: bool = True
    exclude: tuple[Exclusion, ...] = ()
    record: str | None = None
    rule: str | None = None
    """The segregation-of-duties rule ``distinctPersons`` enforces here (e.g. SoD-8,
    the two-person cash rule), carried by its refusals; SoD-1 where slots are per
    element."""

    @property
    def documents(self) -> tuple[str, ...]:
        """The documents the slots belong to, in slot order, each once."""
        return tuple(dict.fromkeys(s.document for s in self.slots if s.document is not None))


@attrs.frozen
class Guard:
    """A condition that must hold for a transition to be allowed.

    When ``condition`` is false the command is refused with ``code`` (a message code),
    the message parameters from ``params``; ``missing``/``expected`` evaluate to lists
    of strings naming what is missing and who is expected; ``fix`` lists the roles that
    can fix it.
    """

    id: str
    condition: Expr
    code: str
    params: Mapping[str, Expr] = attrs.field(factory=dict)
    fix: tuple[str, ...] = ()
    rule: str | None = None
    missing: Expr | None = None
    expected: Expr | None = None


EffectOp = Literal["set", "add", "append", "unset", "flag", "unflag", "resetSignatures"]


@attrs.frozen
class Effect:
    """A change to instance data or flags, applied when a transition is taken.

    ``set``/``add``/``append``/``unset`` act on ``path`` in instance data with ``value``;
    ``flag``/``unflag`` act on the flag ``name``; ``resetSignatures`` voids the
    signatures of the current visit.
    """

    op: EffectOp
    path: tuple[PathSegment, ...] = ()
    value: Expr | None = None
    name: str | None = None


@attrs.frozen
class Notice:
    """A warning or note attached to an accepted event (``WARN_*``, ``NOTE_*``).

    Emitted when ``when`` is true (always when it is ``None``); may raise ``flag`` and
    names the roles to ``notify``.
    """

    code: str
    when: Expr | None = None
    params: Mapping[str, Expr] = attrs.field(factory=dict)
    notify: tuple[str, ...] = ()
    flag: str | None = None


@attrs.frozen
class Attendance:
    """Who attended the meeting a transition records, per element
    (``/states/<s>/on/<e>/attendance``).

    ``present`` evaluates to an object mapping each element to the persons present
    (actor ids or names; a bare number counts anonymous attendees), e.g. the payload's
    attendance list, or the signers of this visit when none is given. Every element of
    ``elements`` needs at least ``min`` attendees; when ``members`` (an expression
    giving an object element → persons) names anyone for an element, only those
    persons count. Otherwise the command is refused with ``ERR_UNSUR_TIDAK_LENGKAP``
    naming the missing elements and the persons expected (``members`` of those
    elements) before signatures are counted: an incomplete meeting is the reason, not
    the signatures it could not collect."""

    present: Expr
    elements: tuple[str, ...]
    min: int = 1
    members: Expr | None = None
    expected: Expr | None = None
    """Names shown as expected for a missing element (object element → names);
    default ``members``."""


@attrs.frozen
class Alternative:
    """One guarded alternative of a transition (an exclusive-gateway flow).

    ``when is None`` marks the default flow (``otherwise``), which is always last.
    """

    target: str
    when: Expr | None = None
    effects: tuple[Effect, ...] = ()
    notices: tuple[Notice, ...] = ()


@attrs.frozen
class Transition:
    """What event ``event`` does in state ``source``.

    Evaluation order: role permission, exclusions (SoD), signature completeness,
    payload schema, guards (all evaluated, all failures reported); then ``effects``
    on the data; then the first alternative whose ``when`` holds on the updated data;
    then its effects; then notices. ``internal`` transitions (target equals source and
    no ``reenter``) keep signatures and deadlines.
    """

    event: str
    source: str
    roles: tuple[str, ...]
    alternatives: tuple[Alternative, ...]
    require_signatures: bool = False
    require_documents: tuple[str, ...] = ()
    attendance: Attendance | None = None
    exclude: tuple[Exclusion, ...] = ()
    guards: tuple[Guard, ...] = ()
    effects: tuple[Effect, ...] = ()
    notices: tuple[Notice, ...] = ()
    record: tuple[str, ...] = ()
    data_schema: Mapping[str, Any] | None = None
    reenter: bool = False


@attrs.frozen
class Offset:
    """A delay after a due date: a :class:`Duration` or a number of working days on a
    calendar."""

    duration: Duration | None = None
    working_days: int | None = None
    calendar: str | None = None


@attrs.frozen
class Due:
    """How a deadline's due instant is computed, once, when it is armed.

    ``kind == "duration"``: entry time plus ``duration`` (day-based durations land on
    local midnight); ``"workingDays"``: entry date plus N working days of ``calendar``;
    ``"date"``: the date (or date-time) that ``date`` evaluates to in instance data.
    """

    kind: Literal["duration", "workingDays", "date"]
    duration: Duration | None = None
    working_days: int | None = None
    calendar: str | None = None
    date: Expr | None = None


@attrs.frozen
class Escalation:
    """An escalation tier: fires once, ``after`` the due instant, without leaving the
    state; may raise ``flag``, names roles to ``notify`` and a ``message`` code.

    ``when`` is evaluated on the data when the tier falls due: when it is false the
    tier passes silently (recorded, but no notice and no flag), e.g. a fiscal-year-end
    warning that only speaks while a tranche is open. ``params`` are message
    parameters evaluated then, added to the built-in ones."""

    id: str
    after: Offset
    flag: str | None = None
    notify: tuple[str, ...] = ()
    message: str | None = None
    when: Expr | None = None
    params: Mapping[str, Expr] = attrs.field(factory=dict)


@attrs.frozen
class Timeout:
    """An interrupting timeout: ``after`` the due instant the instance takes ``event``
    to ``target``, applying ``effects``."""

    after: Offset
    target: str
    event: str
    effects: tuple[Effect, ...] = ()


@attrs.frozen
class Deadline:
    """A deadline armed when the instance enters ``state`` (``/states/<s>/deadlines/<id>``).

    It stays armed while the instance is in one of ``scope`` (which includes ``state``)
    and is disarmed when it leaves them or an event of ``met_by`` is accepted;
    re-entering ``state`` while armed does not re-arm it.
    """

    id: str
    state: str
    due: Due
    scope: tuple[str, ...]
    escalations: tuple[Escalation, ...] = ()
    timeout: Timeout | None = None
    labels: Labels | None = None
    #: Events that meet the deadline: an accepted one disarms it while in scope.
    met_by: tuple[str, ...] = ()


@attrs.frozen
class State:
    """A state (``/states/<id>``)."""

    id: str
    labels: Labels
    final: bool = False
    signatures: SignatureRule | None = None
    deadlines: tuple[Deadline, ...] = ()
    transitions: Mapping[str, Transition] = attrs.field(factory=dict)


@attrs.frozen
class ProcessDefinition:
    """A loaded, validated, resolved process definition. Immutable.

    ``hash`` is ``"sha256:<hex>"`` of the canonical JSON of the resolved document
    (after variant patches); instances are pinned to it. ``document`` is that resolved
    document, always in the shape of format 1 (a format-2 document is resolved into it;
    ``format`` says which format was written). ``source`` is the file it came from
    (``"<mapping>"`` otherwise).
    """

    id: str
    version: str
    hash: str
    labels: Labels
    initial: str
    states: Mapping[str, State]
    roles: Mapping[str, Role]
    events: Mapping[str, EventDecl]
    elements: Mapping[str, Element] = attrs.field(factory=dict)
    messages: Mapping[str, MessageDecl] = attrs.field(factory=dict)
    calendars: Mapping[str, CalendarSpec] = attrs.field(factory=dict)
    data_schema: Mapping[str, Any] | None = None
    timezone: str = "Asia/Jakarta"
    flags: Mapping[str, Labels] = attrs.field(factory=dict)
    documents: Mapping[str, DocumentDecl] = attrs.field(factory=dict)
    separations: tuple[Separation, ...] = ()
    format: int = 1
    extends: str | None = None
    document: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)
    source: str = "<mapping>"
    source_document: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)
    """The document as written (format 2: with stages, ``$defs`` and ``parameters``;
    for a variant, the base's with the variant applied), before resolution."""

    @property
    def key(self) -> str:
        """``id@version``."""
        return f"{self.id}@{self.version}"

    def category(self, code: str) -> str:
        """The refusal category of ``code`` (a built-in code or one of this
        definition's ``/messages``): ``permission``, ``segregation_of_duties``,
        ``state``, ``data``, ``rule``, ``deadline`` or ``budget``."""
        from paketflow._categories import category_of

        return category_of(code, {c: m.category for c, m in self.messages.items()})
