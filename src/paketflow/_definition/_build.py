"""Build the frozen model from a checked document (schema and semantics passed)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from paketflow._definition._semantic import Checker, ptr
from paketflow._definition._strict_json import esc
from paketflow._definition.model import (
    Alternative,
    Attendance,
    CalendarSpec,
    Deadline,
    DocumentDecl,
    Due,
    Effect,
    Element,
    Escalation,
    EventDecl,
    Exclusion,
    Guard,
    Labels,
    MessageDecl,
    Notice,
    Offset,
    ProcessDefinition,
    Role,
    Separation,
    SignatureRule,
    Slot,
    State,
    Timeout,
    Transition,
)
from paketflow._expr import Expr


def _labels(node: Mapping[str, str]) -> Labels:
    return Labels(id=node["id"], en=node["en"])


def _opt_labels(node: Mapping[str, str] | None) -> Labels | None:
    return None if node is None else _labels(node)


class Builder:
    def __init__(self, checker: Checker) -> None:
        self.c = checker

    def expr(self, pointer: str) -> Expr:
        return self.c.exprs[pointer]

    def opt_expr(self, node: Mapping[str, Any], key: str, pointer: str) -> Expr | None:
        return self.c.exprs[f"{pointer}/{key}"] if key in node else None

    def params(self, node: Mapping[str, Any], pointer: str) -> Mapping[str, Expr]:
        return MappingProxyType(
            {k: self.c.exprs[f"{pointer}/params/{esc(k)}"] for k in node.get("params", {})}
        )

    def offset(self, node: Any, pointer: str) -> Offset:
        if isinstance(node, str):
            return Offset(duration=self.c.durations[pointer])
        return Offset(working_days=node["workingDays"], calendar=node["calendar"])

    def effects(self, items: list[dict[str, Any]], pointer: str) -> tuple[Effect, ...]:
        out: list[Effect] = []
        for i, eff in enumerate(items):
            p = f"{pointer}/{i}"
            if "resetSignatures" in eff:
                out.append(Effect(op="resetSignatures"))
            elif "flag" in eff:
                out.append(Effect(op="flag", name=eff["flag"]))
            elif "unflag" in eff:
                out.append(Effect(op="unflag", name=eff["unflag"]))
            elif "unset" in eff:
                out.append(Effect(op="unset", path=self.c.paths[f"{p}/unset"]))
            else:
                for op in ("set", "add", "append"):
                    if op in eff:
                        out.append(
                            Effect(
                                op=op,
                                path=self.c.paths[f"{p}/{op}"],
                                value=self.c.exprs[f"{p}/value"],
                            )
                        )
        return tuple(out)

    def notices(self, items: list[dict[str, Any]], pointer: str) -> tuple[Notice, ...]:
        return tuple(
            Notice(
                code=n["code"],
                when=self.opt_expr(n, "when", f"{pointer}/{i}"),
                params=self.params(n, f"{pointer}/{i}"),
                notify=tuple(n.get("notify", ())),
                flag=n.get("flag"),
            )
            for i, n in enumerate(items)
        )

    @staticmethod
    def exclusions(items: list[dict[str, Any]]) -> tuple[Exclusion, ...]:
        return tuple(
            Exclusion(set=x["set"], rule=x.get("rule"), reason=_opt_labels(x.get("reason")))
            for x in items
        )

    def transition(self, sid: str, event: str, t: Mapping[str, Any], base: str) -> Transition:
        if "target" in t:
            alts: tuple[Alternative, ...] = (Alternative(target=t["target"]),)
        else:
            alts = tuple(
                Alternative(
                    target=a["target"],
                    when=self.opt_expr(a, "when", f"{base}/alternatives/{i}"),
                    effects=self.effects(a.get("effects", []), f"{base}/alternatives/{i}/effects"),
                    notices=self.notices(a.get("notices", []), f"{base}/alternatives/{i}/notices"),
                )
                for i, a in enumerate(t["alternatives"])
            )
        guards = tuple(
            Guard(
                id=g["id"],
                condition=self.expr(f"{base}/guards/{i}/if"),
                code=g["code"],
                params=self.params(g, f"{base}/guards/{i}"),
                fix=tuple(g.get("fix", ())),
                rule=g.get("rule"),
                missing=self.opt_expr(g, "missing", f"{base}/guards/{i}"),
                expected=self.opt_expr(g, "expected", f"{base}/guards/{i}"),
            )
            for i, g in enumerate(t.get("guards", []))
        )
        return Transition(
            event=event,
            source=sid,
            roles=tuple(t["roles"]),
            alternatives=alts,
            require_signatures=bool(t.get("requireSignatures", False)),
            require_documents=(
                tuple(t["requireSignatures"])
                if isinstance(t.get("requireSignatures"), list)
                else ()
            ),
            attendance=self.attendance(t["attendance"], base) if "attendance" in t else None,
            exclude=self.exclusions(t.get("excludeActors", [])),
            guards=guards,
            effects=self.effects(t.get("effects", []), f"{base}/effects"),
            notices=self.notices(t.get("notices", []), f"{base}/notices"),
            record=tuple(t.get("record", ())),
            data_schema=t.get("data"),
            reenter=bool(t.get("reenter", False)),
        )

    def attendance(self, att: Mapping[str, Any], base: str) -> Attendance:
        return Attendance(
            present=self.expr(f"{base}/attendance/present"),
            elements=tuple(att.get("elements", self.c.elements)),
            min=att.get("min", 1),
            members=self.opt_expr(att, "members", f"{base}/attendance"),
            expected=self.opt_expr(att, "expected", f"{base}/attendance"),
        )

    def deadline(self, sid: str, did: str, d: Mapping[str, Any], base: str) -> Deadline:
        due_node = d["due"]
        if "duration" in due_node:
            due = Due(kind="duration", duration=self.c.durations[f"{base}/due/duration"])
        elif "workingDays" in due_node:
            due = Due(
                kind="workingDays",
                working_days=due_node["workingDays"],
                calendar=due_node["calendar"],
            )
        else:
            due = Due(kind="date", date=self.expr(f"{base}/due/date"))
        tiers = tuple(
            Escalation(
                id=tid,
                after=self.offset(tier["after"], f"{base}/escalations/{esc(tid)}/after"),
                flag=tier.get("flag"),
                notify=tuple(tier.get("notify", ())),
                message=tier.get("message"),
                when=self.opt_expr(tier, "when", f"{base}/escalations/{esc(tid)}"),
                params=self.params(tier, f"{base}/escalations/{esc(tid)}"),
            )
            for tid, tier in d.get("escalations", {}).items()
        )
        timeout = None
        if "timeout" in d:
            t = d["timeout"]
            timeout = Timeout(
                after=self.offset(t["after"], f"{base}/timeout/after"),
                target=t["target"],
                event=t["event"],
                effects=self.effects(t.get("effects", []), f"{base}/timeout/effects"),
            )
        return Deadline(
            id=did,
            state=sid,
            due=due,
            scope=tuple(d.get("scope", (sid,))),
            escalations=tiers,
            timeout=timeout,
            labels=_opt_labels(d.get("labels")),
            met_by=tuple(d.get("met_by", ())),
        )

    def signatures(self, sig: Mapping[str, Any], base: str) -> SignatureRule:
        slots = tuple(
            Slot(
                id=slot_id,
                roles=tuple(slot["roles"]),
                count=slot.get("count", 1),
                element=slot.get("element"),
                labels=_opt_labels(slot.get("labels")),
                expected=self.opt_expr(slot, "expected", f"{base}/slots/{esc(slot_id)}"),
                only=self.opt_expr(slot, "only", f"{base}/slots/{esc(slot_id)}"),
                document=slot.get("document"),
            )
            for slot_id, slot in sig["slots"].items()
        )
        return SignatureRule(
            slots=slots,
            distinct_persons=bool(sig.get("distinctPersons", True)),
            exclude=self.exclusions(sig.get("excludeActors", [])),
            record=sig.get("record"),
            rule=sig.get("rule"),
        )

    def state(self, sid: str, s: Mapping[str, Any]) -> State:
        base = ptr("states", sid)
        return State(
            id=sid,
            labels=_labels(s["labels"]),
            final=bool(s.get("final", False)),
            signatures=(
                self.signatures(s["signatures"], f"{base}/signatures")
                if "signatures" in s
                else None
            ),
            deadlines=tuple(
                self.deadline(sid, did, d, f"{base}/deadlines/{esc(did)}")
                for did, d in s.get("deadlines", {}).items()
            ),
            transitions=MappingProxyType(
                {
                    ev: self.transition(sid, ev, t, f"{base}/on/{esc(ev)}")
                    for ev, t in s.get("on", {}).items()
                }
            ),
        )

    def build(
        self, doc: Mapping[str, Any], *, digest: str, source: str, extends: str | None
    ) -> ProcessDefinition:
        calendars = {
            cid: CalendarSpec(
                id=cid,
                country=cal.get("country", "ID"),
                cuti_bersama=bool(cal.get("cutiBersama", False)),
                timezone=cal.get("timezone", "Asia/Jakarta"),
                extra_holidays=tuple(
                    dt.date.fromisoformat(d) for d in cal.get("extraHolidays", ())
                ),
                workdays=tuple(cal.get("workdays", (1, 2, 3, 4, 5))),
            )
            for cid, cal in doc.get("calendars", {}).items()
        }
        return ProcessDefinition(
            id=doc["id"],
            version=doc["version"],
            hash=digest,
            labels=_labels(doc["labels"]),
            initial=doc["initial"],
            states=MappingProxyType({sid: self.state(sid, s) for sid, s in doc["states"].items()}),
            roles=MappingProxyType(
                {
                    rid: Role(
                        id=rid,
                        labels=_labels(r["labels"]),
                        element=r.get("element"),
                        pool=r.get("pool"),
                    )
                    for rid, r in doc["roles"].items()
                }
            ),
            events=MappingProxyType(
                {
                    eid: EventDecl(
                        id=eid,
                        labels=_labels(e["labels"]),
                        rule=e.get("rule"),
                        reason=_opt_labels(e.get("reason")),
                    )
                    for eid, e in doc["events"].items()
                }
            ),
            documents=MappingProxyType(
                {
                    did: DocumentDecl(id=did, labels=_labels(x["labels"]))
                    for did, x in doc.get("documents", {}).items()
                }
            ),
            separations=tuple(
                Separation(
                    rule=rule,
                    roles=tuple(x["roles"]),
                    not_with=tuple(x["notWith"]),
                    reason=_opt_labels(x.get("reason")),
                )
                for rule, x in doc.get("separations", {}).items()
            ),
            elements=MappingProxyType(
                {
                    eid: Element(id=eid, labels=_labels(e["labels"]))
                    for eid, e in doc.get("elements", {}).items()
                }
            ),
            messages=MappingProxyType(
                {
                    code: MessageDecl(code=code, labels=_labels(m), category=m.get("category"))
                    for code, m in doc.get("messages", {}).items()
                }
            ),
            calendars=MappingProxyType(calendars),
            data_schema=doc.get("data"),
            timezone=doc.get("timezone", "Asia/Jakarta"),
            flags=MappingProxyType(
                {fid: _labels(f["labels"]) for fid, f in doc.get("flags", {}).items()}
            ),
            format=doc["format"],
            extends=extends,
            document=doc,
            source=source,
        )
