"""The definition-language commands of the CLI: ``show``, ``diff`` and
``migrate-definition`` (``validate --base`` lives in :mod:`paketflow._cli`).

Each function takes parsed arguments and an output stream and returns the exit status;
:mod:`paketflow._cli` registers them.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any, TextIO

from paketflow._definition import ProcessDefinition, load_definition
from paketflow._definition._schema_errors import SCHEMA_ID_V2
from paketflow._definition.model import Deadline, Offset, State, Transition
from paketflow._errors import DefinitionError

__all__ = ["diff", "migrate", "show"]


def _load(path: str, base: str | None, err: TextIO) -> ProcessDefinition | None:
    try:
        return load_definition(path, base=load_definition(base) if base else None)
    except DefinitionError as exc:
        for problem in exc.errors:
            err.write(f"{problem}\n")
        return None


# --------------------------------------------------------------------------- show


def _offset(o: Offset, lang: str) -> str:
    if o.duration is not None:
        return o.duration.text
    days = "hari kerja" if lang == "id" else "working days"
    return f"{o.working_days} {days} ({o.calendar})"


def _roles(d: ProcessDefinition, roles: tuple[str, ...], lang: str) -> str:
    return ", ".join(d.roles[r].labels.get(lang) if r in d.roles else r for r in roles)


def _message(d: ProcessDefinition, code: str | None, lang: str) -> str:
    if code is None:
        return ""
    m = d.messages.get(code)
    return f"{code}: {m.labels.get(lang)}" if m else code


def _transition(d: ProcessDefinition, t: Transition, lang: str) -> list[str]:
    ev = d.events[t.event].labels.get(lang) if t.event in d.events else t.event
    targets = " / ".join(
        d.states[a.target].labels.get(lang) if a.target in d.states else a.target
        for a in t.alternatives
    )
    who = "oleh" if lang == "id" else "by"
    arrow = "→"
    lines = [f"  - {ev} ({t.event}) {who} {_roles(d, t.roles, lang)} {arrow} {targets}"]
    must = "harus terpenuhi" if lang == "id" else "must hold"
    if t.require_signatures:
        lines.append("      " + ("tanda tangan lengkap" if lang == "id" else "signatures complete"))
    for x in t.exclude:
        no = "bukan anggota" if lang == "id" else "not a member of"
        lines.append(f"      {no} {x.set}" + (f" ({x.rule})" if x.rule else ""))
    for g in t.guards:
        rule = f" [{g.rule}]" if g.rule else ""
        lines.append(f"      {must}{rule}: {g.id} — {_message(d, g.code, lang)}")
    return lines


def _deadline(d: ProcessDefinition, dl: Deadline, lang: str) -> list[str]:
    due = dl.due
    if due.kind == "duration":
        when = f"{due.duration.text if due.duration else ''} " + (
            "sejak masuk" if lang == "id" else "after entry"
        )
    elif due.kind == "workingDays":
        when = f"{due.working_days} " + ("hari kerja" if lang == "id" else "working days")
    else:
        when = "tanggal dari data" if lang == "id" else "a date from the data"
    label = f" {dl.labels.get(lang)}" if dl.labels else ""
    scope = ", ".join(dl.scope)
    lines = [
        f"  - {dl.id}{label}: {when}; "
        + ("berlaku di" if lang == "id" else "kept in")
        + f" {scope}"
    ]
    for tier in dl.escalations:
        after = "setelah" if lang == "id" else "after"
        parts = [f"{after} {_offset(tier.after, lang)}"]
        if tier.flag:
            parts.append(f"flag {tier.flag}")
        if tier.notify:
            parts.append(
                ("beri tahu " if lang == "id" else "notify ") + _roles(d, tier.notify, lang)
            )
        if tier.message:
            parts.append(_message(d, tier.message, lang))
        lines.append(f"      {tier.id}: " + "; ".join(parts))
    if dl.timeout is not None:
        t = dl.timeout
        target = d.states[t.target].labels.get(lang) if t.target in d.states else t.target
        lines.append(
            "      timeout: "
            + ("setelah " if lang == "id" else "after ")
            + f"{_offset(t.after, lang)} → {target} ({t.event})"
        )
    return lines


def _state(d: ProcessDefinition, s: State, lang: str) -> list[str]:
    head = f"{s.labels.get(lang)} ({s.id})" + (
        " — akhir" if s.final and lang == "id" else " — final" if s.final else ""
    )
    lines = [head]
    if s.signatures is not None:
        lines.append("  " + ("tanda tangan:" if lang == "id" else "signatures:"))
        for slot in s.signatures.slots:
            elem = f", {slot.element}" if slot.element else ""
            lines.append(f"  - {slot.id}: {slot.count} × {_roles(d, slot.roles, lang)}{elem}")
    if s.deadlines:
        lines.append("  " + ("batas waktu:" if lang == "id" else "deadlines:"))
        for dl in s.deadlines:
            lines += _deadline(d, dl, lang)
    if s.transitions:
        lines.append("  " + ("siapa boleh apa:" if lang == "id" else "who may do what:"))
        for t in s.transitions.values():
            lines += _transition(d, t, lang)
    return lines


def _stages(d: ProcessDefinition) -> dict[str, str]:
    """Leaf state id → the label path of its stages (format 2), from the source."""
    out: dict[str, str] = {}

    def walk(states: Mapping[str, Any], path: list[str]) -> None:
        for sid, node in states.items():
            if isinstance(node, dict) and "states" in node:
                walk(node["states"], [*path, sid])
            else:
                out[sid] = " / ".join(path)

    states = d.source_document.get("states")
    if isinstance(states, dict):
        walk(states, [])
    return out


def show(args: Any, out: TextIO, err: TextIO) -> int:
    """``paketflow show DEF [--lang id|en] [--state S] [--base FILE]``."""
    d = _load(args.definition, getattr(args, "base", None), err)
    if d is None:
        return 1
    lang = args.lang
    if args.state and args.state not in d.states:
        err.write(f"no state {args.state!r}; states: {', '.join(d.states)}\n")
        return 2
    out.write(f"{d.labels.get(lang)} ({d.key})\n")
    params = d.source_document.get("parameters")
    if isinstance(params, dict) and params and not args.state:
        out.write("Parameter:\n" if lang == "id" else "Parameters:\n")
        for name, spec in params.items():
            label = spec.get("labels", {}).get(lang, "")
            out.write(
                f"  - {name} = {json.dumps(spec.get('default'))}"
                + (f"  ({label})" if label else "")
                + "\n"
            )
    stages = _stages(d)
    current = None
    for sid, s in d.states.items():
        if args.state and sid != args.state:
            continue
        stage = stages.get(sid, "")
        if stage != current and stage:
            out.write(f"\n== {stage} ==\n")
        current = stage
        out.write("\n" + "\n".join(_state(d, s, lang)) + "\n")
    return 0


# --------------------------------------------------------------------------- diff


def _fmt(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 100 else text[:99] + "…"


def diff(args: Any, out: TextIO, err: TextIO) -> int:
    """``paketflow diff BASE VARIANT``: the resolved differences in plain words; exit 0
    when there are none, 1 when there are, 2 when one does not load."""
    base = _load(args.base_file, None, err)
    if base is None:
        return 2
    variant = _load(args.variant, args.base_file, err)
    if variant is None:
        return 2
    lines: list[str] = []
    a, b = base.document, variant.document
    for key in ("labels", "description", "initial", "timezone"):
        if a.get(key) != b.get(key):
            lines.append(f"{key}: {_fmt(a.get(key))} → {_fmt(b.get(key))}")
    pa = base.source_document.get("parameters") or {}
    pb = variant.source_document.get("parameters") or {}
    for name in sorted(set(pa) | set(pb)):
        va = pa.get(name, {}).get("default") if isinstance(pa.get(name), dict) else None
        vb = pb.get(name, {}).get("default") if isinstance(pb.get(name), dict) else None
        if va != vb:
            lines.append(f"parameter {name}: {_fmt(va)} → {_fmt(vb)}")
    for table in ("roles", "events", "elements", "flags", "messages", "calendars"):
        ta, tb = a.get(table, {}), b.get(table, {})
        for k in sorted(set(ta) - set(tb)):
            lines.append(f"{table[:-1]} {k} removed")
        for k in sorted(set(tb) - set(ta)):
            lines.append(f"{table[:-1]} {k} added")
        for k in sorted(set(ta) & set(tb)):
            if ta[k] != tb[k]:
                lines.append(f"{table[:-1]} {k} changed: {_fmt(ta[k])} → {_fmt(tb[k])}")
    sa, sb = a["states"], b["states"]
    for sid in [s for s in sa if s not in sb]:
        lines.append(f"state {sid} removed")
    for sid in [s for s in sb if s not in sa]:
        lines.append(f"state {sid} added")
    for sid in [s for s in sa if s in sb]:
        lines += _state_diff(sid, sa[sid], sb[sid])
    if not lines:
        out.write("no differences\n")
        return 0
    out.write("\n".join(lines) + "\n")
    return 1


def _state_diff(sid: str, a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    for key in ("labels", "final", "signatures"):
        if a.get(key) != b.get(key):
            lines.append(f"state {sid}: {key} {_fmt(a.get(key))} → {_fmt(b.get(key))}")
    for kind, name in (("deadlines", "deadline"), ("on", "event")):
        ta, tb = a.get(kind, {}), b.get(kind, {})
        for k in [k for k in ta if k not in tb]:
            lines.append(f"state {sid}: {name} {k} removed")
        for k in [k for k in tb if k not in ta]:
            lines.append(f"state {sid}: {name} {k} added")
        for k in [k for k in ta if k in tb and ta[k] != tb[k]]:
            for field in sorted(set(ta[k]) | set(tb[k])):
                va, vb = ta[k].get(field), tb[k].get(field)
                if va != vb:
                    lines.append(f"state {sid}: {name} {k}: {field} {_fmt(va)} → {_fmt(vb)}")
    return lines


# --------------------------------------------------------------------------- migrate


def migrate_document(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A format-2 document that resolves to the same format-1 document as ``doc`` (a
    format-1 definition, not a variant): format and schema id set, and every transition
    written identically in two or more states moved to ``$defs`` and used by name."""
    out: dict[str, Any] = copy.deepcopy(dict(doc))
    out["format"] = 2
    if "$schema" in out:
        out["$schema"] = SCHEMA_ID_V2
    for state in out["states"].values():
        _quote_state(state)
    seen: dict[str, list[tuple[str, str]]] = {}
    for sid, state in out["states"].items():
        for ev, t in state.get("on", {}).items():
            seen.setdefault(json.dumps(t, sort_keys=True), []).append((sid, ev))
    defs: dict[str, Any] = {}
    for text, places in seen.items():
        if len(places) < 2:
            continue
        ev = places[0][1]
        name = ev if ev not in defs else f"{ev}_{len(defs)}"
        defs[name] = json.loads(text)
        for sid, event in places:
            out["states"][sid]["on"][event] = {"$use": name}
    if defs:
        ordered = {}
        for key, value in out.items():
            if key == "states":
                ordered["$defs"] = defs
            ordered[key] = value
        out = ordered
    return out


def _cel_string(text: str) -> str:
    """The CEL literal of ``text`` (in format 2 a string in an expression slot is CEL)."""
    body = text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")
    return "'" + body.replace("\r", "\\r").replace("\t", "\\t") + "'"


def _quote(node: dict[str, Any], key: str) -> None:
    if isinstance(node.get(key), str):
        node[key] = _cel_string(node[key])


def _quote_all(node: dict[str, Any]) -> None:
    for k in list(node.get("params", {})):
        _quote(node["params"], k)


def _quote_effects(items: list[dict[str, Any]]) -> None:
    for eff in items:
        _quote(eff, "value")


def _quote_state(state: dict[str, Any]) -> None:
    """Every string literal in an expression slot of ``state`` written as CEL text."""
    for slot in state.get("signatures", {}).get("slots", {}).values():
        _quote(slot, "expected")
    for dl in state.get("deadlines", {}).values():
        _quote(dl["due"], "date")
        _quote_effects(dl.get("timeout", {}).get("effects", []))
    for t in state.get("on", {}).values():
        for g in t.get("guards", []):
            for key in ("if", "missing", "expected"):
                _quote(g, key)
            _quote_all(g)
        for a in t.get("alternatives", []):
            _quote(a, "when")
            _quote_effects(a.get("effects", []))
            for n in a.get("notices", []):
                _quote(n, "when")
                _quote_all(n)
        _quote_effects(t.get("effects", []))
        for n in t.get("notices", []):
            _quote(n, "when")
            _quote_all(n)


def migrate(args: Any, out: TextIO, err: TextIO) -> int:
    """``paketflow migrate-definition DEF [-o OUT]``: print (or write) the definition in
    format 2; the result is checked to load and to resolve to the same hash."""
    d = _load(args.definition, None, err)
    if d is None:
        return 1
    if "extends" in d.source_document or d.extends is not None:
        err.write("migrate-definition converts a base definition, not a variant\n")
        return 2
    if d.format == 2:
        err.write(f"{args.definition} is already format 2\n")
        return 2
    migrated = migrate_document(d.source_document)
    again = load_definition(migrated)
    if again.hash != d.hash:  # pragma: no cover - a bug in the migration
        err.write("internal error: the migrated definition does not resolve to the same one\n")
        return 1
    text = json.dumps(migrated, indent=2, ensure_ascii=False) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
        out.write(f"{args.output}: format 2, same resolved hash {again.hash}\n")
    else:
        out.write(text)
    return 0


def register(sub: Any) -> None:
    """Add ``show``, ``diff`` and ``migrate-definition`` to the CLI's subparsers."""
    p = sub.add_parser(
        "show",
        help="the process in plain words",
        description="Print a definition in plain words: states by stage, who may do what, "
        "what must hold, signatures, deadlines and escalations, parameters.",
    )
    p.add_argument("definition", metavar="DEF", help="definition file (JSON)")
    p.add_argument("--lang", choices=("id", "en"), default="en", help="language (default en)")
    p.add_argument("--state", metavar="S", help="show only this state")
    p.add_argument("--base", metavar="FILE", help="base definition of a variant")
    p.set_defaults(handler=show)
    p = sub.add_parser(
        "diff",
        help="what a variant changes, in plain words",
        description="List the differences between a base and a variant after both are "
        "resolved. Exit 0: none, 1: some, 2: a definition does not load.",
    )
    p.add_argument("base_file", metavar="BASE", help="base definition file")
    p.add_argument("variant", metavar="VARIANT", help="variant (or other definition) file")
    p.set_defaults(handler=diff)
    p = sub.add_parser(
        "migrate-definition",
        help="convert a format-1 definition to format 2",
        description="Convert a format-1 definition to format 2 (repeated transitions become "
        "$defs); the result resolves to the same definition (same hash).",
    )
    p.add_argument("definition", metavar="DEF", help="format-1 definition file")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p.set_defaults(handler=migrate)
