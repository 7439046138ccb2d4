"""Checks of command arguments at the boundary, before anything else runs.

Two kinds of failure, kept apart on purpose:

- a programming error (an argument of the wrong Python type, a naive datetime) raises
  :class:`~paketflow.ArgumentTypeError` / :class:`~paketflow.ArgumentValueError` at once;
- caller data that breaks a documented rule (an id with spaces, NaN in a payload, a
  time outside the supported range) raises :class:`Invalid`, which the engine turns
  into a :class:`~paketflow.Refused` whose code names the field.

The limits are module constants, listed in docs/api.md ("Limits of command
arguments"); a test keeps that table true.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any, NoReturn

from paketflow._errors import ArgumentTypeError, ArgumentValueError
from paketflow._json import EMPTY, JSONValueError, check
from paketflow._runtime.model import Actor

__all__ = [
    "EARLIEST",
    "LATEST",
    "MAX_ID_LENGTH",
    "MAX_KEY_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_ROLES",
    "Invalid",
    "check_actor",
    "check_data",
    "check_id",
    "check_key",
    "check_name",
    "check_time",
]

#: Longest instance id, actor id, role, element, event name or slot.
MAX_ID_LENGTH = 128
#: Longest idempotency key.
MAX_KEY_LENGTH = 200
#: Longest actor display name.
MAX_NAME_LENGTH = 200
#: Most roles one actor may hold.
MAX_ROLES = 64
#: Earliest and latest (exclusive) command time accepted.
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)
_EARLIEST_NAIVE = EARLIEST.replace(tzinfo=None)
_LATEST_NAIVE = LATEST.replace(tzinfo=None)

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@-]*")
# Values already found valid (bounded: cleared when full). Ids and actors repeat from
# command to command, so most checks are one set lookup.
_VALID_IDS: set[str] = set()
_VALID_ACTORS: set[Actor] = set()
_CACHE_SIZE = 65_536
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Invalid(Exception):
    """Internal: caller data breaks a rule. ``code`` names the field; ``params`` fill
    the bilingual template."""

    def __init__(self, code: str, params: Mapping[str, Any]) -> None:
        super().__init__(code)
        self.code = code
        self.params = dict(params)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _type_error(arg: str, value: Any, expected: str) -> NoReturn:
    raise ArgumentTypeError(
        f"{arg} must be {expected}, got {type(value).__name__} {_short(value)}"
    ) from None


def check_id(value: Any, arg: str) -> str:
    """An id: a string of 1–128 characters from ``A–Z a–z 0–9 . _ : @ -``, not starting
    with punctuation."""
    if type(value) is str and value in _VALID_IDS:
        return value
    if not isinstance(value, str):
        _type_error(arg, value, "a string")
    if len(value) > MAX_ID_LENGTH or not _ID.fullmatch(value):
        problem_en = (
            f"longer than {MAX_ID_LENGTH} characters"
            if len(value) > MAX_ID_LENGTH
            else "use 1 to 128 of A-Z a-z 0-9 . _ : @ -, starting with a letter or digit"
        )
        problem_id = (
            f"lebih dari {MAX_ID_LENGTH} karakter"
            if len(value) > MAX_ID_LENGTH
            else "gunakan 1 sampai 128 karakter A-Z a-z 0-9 . _ : @ -, diawali huruf atau angka"
        )
        raise Invalid(
            "ERR_ID_TIDAK_VALID",
            {
                "argumen": arg,
                "argument": arg,
                "nilai": _short(value),
                "value": _short(value),
                "masalah": problem_id,
                "problem": problem_en,
            },
        )
    if len(_VALID_IDS) >= _CACHE_SIZE:
        _VALID_IDS.clear()
    _VALID_IDS.add(value)
    return value


def check_name(value: Any, arg: str) -> str:
    """An event name or a slot: the same rule as ids."""
    return check_id(value, arg)


def check_key(value: Any) -> str | None:
    """An idempotency key: ``None`` or 1–200 characters, no control characters."""
    if value is None:
        return None
    if not isinstance(value, str):
        _type_error("idempotency_key", value, "a string or None")
    problem = None
    if not value or len(value) > MAX_KEY_LENGTH:
        problem = (
            f"panjangnya harus 1 sampai {MAX_KEY_LENGTH} karakter",
            f"must be 1 to {MAX_KEY_LENGTH} characters long",
        )
    elif _CONTROL.search(value) or not _utf8(value):
        problem = (
            "berisi karakter kontrol atau surrogate tunggal",
            "contains control characters or lone surrogates",
        )
    if problem is not None:
        raise Invalid(
            "ERR_KUNCI_TIDAK_VALID",
            {
                "nilai": _short(value),
                "value": _short(value),
                "masalah": problem[0],
                "problem": problem[1],
            },
        )
    return value


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _actor_invalid(field: str, value: Any, problem_id: str, problem_en: str) -> NoReturn:
    raise Invalid(
        "ERR_AKTOR_TIDAK_VALID",
        {
            "bidang": field,
            "field": field,
            "nilai": _short(value),
            "value": _short(value),
            "masalah": problem_id,
            "problem": problem_en,
        },
    )


def check_actor(actor: Any) -> Actor:
    """An :class:`~paketflow.Actor` whose id, roles and element are ids and whose name
    is short text."""
    if not isinstance(actor, Actor):
        _type_error("actor", actor, "a paketflow.Actor")
    try:
        if actor in _VALID_ACTORS:
            return actor
    except TypeError:  # unhashable fields: checked (and refused) below
        pass
    for field, value in (("actor.id", actor.id), ("actor.element", actor.element)):
        if value is None and field == "actor.element":
            continue
        try:
            check_id(value, field)
        except Invalid as exc:
            _actor_invalid(field, value, exc.params["masalah"], exc.params["problem"])
    roles = sorted(actor.roles, key=lambda r: (type(r) is not str, repr(r)))
    for role in roles:  # in a fixed order: the same actor is always refused alike
        if not isinstance(role, str):
            _type_error("actor.roles", role, "role ids (strings)")
    if len(roles) > MAX_ROLES:
        _actor_invalid(
            "actor.roles",
            roles[:3],
            f"lebih dari {MAX_ROLES} peran",
            f"more than {MAX_ROLES} roles",
        )
    for role in roles:
        try:
            check_id(role, "actor.roles")
        except Invalid as exc:
            _actor_invalid("actor.roles", role, exc.params["masalah"], exc.params["problem"])
    name = actor.name
    if name is not None:
        if not isinstance(name, str):
            _type_error("actor.name", name, "a string or None")
        if len(name) > MAX_NAME_LENGTH or _CONTROL.search(name) or not _utf8(name):
            _actor_invalid(
                "actor.name",
                name,
                f"gunakan teks biasa sampai {MAX_NAME_LENGTH} karakter",
                f"use plain text of at most {MAX_NAME_LENGTH} characters",
            )
    if len(_VALID_ACTORS) >= _CACHE_SIZE:
        _VALID_ACTORS.clear()
    _VALID_ACTORS.add(actor)
    return actor


def check_data(value: Any, arg: str) -> Mapping[str, Any]:
    """A payload or instance data: ``None`` (empty) or a mapping of strict JSON within
    the limits of :mod:`paketflow._json`; returns a deeply frozen copy."""
    if value is None:
        return EMPTY
    if not isinstance(value, Mapping):
        _type_error(arg, value, "a mapping (dict) or None")
    try:
        return check(value)  # type: ignore[no-any-return]
    except JSONValueError as exc:
        where = f"{arg}{exc.pointer}"
        raise Invalid(
            "ERR_DATA_TIDAK_SAH",
            {
                "lokasi": where,
                "location": where,
                "masalah": exc.problem_id,
                "problem": exc.problem,
            },
        ) from None


def check_time(value: Any, arg: str) -> dt.datetime:
    """An aware ``datetime`` within [``EARLIEST``, ``LATEST``)."""
    if not isinstance(value, dt.datetime):
        _type_error(arg, value, "a timezone-aware datetime.datetime")
    offset = value.utcoffset() if value.tzinfo is not None else None
    if offset is None:
        raise ArgumentValueError(
            f"{arg} must be a timezone-aware datetime, got {value!r}; e.g. "
            "datetime(2012, 9, 4, 10, tzinfo=ZoneInfo('Asia/Pontianak'))"
        )
    try:
        ok = _EARLIEST_NAIVE <= value.replace(tzinfo=None) - offset < _LATEST_NAIVE
    except OverflowError:
        ok = False
    if not ok:
        raise Invalid(
            "ERR_WAKTU_TIDAK_VALID",
            {
                "argumen": arg,
                "argument": arg,
                "nilai": value.isoformat(),
                "value": value.isoformat(),
                "awal": EARLIEST.date().isoformat(),
                "earliest": EARLIEST.date().isoformat(),
                "akhir": LATEST.date().isoformat(),
                "latest": LATEST.date().isoformat(),
            },
        )
    return value
