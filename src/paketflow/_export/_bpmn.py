"""BPMN 2.0 XML (with BPMNDI layout) of a process definition.

The mapping, in BPMN's own vocabulary:

- the initial state is entered from a blank start event; final states are end events;
- every other state is a user task (the work that waits there); its signature rule and
  the roles allowed to fire each event are in its documentation and a text annotation;
- when several arrows enter a task, an exclusive gateway joins them first (a task with
  several incoming flows would be an implicit join); when several arrows leave it, an
  exclusive gateway splits them, each flow conditioned on the event (and, when one event
  has several guarded alternatives, on the target) — ``event == "usulan_diajukan"``,
  a Python expression as SpiffWorkflow evaluates conditions;
- a deadline is a boundary timer: each escalation tier a non-interrupting timer ending in
  an end event that names whom it notifies, a timeout an interrupting timer whose flow
  goes to the timeout's target.

Timers carry the ISO 8601 duration when the due rule is a plain duration; for a working-day
or data-dependent due date the timer text is the rule in words (BPMN leaves the expression
language open), the exact rule stays in paketflow.

The layout is a plain layered grid: columns by longest path from the start (back edges
ignored), rows in declaration order; edges are orthogonal polylines.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from paketflow._calendar import Duration
from paketflow._definition.model import Deadline, Offset, ProcessDefinition, State

__all__ = ["due_variable", "to_bpmn"]

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"

TASK_W, TASK_H = 160, 80
GW = 50
EV = 36
CELL_W, CELL_H = 400, 440
NOTE_W = TASK_W + 120
TOP = 120
LEFT = 60

_WORDS = {
    "id": {
        "start": "Mulai",
        "signatures": "Tanda tangan",
        "roles": "peran",
        "notify": "Beri tahu",
        "after": "setelah",
        "due": "jatuh tempo",
        "working_days": "hari kerja",
        "date_from_data": "tanggal dari data instans",
        "timeout": "batas waktu habis",
        "choose": "Langkah berikut?",
        "distinct": "orang berbeda",
    },
    "en": {
        "start": "Start",
        "signatures": "Signatures",
        "roles": "roles",
        "notify": "Notify",
        "after": "after",
        "due": "due",
        "working_days": "working days",
        "date_from_data": "date from instance data",
        "timeout": "timed out",
        "choose": "Next step?",
        "distinct": "distinct persons",
    },
}


@attrs.define
class _Node:
    id: str
    kind: str  # startEvent endEvent userTask exclusiveGateway boundaryEvent
    name: str
    x: int = 0
    y: int = 0
    w: int = TASK_W
    h: int = TASK_H
    incoming: list[str] = attrs.field(factory=list)
    outgoing: list[str] = attrs.field(factory=list)
    doc: str | None = None
    attached: str | None = None
    interrupting: bool = True
    timer: tuple[str, str] | None = None


@attrs.define
class _Flow:
    id: str
    source: str
    target: str
    name: str | None = None
    condition: str | None = None


def _iso(d: Duration) -> str:
    months, days, seconds = d.months, d.days, d.seconds
    out = "P"
    if months:
        out += f"{months}M"
    if days or (not months and not seconds):
        out += f"{days}D"
    if seconds:
        out += f"T{seconds}S"
    return out


def _offset_text(off: Offset, w: Mapping[str, str]) -> str:
    if off.duration is not None:
        return off.duration.text
    return f"{off.working_days} {w['working_days']} ({off.calendar})"


def _due_text(dl: Deadline, w: Mapping[str, str]) -> str:
    due = dl.due
    if due.kind == "duration" and due.duration is not None:
        return due.duration.text
    if due.kind == "workingDays":
        return f"{due.working_days} {w['working_days']} ({due.calendar})"
    return w["date_from_data"]


def due_variable(deadline: str, step: str) -> str:
    """The process variable a host sets to the instant paketflow computed for a
    deadline step (``step`` is the escalation tier id or ``timeout``)."""
    return "due_" + re.sub(r"[^A-Za-z0-9_]", "_", f"{deadline}_{step}")


def _timer(dl: Deadline, after: Offset, step: str) -> tuple[str, str]:
    """``(kind, body)`` of a timer: ``timeDuration`` with a quoted ISO 8601 duration
    (a string literal in both XPath and Python) when the due rule and the offset are
    durations; otherwise ``timeDate`` reading the instant paketflow computed."""
    if dl.due.kind == "duration" and dl.due.duration is not None and after.duration is not None:
        a, b = dl.due.duration, after.duration
        iso = _iso(Duration(a.months + b.months, a.days + b.days, a.seconds + b.seconds))
        return "timeDuration", f'"{iso}"'
    return "timeDate", due_variable(dl.id, step)


class _Builder:
    def __init__(self, definition: ProcessDefinition, lang: str) -> None:
        self.d = definition
        self.lang = lang
        self.w = _WORDS[lang]
        self.nodes: dict[str, _Node] = {}
        self.flows: list[_Flow] = []
        self.annotations: list[tuple[str, str, str, int, int]] = []  # id, text, node, x, y
        self.lanes: dict[int, int] = {}  # row top -> back edges routed under it

    def label(self, labels: Any, fallback: str) -> str:
        return str(labels.get(self.lang)) if labels is not None else fallback

    def event_label(self, event: str) -> str:
        decl = self.d.events.get(event)
        return self.label(decl.labels if decl else None, event)

    def flow(
        self, source: str, target: str, name: str | None = None, cond: str | None = None
    ) -> None:
        fid = f"Flow_{len(self.flows) + 1}"
        self.flows.append(_Flow(fid, source, target, name, cond))
        self.nodes[source].outgoing.append(fid)
        self.nodes[target].incoming.append(fid)

    # -- graph ---------------------------------------------------------------------

    def edges(self) -> dict[str, dict[str, list[str]]]:
        """source state -> target state -> events (declaration order), timeouts as
        ``!timeout:<deadline>``."""
        out: dict[str, dict[str, list[str]]] = {}
        for state in self.d.states.values():
            targets = out.setdefault(state.id, {})
            for event, tr in state.transitions.items():
                for alt in tr.alternatives:
                    evs = targets.setdefault(alt.target, [])
                    if event not in evs:
                        evs.append(event)
        for state in self.d.states.values():
            for dl in state.deadlines:
                if dl.timeout is not None:
                    for source in dl.scope:
                        out[source].setdefault(dl.timeout.target, []).append("!timeout:" + dl.id)
        return out

    def layers(self, edges: Mapping[str, Mapping[str, list[str]]]) -> dict[str, int]:
        """Longest-path layering over the graph without its back edges (iterative DFS)."""
        order: list[str] = []
        colour: dict[str, int] = {}
        back: set[tuple[str, str]] = set()
        stack: list[tuple[str, Iterable[str]]] = [(self.d.initial, iter(edges[self.d.initial]))]
        colour[self.d.initial] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(iter(it), None)
            if nxt is None:
                stack.pop()
                colour[node] = 2
                order.append(node)
                continue
            c = colour.get(nxt, 0)
            if c == 1 or nxt == node:
                back.add((node, nxt))
            elif c == 0:
                colour[nxt] = 1
                stack.append((nxt, iter(edges.get(nxt, {}))))
        layer = dict.fromkeys(order, 0)
        for node in reversed(order):  # topological order
            for target in edges.get(node, {}):
                if (node, target) not in back and target != node:
                    layer[target] = max(layer[target], layer[node] + 1)
        for sid in self.d.states:  # unreachable states (never in a valid definition)
            layer.setdefault(sid, 0)
        return layer

    # -- build ---------------------------------------------------------------------

    def build(self) -> None:
        edges = self.edges()
        layer = self.layers(edges)
        rows: dict[int, int] = {}
        cell: dict[str, tuple[int, int]] = {}
        for sid in self.d.states:
            col = layer[sid]
            cell[sid] = (col, rows.get(col, 0))
            rows[col] = rows.get(col, 0) + 1
        incoming: dict[str, int] = {sid: 0 for sid in self.d.states}
        incoming[self.d.initial] += 1
        for targets in edges.values():
            for target in targets:
                incoming[target] += 1

        self.nodes["StartEvent"] = _Node("StartEvent", "startEvent", self.w["start"], w=EV, h=EV)
        self.nodes["StartEvent"].x, self.nodes["StartEvent"].y = LEFT, TOP + (TASK_H - EV) // 2
        entry: dict[str, str] = {}
        exit_: dict[str, str] = {}
        for sid, state in self.d.states.items():
            col, row = cell[sid]
            x0 = LEFT + 80 + col * CELL_W
            y0 = TOP + row * CELL_H
            name = self.label(state.labels, sid)
            if incoming[sid] > 1:
                gid = f"Join_{sid}"
                self.nodes[gid] = _Node(gid, "exclusiveGateway", "", x0, y0 + 15, GW, GW)
                entry[sid] = gid
            if state.final:
                nid = f"End_{sid}"
                self.nodes[nid] = _Node(nid, "endEvent", name, x0 + 80, y0 + 22, EV, EV)
            else:
                nid = f"Task_{sid}"
                self.nodes[nid] = _Node(
                    nid, "userTask", name, x0 + 80, y0, TASK_W, TASK_H, doc=self.task_doc(state)
                )
                self.annotate(state, nid, x0 + 80, y0)
            entry.setdefault(sid, nid)
            exit_[sid] = nid
            if len(edges.get(sid, {})) > 1:
                gid = f"Split_{sid}"
                self.nodes[gid] = _Node(
                    gid,
                    "exclusiveGateway",
                    self.w["choose"],
                    x0 + 80 + TASK_W + 40,
                    y0 + 15,
                    GW,
                    GW,
                )
                self.flow(nid, gid)
                exit_[sid] = gid
        for sid in self.d.states:
            if entry[sid] != exit_[sid] and entry[sid].startswith("Join_"):
                target = f"Task_{sid}" if not self.d.states[sid].final else f"End_{sid}"
                self.flow(entry[sid], target)
        self.flow("StartEvent", entry[self.d.initial])
        for sid, targets in edges.items():
            split = exit_[sid].startswith("Split_")
            for target, events in targets.items():
                plain = [e for e in events if not e.startswith("!timeout:")]
                if not plain:
                    continue  # timeouts leave from boundary events, below
                name = " | ".join(self.event_label(e) for e in plain)
                cond = self.condition(sid, target, plain, edges) if split else None
                self.flow(exit_[sid], entry[target], name, cond)
        for state in self.d.states.values():
            for dl in state.deadlines:
                self.deadline(dl, entry)

    def condition(
        self, sid: str, target: str, events: list[str], edges: Mapping[str, Mapping[str, list[str]]]
    ) -> str:
        """A Python expression on the task's data (``event``, ``target``)."""
        quoted = ", ".join(f'"{e}"' for e in events)
        cond = f'event == "{events[0]}"' if len(events) == 1 else f"event in ({quoted})"
        ambiguous = any(
            other != target and any(e in evs for e in events) for other, evs in edges[sid].items()
        )
        return f'{cond} and target == "{target}"' if ambiguous else cond

    def task_doc(self, state: State) -> str:
        lines = []
        for event, tr in state.transitions.items():
            roles = ", ".join(tr.roles)
            lines.append(f"{self.event_label(event)} ({event}): {self.w['roles']} {roles}")
        return "\n".join(lines)

    def annotate(self, state: State, task: str, x: int, y: int) -> None:
        if state.signatures is None:
            return
        parts = []
        for slot in state.signatures.slots:
            who = "/".join(slot.roles)
            count = f"{slot.count}× " if slot.count != 1 else ""
            el = f", {slot.element}" if slot.element else ""
            parts.append(f"{count}{self.label(slot.labels, slot.id)} ({who}{el})")
        extra = f" — {self.w['distinct']}" if state.signatures.distinct_persons else ""
        text = f"{self.w['signatures']}{extra}: " + "; ".join(parts)
        self.annotations.append((f"Note_{state.id}", text, task, x, y - 20 - _note_h(text)))

    def deadline(self, dl: Deadline, entry: Mapping[str, str]) -> None:
        host = self.nodes[f"Task_{dl.state}"]
        name = self.label(dl.labels, dl.id)
        k = sum(1 for n in self.nodes.values() if n.attached == host.id)
        for tier in dl.escalations:
            bid = f"Timer_{dl.id}_{tier.id}".replace(".", "_")
            notify = ", ".join(tier.notify)
            after = _offset_text(tier.after, self.w)
            node = _Node(
                bid,
                "boundaryEvent",
                f"+{after}",
                host.x + 8 + k * 54,
                host.y + TASK_H - EV // 2,
                EV,
                EV,
                attached=host.id,
                interrupting=False,
                timer=_timer(dl, tier.after, tier.id),
                doc=f"{self.w['due']}: {_due_text(dl, self.w)}; scope: {', '.join(dl.scope)}",
            )
            self.nodes[bid] = node
            eid = f"Notify_{dl.id}_{tier.id}".replace(".", "_")
            label = f"{self.w['notify']}: {notify}" if notify else tier.id
            end_y = host.y + TASK_H + 60 + (k % 2) * 60  # staggered: labels do not collide
            self.nodes[eid] = _Node(eid, "endEvent", label, node.x, end_y, EV, EV)
            self.flow(bid, eid)
            k += 1
        if dl.timeout is not None:
            for source in dl.scope:
                src = self.nodes[f"Task_{source}"]
                j = sum(1 for n in self.nodes.values() if n.attached == src.id)
                bid = f"Timeout_{dl.id}_{source}".replace(".", "_")
                self.nodes[bid] = _Node(
                    bid,
                    "boundaryEvent",
                    f"{name}: {self.w['timeout']}",
                    src.x + 8 + j * 54,
                    src.y + TASK_H - EV // 2,
                    EV,
                    EV,
                    attached=src.id,
                    interrupting=True,
                    timer=_timer(dl, dl.timeout.after, "timeout"),
                )
                self.flow(bid, entry[dl.timeout.target], self.event_label(dl.timeout.event))

    # -- XML -----------------------------------------------------------------------

    def xml(self) -> str:
        ET.register_namespace("bpmn", BPMN)
        ET.register_namespace("bpmndi", BPMNDI)
        ET.register_namespace("dc", DC)
        ET.register_namespace("di", DI)
        root = ET.Element(
            f"{{{BPMN}}}definitions",
            {
                "id": "Definitions_1",
                "targetNamespace": f"urn:paketflow:{self.d.id}:{self.d.version}",
                "exporter": "paketflow",
                "exporterVersion": "0.1.0",
            },
        )
        pid = "Process_" + self.d.id.replace(".", "_").replace("-", "_")
        process = ET.SubElement(
            root,
            f"{{{BPMN}}}process",
            {"id": pid, "name": self.label(self.d.labels, self.d.id), "isExecutable": "true"},
        )
        flows = {f.id: f for f in self.flows}
        for node in self.nodes.values():
            attrs_: dict[str, str] = {"id": node.id}
            if node.name:  # joining gateways need none (bpmnlint: label-required)
                attrs_["name"] = node.name
            if node.kind == "boundaryEvent":
                assert node.attached is not None
                attrs_["attachedToRef"] = node.attached
                attrs_["cancelActivity"] = "true" if node.interrupting else "false"
            el = ET.SubElement(process, f"{{{BPMN}}}{node.kind}", attrs_)
            if node.doc:
                ET.SubElement(el, f"{{{BPMN}}}documentation").text = node.doc
            for fid in node.incoming:
                ET.SubElement(el, f"{{{BPMN}}}incoming").text = fid
            for fid in node.outgoing:
                ET.SubElement(el, f"{{{BPMN}}}outgoing").text = fid
            if node.timer is not None:
                timer = ET.SubElement(el, f"{{{BPMN}}}timerEventDefinition")
                kind, text = node.timer
                body = ET.SubElement(timer, f"{{{BPMN}}}{kind}")
                body.set(XSI_TYPE, "bpmn:tFormalExpression")
                body.text = text
        for f in self.flows:
            fa = {"id": f.id, "sourceRef": f.source, "targetRef": f.target}
            if f.name:
                fa["name"] = f.name
            el = ET.SubElement(process, f"{{{BPMN}}}sequenceFlow", fa)
            if f.condition:
                cond = ET.SubElement(el, f"{{{BPMN}}}conditionExpression")
                cond.set(XSI_TYPE, "bpmn:tFormalExpression")
                cond.text = f.condition
        for aid, text, node_id, _x, _y in self.annotations:
            ann = ET.SubElement(process, f"{{{BPMN}}}textAnnotation", {"id": aid})
            ET.SubElement(ann, f"{{{BPMN}}}text").text = text
            ET.SubElement(
                process,
                f"{{{BPMN}}}association",
                {"id": f"Assoc_{aid}", "sourceRef": node_id, "targetRef": aid},
            )
        diagram = ET.SubElement(root, f"{{{BPMNDI}}}BPMNDiagram", {"id": "Diagram_1"})
        plane = ET.SubElement(
            diagram, f"{{{BPMNDI}}}BPMNPlane", {"id": "Plane_1", "bpmnElement": pid}
        )
        for node in self.nodes.values():
            shape_attrs = {"id": f"{node.id}_di", "bpmnElement": node.id}
            if node.kind == "exclusiveGateway":
                shape_attrs["isMarkerVisible"] = "true"
            shape = ET.SubElement(plane, f"{{{BPMNDI}}}BPMNShape", shape_attrs)
            _bounds(shape, node.x, node.y, node.w, node.h)
        for aid, text, _n, x, y in self.annotations:
            shape = ET.SubElement(
                plane, f"{{{BPMNDI}}}BPMNShape", {"id": f"{aid}_di", "bpmnElement": aid}
            )
            _bounds(shape, x, y, NOTE_W, _note_h(text))
        for f in self.flows:
            edge = ET.SubElement(
                plane, f"{{{BPMNDI}}}BPMNEdge", {"id": f"{f.id}_di", "bpmnElement": f.id}
            )
            for px, py in self.route(self.nodes[f.source], self.nodes[f.target]):
                ET.SubElement(edge, f"{{{DI}}}waypoint", {"x": str(px), "y": str(py)})
            del flows[f.id]
        for aid, _text, node_id, _x, _y in self.annotations:
            edge = ET.SubElement(
                plane,
                f"{{{BPMNDI}}}BPMNEdge",
                {"id": f"Assoc_{aid}_di", "bpmnElement": f"Assoc_{aid}"},
            )
            n = self.nodes[node_id]
            for px, py in ((n.x + n.w // 2, n.y), (n.x + n.w // 2, n.y - 20)):
                ET.SubElement(edge, f"{{{DI}}}waypoint", {"x": str(px), "y": str(py)})
        ET.indent(root)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")

    def route(self, a: _Node, b: _Node) -> list[tuple[int, int]]:
        """An orthogonal polyline from ``a`` to ``b``."""
        if a.kind == "boundaryEvent":
            sx, sy = a.x + a.w // 2, a.y + a.h
            if b.kind == "endEvent" and b.x == a.x:
                return [(sx, sy), (sx, b.y)]
            low = max(n.y + n.h for n in self.nodes.values()) + 40
            return [(sx, sy), (sx, low), (b.x + b.w // 2, low), (b.x + b.w // 2, b.y + b.h)]
        sx, sy = a.x + a.w, a.y + a.h // 2
        tx, ty = b.x, b.y + b.h // 2
        near = tx - sx < CELL_W  # the next column: nothing lies in between
        if tx > sx and (near or sy != ty):
            if sy == ty:
                return [(sx, sy), (tx, ty)]
            mid = tx - 20
            return [(sx, sy), (mid, sy), (mid, ty), (tx, ty)]
        # a back edge, a loop or a long jump along the row: leave from below, run in a
        # lane under the source's row (below its escalation ends; one lane per such
        # edge of the row), and come
        # up into the target (a joining gateway, left of its task: nothing in between)
        row_top = TOP + ((a.y - TOP) // CELL_H) * CELL_H
        lanes = self.lanes.setdefault(row_top, 0)
        self.lanes[row_top] = lanes + 1
        low = row_top + TASK_H + 235 + (lanes % 6) * 9
        return [
            (a.x + a.w // 2, a.y + a.h),
            (a.x + a.w // 2, low),
            (b.x + b.w // 2, low),
            (b.x + b.w // 2, b.y + b.h),
        ]


def _note_h(text: str) -> int:
    """Height of a text annotation NOTE_W wide (about 44 characters a line)."""
    return 16 * (len(text) // 44 + 1) + 12


def _bounds(shape: ET.Element, x: int, y: int, w: int, h: int) -> None:
    ET.SubElement(
        shape,
        f"{{{DC}}}Bounds",
        {"x": str(x), "y": str(y), "width": str(w), "height": str(h)},
    )


def to_bpmn(definition: ProcessDefinition, lang: str = "en") -> str:
    """The BPMN 2.0 XML (with diagram interchange) of ``definition``, names in ``lang``."""
    builder = _Builder(definition, lang)
    builder.build()
    return builder.xml()
