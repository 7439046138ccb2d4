"""Semantic checks of a schema-valid definition document.

Run only when the schema passed, so shapes and types can be trusted here. The checker
also compiles every expression, path and duration once; the builder reuses them.

Cascade folding: the graph checks (``graph.unreachable``, ``graph.no-final``) are
skipped when any ``ref.state`` problem exists, because a dangling target or initial
state makes the graph itself wrong and every graph finding would be an echo of it.
Within the graph checks, a group of unreachable states is reported once, at the state
through which all the others would be reached; states that cannot reach a final state
are reported once per trap (a dead end, or a cycle without exit), not for every state
that leads into it.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from paketflow._calendar import Duration, parse_duration
from paketflow._cel import expand
from paketflow._definition import _static
from paketflow._definition._payload import schema_problems
from paketflow._definition._strict_json import esc
from paketflow._errors import Problem, problem_value
from paketflow._expr import (
    OPERATORS,
    Expr,
    ExprSyntaxError,
    PathSegment,
    compile_expr,
    compile_path,
)

BUILTIN_MESSAGES = frozenset(
    {
        "ERR_PERAN_TIDAK_BERWENANG",
        "ERR_PEMISAHAN_TUGAS",
        "ERR_TANDA_TANGAN_KURANG",
        "ERR_SATU_ORANG_SATU_UNSUR",
        "ERR_EVENT_TIDAK_BERLAKU",
        "ERR_STATUS_AKHIR",
        "ERR_DATA_TIDAK_VALID",
        "ERR_EKSPRESI",
        "ERR_BATAS_EVALUASI",
        "ERR_TIDAK_ADA_TANDA_TANGAN",
        "ERR_SUDAH_MENANDATANGANI",
        "ERR_TANDA_TANGAN_AMBIGU",
        "ERR_SLOT_TIDAK_DIKENAL",
        "ERR_BUKAN_PENANDATANGAN",
        "ERR_UNSUR_TIDAK_LENGKAP",
        "ERR_SLOT_PENUH",
        "ERR_DUPLIKAT_PERINTAH",
        "ERR_ID_TIDAK_VALID",
        "ERR_AKTOR_TIDAK_VALID",
        "ERR_DATA_TIDAK_SAH",
        "ERR_WAKTU_TIDAK_VALID",
        "ERR_KUNCI_TIDAK_VALID",
    }
)

_EXPR_HINT = "see Expressions in docs/definition-language.md"
MAX_WORKING_DAYS = 2_500  # about ten years: arming a deadline counts them day by day
_OPERATOR_ALIASES = {
    "=>": ">=",
    "=<": "<=",
    "=": "==",
    "===": "==",
    "<>": "!=",
    "!==": "!=",
    "&&": "and",
    "||": "or",
    "!": "not",
    "/": "div",
    "%": "percent",
    "size": "len",
    "length": "len",
    "count": "len",
    "?:": "if",
}


def ptr(*parts: str | int) -> str:
    """A JSON Pointer from raw reference tokens."""
    return "".join(f"/{esc(str(p))}" for p in parts)


class Checker:
    """Collects semantic problems of one document and caches compiled parts."""

    def __init__(self, doc: Mapping[str, Any], file: str) -> None:
        self.doc = doc
        self.file = file
        self.problems: list[Problem] = []
        self.exprs: dict[str, Expr] = {}
        self.paths: dict[str, tuple[PathSegment, ...]] = {}
        self.durations: dict[str, Duration] = {}
        self.states: Mapping[str, Any] = doc["states"]
        self.roles: Mapping[str, Any] = doc["roles"]
        self.events: Mapping[str, Any] = doc["events"]
        self.elements: Mapping[str, Any] = doc.get("elements", {})
        self.flags: Mapping[str, Any] = doc.get("flags", {})
        self.calendars: Mapping[str, Any] = doc.get("calendars", {})
        self.messages: Mapping[str, Any] = doc.get("messages", {})
        self.documents: Mapping[str, Any] = doc.get("documents", {})
        self.edges: dict[str, list[str]] = {s: [] for s in self.states}

    # -- helpers -------------------------------------------------------------------

    def add(self, code: str, pointer: str, message: str, hint: str, value: Any = None) -> None:
        self.problems.append(Problem(code, pointer, message, hint, self.file, value))

    def ref(self, kind: str, name: str, table: Mapping[str, Any], pointer: str) -> bool:
        if name in table:
            return True
        where = {
            "state": "/states",
            "role": "/roles",
            "event": "/events",
            "element": "/elements",
            "calendar": "/calendars",
            "flag": "/flags",
            "message": "/messages",
            "document": "/documents",
        }[kind]
        close = [k for k in table if k.lower() == name.lower()] or difflib.get_close_matches(
            name, list(table), n=1
        )
        hint = f"did you mean {close[0]!r}? " if close else ""
        hint += f"or declare {name!r} in {where}"
        self.add(f"ref.{kind}", pointer, f"undefined {kind} {name!r}", hint, name)
        return False

    def message_ref(self, code: str, pointer: str) -> None:
        if code not in BUILTIN_MESSAGES:
            self.ref("message", code, self.messages, pointer)

    def expr(self, node: Any, pointer: str) -> None:
        try:
            self.exprs[pointer] = compile_expr(expand(node, pointer), pointer)
        except ExprSyntaxError as exc:
            hint = _EXPR_HINT
            if exc.code == "expr.unknown-operator" and isinstance(exc.value, str):
                close = _OPERATOR_ALIASES.get(exc.value) or next(
                    iter(difflib.get_close_matches(exc.value, sorted(OPERATORS), n=1)), None
                )
                if close:
                    hint = f"did you mean {close!r}? {hint}"
            self.add(exc.code, exc.pointer, exc.message, hint, _val(exc.value))

    def path(self, node: Any, pointer: str) -> None:
        try:
            self.paths[pointer] = compile_path(node, pointer)
        except ExprSyntaxError as exc:
            self.add(exc.code, exc.pointer, exc.message, _EXPR_HINT, _val(exc.value))

    def duration(self, text: str, pointer: str) -> None:
        try:
            self.durations[pointer] = parse_duration(text)
        except ValueError:
            self.add(
                "duration.invalid",
                pointer,
                f"{problem_value(text)} is not an ISO 8601 duration",
                "use whole units, e.g. 'P30D', 'P2W', 'P1M', 'PT48H'",
                text,
            )

    def offset(self, node: Any, pointer: str) -> None:
        if isinstance(node, str):
            self.duration(node, pointer)
        else:
            self.ref("calendar", node["calendar"], self.calendars, f"{pointer}/calendar")
            self.working_days(node["workingDays"], f"{pointer}/workingDays")

    def working_days(self, n: int, pointer: str) -> None:
        if n > MAX_WORKING_DAYS:  # counted day by day when a deadline is armed
            self.add(
                "deadline.too-long",
                pointer,
                f"{n} working days is more than the limit of {MAX_WORKING_DAYS}",
                "use a shorter deadline, or an absolute date from the data",
                n,
            )

    def labels(self, node: Mapping[str, str] | None, pointer: str) -> None:
        if node is None:
            return
        for lang, name in (("id", "Indonesian"), ("en", "English")):
            if not node[lang].strip():
                self.add(
                    "labels.missing",
                    f"{pointer}/{lang}",
                    f"the {name} text is empty",
                    "write the label in both Indonesian and English",
                    node[lang],
                )

    def timezone(self, name: str, pointer: str) -> None:
        try:
            ZoneInfo(name)
        except Exception:  # ZoneInfoNotFoundError, ValueError, OSError on odd names
            self.add(
                "timezone.unknown",
                pointer,
                f"unknown time zone {name!r}",
                "use an IANA name such as 'Asia/Jakarta' or 'Asia/Pontianak'",
                name,
            )

    def data_schema(self, node: Any, pointer: str) -> None:
        try:
            self.problems.extend(schema_problems(node, pointer, self.file))
        except Exception as exc:  # e.g. a schema jsonschema itself cannot handle
            self.add(
                "data.invalid-schema",
                pointer,
                f"not a valid JSON Schema (2020-12): {exc!r}"[:300],
                "fix the schema of the data",
                None,
            )

    def role_list(self, roles: Iterable[str], pointer: str) -> None:
        for i, role in enumerate(roles):
            self.ref("role", role, self.roles, f"{pointer}/{i}")

    def effects(self, effects: list[dict[str, Any]], pointer: str) -> None:
        for i, eff in enumerate(effects):
            p = f"{pointer}/{i}"
            for op in ("set", "add", "append"):
                if op in eff:
                    self.path(eff[op], f"{p}/{op}")
                    self.expr(eff["value"], f"{p}/value")
            if "unset" in eff:
                self.path(eff["unset"], f"{p}/unset")
            for op in ("flag", "unflag"):
                if op in eff:
                    self.ref("flag", eff[op], self.flags, f"{p}/{op}")

    def params(self, params: Mapping[str, Any], pointer: str) -> None:
        for key, node in params.items():
            self.expr(node, f"{pointer}/{esc(key)}")

    def notices(self, notices: list[dict[str, Any]], pointer: str) -> None:
        for i, notice in enumerate(notices):
            p = f"{pointer}/{i}"
            self.message_ref(notice["code"], f"{p}/code")
            if "when" in notice:
                self.expr(notice["when"], f"{p}/when")
            self.params(notice.get("params", {}), f"{p}/params")
            self.role_list(notice.get("notify", ()), f"{p}/notify")
            if "flag" in notice:
                self.ref("flag", notice["flag"], self.flags, f"{p}/flag")

    def exclusions(self, items: list[dict[str, Any]], pointer: str) -> None:
        for i, item in enumerate(items):
            self.labels(item.get("reason"), f"{pointer}/{i}/reason")

    # -- the document --------------------------------------------------------------

    def run(self) -> list[Problem]:
        doc = self.doc
        self.labels(doc["labels"], "/labels")
        if "timezone" in doc:
            self.timezone(doc["timezone"], "/timezone")
        for cid, cal in self.calendars.items():
            p = ptr("calendars", cid)
            if "timezone" in cal:
                self.timezone(cal["timezone"], f"{p}/timezone")
            for i, day in enumerate(cal.get("extraHolidays", ())):
                try:
                    dt.date.fromisoformat(day)
                except ValueError:
                    self.add(
                        "calendar.invalid-date",
                        f"{p}/extraHolidays/{i}",
                        f"{day!r} is not a date",
                        "use YYYY-MM-DD",
                        day,
                    )
        for table, name in (
            (self.elements, "elements"),
            (self.flags, "flags"),
            (self.events, "events"),
            (self.documents, "documents"),
        ):
            for key, item in table.items():
                self.labels(item["labels"], ptr(name, key, "labels"))
        for key, event in self.events.items():
            self.labels(event.get("reason"), ptr("events", key, "reason"))
        for rule, sep in doc.get("separations", {}).items():
            p = ptr("separations", rule)
            self.role_list(sep["roles"], f"{p}/roles")
            self.role_list(sep["notWith"], f"{p}/notWith")
            self.labels(sep.get("reason"), f"{p}/reason")
        for key, role in self.roles.items():
            self.labels(role["labels"], ptr("roles", key, "labels"))
            if "element" in role:
                self.ref("element", role["element"], self.elements, ptr("roles", key, "element"))
        for code, labels in self.messages.items():
            self.labels(labels, ptr("messages", code))
        if "data" in doc:
            self.data_schema(doc["data"], "/data")
        self.ref("state", doc["initial"], self.states, "/initial")
        for sid, state in self.states.items():
            self.state(sid, state)
        _static.run(self)
        if not any(p.code == "ref.state" for p in self.problems):
            self.graph()
        return self.problems

    def state(self, sid: str, state: Mapping[str, Any]) -> None:
        base = ptr("states", sid)
        self.labels(state["labels"], f"{base}/labels")
        if state.get("final"):
            for key in ("on", "signatures", "deadlines"):
                if key in state:
                    self.add(
                        "final.has-transitions",
                        f"{base}/{key}",
                        f"final state {sid!r} has {key!r}",
                        f'remove {key!r} from the final state, or drop "final": true',
                        None,
                    )
            return
        if "signatures" in state:
            self.signatures(sid, state["signatures"], f"{base}/signatures")
        for did, deadline in state.get("deadlines", {}).items():
            self.deadline(sid, deadline, f"{base}/deadlines/{esc(did)}")
        for event, trans in state.get("on", {}).items():
            self.transition(sid, state, event, trans, f"{base}/on/{esc(event)}")

    def signatures(self, sid: str, sig: Mapping[str, Any], base: str) -> None:
        for slot_id, slot in sig["slots"].items():
            p = f"{base}/slots/{esc(slot_id)}"
            ok = True
            for i, role in enumerate(slot["roles"]):
                ok = self.ref("role", role, self.roles, f"{p}/roles/{i}") and ok
            self.labels(slot.get("labels"), f"{p}/labels")
            if "expected" in slot:
                self.expr(slot["expected"], f"{p}/expected")
            if "only" in slot:
                self.expr(slot["only"], f"{p}/only")
            if "document" in slot:
                self.ref("document", slot["document"], self.documents, f"{p}/document")
            element = slot.get("element")
            if element is not None and not self.ref(
                "element", element, self.elements, f"{p}/element"
            ):
                ok = False
            if not ok:
                continue
            roles = [self.roles[r] for r in slot["roles"]]
            if element is not None:
                roles = [r for r in roles if r.get("element") in (None, element)]
                if not roles:
                    self.add(
                        "signature.element-mismatch",
                        f"{p}/element",
                        f"slot {slot_id!r} needs element {element!r} but none of its roles "
                        "can represent it",
                        "add a role of that element to the slot, or change the element",
                        element,
                    )
                    continue
            pools = [r.get("pool") for r in roles]
            count = slot.get("count", 1)
            if all(isinstance(n, int) for n in pools) and count > sum(
                n for n in pools if isinstance(n, int)
            ):
                self.add(
                    "signature.quorum-exceeds-pool",
                    f"{p}/count" if "count" in slot else p,
                    f"slot {slot_id!r} needs {count} signers but its roles have only "
                    f"{sum(n for n in pools if isinstance(n, int))} holders in all",
                    "lower count or raise the roles' pool",
                    count,
                )
        self.exclusions(sig.get("excludeActors", []), f"{base}/excludeActors")

    def met_by(self, sid: str, deadline: Mapping[str, Any], base: str) -> None:
        """Each event that meets a deadline is declared and can be fired in a state of
        the deadline's scope (else the deadline could never be met by it)."""
        scope = [s for s in deadline.get("scope", (sid,)) if s in self.states]
        for i, event in enumerate(deadline.get("met_by", ())):
            if not self.ref("event", event, self.events, f"{base}/met_by/{i}"):
                continue
            if not any(event in (self.states[s].get("on") or {}) for s in scope):
                self.add(
                    "deadline.met-by-unreachable",
                    f"{base}/met_by/{i}",
                    f"event {event!r} meets the deadline but no state of its scope "
                    f"({', '.join(scope)}) handles it, so it can never meet it",
                    "name an event of a state in the scope, or widen the scope",
                    event,
                )

    def deadline(self, sid: str, deadline: Mapping[str, Any], base: str) -> None:
        self.labels(deadline.get("labels"), f"{base}/labels")
        due = deadline["due"]
        if "duration" in due:
            self.duration(due["duration"], f"{base}/due/duration")
        elif "workingDays" in due:
            self.ref("calendar", due["calendar"], self.calendars, f"{base}/due/calendar")
            self.working_days(due["workingDays"], f"{base}/due/workingDays")
        else:
            self.expr(due["date"], f"{base}/due/date")
        if "scope" in deadline:
            scope = deadline["scope"]
            for i, s in enumerate(scope):
                self.ref("state", s, self.states, f"{base}/scope/{i}")
            if sid not in scope:
                self.add(
                    "deadline.scope",
                    f"{base}/scope",
                    f"the scope of the deadline does not include its own state {sid!r}",
                    f"add {sid!r} to scope",
                    scope,
                )
        self.met_by(sid, deadline, base)
        for tid, tier in deadline.get("escalations", {}).items():
            p = f"{base}/escalations/{esc(tid)}"
            self.offset(tier["after"], f"{p}/after")
            if "flag" in tier:
                self.ref("flag", tier["flag"], self.flags, f"{p}/flag")
            self.role_list(tier.get("notify", ()), f"{p}/notify")
            if "message" in tier:
                self.message_ref(tier["message"], f"{p}/message")
            if "when" in tier:
                self.expr(tier["when"], f"{p}/when")
            self.params(tier.get("params", {}), f"{p}/params")
        if "timeout" in deadline:
            t = deadline["timeout"]
            p = f"{base}/timeout"
            self.offset(t["after"], f"{p}/after")
            self.ref("event", t["event"], self.events, f"{p}/event")
            if self.ref("state", t["target"], self.states, f"{p}/target"):
                self.edges[sid].append(t["target"])
            self.effects(t.get("effects", []), f"{p}/effects")

    def transition(
        self, sid: str, state: Mapping[str, Any], event: str, t: Mapping[str, Any], base: str
    ) -> None:
        self.ref("event", event, self.events, base)
        self.role_list(t["roles"], f"{base}/roles")
        if "target" in t:
            if self.ref("state", t["target"], self.states, f"{base}/target"):
                self.edges[sid].append(t["target"])
        else:
            alts = t["alternatives"]
            for i, alt in enumerate(alts):
                p = f"{base}/alternatives/{i}"
                if self.ref("state", alt["target"], self.states, f"{p}/target"):
                    self.edges[sid].append(alt["target"])
                if "when" in alt:
                    self.expr(alt["when"], f"{p}/when")
                self.effects(alt.get("effects", []), f"{p}/effects")
                self.notices(alt.get("notices", []), f"{p}/notices")
            self.otherwise(alts, f"{base}/alternatives")
        if t.get("requireSignatures") and "signatures" not in state:
            self.add(
                "signature.require-without-rule",
                f"{base}/requireSignatures",
                f"requireSignatures is set but state {sid!r} collects no signatures",
                'add "signatures" to the state or remove requireSignatures',
                True,
            )
        required = t.get("requireSignatures")
        if isinstance(required, list) and "signatures" in state:
            signed = {slot.get("document") for slot in state["signatures"]["slots"].values()}
            for i, doc_id in enumerate(required):
                if doc_id not in signed:
                    self.add(
                        "signature.unknown-document",
                        f"{base}/requireSignatures/{i}",
                        f"requireSignatures names document {doc_id!r} but no slot of state "
                        f"{sid!r} signs it",
                        'give a slot "document": ' + repr(doc_id) + " or remove it from the list",
                        doc_id,
                    )
        if "attendance" in t:
            att = t["attendance"]
            for i, el in enumerate(att.get("elements", ())):
                self.ref("element", el, self.elements, f"{base}/attendance/elements/{i}")
            self.expr(att["present"], f"{base}/attendance/present")
            for key in ("members", "expected"):
                if key in att:
                    self.expr(att[key], f"{base}/attendance/{key}")
        self.exclusions(t.get("excludeActors", []), f"{base}/excludeActors")
        if "data" in t:
            self.data_schema(t["data"], f"{base}/data")
        for i, guard in enumerate(t.get("guards", [])):
            p = f"{base}/guards/{i}"
            self.expr(guard["if"], f"{p}/if")
            self.message_ref(guard["code"], f"{p}/code")
            self.params(guard.get("params", {}), f"{p}/params")
            self.role_list(guard.get("fix", ()), f"{p}/fix")
            for key in ("missing", "expected"):
                if key in guard:
                    self.expr(guard[key], f"{p}/{key}")
        self.effects(t.get("effects", []), f"{base}/effects")
        self.notices(t.get("notices", []), f"{base}/notices")

    def otherwise(self, alts: list[dict[str, Any]], base: str) -> None:
        marked = [i for i, a in enumerate(alts) if a.get("otherwise")]
        last = len(alts) - 1
        if not marked:
            self.add(
                "gateway.otherwise",
                base,
                "the alternatives have no default flow",
                'end the list with {"otherwise": true, "target": …}',
                None,
            )
            return
        for i in marked:
            if i != last:
                self.add(
                    "gateway.otherwise",
                    f"{base}/{i}/otherwise",
                    f"'otherwise' must be the last alternative (found at {i} of {last})",
                    "move it to the end; only one alternative is the default",
                    True,
                )

    # -- graph ---------------------------------------------------------------------

    def graph(self) -> None:
        order = list(self.states)
        finals = [s for s in order if self.states[s].get("final")]
        if not finals:
            self.add(
                "graph.no-final-state",
                "/states",
                "no state is final, so no instance can ever end",
                'mark the end states with "final": true',
                None,
            )
        reach = _closure(self.doc["initial"], self.edges, set(order))
        unreachable = [s for s in order if s not in reach]
        for root, rest in _roots(unreachable, self.edges):
            also = f"; also unreachable through it: {', '.join(rest)}" if rest else ""
            self.add(
                "graph.unreachable",
                ptr("states", root),
                f"state {root!r} cannot be reached from the initial state "
                f"{self.doc['initial']!r}{also}",
                "add a transition into it, or remove it",
                root,
            )
        if not finals:
            return
        reverse: dict[str, list[str]] = {s: [] for s in order}
        for src, targets in self.edges.items():
            for dst in targets:
                reverse[dst].append(src)
        good = _closure(finals, reverse, set(order))
        stuck = [s for s in order if s in reach and s not in good]
        for trap, members, leading in _traps(stuck, self.edges):
            if len(members) > 1:
                why = f"it only cycles among {', '.join(members)}"
            elif not self.edges[trap]:
                why = "it has no transitions and is not final"
            else:
                why = "it only loops on itself"
            lead = f"; states leading only here: {', '.join(leading)}" if leading else ""
            self.add(
                "graph.no-final",
                ptr("states", trap),
                f"no final state can be reached from state {trap!r} ({why}){lead}",
                'add a transition towards a final state, or mark it "final": true',
                trap,
            )


def _val(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str) and len(value) <= 200:
        return value
    return problem_value(value)


def _closure(
    start: str | Iterable[str], edges: Mapping[str, list[str]], allowed: set[str]
) -> set[str]:
    """The states of ``allowed`` reachable from ``start`` (one state or several)."""
    todo = [start] if isinstance(start, str) else list(start)
    todo = [s for s in todo if s in allowed]
    seen = set(todo)
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt in allowed and nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


# The graph checks run in time linear in the states and transitions (strongly
# connected components, Tarjan): a definition of thousands of states must not take
# quadratic time. A message lists at most this many related states, then "…".
_LISTED = 50


def _components(group: list[str], edges: Mapping[str, list[str]]) -> dict[str, int]:
    """The strongly connected component of each state of ``group`` (edges leaving the
    group are ignored), numbered in reverse topological order. Iterative Tarjan."""
    members = set(group)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    comp: dict[str, int] = {}
    stack: list[str] = []
    count = 0
    for root in group:
        if root in index:
            continue
        work = [(root, iter(edges.get(root, ())))]
        index[root] = low[root] = len(index)
        stack.append(root)
        while work:
            node, successors = work[-1]
            advanced = False
            for nxt in successors:
                if nxt not in members:
                    continue
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    work.append((nxt, iter(edges.get(nxt, ()))))
                    advanced = True
                    break
                if nxt not in comp:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                while True:
                    top = stack.pop()
                    comp[top] = count
                    if top == node:
                        break
                count += 1
    return comp


def _listed(
    starts: list[str], edges: Mapping[str, list[str]], allowed: set[str], order: dict[str, int]
) -> list[str]:
    """States of ``allowed`` reachable from ``starts`` (not counting them), in
    document order; at most ``_LISTED`` of them are searched for, then "…"."""
    seen = set(starts)
    found: list[str] = []
    todo = list(starts)
    while todo and len(found) <= _LISTED:
        for nxt in edges.get(todo.pop(), ()):
            if nxt in allowed and nxt not in seen:
                seen.add(nxt)
                found.append(nxt)
                todo.append(nxt)
    found.sort(key=order.__getitem__)
    return [*found[:_LISTED], "…"] if len(found) > _LISTED else found


def _condensed(
    group: list[str], edges: Mapping[str, list[str]]
) -> tuple[dict[int, list[str]], set[int], set[int]]:
    """The components of ``group`` (members in document order) and which of them
    have an edge into them / out of them from another component of the group."""
    comp = _components(group, edges)
    members: dict[int, list[str]] = {}
    for s in group:
        members.setdefault(comp[s], []).append(s)
    entered: set[int] = set()
    left: set[int] = set()
    for s in group:
        for nxt in edges.get(s, ()):
            if nxt in comp and comp[nxt] != comp[s]:
                entered.add(comp[nxt])
                left.add(comp[s])
    return members, entered, left


def _roots(group: list[str], edges: Mapping[str, list[str]]) -> list[tuple[str, list[str]]]:
    """States of ``group`` through which the rest of the group is entered: one per
    source component (no incoming edge from elsewhere in the group), with the states
    of the group reachable from it."""
    members, entered, _ = _condensed(group, edges)
    allowed = set(group)
    order = {s: i for i, s in enumerate(group)}
    result = [
        (states[0], _listed(states, edges, allowed, order) + states[1:])
        for c, states in members.items()
        if c not in entered
    ]
    for _, rest in result:
        rest.sort(key=lambda s: order.get(s, len(order)))
    result.sort(key=lambda r: order[r[0]])
    return result


def _traps(
    group: list[str], edges: Mapping[str, list[str]]
) -> list[tuple[str, list[str], list[str]]]:
    """Sink components of ``group`` (closed under successors): (first state, its
    members, the other states of the group that lead into it)."""
    members, _, left = _condensed(group, edges)
    allowed = set(group)
    order = {s: i for i, s in enumerate(group)}
    reverse: dict[str, list[str]] = {s: [] for s in group}
    for s in group:
        for nxt in edges.get(s, ()):
            if nxt in reverse:
                reverse[nxt].append(s)
    result = [
        (states[0], states, _listed(states, reverse, allowed, order))
        for c, states in members.items()
        if c not in left
    ]
    result.sort(key=lambda r: order[r[0]])
    return result
