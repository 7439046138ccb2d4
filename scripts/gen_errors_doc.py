"""Regenerate docs/errors.md: every definition error code with an example and its exact
output line (produced by running the loader on the example).

    python scripts/gen_errors_doc.py          # rewrite docs/errors.md
    python scripts/gen_errors_doc.py --check  # exit 1 when out of date
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "errors.md"
BASE: dict[str, Any] = json.loads(
    (ROOT / "processes" / "invalid" / "base" / "mini.json").read_text("utf-8")
)

Mut = Callable[[dict[str, Any]], Any]


def _st(d: dict[str, Any], s: str) -> dict[str, Any]:
    state: dict[str, Any] = d["states"][s]
    return state


def _ajukan(d: dict[str, Any]) -> dict[str, Any]:
    t: dict[str, Any] = _st(d, "DRAF")["on"]["ajukan"]
    return t


def _v2(d: dict[str, Any], **top: Any) -> dict[str, Any]:
    """Make the mini definition a format-2 document (with extra top-level keys)."""
    d["format"] = 2
    d["$schema"] = "urn:paketflow:schema:definition:2"
    d.update(top)
    return d


def _stage(d: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Put DRAF and DIAJUKAN into a stage PROSES (format 2)."""
    _v2(d)
    inner = {s: d["states"].pop(s) for s in ("DRAF", "DIAJUKAN")}
    d["states"] = {
        "PROSES": {"labels": {"id": "Proses", "en": "In progress"}, "states": inner, **extra},
        **d["states"],
    }
    return d


def _when(d: dict[str, Any], node: Any) -> None:
    _ajukan(d)["alternatives"][0]["when"] = node


def _variant(**extra: Any) -> dict[str, Any]:
    return {"format": 1, "id": "mini-v", "version": "1.0.0", **extra}


# code, meaning, snippet, example (raw text | mutation | variant dict | special), fix
Example = tuple[str, str, str, Any, str]
EXAMPLES: list[Example] = [
    (
        "file.not-found",
        "The path names no file.",
        "paketflow validate nope.json",
        ("path", "nope.json"),
        "Check the path.",
    ),
    (
        "file.unreadable",
        "The path exists but cannot be read as a file (a directory, no permission, a bad name).",
        "paketflow validate .",
        ("path", "."),
        "Name a readable JSON file.",
    ),
    (
        "file.not-object",
        "The document is valid JSON but not an object.",
        '[{"format": 1}]',
        '[{"format": 1}]',
        "A definition is one JSON object.",
    ),
    (
        "json.syntax",
        "Not JSON: a syntax error, an empty file, bytes that are not UTF-8, or "
        "a lone UTF-16 surrogate.",
        '{"format": 1,}',
        '{"format": 1,}',
        "Fix the JSON syntax.",
    ),
    (
        "json.duplicate-key",
        "A key appears twice in one object (readers disagree on which wins).",
        '{"initial": "DRAF", "initial": "DIAJUKAN"}',
        '{"initial": "DRAF", "initial": "DIAJUKAN"}',
        "Keep one of them.",
    ),
    (
        "json.nan",
        "NaN, Infinity or -Infinity (not JSON, though Python writes them).",
        '{"pool": NaN}',
        '{"pool": NaN}',
        "Use a finite number or null.",
    ),
    (
        "json.number-too-large",
        "A number with more than 100 digits or outside the float range.",
        '{"pool": 1e999}',
        '{"pool": 1e999}',
        "Use a reasonable number.",
    ),
    (
        "json.too-deep",
        "Nesting deeper than 64 levels (arrays or objects).",
        "[[[[ … 65 levels … ]]]]",
        "[" * 65 + "]" * 65,
        "Flatten the structure.",
    ),
    (
        "json.too-large",
        "The file is larger than 5 MB.",
        "(a 6 MB file)",
        ("large", None),
        "Check that this is the right file; definitions are small.",
    ),
    (
        "json.not-json",
        "A Python mapping holds something JSON cannot (a set, a non-string key, an object).",
        'load_definition({"x": {1, 2}})',
        ("mapping", {"x": {1, 2}}),
        "Pass only dict/list/str/int/float/bool/None.",
    ),
    (
        "json.too-many-nodes",
        "More than 50,000 JSON values, counted as written out (a sub-tree a Python mapping "
        "uses in several places counts in each), or JSON Pointers of more than 50,000,000 "
        "characters in all. See docs/limits.md.",
        '"if": {"and": [X, X]} with X = {"and": [Y, Y]} … 20 levels',
        ("mapping", "shared"),
        "Write the definition smaller; a process definition needs a few thousand values.",
    ),
    (
        "schema.type",
        "A value has the wrong JSON type.",
        '"states": ["DRAF"]',
        lambda d: d.update(states=["DRAF"]),
        "Use the type the reference names.",
    ),
    (
        "schema.required",
        "A required property is missing (the pointer names it).",
        '(no "initial")',
        lambda d: d.pop("initial"),
        "Add it.",
    ),
    (
        "schema.additional-property",
        "A property the language does not have (typos: the hint suggests the close name).",
        '"DRAF": {"onn": {}, …}',
        lambda d: _st(d, "DRAF").update(onn={}),
        "Remove or rename it.",
    ),
    (
        "schema.property-name",
        "A map key (state, role, event … id, or message code) does not match the id pattern.",
        '"states": {"1-ARSIP": …}',
        lambda d: d["states"].update(
            {"1-ARSIP": {"labels": {"id": "A", "en": "A"}, "final": True}}
        ),
        "Ids match `^[A-Za-z][A-Za-z0-9_-]{0,63}$`; message codes `^[A-Z][A-Z0-9_]{1,63}$`.",
    ),
    (
        "schema.enum",
        "A value is not one of the allowed ones.",
        '"jsonPatch": [{"op": "frobnicate", …}]',
        (
            "variant",
            _variant(
                extends={"id": "mini", "version": "1.0.0"},
                jsonPatch=[{"op": "frobnicate", "path": "/initial", "value": 1}],
            ),
        ),
        "Use one of the listed values.",
    ),
    (
        "schema.const",
        "A value must be exactly one thing.",
        '"format": "1"',
        lambda d: d.update(format="1"),
        "Use the value in the hint.",
    ),
    (
        "schema.pattern",
        "A string does not match its pattern (ids, versions, codes).",
        '"id": "Mini Process"',
        lambda d: d.update(id="Mini Process"),
        "Use a value matching the pattern.",
    ),
    (
        "schema.one-of",
        "Exactly one form is allowed: both or neither of target/alternatives "
        "given, or a value matching none of the forms.",
        '"ajukan": {"target": …, "alternatives": […]}',
        lambda d: _ajukan(d).update(target="DIAJUKAN"),
        "Give exactly one of the forms.",
    ),
    (
        "schema.any-of",
        "At least one of several properties is needed (a variant without patch and jsonPatch).",
        '{"extends": {…}}  (no patch, no jsonPatch)',
        ("variant", _variant(extends={"id": "mini", "version": "1.0.0"})),
        "Add one of them.",
    ),
    (
        "schema.minimum",
        "A number is below its minimum.",
        '"pool": 0',
        lambda d: d["roles"]["LURAH"].update(pool=0),
        "Use a larger number.",
    ),
    (
        "schema.maximum",
        "A number is above its maximum.",
        '"workdays": [8]',
        lambda d: d["calendars"]["kerja"].update(workdays=[8]),
        "Use a smaller number.",
    ),
    (
        "schema.min-items",
        "A list needs more items.",
        '"roles": []',
        lambda d: _ajukan(d).update(roles=[]),
        "Add the missing items.",
    ),
    (
        "schema.min-properties",
        "A map needs at least one entry.",
        '"states": {}',
        lambda d: d.update(states={}),
        "Add entries.",
    ),
    (
        "schema.unique-items",
        "A list repeats an item.",
        '"workdays": [1, 1]',
        lambda d: d["calendars"]["kerja"].update(workdays=[1, 1]),
        "List each item once.",
    ),
    (
        "labels.missing",
        "A label lacks its Indonesian or English text, or it is blank (also message templates).",
        '"labels": {"id": "Selesai"}',
        lambda d: _st(d, "SELESAI")["labels"].pop("en"),
        "Write both languages.",
    ),
    (
        "ref.state",
        "A target, initial state, timeout target or deadline scope names no state.",
        '"target": "DISETUJUI"',
        lambda d: _st(d, "DIAJUKAN")["on"]["setujui"].update(target="DISETUJUI"),
        "Fix the name or add the state.",
    ),
    (
        "ref.role",
        "A role used in a transition, slot, notify or fix is not declared.",
        '"roles": ["BENDAHARA"]',
        lambda d: _ajukan(d).update(roles=["BENDAHARA"]),
        "Declare the role in /roles or fix the name.",
    ),
    (
        "ref.event",
        "An event used in on or a timeout is not declared in /events.",
        '"on": {"kirim": …}',
        lambda d: _st(d, "DRAF")["on"].update(kirim={"roles": ["LURAH"], "target": "DITOLAK"}),
        "Declare it in /events.",
    ),
    (
        "ref.element",
        "An element named by a role or slot is not declared.",
        '"element": "pemuda"',
        lambda d: d["roles"]["WARGA"].update(element="pemuda"),
        "Declare it in /elements.",
    ),
    (
        "ref.calendar",
        "A working-days offset names no calendar.",
        '"due": {"workingDays": 10, "calendar": "libur"}',
        lambda d: _st(d, "DRAF")["deadlines"]["TM"].update(
            due={"workingDays": 10, "calendar": "libur"}
        ),
        "Declare it in /calendars.",
    ),
    (
        "ref.flag",
        "A flag raised or lowered is not declared.",
        '"flag": "eskalasi"',
        lambda d: _st(d, "DRAF")["deadlines"]["TM"]["escalations"]["t1"].update(flag="eskalasi"),
        "Declare it in /flags.",
    ),
    (
        "ref.message",
        "A message code used by a guard, notice or escalation is neither declared nor built in.",
        '"message": "WARN_LAMBAT"',
        lambda d: _st(d, "DRAF")["deadlines"]["TM"]["escalations"]["t1"].update(
            message="WARN_LAMBAT"
        ),
        "Declare it in /messages (both languages).",
    ),
    (
        "graph.unreachable",
        "No path from the initial state leads here (reported once per group, at its entry).",
        '"ARSIP": {…}  (nothing targets it)',
        lambda d: d["states"].update(
            ARSIP={"labels": {"id": "Arsip", "en": "Archive"}, "final": True}
        ),
        "Add a transition into it or remove it.",
    ),
    (
        "graph.no-final",
        "No final state can be reached from this state (reported once per "
        "dead end or closed cycle).",
        '"DITOLAK": {"labels": …}  (not final, no on)',
        lambda d: _st(d, "DITOLAK").pop("final"),
        "Add a transition towards a final state, or mark it final.",
    ),
    (
        "graph.no-final-state",
        "No state is final.",
        '(no "final": true anywhere)',
        lambda d: [
            s.update(final=False, on={"ajukan": {"roles": ["LURAH"], "target": "DRAF"}})
            for s in (_st(d, "SELESAI"), _st(d, "DITOLAK"))
        ],
        "Mark the end states final.",
    ),
    (
        "gateway.otherwise",
        "Alternatives must end with exactly one otherwise, and only the last one.",
        '"alternatives": [{"when": …}, {"when": true, …}]',
        lambda d: (
            _ajukan(d)["alternatives"][1].pop("otherwise"),
            _ajukan(d)["alternatives"][1].update(when=True),
        ),
        'End the list with {"otherwise": true, "target": …}.',
    ),
    (
        "signature.quorum-exceeds-pool",
        "A slot needs more signers than its roles' pools hold together.",
        '"lurah": {"roles": ["LURAH"], "count": 2}  (LURAH pool 1)',
        lambda d: _st(d, "DIAJUKAN")["signatures"]["slots"]["lurah"].update(count=2),
        "Lower count or raise pool.",
    ),
    (
        "signature.element-mismatch",
        "A slot needs an element none of its roles can represent (each has another fixed element).",
        '"warga": {"roles": ["WARGA"], "element": "pemerintah"}',
        lambda d: (
            d["elements"].update(pemerintah={"labels": {"id": "P", "en": "G"}}),
            _st(d, "DIAJUKAN")["signatures"]["slots"].update(
                warga={"roles": ["WARGA"], "element": "pemerintah"}
            ),
        ),
        "Use a role of that element, or change the element.",
    ),
    (
        "signature.require-without-rule",
        "requireSignatures in a state that collects no signatures.",
        '"ajukan": {"requireSignatures": true, …}',
        lambda d: _ajukan(d).update(requireSignatures=True),
        "Add signatures to the state or drop requireSignatures.",
    ),
    (
        "signature.unknown-document",
        "requireSignatures lists a document that no slot of the state signs.",
        '"setujui": {"requireSignatures": ["SK"], …}',
        lambda d: _st(d, "DIAJUKAN")["on"]["setujui"].update(requireSignatures=["SK"]),
        "Give a slot that document, or remove it from the list.",
    ),
    (
        "ref.document",
        "A signature slot names a document not declared in /documents.",
        '"lurah": {"roles": ["LURAH"], "document": "SK"}',
        lambda d: _st(d, "DIAJUKAN")["signatures"]["slots"]["lurah"].update(document="SK"),
        "Declare it in /documents.",
    ),
    (
        "expr.bad-node",
        "An expression object has not exactly one key.",
        '"when": {"==": [1, 1], "!=": [1, 2]}',
        lambda d: _ajukan(d)["alternatives"][0].update(when={"==": [1, 1], "!=": [1, 2]}),
        "One operator per object; nest them.",
    ),
    (
        "expr.unknown-operator",
        "An operator the expression language does not have.",
        '"when": {"greater": […]}',
        lambda d: _ajukan(d)["alternatives"][0].update(when={"greater": [1, 2]}),
        "Use one of the listed operators.",
    ),
    (
        "expr.arity",
        "An operator got the wrong number of arguments.",
        '"when": {">": [{"var": "data.total"}]}',
        lambda d: _ajukan(d)["alternatives"][0].update(when={">": [{"var": "data.total"}]}),
        "Give the number of arguments the message names.",
    ),
    (
        "expr.bad-var",
        "var takes a dotted path or an array starting with one.",
        '"when": {"var": 5}',
        lambda d: _ajukan(d)["alternatives"][0].update(when={"var": 5}),
        'Write {"var": "data.a.b"}.',
    ),
    (
        "expr.unknown-root",
        "A var path starts with an unknown root.",
        '"when": {"var": "instance.total"}',
        lambda d: _ajukan(d)["alternatives"][0].update(when={"var": "instance.total"}),
        "Start with data, event, actor, at, today, state, flags, sets, signers or deadlines.",
    ),
    (
        "expr.cel-syntax",
        "CEL text that does not parse, or a CEL construct the language does not have.",
        '"when": {"cel": "data.total => 100"}',
        lambda d: _ajukan(d)["alternatives"][0].update(when={"cel": "data.total => 100"}),
        "Fix the character the message marks with ⟨here⟩ (see docs/expressions.md).",
    ),
    (
        "expr.unknown-function",
        "A CEL call of a function the language does not have (or a CEL macro).",
        '"when": {"cel": "summ(data.lines) > 1"}',
        lambda d: _ajukan(d)["alternatives"][0].update(when={"cel": "summ(data.lines) > 1"}),
        "Use one of the listed functions.",
    ),
    (
        "expr.number-too-large",
        "An integer literal in an expression lies outside ±(2**53 - 1).",
        '"when": {">": [{"var": "data.total"}, 10000000000000000000]}',
        lambda d: _ajukan(d)["alternatives"][0].update(when={">": [{"var": "data.total"}, 10**19]}),
        "Use a smaller number; amounts in rupiah fit easily.",
    ),
    (
        "expr.bad-path",
        "An effect's data path is not a JSON Pointer or a segment array.",
        '{"set": "submitted", "value": true}',
        lambda d: _ajukan(d)["alternatives"][1]["effects"][0].update(set="submitted"),
        'Write "/submitted".',
    ),
    (
        "ref.fragment",
        "A $use (or defs.NAME in CEL) names no fragment of /$defs (format 2).",
        '"on": {"ajukan": {"$use": "ajukn"}}',
        lambda d: _v2(d, **{"$defs": {"ajukan": _ajukan(d)}})["states"]["DRAF"]["on"].update(
            ajukan={"$use": "ajukn"}
        ),
        "Name a fragment declared in /$defs (the hint names the closest).",
    ),
    (
        "fragment.cycle",
        "A fragment uses itself, directly or through others (format 2).",
        '"$defs": {"a": {"$use": "a"}}',
        lambda d: _v2(d, **{"$defs": {"a": {"$use": "a"}}})["states"]["DRAF"].update(
            description={"$use": "a"}
        ),
        "Break the cycle.",
    ),
    (
        "fragment.override",
        "Keys next to $use, but the fragment is not an object (format 2).",
        '{"$use": "peran", "target": "X"}',
        lambda d: _v2(d, **{"$defs": {"peran": ["PENYUSUN"]}})["states"]["DRAF"]["on"][
            "ajukan"
        ].update(roles={"$use": "peran", "extra": 1}),
        'Write {"$use": NAME} alone, or make the fragment an object.',
    ),
    (
        "fragment.too-large",
        "Expanding $use produces more than 200 000 JSON values (format 2).",
        '"$defs": {"f1": [{"$use": "f0"}, {"$use": "f0"}], …}',
        lambda d: _v2(
            d,
            **{
                "$defs": {
                    "f0": [1, 1],
                    **{
                        f"f{i}": [{"$use": f"f{i - 1}"}, {"$use": f"f{i - 1}"}, [1]]
                        for i in range(1, 20)
                    },
                }
            },
        ).update(description={"$use": "f19"}),
        "Use fewer nested fragments.",
    ),
    (
        "param.unknown",
        "A $param, params.NAME or {params.NAME} names no parameter; or a variant sets a "
        "parameter its base does not declare (format 2).",
        '"due": {"duration": {"$param": "batas_usulan"}}',
        lambda d: _v2(d, parameters={"batas": {"type": "duration", "default": "P30D"}})["states"][
            "DRAF"
        ]["deadlines"]["TM"].update(due={"duration": {"$param": "batas_usulan"}}),
        "Name a declared parameter (the hint names the closest).",
    ),
    (
        "param.invalid",
        "A parameter value (default, or set by a variant) does not have the declared type "
        "or limits (format 2).",
        '"batas": {"type": "duration", "default": "30 hari"}',
        lambda d: _v2(d, parameters={"batas": {"type": "duration", "default": "30 hari"}}),
        "Give a value of the declared type.",
    ),
    (
        "inherit.nothing",
        'A state opts out ("event": null) of an event no stage around it defines (format 2).',
        '"SELESAI": {"on": {"batalkan": null}}',
        lambda d: _v2(d)["states"]["DRAF"]["on"].update(batalkan=None),
        "Remove the null, or correct the event name.",
    ),
    (
        "state.duplicate",
        "Two states (or stages) have the same id; ids are unique across stages (format 2).",
        '"PROSES": {"states": {"DRAF": …}}, "DRAF": …',
        lambda d: _stage(d)["states"].update(
            DRAF={"labels": {"id": "X", "en": "X"}, "final": True}
        ),
        "Rename one of them.",
    ),
    (
        "deadline.duplicate",
        "A stage deadline has the id of a deadline of a state inside it (format 2).",
        '"PROSES": {"deadlines": {"TM": …}, "states": {"DRAF": {"deadlines": {"TM": …}}}}',
        lambda d: _stage(d, deadlines={"TM": {"due": {"duration": "P1D"}}}),
        "Rename one of them, or drop the state's copy.",
    ),
    (
        "message.placeholder",
        "A message placeholder that the guard, notice or escalation using the message does "
        "not fill (checked in both languages; escalations fill only tahap/stage, hari/days, "
        "tanggal/date, penerima/recipient, alasan/reason).",
        '"WARN_TERLAMBAT": {"en": "Late by {n} days"}',
        lambda d: d["messages"]["WARN_TERLAMBAT"].update(en="Late by {n} days"),
        "Add the parameter to params, or use a placeholder that is given.",
    ),
    (
        "expr.unknown-path",
        "A var path that names nothing: data not in /data nor written by an effect, event "
        "fields not in the payload schema, actor fields other than id/roles/element, an "
        "undeclared deadline, or a field after deadlines.ID.",
        '"when": {">": [{"var": "data.totl"}, 100]}',
        lambda d: _when(d, {">": [{"var": "data.totl"}, 100]}),
        "Correct the path (the hint names the closest) or declare it.",
    ),
    (
        "expr.type",
        "Arithmetic on a value whose schema says it is not a number.",
        '"when": {">": [{"+": [{"var": "data.nama"}, 1]}, 100]}',
        lambda d: (
            d["data"]["properties"].update(nama={"type": "string"})
            or _when(d, {">": [{"+": [{"var": "data.nama"}, 1]}, 100]})
        ),
        "Compute with a number field, or fix the schema.",
    ),
    (
        "expr.maybe-missing",
        "Arithmetic on a payload value the payload schema does not require.",
        '"data": {"properties": {"jumlah": {"type": "integer"}}}, "when": {">": [{"*": '
        '[{"var": "event.jumlah"}, 2]}, 100]}',
        lambda d: (
            _ajukan(d).update(
                data={"type": "object", "properties": {"jumlah": {"type": "integer"}}}
            )
            or _when(d, {">": [{"*": [{"var": "event.jumlah"}, 2]}, 100]})
        ),
        "Write coalesce(x, 0), or require the field.",
    ),
    (
        "expr.compare-instant",
        "A date-time (at, a deadline, a format: date-time value) compared as text.",
        '"when": {">": [{"var": "at"}, {"var": "deadlines.TM"}]}',
        lambda d: _when(d, {">": [{"var": "at"}, {"var": "deadlines.TM"}]}),
        "Compare days: daysBetween(a, b) > 0, or date(a) < date(b).",
    ),
    (
        "signature.quorum-without-pool",
        "A slot needs several signers of a role that declares no pool.",
        '"lurah": {"roles": ["LURAH"], "count": 2}  (LURAH without "pool")',
        lambda d: (
            d["roles"]["LURAH"].pop("pool")
            and _st(d, "DIAJUKAN")["signatures"]["slots"]["lurah"].update(count=2)
        ),
        "Declare pool on the role (the most people who can hold it).",
    ),
    (
        "duration.invalid",
        "Not an ISO 8601 duration of whole units.",
        '"due": {"duration": "30 days"}',
        lambda d: _st(d, "DRAF")["deadlines"]["TM"].update(due={"duration": "30 days"}),
        "Write P30D, P2W, P1M or PT48H.",
    ),
    (
        "final.has-transitions",
        "A final state has on, signatures or deadlines.",
        '"SELESAI": {"final": true, "on": {…}}',
        lambda d: _st(d, "SELESAI").update(on={"ajukan": {"roles": ["LURAH"], "target": "DRAF"}}),
        "Remove them, or drop final.",
    ),
    (
        "deadline.scope",
        "A deadline's scope does not include its own state.",
        '"scope": ["DIAJUKAN"]  (deadline of DRAF)',
        lambda d: _st(d, "DRAF")["deadlines"]["TM"].update(scope=["DIAJUKAN"]),
        "Add the state itself to scope.",
    ),
    (
        "deadline.met-by-unreachable",
        "An event in a deadline's met_by is not handled by any state of its scope.",
        '"met_by": ["setujui"]  (deadline of DRAF, scope DRAF)',
        lambda d: _st(d, "DRAF")["deadlines"]["TM"].update(met_by=["setujui"]),
        "Name an event of a state in the scope, or widen the scope.",
    ),
    (
        "timezone.unknown",
        "A time zone name the IANA database does not know.",
        '"timezone": "Asia/Atlantis"',
        lambda d: d.update(timezone="Asia/Atlantis"),
        "Use e.g. Asia/Jakarta or Asia/Pontianak.",
    ),
    (
        "calendar.invalid-date",
        "An extra holiday is not a real date.",
        '"extraHolidays": ["2012-02-30"]',
        lambda d: d["calendars"]["kerja"].update(extraHolidays=["2012-02-30"]),
        "Write a valid YYYY-MM-DD date.",
    ),
    (
        "data.invalid-schema",
        "The data (or a transition's data) schema is not a valid JSON Schema 2020-12.",
        '"data": {"type": "objekt"}',
        lambda d: d.update(data={"type": "objekt"}),
        "Fix the schema.",
    ),
    (
        "data.remote-ref",
        "A payload schema refers outside itself ($ref/$dynamicRef to a URL, a file or any "
        "URI, or an embedded $id). Nothing is ever fetched.",
        '"data": {"$ref": "https://example.org/payload.json"}',
        lambda d: d.update(data={"$ref": "https://example.org/payload.json"}),
        "Copy the part you need under $defs and refer to it with #/$defs/….",
    ),
    (
        "data.unresolvable-ref",
        "An internal $ref of a payload schema points to nothing.",
        '"data": {"$ref": "#/$defs/jumlah"}',
        lambda d: d.update(data={"$ref": "#/$defs/jumlah"}),
        "Define the part it points to, or fix the pointer.",
    ),
    (
        "data.pattern",
        "A pattern of a payload schema that RE2 (linear-time matching) cannot compile: "
        "backreferences, lookaround, repetitions over 1,000.",
        '"data": {"properties": {"kode": {"pattern": "^(\\\\d)\\\\1$"}}}',
        lambda d: d.update(data={"properties": {"kode": {"pattern": "^(\\d)\\1$"}}}),
        "Rewrite the pattern without backreferences or lookaround.",
    ),
    (
        "data.recursive-ref",
        "A payload schema is recursive through its $refs (validation cost would grow with "
        "the nesting of the payload).",
        '"data": {"properties": {"sub": {"$ref": "#"}}}',
        lambda d: d.update(data={"properties": {"sub": {"$ref": "#"}}}),
        "Describe the payload to a fixed depth.",
    ),
    (
        "data.too-large",
        "A payload schema with more than 10,000 subschemas counted through its $refs.",
        '"data": {"$defs": {"d0": {"anyOf": [{"$ref": "#/$defs/d1"}, …]}, …}}',
        lambda d: d.update(data=_doubling_schema()),
        "Simplify the schema.",
    ),
    (
        "data.unsupported",
        "unevaluatedProperties together with patternProperties in a payload schema.",
        '"data": {"patternProperties": {"^x-": {}}, "unevaluatedProperties": false}',
        lambda d: d.update(data={"patternProperties": {"^x-": {}}, "unevaluatedProperties": False}),
        "List the properties, or use additionalProperties.",
    ),
    (
        "deadline.too-long",
        "A deadline or escalation of more than 2,500 working days.",
        '"after": {"workingDays": 100000, "calendar": "kerja"}',
        lambda d: _st(d, "DRAF")["deadlines"]["TM"]["escalations"]["t1"].update(
            after={"workingDays": 100000, "calendar": "kerja"}
        ),
        "Use a shorter deadline, or an absolute date from the data.",
    ),
    (
        "variant.base-not-found",
        "The base of a variant is neither in base= nor next to it "
        "as <id>.json with the right version (or extends loops).",
        '"extends": {"id": "paket-lama", "version": "1.0.0"}',
        ("variant", _variant(extends={"id": "paket-lama", "version": "1.0.0"}, patch={})),
        "Put the base next to the variant, or pass base=.",
    ),
    (
        "variant.hash-mismatch",
        "The base's content hash is not the pinned extends.hash.",
        '"extends": {"id": "mini", "version": "1.0.0", "hash": "sha256:000…"}',
        (
            "variant",
            _variant(
                extends={"id": "mini", "version": "1.0.0", "hash": "sha256:" + "0" * 64}, patch={}
            ),
        ),
        "Review the base's changes, then update the hash.",
    ),
    (
        "variant.patch-failed",
        "A jsonPatch operation cannot be applied (missing path, bad index, not a pointer).",
        '{"op": "remove", "path": "/states/REVISI"}',
        (
            "variant",
            _variant(
                extends={"id": "mini", "version": "1.0.0"},
                jsonPatch=[{"op": "remove", "path": "/states/REVISI"}],
            ),
        ),
        "Fix the path, or check the base.",
    ),
    (
        "variant.test-failed",
        "A jsonPatch test operation found another value: the base is not what the variant expects.",
        '{"op": "test", "path": "/initial", "value": "X"}',
        (
            "variant",
            _variant(
                extends={"id": "mini", "version": "1.0.0"},
                jsonPatch=[{"op": "test", "path": "/initial", "value": "X"}],
            ),
        ),
        "Review the base, then the variant.",
    ),
]


def _doubling_schema() -> dict[str, Any]:
    defs: dict[str, Any] = {
        f"d{i}": {
            "anyOf": [{"$ref": f"#/$defs/d{i + 1}"}, {"items": {"$ref": f"#/$defs/d{i + 1}"}}]
        }
        for i in range(20)
    }
    defs["d20"] = {"type": "integer"}
    return {"$defs": defs, "$ref": "#/$defs/d0"}


def _shared() -> dict[str, Any]:
    node: Any = {"==": [1, 1]}
    for _ in range(20):
        node = {"and": [node, node]}
    doc = copy.deepcopy(BASE)
    _ajukan(doc)["alternatives"][0]["when"] = node
    return doc


def _output(example: Any, work: Path) -> str:
    from paketflow._definition import load_definition
    from paketflow._errors import DefinitionError

    (work / "mini.json").write_text(json.dumps(BASE), encoding="utf-8")
    target: Any
    if isinstance(example, str):
        (work / "broken.json").write_text(example, encoding="utf-8")
        target = "broken.json"
    elif callable(example):
        doc = copy.deepcopy(BASE)
        example(doc)
        (work / "broken.json").write_text(json.dumps(doc), encoding="utf-8")
        target = "broken.json"
    else:
        kind, value = example
        if kind == "path":
            target = value
        elif kind == "large":
            (work / "big.json").write_text(" " * (6 * 1024 * 1024), encoding="utf-8")
            target = "big.json"
        elif kind == "mapping" and value == "shared":
            target = _shared()
        elif kind == "mapping":
            target = value
        else:
            (work / "variant.json").write_text(json.dumps(value), encoding="utf-8")
            target = "variant.json"
    try:
        load_definition(target)
    except DefinitionError as exc:
        return str(exc.errors[0])
    raise AssertionError(f"example {example!r} loaded")


def _exception_lines() -> list[str]:
    """Every exception class paketflow raises, from the code (docstrings)."""
    import inspect

    import paketflow

    lines = [
        "# Errors",
        "",
        "Every exception paketflow raises derives from `PaketflowError`; where a builtin",
        "describes the same failure the class derives from it too. A refused command",
        "raises `Refused`, whose reasons carry the codes of the next section; a definition",
        "that is not valid raises `DefinitionError`, whose problems carry the codes of the",
        "last section.",
        "",
        "## Exceptions",
        "",
        "| exception | also a | raised when |",
        "|---|---|---|",
    ]
    found = [
        obj
        for name in paketflow.__all__
        if inspect.isclass(obj := getattr(paketflow, name))
        and issubclass(obj, paketflow.PaketflowError)
    ]
    for cls in sorted(found, key=lambda c: (c is not paketflow.PaketflowError, c.__name__)):
        builtins = [
            b.__name__
            for b in cls.__mro__[1:]
            if b.__module__ == "builtins" and b not in (Exception, BaseException, object)
        ]
        doc = " ".join((cls.__doc__ or "").split("\n\n")[0].split()).replace("``", "`")
        lines.append(
            f"| `{cls.__name__}` | {', '.join(f'`{b}`' for b in builtins) or '-'} | {doc} |"
        )
    from paketflow._runtime.messages import BUILTIN

    lines += [
        "",
        "## Refusal codes",
        "",
        "The engine's own codes, with their Indonesian and English templates (a definition",
        "may override the texts and add its own codes in `messages`); docs/api.md says",
        "when each applies.",
        "",
        "| code | Bahasa Indonesia | English |",
        "|---|---|---|",
    ]
    lines += [f"| `{code}` | {tid} | {ten} |" for code, (tid, ten) in sorted(BUILTIN.items())]
    return [*lines, ""]


def render() -> str:
    lines = [
        *_exception_lines(),
        "## Definition error codes",
        "",
        "`paketflow validate` and `load_definition` report every problem of a definition at",
        "once, one `Problem` each: a stable **code**, an RFC 6901 **pointer** into the",
        "document, the **file**, the offending **value**, a **message** and a **hint**. The",
        "text form is `FILE:POINTER: CODE message (hint)`. Problems are sorted by pointer.",
        "",
        "Order of checks: the file is read strictly (`file.*`, `json.*`); a variant is",
        "checked against the schema, resolved (`variant.*`); the resolved document is",
        "checked against the JSON Schema (`schema.*`, plus `labels.missing` for a missing",
        "language); only when that passes come the semantic checks (`ref.*`, `graph.*`,",
        "`expr.*` …). Graph checks are skipped while any `ref.state` problem exists, so one",
        "dangling target is one problem, not a cascade; an undefined name referenced in",
        "several places is one problem at its first place, its message counting the",
        "others. `internal` marks a bug in paketflow (please report it).",
        "",
        "The examples below change `processes/invalid/base/mini.json`; the output lines are",
        "produced by `scripts/gen_errors_doc.py` running the loader on them.",
        "",
        "| code | meaning |",
        "|---|---|",
    ]
    lines += [f"| [`{c}`](#{c.replace('.', '')}) | {m} |" for c, m, *_ in EXAMPLES]
    lines += ["| `internal` | An unexpected error inside the loader (a bug). |"]
    with tempfile.TemporaryDirectory() as tmp:
        old = Path.cwd()
        os.chdir(tmp)
        try:
            for code, meaning, snippet, example, fix in EXAMPLES:
                out = _output(example, Path(tmp))
                for where in (os.path.realpath(tmp), tmp):
                    out = out.replace(where, ".")  # keep the docs independent of the temp dir
                if not out.split(" ", 2)[1] == code:
                    raise AssertionError(f"{code}: example gave {out}")
                lines += ["", f"### {code}", "", meaning, "", "```json", snippet, "```", ""]
                lines += ["```text", out, "```", "", f"Fix: {fix}"]
        finally:
            os.chdir(old)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the docs are stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        return 0 if DOC.exists() and DOC.read_text("utf-8") == text else 1
    DOC.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
