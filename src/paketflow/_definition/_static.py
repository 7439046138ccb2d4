"""Static checks that make "valid" mean "runs": mistakes that used to pass ``validate``
and fail only when an instance reaches them.

Run by the :class:`~paketflow._definition._semantic.Checker` after its own checks, on
the compiled expressions it keeps, for format 1 and format 2 alike:

- **message placeholders**: every ``{name}`` of a message, in both languages, is given
  by the guard's or notice's ``params``, or is one of the parameters every escalation
  passes (:data:`ESCALATION_PARAMS`);
- **paths**: ``data.X`` names a property of ``/data`` (when there is one) or a place
  some effect writes;
  ``event.X`` a property of the transition's payload schema (when it lists
  properties); ``actor.X`` one of
  ``id``/``roles``/``element``; ``deadlines.ID`` a declared deadline, and nothing after
  it (the value *is* the due instant);
- **types**: arithmetic on a value whose schema says it is not a number; arithmetic on
  a payload value the schema does not require, without ``coalesce``;
- **instants**: ``<``/``<=``/``>``/``>=``/``==``/``!=`` with a date-time (``at``, a
  deadline, a ``format: date-time`` value) on a side, which would compare text;
- **quorums** of more than one signer on a role that declares no ``pool``;
- **hard deadlines** (with a ``timeout``) whose states have no way forward except
  events available almost everywhere (cancellation) and the timeout itself.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from paketflow._definition._strict_json import esc

if TYPE_CHECKING:
    from paketflow._definition._semantic import Checker

__all__ = ["ESCALATION_PARAMS", "run"]

ESCALATION_PARAMS = frozenset(
    {
        "tahap",
        "stage",
        "hari",
        "days",
        "tanggal",
        "date",
        "penerima",
        "recipient",
        "alasan",
        "reason",
    }
)
"""The parameters the engine passes to every escalation message (Indonesian and
English names): the deadline's (or state's) label, the days past due, the due date, the
notified roles' labels and a one-line reason."""

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_ARITHMETIC = frozenset({"+", "-", "*", "div", "percent", "sum", "min", "max"})
_COMPARE = frozenset({"<", "<=", ">", ">=", "==", "!="})
_ACTOR = ("id", "roles", "element")
_NUMERIC = frozenset({"integer", "number"})


def _close(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1) or [
        k for k in known if k.lower() == name.lower()
    ]
    return f"did you mean {close[0]!r}? " if close else ""


def run(c: Checker) -> None:
    """Add every static problem of the checked document to ``c``."""
    _Static(c).run()


class _Static:
    def __init__(self, c: Checker) -> None:
        self.c = c
        self.data_schema: Mapping[str, Any] = c.doc.get("data") or {}
        self.written = {
            str(path[0]) for path in c.paths.values() if path and isinstance(path[0], str)
        }
        self.deadline_ids = {did for s in c.states.values() for did in s.get("deadlines", {})}

    def add(self, code: str, pointer: str, message: str, hint: str, value: Any = None) -> None:
        self.c.add(code, pointer, message, hint, value)

    def run(self) -> None:
        for sid, state in self.c.states.items():
            if state.get("final"):
                continue
            base = f"/states/{esc(sid)}"
            self.slots(state, base)
            for did, dl in state.get("deadlines", {}).items():
                for tid, tier in dl.get("escalations", {}).items():
                    if "message" in tier:
                        self.placeholders(
                            tier["message"],
                            ESCALATION_PARAMS | set(tier.get("params", {})),
                            f"{base}/deadlines/{esc(did)}/escalations/{esc(tid)}/message",
                            "the escalation",
                        )
                if "timeout" in dl:
                    self.hard_deadline(sid, did, dl, f"{base}/deadlines/{esc(did)}")
            for ev, t in state.get("on", {}).items():
                p = f"{base}/on/{esc(ev)}"
                for i, g in enumerate(t.get("guards", [])):
                    self.placeholders(
                        g["code"], set(g.get("params", {})), f"{p}/guards/{i}", "the guard"
                    )
                notices = [(f"{p}/notices", t.get("notices", []))] + [
                    (f"{p}/alternatives/{i}/notices", a.get("notices", []))
                    for i, a in enumerate(t.get("alternatives", []))
                ]
                for where, items in notices:
                    for i, n in enumerate(items):
                        self.placeholders(
                            n["code"], set(n.get("params", {})), f"{where}/{i}", "the notice"
                        )
        for pointer, expr in self.c.exprs.items():
            self.walk(expr.raw, pointer, self.payload_of(pointer), in_coalesce=False)

    # -- messages --------------------------------------------------------------------

    def placeholders(
        self, code: str, given: set[str] | frozenset[str], pointer: str, who: str
    ) -> None:
        texts = self.c.messages.get(code)
        if not isinstance(texts, dict):
            return  # a built-in code, or undeclared (reported as ref.message)
        langs: dict[str, list[str]] = {}
        for lang, name in (("id", "Indonesian"), ("en", "English")):
            for ph in _PLACEHOLDER.findall(texts.get(lang, "")):
                if ph not in given and name not in langs.setdefault(ph, []):
                    langs[ph].append(name)
        for ph, names in langs.items():
            lang = "id" if names[0] == "Indonesian" else "en"
            if who == "the escalation":
                hint = (
                    "escalation messages receive only: "
                    + ", ".join(sorted(ESCALATION_PARAMS))
                    + f"; {_close(ph, sorted(ESCALATION_PARAMS))}reword the message or "
                    + "give it in the tier's params"
                )
                where = pointer
            else:
                hint = (
                    f'{_close(ph, sorted(given))}add "{ph}" to params, or remove '
                    f"{{{ph}}} from /messages/{code}/{lang}"
                )
                where = f"{pointer}/params" if given else pointer
            texts_of = " and ".join(names) + (" texts" if len(names) > 1 else " text")
            self.add(
                "message.placeholder",
                where,
                f"the {texts_of} of {code} use{'s' if len(names) == 1 else ''} {{{ph}}}, "
                f"which {who} does not give (it would be printed as written)",
                hint,
                ph,
            )

    # -- signatures ------------------------------------------------------------------

    def slots(self, state: Mapping[str, Any], base: str) -> None:
        for slot_id, slot in state.get("signatures", {}).get("slots", {}).items():
            count = slot.get("count", 1)
            if count <= 1:
                continue
            unpooled = [
                r for r in slot["roles"] if r in self.c.roles and "pool" not in self.c.roles[r]
            ]
            if unpooled:
                self.add(
                    "signature.quorum-without-pool",
                    f"{base}/signatures/slots/{esc(slot_id)}/count",
                    f"slot {slot_id!r} needs {count} signers of {', '.join(unpooled)}, which "
                    "declares no pool, so nothing shows that so many people can sign",
                    f'declare "pool" (the most people who can hold the role) on '
                    f"/roles/{unpooled[0]}",
                    count,
                )

    # -- deadlines -------------------------------------------------------------------

    def hard_deadline(self, sid: str, did: str, dl: Mapping[str, Any], pointer: str) -> None:
        states = self.c.states
        live = [s for s, st in states.items() if not st.get("final")]
        ends: dict[str, set[Any]] = {}
        for s in live:
            for ev, t in states[s].get("on", {}).items():
                targets = [t.get("target")] + [a.get("target") for a in t.get("alternatives", [])]
                ends.setdefault(ev, set()).update(
                    x if states.get(x, {}).get("final") else None for x in targets if x is not None
                )
        counts = {ev: sum(ev in states[s].get("on", {}) for s in live) for ev in ends}
        # cancellation: offered in at least 3 states, always ending in one final state
        everywhere = {
            ev for ev, n in counts.items() if n >= 3 and len(ends[ev]) == 1 and None not in ends[ev]
        }
        scope = set(dl.get("scope", [sid]))
        for s in scope:
            for ev, t in states.get(s, {}).get("on", {}).items():
                if ev in everywhere:
                    continue
                targets = [t.get("target")] + [a.get("target") for a in t.get("alternatives", [])]
                if any(x not in scope for x in targets if isinstance(x, str)):
                    return
        self.add(
            "deadline.no-way-out",
            f"{pointer}/timeout",
            f"deadline {did!r} has a timeout but the states it covers "
            f"({', '.join(sorted(scope))}) have no way forward except "
            + (", ".join(sorted(everywhere)) or "the timeout")
            + ": whatever happens, the process cannot move on",
            "add the transition that completes the work in time (out of the deadline's "
            "states), or remove the timeout",
            did,
        )

    # -- expressions -----------------------------------------------------------------

    def payload_of(self, pointer: str) -> Mapping[str, Any] | None:
        """The payload schema of the transition an expression belongs to (``{}`` when
        the transition declares none; ``None`` outside transitions)."""
        parts = pointer.split("/")
        if len(parts) > 4 and parts[1] == "states" and parts[3] == "on":
            sid = parts[2].replace("~1", "/").replace("~0", "~")
            ev = parts[4].replace("~1", "/").replace("~0", "~")
            t = self.c.states.get(sid, {}).get("on", {}).get(ev, {})
            schema = t.get("data")
            return schema if isinstance(schema, dict) else {}
        return None

    def walk(
        self, node: Any, pointer: str, payload: Mapping[str, Any] | None, in_coalesce: bool
    ) -> None:
        if isinstance(node, list):
            for item in node:
                self.walk(item, pointer, payload, in_coalesce)
            return
        if not isinstance(node, dict) or len(node) != 1:
            return
        ((op, arg),) = node.items()
        if op == "var":
            self.var(arg, pointer, payload)
            return
        args = arg if isinstance(arg, list) else [arg]
        if op in _ARITHMETIC:
            for a in args:
                self.operand(a, op, pointer, payload)
        if op in _COMPARE and len(args) == 2:
            self.compare(op, args, pointer, payload)
        if op == "object" and isinstance(arg, dict):
            args = list(arg.values())
        for a in args:
            self.walk(a, pointer, payload, in_coalesce or op == "coalesce")

    @staticmethod
    def static_path(arg: Any) -> list[str] | None:
        if isinstance(arg, str):
            return arg.split(".")
        if isinstance(arg, list) and arg and isinstance(arg[0], str):
            head = arg[0].split(".")
            rest = []
            for seg in arg[1:]:
                if not isinstance(seg, str | int) or isinstance(seg, bool):
                    break
                rest.append(str(seg))
            return head + rest
        return None

    def var(self, arg: Any, pointer: str, payload: Mapping[str, Any] | None) -> None:
        path = self.static_path(arg)
        if not path:
            return
        shown = ".".join(path)
        root, rest = path[0], path[1:]
        if root == "deadlines" and rest:
            if rest[0] not in self.deadline_ids:
                self.add(
                    "expr.unknown-path",
                    pointer,
                    f"{shown}: no deadline {rest[0]!r} is declared",
                    f"{_close(rest[0], sorted(self.deadline_ids))}name a deadline id",
                    shown,
                )
            elif len(rest) > 1:
                self.add(
                    "expr.unknown-path",
                    pointer,
                    f"{shown}: deadlines.{rest[0]} is the due instant itself (an ISO "
                    f"date-time), it has no {rest[1]!r}",
                    f"write deadlines.{rest[0]}",
                    shown,
                )
        elif root == "actor" and rest and rest[0] not in _ACTOR:
            self.add(
                "expr.unknown-path",
                pointer,
                f"{shown}: the actor has only {', '.join(_ACTOR)}",
                f"{_close(rest[0], list(_ACTOR))}use one of them",
                shown,
            )
        elif root == "data" and rest and self.data_schema:
            known = sorted(set(_properties(self.data_schema)) | self.written)
            if rest[0] not in known:
                self.add(
                    "expr.unknown-path",
                    pointer,
                    f"{shown}: {rest[0]!r} is neither a property of /data nor written by "
                    "any effect, so it is always null",
                    f"{_close(rest[0], known)}or declare it in /data",
                    shown,
                )
        elif root == "event" and rest and payload:
            props = _properties(payload)
            if props and rest[0] not in props:
                self.add(
                    "expr.unknown-path",
                    pointer,
                    f"{shown}: it is not a property of the payload schema, so it may be "
                    "anything or null",
                    f"{_close(rest[0], sorted(props))}declare it in the transition's data",
                    shown,
                )
        elif root == "event" and rest and payload is None:
            self.add(
                "expr.unknown-path",
                pointer,
                f"{shown}: there is no event payload here (a deadline or timeout)",
                "read instance data (data.…) instead",
                shown,
            )

    def schema_at(
        self, path: list[str], payload: Mapping[str, Any] | None
    ) -> tuple[Mapping[str, Any] | None, bool]:
        """The schema of a data/event path and whether every level is required."""
        root = path[0]
        if root == "data":
            schema: Any = self.data_schema
        elif root == "event" and payload is not None:
            schema = payload
        else:
            return None, True
        required = True
        for seg in path[1:]:
            if not isinstance(schema, dict):
                return None, required
            props = schema.get("properties", {})
            if seg in props:
                required = required and seg in schema.get("required", [])
                schema = props[seg]
            elif isinstance(schema.get("items"), dict) and seg.isdigit():
                schema = schema["items"]
                required = False
            else:
                return None, required
        return (schema if isinstance(schema, dict) else None), required

    def operand(self, node: Any, op: str, pointer: str, payload: Mapping[str, Any] | None) -> None:
        if not (isinstance(node, dict) and list(node) == ["var"]):
            return
        path = self.static_path(node["var"])
        if not path or path[0] not in ("data", "event"):
            return
        schema, required = self.schema_at(path, payload)
        if schema is None:
            return
        kind = schema.get("type")
        shown = ".".join(path)
        if op in ("sum", "min", "max") and kind == "array":
            return
        if isinstance(kind, str) and kind not in _NUMERIC:
            self.add(
                "expr.type",
                pointer,
                f"'{op}' needs numbers but {shown} is a {kind} (its schema says so)",
                "compute with a number field, or change the schema's type",
                shown,
            )
        elif not required and path[0] == "event" and path[1:2] and path[1] not in self.written:
            self.add(
                "expr.maybe-missing",
                pointer,
                f"'{op}' on {shown}, which the payload schema does not require: when it is "
                "missing the command fails with an expression error",
                f"write coalesce({shown}, 0), or list it in the payload schema's required",
                shown,
            )

    def compare(
        self, op: str, args: list[Any], pointer: str, payload: Mapping[str, Any] | None
    ) -> None:
        kinds = [self.temporal(a, payload) for a in args]
        both = kinds == ["instant", "instant"] and op in ("==", "!=")
        if "instant" in kinds and not both:
            names = " and ".join(_show(a) for a in args)
            self.add(
                "expr.compare-instant",
                pointer,
                f"'{op}' compares {names} as text; date-times in different time zones "
                "(at is UTC, deadlines are local) then compare wrongly",
                "compare calendar days: daysBetween(a, b) > 0, or date(a) < date(b)",
                op,
            )

    def temporal(self, node: Any, payload: Mapping[str, Any] | None) -> str:
        if isinstance(node, dict) and len(node) == 1:
            ((op, arg),) = node.items()
            if op in ("date", "addDays"):
                return "date"
            if op == "var":
                path = self.static_path(arg)
                if not path:
                    return ""
                if path == ["at"] or (path[0] == "deadlines" and len(path) == 2):
                    return "instant"
                if path == ["today"]:
                    return "date"
                schema, _ = self.schema_at(path, payload)
                fmt = schema.get("format") if schema else None
                return {"date-time": "instant", "date": "date"}.get(str(fmt), "")
        return ""


def _properties(schema: Mapping[str, Any]) -> dict[str, Any]:
    props = schema.get("properties", {})
    return props if isinstance(props, dict) else {}


def _show(node: Any) -> str:
    if isinstance(node, dict) and list(node) == ["var"]:
        arg = node["var"]
        return arg if isinstance(arg, str) else str(arg[0])
    return "a value"


def iter_placeholders(text: str) -> Iterator[str]:
    """The ``{name}`` placeholders of a message template, in order."""
    yield from _PLACEHOLDER.findall(text)
