"""Tests of paketflow._definition.loader: strict JSON, schema, semantics, variants, model."""

from __future__ import annotations

import copy
import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from paketflow._calendar import Duration
from paketflow._definition import (
    SCHEMA_ID,
    ProcessDefinition,
    canonical_hash,
    load_definition,
)
from paketflow._definition._semantic import MAX_WORKING_DAYS, _roots, _traps
from paketflow._definition._strict_json import MAX_BYTES, MAX_DEPTH, MAX_NODES, MAX_POINTER_TEXT
from paketflow._definition.loader import canonical_text
from paketflow._errors import DefinitionError, Problem


def L(text: str) -> dict[str, str]:
    return {"id": f"{text} (id)", "en": text}


def mini() -> dict[str, Any]:
    """A small valid definition touching most of the language."""
    return {
        "$schema": SCHEMA_ID,
        "format": 1,
        "id": "mini",
        "version": "1.0.0",
        "labels": L("Mini"),
        "timezone": "Asia/Pontianak",
        "calendars": {"kerja": {"country": "ID", "extraHolidays": ["2012-06-01"]}},
        "elements": {"masyarakat": L("Community") and {"labels": L("Community")}},
        "roles": {
            "PENYUSUN": {"labels": L("Author"), "pool": 2},
            "LURAH": {"labels": L("Head"), "pool": 1},
            "WARGA": {"labels": L("Resident"), "element": "masyarakat", "pool": 3},
        },
        "flags": {"terlambat": {"labels": L("Late")}},
        "events": {
            "ajukan": {"labels": L("Submit")},
            "setujui": {"labels": L("Approve")},
            "batas": {"labels": L("Expired")},
        },
        "messages": {"WARN_TERLAMBAT": {"id": "Terlambat {hari}", "en": "Late {days}"}},
        "data": {"type": "object", "properties": {"total": {"type": "integer"}}},
        "initial": "DRAF",
        "states": {
            "DRAF": {
                "labels": L("Draft"),
                "deadlines": {
                    "TM": {
                        "due": {"duration": "P30D"},
                        "escalations": {
                            "t1": {
                                "after": "P1D",
                                "flag": "terlambat",
                                "notify": ["LURAH"],
                                "message": "WARN_TERLAMBAT",
                            },
                            "t2": {"after": {"workingDays": 3, "calendar": "kerja"}},
                        },
                        "timeout": {"after": "P30D", "event": "batas", "target": "DITOLAK"},
                    }
                },
                "on": {
                    "ajukan": {
                        "roles": ["PENYUSUN"],
                        "guards": [
                            {
                                "id": "g1",
                                "if": {">=": [{"var": "data.total"}, 0]},
                                "code": "ERR_DATA_TIDAK_VALID",
                                "params": {"total": {"var": "data.total"}},
                                "fix": ["PENYUSUN"],
                            }
                        ],
                        "alternatives": [
                            {"when": {">": [{"var": "data.total"}, 100]}, "target": "DITOLAK"},
                            {
                                "otherwise": True,
                                "target": "DIAJUKAN",
                                "effects": [{"set": "/submitted", "value": True}],
                                "notices": [
                                    {"code": "WARN_TERLAMBAT", "params": {"hari": 1, "days": 1}}
                                ],
                            },
                        ],
                    }
                },
            },
            "DIAJUKAN": {
                "labels": L("Submitted"),
                "signatures": {
                    "slots": {
                        "lurah": {"roles": ["LURAH"]},
                        "warga": {"roles": ["WARGA"], "element": "masyarakat", "count": 2},
                    }
                },
                "on": {
                    "setujui": {
                        "roles": ["LURAH"],
                        "target": "SELESAI",
                        "requireSignatures": True,
                        "effects": [{"flag": "terlambat"}, {"unset": ["a", 0]}],
                    }
                },
            },
            "SELESAI": {"labels": L("Done"), "final": True},
            "DITOLAK": {"labels": L("Rejected"), "final": True},
        },
    }


def problems_of(source: Any, **kwargs: Any) -> list[Problem]:
    with pytest.raises(DefinitionError) as info:
        load_definition(source, **kwargs)
    return list(info.value.errors)


def codes_at(source: Any, **kwargs: Any) -> set[tuple[str, str]]:
    return {(p.code, p.pointer) for p in problems_of(source, **kwargs)}


def mutated(fn: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    doc = mini()
    fn(doc)
    return doc


S = "/states"


# -- success and the model -----------------------------------------------------------


def test_mini_definition_loads_into_a_frozen_model() -> None:
    """A valid mapping loads into a ProcessDefinition with resolved parts."""
    d = load_definition(mini())
    assert isinstance(d, ProcessDefinition)
    assert d.key == "mini@1.0.0"
    assert d.source == "<mapping>"
    assert d.hash.startswith("sha256:") and len(d.hash) == 71
    assert list(d.states) == ["DRAF", "DIAJUKAN", "SELESAI", "DITOLAK"]
    ajukan = d.states["DRAF"].transitions["ajukan"]
    assert [a.target for a in ajukan.alternatives] == ["DITOLAK", "DIAJUKAN"]
    assert ajukan.alternatives[1].when is None
    assert ajukan.alternatives[0].when is not None
    assert ajukan.alternatives[0].when({"data": {"total": 101}}) is True
    assert ajukan.guards[0].params["total"]({"data": {"total": 5}}) == 5
    assert ajukan.alternatives[1].effects[0].path == ("submitted",)


def test_plain_target_becomes_one_unguarded_alternative() -> None:
    """A transition with ``target`` has exactly one alternative with when=None."""
    t = load_definition(mini()).states["DIAJUKAN"].transitions["setujui"]
    assert len(t.alternatives) == 1
    assert t.alternatives[0].target == "SELESAI" and t.alternatives[0].when is None
    assert t.require_signatures is True
    assert [e.op for e in t.effects] == ["flag", "unset"]


def test_deadline_parts_are_parsed() -> None:
    """Durations, working-day offsets, default scope and timeout are resolved."""
    dl = load_definition(mini()).states["DRAF"].deadlines[0]
    assert dl.id == "TM" and dl.state == "DRAF" and dl.scope == ("DRAF",)
    assert dl.due.kind == "duration" and dl.due.duration == Duration(days=30)
    t1, t2 = dl.escalations
    assert t1.after.duration == Duration(days=1) and t1.notify == ("LURAH",)
    assert t2.after.working_days == 3 and t2.after.calendar == "kerja"
    assert dl.timeout is not None and dl.timeout.target == "DITOLAK"


def test_signature_rule_and_calendars_are_built() -> None:
    """Slots keep their order, count, element; calendars parse their holidays."""
    d = load_definition(mini())
    rule = d.states["DIAJUKAN"].signatures
    assert rule is not None and rule.distinct_persons is True
    assert [s.id for s in rule.slots] == ["lurah", "warga"]
    assert rule.slots[1].count == 2 and rule.slots[1].element == "masyarakat"
    assert str(d.calendars["kerja"].extra_holidays[0]) == "2012-06-01"
    assert d.timezone == "Asia/Pontianak"


def test_load_from_file_records_the_source(tmp_path: Path) -> None:
    """A path (str or PathLike) loads the same definition and names its source."""
    path = tmp_path / "mini.json"
    path.write_text(json.dumps(mini()), encoding="utf-8")
    by_path = load_definition(path)
    assert by_path.source == str(path)
    assert by_path.hash == load_definition(str(path)).hash == load_definition(mini()).hash


def test_hash_is_stable_under_key_order() -> None:
    """The content hash does not depend on key order or whitespace."""
    doc = mini()
    reordered = json.loads(json.dumps(doc, sort_keys=True))
    reordered = dict(reversed(list(reordered.items())))
    assert load_definition(doc).hash == load_definition(reordered).hash
    assert load_definition(doc).hash == canonical_hash(doc)


def test_hash_changes_with_content() -> None:
    """Any change of content changes the hash."""
    other = mutated(lambda d: d["labels"].update(en="Other"))
    assert load_definition(other).hash != load_definition(mini()).hash


# -- hostile and malformed input ------------------------------------------------------


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "d.json"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "code", "pointer"),
    [
        ("", "json.syntax", ""),
        ("{", "json.syntax", ""),
        ('{"a": 1, "a": 2}', "json.duplicate-key", "/a"),
        ('{"a": NaN}', "json.nan", "/a"),
        ('{"a": [Infinity]}', "json.nan", "/a/0"),
        ('{"a": -Infinity}', "json.nan", "/a"),
        ('{"a": ' + "1" * 101 + "}", "json.number-too-large", "/a"),
        ('{"a": 1e400}', "json.number-too-large", "/a"),
        ("[" * 10000 + "]" * 10000, "json.too-deep", ""),
        ("[" * 100 + "]" * 100, "json.too-deep", "/0" * 64),
        ('"\\ud800"', "json.syntax", ""),
        ("[]", "file.not-object", ""),
        ('"text"', "file.not-object", ""),
    ],
)
def test_strict_json_problems(tmp_path: Path, text: str, code: str, pointer: str) -> None:
    """Strict reading refuses what JSON readers disagree on, with a pointer."""
    assert (code, pointer) in codes_at(write(tmp_path, text))


def test_a_100_digit_integer_is_still_accepted(tmp_path: Path) -> None:
    """Exactly 100 digits is within the limit (it then fails the schema only)."""
    got = codes_at(write(tmp_path, '{"a": ' + "1" * 100 + "}"))
    assert not any(c.startswith("json.") for c, _ in got)


def test_all_duplicate_keys_and_nans_are_reported_together(tmp_path: Path) -> None:
    """Reading problems are all collected before giving up."""
    got = codes_at(write(tmp_path, '{"a": NaN, "b": {"c": 1, "c": 2}, "d": 1, "d": 3}'))
    assert got == {("json.nan", "/a"), ("json.duplicate-key", "/b/c"), ("json.duplicate-key", "/d")}


def test_not_utf8(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 are a json.syntax problem."""
    assert ("json.syntax", "") in codes_at(write(tmp_path, b'{"a": "\xff"}'))


def test_file_too_large(tmp_path: Path) -> None:
    """Files over 5 MB are refused before parsing."""
    path = write(tmp_path, '{"a": "' + "x" * (5 * 1024 * 1024) + '"}')
    assert codes_at(path) == {("json.too-large", "")}


def test_missing_file_and_directory(tmp_path: Path) -> None:
    """A missing path is file.not-found; a directory is file.unreadable."""
    assert codes_at(tmp_path / "nope.json") == {("file.not-found", "")}
    assert codes_at(tmp_path) == {("file.unreadable", "")}
    assert codes_at("bad\0path") == {("file.unreadable", "")}


@pytest.mark.parametrize("source", [42, None, 3.5, ["a"], object(), b"\xff\xfe"])
def test_weird_sources_raise_definition_error(source: Any) -> None:
    """Anything that is not a path or a mapping gives a DefinitionError."""
    with pytest.raises(DefinitionError):
        load_definition(source)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (math.nan, "json.nan"),
        (math.inf, "json.nan"),
        (10**200, "json.number-too-large"),
        ({1, 2}, "json.not-json"),
        (object(), "json.not-json"),
    ],
)
def test_mapping_values_must_be_json(value: Any, code: str) -> None:
    """Python mappings are held to the same rules as JSON text."""
    assert (code, "/x") in codes_at({"x": value})


def test_non_string_keys_and_cycles_in_mappings() -> None:
    """Non-string keys are refused; a self-containing mapping is too deep, not a hang."""
    assert ("json.not-json", "") in codes_at({1: "a"})
    cyclic: dict[str, Any] = {}
    cyclic["d"] = cyclic
    assert [p.code for p in problems_of(cyclic)] == ["json.too-deep"]


# -- size limits (docs/limits.md) ----------------------------------------------------

TOO_MANY = (
    "the document holds more than 50000 JSON values (counted as written out: a sub-tree "
    "used in several places counts in each)"
)


def shared_guard(depth: int) -> dict[str, Any]:
    """mini() with a guard of ``depth`` levels, each level the same dict twice."""
    node: Any = {"==": [1, 1]}
    for _ in range(depth):
        node = {"and": [node, node]}
    doc = mini()
    doc["states"]["DRAF"]["on"]["ajukan"]["guards"][0]["if"] = node
    return doc


def test_size_limit_values() -> None:
    """The documented definition size limits."""
    assert (MAX_BYTES, MAX_DEPTH, MAX_NODES, MAX_POINTER_TEXT) == (
        5 * 1024 * 1024,
        64,
        50_000,
        50_000_000,
    )


def test_shared_sub_trees_are_counted_as_written_out() -> None:
    """A mapping sharing one sub-tree at each of 20 levels (2**20 values written out)
    is refused as too many values, before anything is copied or compiled."""
    (p,) = problems_of(shared_guard(20))
    assert (p.code, p.pointer, p.message) == ("json.too-many-nodes", "", TOO_MANY)
    assert p.hint == "a process definition is far smaller; split it, or use shorter keys"


def test_shared_sub_trees_within_the_limit_load() -> None:
    """Sharing within the limit loads, as the same document written out would."""
    doc = shared_guard(10)
    loaded = load_definition(doc)
    assert loaded.hash == load_definition(json.loads(json.dumps(doc))).hash


def test_node_limit_in_json_text(tmp_path: Path) -> None:
    """JSON text cannot share: the same guard written out (16 levels, 1.7 MB, within
    the byte limit) is refused as too many values while it is being parsed."""
    path = tmp_path / "shared.json"
    path.write_text(json.dumps(shared_guard(16)), encoding="utf-8")
    assert 1_000_000 < path.stat().st_size < MAX_BYTES
    (p,) = problems_of(path)
    assert (p.code, p.message) == ("json.too-many-nodes", TOO_MANY)


def test_node_limit_is_exact() -> None:
    """MAX_NODES values load as far as size goes; one more is refused."""
    doc = mini()
    base = sum(1 for _ in _values(doc))
    doc["x-pad"] = [0] * (MAX_NODES - base - 1)
    assert sum(1 for _ in _values(doc)) == MAX_NODES
    assert all(p.code != "json.too-many-nodes" for p in problems_of(doc))
    doc["x-pad"].append(0)
    assert [p.code for p in problems_of(doc)] == ["json.too-many-nodes"]


def _values(node: Any) -> Any:
    yield node
    if isinstance(node, dict):
        for v in node.values():
            yield from _values(v)
    elif isinstance(node, list):
        for v in node:
            yield from _values(v)


def test_text_limit_of_a_mapping() -> None:
    """A mapping holding more than MAX_BYTES characters of strings and keys is refused
    like a file over MAX_BYTES bytes."""
    doc = mini()
    doc["description"] = "x" * MAX_BYTES
    (p,) = problems_of(doc)
    assert (p.code, p.pointer) == ("json.too-large", "")
    assert p.message == "the document holds more than 5242880 characters of text"


def test_pointer_text_limit() -> None:
    """Values under a very long key each carry it in their pointer: when all pointers
    together pass MAX_POINTER_TEXT characters the document is refused."""
    doc = mini()
    doc["x" * 60_000] = [0] * 1_000
    (p,) = problems_of(doc)
    assert (p.code, p.pointer) == ("json.too-many-nodes", "")
    assert p.message == (
        "the JSON Pointers of the document's values exceed 50000000 characters (counted as "
        "written out: a sub-tree used in several places counts in each)"
    )


def test_json_patch_copies_cannot_double_the_document() -> None:
    """Each jsonPatch ``copy`` may double the document: 30 of them are refused at the
    first that passes the value limit, without building the copies."""
    ops = [{"op": "copy", "from": "/states/DRAF", "path": f"/states/DRAF/x-{i}"} for i in range(30)]
    (p,) = problems_of(variant(jsonPatch=ops), base=mini())
    assert p.code == "json.too-many-nodes"
    assert p.pointer.startswith("/jsonPatch/")
    assert int(p.pointer.split("/")[2]) < 20


# -- schema ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fn", "code", "pointer"),
    [
        (lambda d: d.update(format=3), "schema.const", "/format"),
        (lambda d: d.update(states=[]), "schema.type", "/states"),
        (lambda d: d.pop("initial"), "schema.required", "/initial"),
        (lambda d: d.update(colour="red"), "schema.additional-property", "/colour"),
        (lambda d: d.update(version="1.0"), "schema.pattern", "/version"),
        (lambda d: d["roles"]["LURAH"].update(pool=0), "schema.minimum", "/roles/LURAH/pool"),
        (lambda d: d.update(states={}), "schema.min-properties", "/states"),
        (
            lambda d: d["states"]["DIAJUKAN"]["on"]["setujui"].update(alternatives=[]),
            "schema.one-of",
            f"{S}/DIAJUKAN/on/setujui",
        ),
        (
            lambda d: d["states"]["DIAJUKAN"]["on"]["setujui"].pop("target"),
            "schema.one-of",
            f"{S}/DIAJUKAN/on/setujui",
        ),
        (
            lambda d: d["states"].update({"9X": {"labels": L("x"), "final": True}}),
            "schema.property-name",
            f"{S}/9X",
        ),
        (
            lambda d: d["states"]["SELESAI"].pop("labels"),
            "schema.required",
            f"{S}/SELESAI/labels",
        ),
        (
            lambda d: d["states"]["SELESAI"]["labels"].pop("en"),
            "labels.missing",
            f"{S}/SELESAI/labels/en",
        ),
        (
            lambda d: d["messages"]["WARN_TERLAMBAT"].pop("id"),
            "labels.missing",
            "/messages/WARN_TERLAMBAT/id",
        ),
        (
            lambda d: d["states"]["DIAJUKAN"]["on"]["setujui"]["effects"].append({"set": "/a"}),
            "schema.required",
            f"{S}/DIAJUKAN/on/setujui/effects/2/value",
        ),
        (
            lambda d: d["states"]["DIAJUKAN"]["on"]["setujui"]["effects"].append(
                {"resetSignatures": False}
            ),
            "schema.const",
            f"{S}/DIAJUKAN/on/setujui/effects/2/resetSignatures",
        ),
        (
            lambda d: d["states"]["DRAF"]["deadlines"]["TM"].update(due={"days": 3}),
            "schema.additional-property",
            f"{S}/DRAF/deadlines/TM/due/days",
        ),
    ],
)
def test_schema_problems(fn: Callable[[dict[str, Any]], Any], code: str, pointer: str) -> None:
    """Schema failures map to schema.<keyword> codes at the offending pointer."""
    assert (code, pointer) in codes_at(mutated(fn))


def test_one_of_reports_the_closest_branch_only() -> None:
    """A bad effect reports why the closest form failed, not every form."""
    doc = mutated(
        lambda d: d["states"]["DIAJUKAN"]["on"]["setujui"]["effects"].append({"set": 5, "value": 1})
    )
    assert codes_at(doc) == {("schema.type", f"{S}/DIAJUKAN/on/setujui/effects/2/set")}


def test_target_and_alternatives_together_is_one_problem() -> None:
    """Giving both target and alternatives is one schema.one-of problem, worded plainly."""
    doc = mutated(lambda d: d["states"]["DRAF"]["on"]["ajukan"].update(target="DIAJUKAN"))
    (p,) = problems_of(doc)
    assert p.code == "schema.one-of"
    assert p.message == "give only one of 'target', 'alternatives'"


def test_unknown_property_suggests_the_close_name() -> None:
    """The hint of an unknown property names the likely intended one."""
    doc = mutated(lambda d: d["states"]["DRAF"].update(onn={}))
    (p,) = problems_of(doc)
    assert p.code == "schema.additional-property"
    assert p.hint.startswith("did you mean 'on'?")
    assert str(p) == (
        "<mapping>:/states/DRAF/onn: schema.additional-property unknown property 'onn' "
        "(did you mean 'on'? allowed here: deadlines, final, labels, on, signatures)"
    )


# -- semantics ------------------------------------------------------------------------


def _st(d: dict[str, Any], name: str) -> dict[str, Any]:
    state: dict[str, Any] = d["states"][name]
    return state


SEMANTIC: list[tuple[str, Callable[[dict[str, Any]], Any], str, str]] = [
    (
        "dangling target",
        lambda d: _st(d, "DIAJUKAN")["on"]["setujui"].update(target="X"),
        "ref.state",
        f"{S}/DIAJUKAN/on/setujui/target",
    ),
    ("bad initial", lambda d: d.update(initial="NOPE"), "ref.state", "/initial"),
    (
        "removed role",
        lambda d: d["roles"].pop("PENYUSUN"),
        "ref.role",
        f"{S}/DRAF/on/ajukan/guards/0/fix/0",
    ),
    (
        "undeclared event",
        lambda d: d["events"].pop("ajukan"),
        "ref.event",
        f"{S}/DRAF/on/ajukan",
    ),
    (
        "unknown element",
        lambda d: d["roles"]["WARGA"].update(element="x"),
        "ref.element",
        "/roles/WARGA/element",
    ),
    (
        "unknown calendar",
        lambda d: d["calendars"].clear(),
        "ref.calendar",
        f"{S}/DRAF/deadlines/TM/escalations/t2/after/calendar",
    ),
    (
        "unknown flag",
        lambda d: d["flags"].clear(),
        "ref.flag",
        f"{S}/DIAJUKAN/on/setujui/effects/0/flag",
    ),
    (
        "undeclared message",
        lambda d: d["messages"].clear(),
        "ref.message",
        f"{S}/DRAF/deadlines/TM/escalations/t1/message",
    ),
    (
        "unreachable",
        lambda d: d["states"].update(ARSIP={"labels": L("Archive"), "final": True}),
        "graph.unreachable",
        f"{S}/ARSIP",
    ),
    (
        "dead end",
        lambda d: _st(d, "DITOLAK").pop("final"),
        "graph.no-final",
        f"{S}/DITOLAK",
    ),
    (
        "no final state",
        lambda d: [
            s.update(final=False, on={"ajukan": {"roles": ["LURAH"], "target": "DRAF"}})
            for s in (_st(d, "SELESAI"), _st(d, "DITOLAK"))
        ],
        "graph.no-final-state",
        "/states",
    ),
    (
        "missing otherwise",
        lambda d: _st(d, "DRAF")["on"]["ajukan"]["alternatives"].pop(),
        "gateway.otherwise",
        f"{S}/DRAF/on/ajukan/alternatives",
    ),
    (
        "otherwise first",
        lambda d: _st(d, "DRAF")["on"]["ajukan"]["alternatives"].reverse(),
        "gateway.otherwise",
        f"{S}/DRAF/on/ajukan/alternatives/0/otherwise",
    ),
    (
        "quorum > pool",
        lambda d: _st(d, "DIAJUKAN")["signatures"]["slots"]["warga"].update(count=4),
        "signature.quorum-exceeds-pool",
        f"{S}/DIAJUKAN/signatures/slots/warga/count",
    ),
    (
        "element mismatch",
        lambda d: (
            d["elements"].update(lain={"labels": L("Other")}),
            _st(d, "DIAJUKAN")["signatures"]["slots"]["warga"].update(element="lain"),
        ),
        "signature.element-mismatch",
        f"{S}/DIAJUKAN/signatures/slots/warga/element",
    ),
    (
        "require without rule",
        lambda d: _st(d, "DRAF")["on"]["ajukan"].update(requireSignatures=True),
        "signature.require-without-rule",
        f"{S}/DRAF/on/ajukan/requireSignatures",
    ),
    (
        "blank label",
        lambda d: d["labels"].update(en="  "),
        "labels.missing",
        "/labels/en",
    ),
    (
        "unknown operator",
        lambda d: _st(d, "DRAF")["on"]["ajukan"]["guards"][0].update(**{"if": {"gt": [1, 2]}}),
        "expr.unknown-operator",
        f"{S}/DRAF/on/ajukan/guards/0/if",
    ),
    (
        "unknown root",
        lambda d: _st(d, "DRAF")["on"]["ajukan"]["guards"][0].update(params={"n": {"var": "x.y"}}),
        "expr.unknown-root",
        f"{S}/DRAF/on/ajukan/guards/0/params/n/var",
    ),
    (
        "bad path",
        lambda d: _st(d, "DIAJUKAN")["on"]["setujui"]["effects"].append({"unset": []}),
        "expr.bad-path",
        f"{S}/DIAJUKAN/on/setujui/effects/2/unset",
    ),
    (
        "bad duration",
        lambda d: _st(d, "DRAF")["deadlines"]["TM"]["escalations"]["t1"].update(after="1 day"),
        "duration.invalid",
        f"{S}/DRAF/deadlines/TM/escalations/t1/after",
    ),
    (
        "final with on",
        lambda d: _st(d, "SELESAI").update(on={"ajukan": {"roles": ["LURAH"], "target": "DRAF"}}),
        "final.has-transitions",
        f"{S}/SELESAI/on",
    ),
    (
        "scope without own state",
        lambda d: _st(d, "DRAF")["deadlines"]["TM"].update(scope=["DIAJUKAN"]),
        "deadline.scope",
        f"{S}/DRAF/deadlines/TM/scope",
    ),
    (
        "met_by names an event no state of the scope handles",
        lambda d: _st(d, "DRAF")["deadlines"]["TM"].update(met_by=["setujui"]),
        "deadline.met-by-unreachable",
        f"{S}/DRAF/deadlines/TM/met_by/0",
    ),
    (
        "met_by names an undeclared event",
        lambda d: _st(d, "DRAF")["deadlines"]["TM"].update(met_by=["setuju"]),
        "ref.event",
        f"{S}/DRAF/deadlines/TM/met_by/0",
    ),
    (
        "bad time zone",
        lambda d: d.update(timezone="Asia/Atlantis"),
        "timezone.unknown",
        "/timezone",
    ),
    (
        "bad holiday",
        lambda d: d["calendars"]["kerja"].update(extraHolidays=["2012-13-01"]),
        "calendar.invalid-date",
        "/calendars/kerja/extraHolidays/0",
    ),
    (
        "bad data schema",
        lambda d: d.update(data={"type": 12}),
        "data.invalid-schema",
        "/data/type",
    ),
]


@pytest.mark.parametrize(
    ("fn", "code", "pointer"), [s[1:] for s in SEMANTIC], ids=[s[0] for s in SEMANTIC]
)
def test_semantic_problems(fn: Callable[[dict[str, Any]], Any], code: str, pointer: str) -> None:
    """Each semantic rule reports its code at the offending pointer."""
    assert (code, pointer) in codes_at(mutated(fn))


def test_builtin_message_codes_need_no_declaration() -> None:
    """Engine codes like ERR_DATA_TIDAK_VALID may be used without /messages."""
    load_definition(mini())  # the guard in mini() uses ERR_DATA_TIDAK_VALID


def test_all_problems_are_reported_at_once_sorted_by_pointer() -> None:
    """Independent problems are all reported in one error, sorted by pointer."""

    def break_many(d: dict[str, Any]) -> None:
        d["roles"].pop("PENYUSUN")
        d["labels"]["id"] = ""
        _st(d, "DRAF")["deadlines"]["TM"]["due"] = {"duration": "soon"}
        last = _st(d, "DRAF")["on"]["ajukan"]["alternatives"][1]
        del last["otherwise"]
        last["when"] = True

    got = problems_of(mutated(break_many))
    assert [p.code for p in got] == [
        "labels.missing",
        "duration.invalid",
        "gateway.otherwise",
        "ref.role",
    ]
    assert [p.pointer for p in got] == sorted(p.pointer for p in got)


def test_one_undefined_name_referenced_twice_is_one_root_problem() -> None:
    """A removed role that is still referenced in several places is reported once, at
    its first place, with the count of the others (cascades folded)."""
    (problem,) = problems_of(mutated(lambda d: d["roles"].pop("PENYUSUN")))
    assert problem.code == "ref.role"
    assert problem.pointer == f"{S}/DRAF/on/ajukan/guards/0/fix/0"
    assert problem.message == (
        "undefined role 'PENYUSUN'; referenced at 1 more place: /states/DRAF/on/ajukan/roles/0"
    )


def test_dangling_target_is_one_problem_not_graph_echoes() -> None:
    """A dangling target does not also report unreachable/no-final states (folded)."""
    doc = mutated(lambda d: _st(d, "DIAJUKAN")["on"]["setujui"].update(target="SELESAI_"))
    assert codes_at(doc) == {("ref.state", f"{S}/DIAJUKAN/on/setujui/target")}


def test_unreachable_group_is_reported_once_at_its_entry() -> None:
    """A chain of unreachable states is one problem at the state leading into the rest."""

    def add_island(d: dict[str, Any]) -> None:
        d["states"]["A"] = {"labels": L("A"), "on": {"ajukan": {"roles": ["LURAH"], "target": "B"}}}
        d["states"]["B"] = {"labels": L("B"), "on": {"ajukan": {"roles": ["LURAH"], "target": "C"}}}
        d["states"]["C"] = {"labels": L("C"), "final": True}

    (p,) = problems_of(mutated(add_island))
    assert (p.code, p.pointer) == ("graph.unreachable", f"{S}/A")
    assert p.message == (
        "state 'A' cannot be reached from the initial state 'DRAF'; "
        "also unreachable through it: B, C"
    )


def test_trap_cycle_is_reported_once() -> None:
    """A cycle without exit is reported once, naming its members and who leads in."""

    def trap(d: dict[str, Any]) -> None:
        _st(d, "DIAJUKAN")["on"]["setujui"]["target"] = "P"
        d["states"]["P"] = {"labels": L("P"), "on": {"ajukan": {"roles": ["LURAH"], "target": "Q"}}}
        d["states"]["Q"] = {"labels": L("Q"), "on": {"ajukan": {"roles": ["LURAH"], "target": "P"}}}
        d["states"]["SELESAI"]["final"] = True
        _st(d, "DRAF")["on"]["ajukan"]["alternatives"][0]["target"] = "SELESAI"
        d["states"].pop("DITOLAK")
        _st(d, "DRAF")["deadlines"]["TM"].pop("timeout")

    got = problems_of(mutated(trap))
    assert [(p.code, p.pointer) for p in got] == [("graph.no-final", f"{S}/P")]
    assert got[0].message == (
        "no final state can be reached from state 'P' (it only cycles among P, Q); "
        "states leading only here: DIAJUKAN"
    )


def test_unreachable_states_are_not_also_reported_as_stuck() -> None:
    """A state that is unreachable and stuck is reported as unreachable only."""
    doc = mutated(lambda d: d["states"].update(Z={"labels": L("Z")}))
    assert codes_at(doc) == {("graph.unreachable", f"{S}/Z")}


def test_exact_text_of_a_ref_problem() -> None:
    """The message and hint of ref.state name the value and a close match."""
    doc = mutated(lambda d: _st(d, "DIAJUKAN")["on"]["setujui"].update(target="SELESA"))
    (p,) = problems_of(doc)
    assert str(p) == (
        "<mapping>:/states/DIAJUKAN/on/setujui/target: ref.state undefined state 'SELESA' "
        "(did you mean 'SELESAI'? or declare 'SELESA' in /states)"
    )
    assert p.value == "SELESA"


def test_exact_text_of_an_expression_problem() -> None:
    """Expression problems carry the expr code, the expression pointer and the value."""
    doc = mutated(
        lambda d: _st(d, "DRAF")["on"]["ajukan"]["alternatives"][0].update(when={"var": "dat.x"})
    )
    (p,) = problems_of(doc)
    assert p.code == "expr.unknown-root"
    assert p.pointer == f"{S}/DRAF/on/ajukan/alternatives/0/when/var"
    assert p.value == "dat.x"
    assert p.message.startswith("unknown root 'dat'; a path starts with one of: actor, at,")


def test_error_message_headline() -> None:
    """DefinitionError's text counts the problems and lists one per line."""
    with pytest.raises(DefinitionError) as info:
        load_definition(mutated(lambda d: d.update(initial="X")))
    assert str(info.value) == (
        "1 problem in process definition:\n"
        "  <mapping>:/initial: ref.state undefined state 'X' (or declare 'X' in /states)"
    )
    assert isinstance(info.value, ValueError)


# -- variants -------------------------------------------------------------------------


def variant(**extra: Any) -> dict[str, Any]:
    return {
        "format": 1,
        "id": "mini-varian",
        "version": "2.0.0",
        "extends": {"id": "mini", "version": "1.0.0"},
        **extra,
    }


def test_variant_merge_patch_and_identity() -> None:
    """A merge patch changes the base; id/version are the variant's; hash differs."""
    base = load_definition(mini())
    v = load_definition(
        variant(patch={"labels": {"en": "Variant"}, "states": {"DITOLAK": {"labels": None}}})
        | {"patch": {"labels": {"en": "Variant"}, "timezone": None}},
        base=base,
    )
    assert v.key == "mini-varian@2.0.0"
    assert v.extends == "mini@1.0.0"
    assert v.labels.en == "Variant" and v.labels.id == "Mini (id)"
    assert v.timezone == "Asia/Jakarta"
    assert v.hash != base.hash
    assert "extends" not in v.document and v.hash == canonical_hash(v.document)


def test_variant_json_patch_with_test() -> None:
    """jsonPatch ops (test/add/replace/remove/move/copy) are applied after the patch."""
    ops = [
        {"op": "test", "path": "/initial", "value": "DRAF"},
        {"op": "replace", "path": "/states/DRAF/deadlines/TM/due/duration", "value": "P10D"},
        {"op": "add", "path": "/roles/WARGA/pool", "value": 5},
        {"op": "copy", "from": "/events/ajukan", "path": "/events/ulang"},
        {"op": "move", "from": "/events/ulang", "path": "/events/kembali"},
        {"op": "remove", "path": "/states/DIAJUKAN/on/setujui/effects/1"},
        {
            "op": "add",
            "path": "/states/DIAJUKAN/on/setujui/effects/-",
            "value": {"unflag": "terlambat"},
        },
    ]
    v = load_definition(variant(jsonPatch=ops), base=mini())
    assert v.states["DRAF"].deadlines[0].due.duration == Duration(days=10)
    assert v.roles["WARGA"].pool == 5
    assert set(v.events) == {"ajukan", "setujui", "batas", "kembali"}
    assert [e.op for e in v.states["DIAJUKAN"].transitions["setujui"].effects] == ["flag", "unflag"]


def test_variant_hash_pin() -> None:
    """extends.hash must equal the base hash; the right hash passes."""
    base = load_definition(mini())
    ok = variant(patch={}, extends={"id": "mini", "version": "1.0.0", "hash": base.hash})
    assert load_definition(ok, base=base).extends == "mini@1.0.0"
    bad = variant(
        patch={}, extends={"id": "mini", "version": "1.0.0", "hash": "sha256:" + "a" * 64}
    )
    assert codes_at(bad, base=base) == {("variant.hash-mismatch", "/extends/hash")}


@pytest.mark.parametrize(
    ("ops", "code"),
    [
        ([{"op": "test", "path": "/initial", "value": "X"}], "variant.test-failed"),
        ([{"op": "test", "path": "/nope", "value": 1}], "variant.test-failed"),
        ([{"op": "remove", "path": "/nope"}], "variant.patch-failed"),
        ([{"op": "replace", "path": "/roles/X/pool", "value": 1}], "variant.patch-failed"),
        (
            [{"op": "add", "path": "/states/DRAF/on/ajukan/roles/9", "value": "X"}],
            "variant.patch-failed",
        ),
        ([{"op": "move", "from": "/states", "path": "/states/DRAF/x"}], "variant.patch-failed"),
        ([{"op": "add", "path": "initial", "value": 1}], "variant.patch-failed"),
        ([{"op": "replace", "path": "", "value": [1]}], "variant.patch-failed"),
    ],
)
def test_variant_json_patch_failures(ops: list[dict[str, Any]], code: str) -> None:
    """A failed test or a bad path is a variant problem at the operation."""
    got = codes_at(variant(jsonPatch=ops), base=mini())
    assert code in {c for c, _ in got}


def test_variant_base_lookup_next_to_file(tmp_path: Path) -> None:
    """The base is found as <id>.json next to the variant file."""
    (tmp_path / "mini.json").write_text(json.dumps(mini()), encoding="utf-8")
    (tmp_path / "v.json").write_text(json.dumps(variant(patch={})), encoding="utf-8")
    assert load_definition(tmp_path / "v.json").extends == "mini@1.0.0"
    wrong = variant(patch={}, extends={"id": "mini", "version": "9.9.9"})
    (tmp_path / "w.json").write_text(json.dumps(wrong), encoding="utf-8")
    assert codes_at(tmp_path / "w.json") == {("variant.base-not-found", "/extends")}


def test_variant_base_not_found_and_base_mapping_forms() -> None:
    """Without a base the variant fails; base= accepts a doc, a definition or a dict."""
    assert codes_at(variant(patch={})) == {("variant.base-not-found", "/extends")}
    base = load_definition(mini())
    for form in (mini(), base, {"mini@1.0.0": base}, {"mini": mini()}):
        assert load_definition(variant(patch={}), base=form).extends == "mini@1.0.0"


def test_variant_that_breaks_its_base_is_validated_as_a_whole() -> None:
    """Removing a state still targeted reports ref.state in the resolved document."""
    got = codes_at(variant(patch={"states": {"DIAJUKAN": None}}), base=mini())
    assert got == {("ref.state", f"{S}/DRAF/on/ajukan/alternatives/1/target")}


def test_variant_shape_is_checked_before_resolving() -> None:
    """A variant needs patch or jsonPatch and may not carry definition keys."""
    assert ("schema.any-of", "") in codes_at(variant(), base=mini())
    got = codes_at(variant(patch={}, states={}), base=mini())
    assert ("schema.additional-property", "/states") in got


def test_variant_of_a_variant_and_self_extension(tmp_path: Path) -> None:
    """Variants may chain; a file that extends itself is refused, not looped on."""
    (tmp_path / "mini.json").write_text(json.dumps(mini()), encoding="utf-8")
    (tmp_path / "mini-varian.json").write_text(json.dumps(variant(patch={})), encoding="utf-8")
    second = variant(patch={}, id="dua", extends={"id": "mini-varian", "version": "2.0.0"})
    (tmp_path / "dua.json").write_text(json.dumps(second), encoding="utf-8")
    assert load_definition(tmp_path / "dua.json").extends == "mini-varian@2.0.0"
    loop = variant(patch={}, id="loop", extends={"id": "loop", "version": "2.0.0"})
    (tmp_path / "loop.json").write_text(json.dumps(loop), encoding="utf-8")
    assert codes_at(tmp_path / "loop.json") == {("variant.base-not-found", "/extends")}


def test_base_problems_are_reported_with_the_base_file(tmp_path: Path) -> None:
    """When the base itself is broken, its problems name the base file."""
    (tmp_path / "mini.json").write_text(json.dumps(mutated(lambda d: d.pop("roles"))))
    (tmp_path / "v.json").write_text(json.dumps(variant(patch={})))
    got = problems_of(tmp_path / "v.json")
    assert {p.file for p in got} == {os.path.join(str(tmp_path), "mini.json")}


def test_input_mapping_is_not_modified() -> None:
    """Loading never mutates the caller's mapping."""
    doc = mini()
    before = copy.deepcopy(doc)
    load_definition(variant(patch={"states": {"DRAF": {"labels": {"en": "X"}}}}), base=doc)
    load_definition(doc)
    assert doc == before


# -- graph checks are linear ------------------------------------------------------------


def _naive_reach(s: str, edges: dict[str, list[str]], members: set[str]) -> set[str]:
    seen, todo = {s}, [s]
    while todo:
        for n in edges.get(todo.pop(), ()):
            if n in members and n not in seen:
                seen.add(n)
                todo.append(n)
    return seen


graphs = st.integers(1, 8).flatmap(
    lambda n: st.tuples(
        st.just([f"S{i}" for i in range(n)]),
        st.lists(st.tuples(st.integers(0, n), st.integers(0, n)), max_size=3 * n),
    )
)


@settings(max_examples=300, deadline=None)
@given(graphs)
def test_graph_components_match_the_quadratic_definition(graph: Any) -> None:
    """The linear (strongly connected components) roots and traps are the quadratic
    definition: roots are the first states of components nothing else in the group
    enters, with every group state they reach; traps are components nothing leaves,
    with every group state that leads into them."""
    group, pairs = graph
    edges: dict[str, list[str]] = {s: [] for s in group}
    for a, b in pairs:
        if a < len(group):
            edges[group[a]].append(f"S{b}")  # S{len} lies outside the group
    members = set(group)
    within = {s: _naive_reach(s, edges, members) for s in group}
    roots, traps = [], []
    done: set[str] = set()
    for s in group:
        comp = [o for o in group if o in within[s] and s in within[o]]
        if comp[0] != s:
            continue
        if not any(s in within[o] and o not in within[s] for o in group):
            roots.append((s, [o for o in group if o in within[s] and o != s]))
        if all(s in within[o] for o in within[s]):
            leading = [o for o in group if o not in comp and within[o] & set(comp)]
            traps.append((s, comp, leading))
        done |= set(comp)
    assert _roots(group, edges) == roots
    assert _traps(group, edges) == traps


def test_graph_checks_list_at_most_fifty_states() -> None:
    """A state leading into a long chain of unreachable states names the first 50 of
    them and then '…' (the check stays linear in the number of states)."""
    doc = mini()
    chain = [f"X{i:03d}" for i in range(60)]
    for i, sid in enumerate(chain):
        nxt = chain[i + 1] if i + 1 < len(chain) else "SELESAI"
        doc["events"]["maju"] = {"labels": L("Next")}
        doc["states"][sid] = {
            "labels": L(sid),
            "on": {"maju": {"roles": ["LURAH"], "target": nxt}},
        }
    (p,) = problems_of(doc)
    assert p.code == "graph.unreachable"
    assert p.message.endswith(", ".join(chain[1:51]) + ", …")


def test_working_days_limit() -> None:
    """A deadline of more working days than MAX_WORKING_DAYS is refused at load
    (arming it would count the days one by one, for centuries)."""
    assert MAX_WORKING_DAYS == 2_500
    doc = mini()
    tier = doc["states"]["DRAF"]["deadlines"]["TM"]["escalations"]["t2"]
    tier["after"]["workingDays"] = MAX_WORKING_DAYS
    load_definition(doc)
    tier["after"]["workingDays"] = 10**9
    (p,) = problems_of(doc)
    assert (p.code, p.pointer, p.value) == (
        "deadline.too-long",
        "/states/DRAF/deadlines/TM/escalations/t2/after/workingDays",
        10**9,
    )
    assert p.message == "1000000000 working days is more than the limit of 2500"
    assert p.hint == "use a shorter deadline, or an absolute date from the data"


_JSON_KEYS = st.text(st.characters(exclude_categories=("Cs",)), max_size=4)
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=("Cs",)), max_size=6),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_JSON_KEYS, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_JSON)
def test_definition_hash_text_is_rfc8785(document: Any) -> None:
    """The text a definition hash is taken over is RFC 8785 canonical JSON for every
    JSON value (the fast path for float-free, BMP-keyed documents included)."""
    assert canonical_text(document).encode("utf-8") == rfc8785.dumps(document)
