"""The one exception hierarchy of paketflow.

Every exception the library raises on purpose derives from :class:`PaketflowError`.
Where a builtin describes the same failure, the class also derives from it
(``DefinitionError`` is a ``ValueError``), so callers that already catch builtins keep
working.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

__all__ = [
    "ArgumentTypeError",
    "ArgumentValueError",
    "ConcurrencyError",
    "DefinitionError",
    "DuplicateInstance",
    "FormatError",
    "HistoryError",
    "ImmutableError",
    "InvalidTime",
    "PaketflowError",
    "Problem",
    "Reason",
    "Refused",
    "ScenarioError",
    "StoreError",
    "UnknownDefinition",
    "UnknownInstance",
]


class PaketflowError(Exception):
    """Base class of every error paketflow raises on purpose."""


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@attrs.frozen
class Problem:
    """One problem found in a process definition.

    ``code`` is stable (documented in docs/errors.md); ``pointer`` is an RFC 6901 JSON
    Pointer into the document named by ``file`` (``"<mapping>"`` when the definition
    was given as a Python mapping); ``value`` is the offending value (``None`` when
    there is none); ``hint`` says what to do.
    """

    code: str
    pointer: str
    message: str
    hint: str = ""
    file: str = "<mapping>"
    value: Any = None
    line: int | None = None
    """The line of ``pointer`` in ``file`` when it is known (format 2, variants)."""
    resolved: str | None = None
    """The pointer in the resolved document when it differs from ``pointer`` (the
    problem was found after stages, fragments, parameters or a variant were applied)."""

    def __str__(self) -> str:
        hint = f" ({self.hint})" if self.hint else ""
        line = f"{self.line}:" if self.line is not None else ""
        text = f"{self.file}:{line}{self.pointer or '/'}: {self.code} {self.message}{hint}"
        if self.resolved is not None:
            text += f" [resolved document: {self.resolved}]"
        return text

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly view, used by ``paketflow validate --format json``."""
        out = {
            "file": self.file,
            "pointer": self.pointer,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
            "value": self.value if _jsonable(self.value) else repr(self.value),
        }
        if self.line is not None:
            out["line"] = self.line
        if self.resolved is not None:
            out["resolved"] = self.resolved
        return out


def _jsonable(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool | list | dict)


class DefinitionError(PaketflowError, ValueError):
    """A process definition (or variant) is not valid.

    ``errors`` holds every problem found, each a :class:`Problem`; the loader reports
    them all at once, root causes only.
    """

    def __init__(self, errors: Iterable[Problem]) -> None:
        self.errors: tuple[Problem, ...] = tuple(errors)
        n = len(self.errors)
        head = f"{n} problem{'s' if n != 1 else ''} in process definition"
        super().__init__(head + ":\n" + "\n".join(f"  {p}" for p in self.errors))


def _frozen_params(params: Mapping[str, Any]) -> Mapping[str, Any]:
    from paketflow._json import freeze

    return freeze(dict(params))  # type: ignore[no-any-return]


@attrs.frozen
class Reason:
    """Why a command was refused, in Indonesian (``message_id``) and English
    (``message_en``).

    ``code`` is stable; ``missing`` names what is lacking (a PAKEM element, a signature
    slot, a data field); ``expected`` names who is expected to supply it; ``fix`` lists
    the roles that can fix it; ``deadline`` is the deadline that applies, if any;
    ``rule`` is the domain rule id (``SoD-2``, ``R-06``) when there is one.
    """

    code: str
    message_id: str
    message_en: str
    missing: tuple[str, ...] = ()
    expected: tuple[str, ...] = ()
    fix: tuple[str, ...] = ()
    deadline: _dt.datetime | None = None
    rule: str | None = None
    params: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen_params)
    category: str | None = attrs.field(default=None, kw_only=True)

    def message(self, lang: str = "en") -> str:
        """The message in ``lang`` (``"id"`` or ``"en"``)."""
        return self.message_id if lang == "id" else self.message_en

    @property
    def kind(self) -> str:
        """The refusal category of :attr:`code` (``permission``, ``state`` …): the one
        the engine recorded from the definition, else the built-in one."""
        from paketflow._categories import category_of

        return self.category or category_of(self.code)

    def as_dict(self, lang: str | None = None) -> dict[str, Any]:
        """Plain JSON: ``message`` is ``{"id", "en"}``, or the text in ``lang``."""
        return {
            "code": self.code,
            "category": self.kind,
            "message": (
                {"id": self.message_id, "en": self.message_en}
                if lang is None
                else self.message(lang)
            ),
            "missing": list(self.missing),
            "expected": list(self.expected),
            "fix": list(self.fix),
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "rule": self.rule,
        }


class Refused(PaketflowError):
    """A command was refused by the rules of the process. Nothing was changed.

    ``reasons`` lists every rule that refused it (at least one).
    """

    def __init__(self, instance_id: str, command: str, reasons: Iterable[Reason]) -> None:
        self.instance_id = instance_id
        self.command = command
        self.reasons: tuple[Reason, ...] = tuple(reasons)
        codes = ", ".join(r.code for r in self.reasons)
        detail = "; ".join(r.message_en for r in self.reasons)
        super().__init__(f"{command} on {instance_id!r} refused [{codes}]: {detail}")

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)

    @property
    def category(self) -> str:
        """The category that decides how to answer: the first of ``permission``,
        ``segregation_of_duties``, ``state``, ``deadline``, ``data``, ``budget``,
        ``rule`` that any reason has (who may act before what is possible before what
        to fix)."""
        kinds = {r.kind for r in self.reasons}
        for kind in _PRECEDENCE:
            if kind in kinds:
                return kind
        return "rule"

    def as_dict(self, lang: str | None = None) -> dict[str, Any]:
        """Plain JSON for an API answer: instance, command, category, codes, reasons."""
        return {
            "instance": self.instance_id,
            "command": self.command,
            "category": self.category,
            "codes": list(self.codes),
            "reasons": [r.as_dict(lang) for r in self.reasons],
        }


_PRECEDENCE = ("permission", "segregation_of_duties", "state", "deadline", "data", "budget", "rule")


class UnknownInstance(PaketflowError, KeyError):
    """No instance with this id exists in the store."""

    def __init__(self, instance_id: str) -> None:
        self.instance_id = instance_id
        super().__init__(
            f"no instance {instance_id!r} in this store; start it with Engine.start() first"
        )
        #: End-user texts (no advice for programmers), Indonesian and English.
        self.message_id = f"Instans proses {instance_id!r} tidak ditemukan."
        self.message_en = f"No process instance {instance_id!r} was found."

    def message(self, lang: str = "en") -> str:
        """The end-user message in ``lang`` (``"id"`` or ``"en"``)."""
        return self.message_id if lang == "id" else self.message_en

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


class DuplicateInstance(PaketflowError, ValueError):
    """An instance with this id already exists."""


class UnknownDefinition(PaketflowError, LookupError):
    """The engine has no definition with this id (or id@version)."""


class ConcurrencyError(PaketflowError):
    """The instance changed since it was read (optimistic concurrency) and the command
    could not be applied; nothing was written. Retry the command (with its
    idempotency key)."""


class ArgumentTypeError(PaketflowError, TypeError):
    """A programming error: an argument of a paketflow call has the wrong Python type
    (``instance_id=123``, ``actor=None``). The message names the argument, shows the
    value and the type expected."""


class ArgumentValueError(PaketflowError, ValueError):
    """A programming error: an argument has the right type but a value no call can
    accept (a naive datetime, an unknown language). The message names the argument."""


class ImmutableError(PaketflowError, TypeError):
    """A snapshot, event, reason or permission set returned by paketflow was changed in
    place. They are read-only records; copy them first (``paketflow.thaw``)."""


class FormatError(PaketflowError, ValueError):
    """A stored record (event or snapshot) cannot be read: an unknown format number or
    a malformed field. The message names the record and the field."""


class HistoryError(PaketflowError, ValueError):
    """A history cannot be replayed: it does not begin with ``started``, skips a
    sequence number, mixes instances, or was recorded on another definition."""


class InvalidTime(PaketflowError, ValueError):
    """A local date or date-time could not be read (:func:`paketflow.local_time`).

    ``value`` is what was given; ``message_id`` / ``message_en`` are end-user texts
    (``message(lang)``); ``str()`` also names the accepted forms."""

    def __init__(self, value: Any, zone: str) -> None:
        self.value = value
        self.message_id = (
            f"Waktu {_short(value)} tidak dapat dibaca; tulis tanggal (2012-06-04) atau "
            "tanggal dan jam (2012-06-04T10:00)."
        )
        self.message_en = (
            f"The time {_short(value)} cannot be read; write a date (2012-06-04) or a date "
            "and time (2012-06-04T10:00)."
        )
        super().__init__(
            f"local_time: {_short(value)} is not an ISO 8601 date or date-time; pass "
            f"'YYYY-MM-DD' (local midnight in {zone}), 'YYYY-MM-DDTHH:MM[:SS]' (local time) "
            "or a string with an offset, a date or a datetime"
        )

    def message(self, lang: str = "en") -> str:
        """The end-user message in ``lang`` (``"id"`` or ``"en"``)."""
        return self.message_id if lang == "id" else self.message_en


class ScenarioError(PaketflowError, ValueError):
    """A scenario file is malformed. The message names the file, the JSON Pointer and
    what to do."""


def problem_value(value: Any) -> str:
    """A short, safe rendering of an offending value for messages."""
    return _short(value)


class StoreError(PaketflowError):
    """A store cannot be opened or read: an unknown URL scheme, a schema newer than
    this paketflow, a record it cannot decode, or a missing optional dependency. The
    message names the store or record and says what to do."""
