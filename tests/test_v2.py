"""Format 2: stages, fragments, parameters and CEL text resolved into the format-1
model, problems reported where they were written (pointer and line, in the variant
file for a variant), and every problem of a document in one run."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from paketflow._definition import load_definition
from paketflow._definition._v2 import MAX_NODES
from paketflow._errors import DefinitionError, Problem


def L(text: str) -> dict[str, str]:
    return {"id": f"{text} (id)", "en": text}


def doc2() -> dict[str, Any]:
    """A small format-2 definition: a stage with an inherited cancel and a stage-wide
    deadline, fragments, parameters and CEL text."""
    return {
        "format": 2,
        "id": "mini2",
        "version": "1.0.0",
        "labels": L("Mini two"),
        "roles": {
            "AUTHOR": {"labels": L("Author"), "pool": 3},
            "HEAD": {"labels": L("Head"), "pool": 1},
            "BOSS": {"labels": L("Boss"), "pool": 1},
        },
        "flags": {"late": {"labels": L("Late")}},
        "events": {
            "submit": {"labels": L("Submit")},
            "approve": {"labels": L("Approve")},
            "cancel": {"labels": L("Cancel")},
            "expire": {"labels": L("Expired")},
            "back": {"labels": L("Back")},
        },
        "parameters": {
            "split": {"type": "list", "items": "integer", "sum": 100, "default": [40, 60]},
            "period": {"type": "duration", "default": "P30D"},
            "head": {"type": "role", "default": "HEAD"},
            "ceiling": {"type": "integer", "minimum": 0, "default": 1000},
        },
        "$defs": {
            "cancel": {"roles": [{"$param": "head"}], "target": "CANCELLED"},
            "planOk": "event.split == params.split",
            "authorOnly": ["AUTHOR"],
        },
        "messages": {
            "ERR_SPLIT": {
                "id": "Pembagian harus {params.split}.",
                "en": "The split must be {params.split}.",
            },
            "WARN_LATE": {"id": "Terlambat.", "en": "Late."},
        },
        "initial": "WORK",
        "states": {
            "WORK": {
                "labels": L("Work"),
                "on": {"cancel": {"$use": "cancel"}},
                "deadlines": {
                    "TM": {
                        "due": {"duration": {"$param": "period"}},
                        "escalations": {
                            "t1": {"after": "P1D", "flag": "late", "message": "WARN_LATE"}
                        },
                        "timeout": {"after": "P10D", "event": "expire", "target": "CANCELLED"},
                    }
                },
                "states": {
                    "DRAFT": {
                        "labels": L("Draft"),
                        "on": {
                            "submit": {
                                "roles": [{"$use": "authorOnly"}, "HEAD"],
                                "data": {
                                    "type": "object",
                                    "properties": {
                                        "split": {"type": "array"},
                                        "amount": {"type": "integer"},
                                    },
                                },
                                "target": "REVIEW",
                                "guards": [
                                    {"id": "plan", "if": "defs.planOk", "code": "ERR_SPLIT"},
                                    {
                                        "id": "amount",
                                        "if": "event.amount <= params.ceiling",
                                        "code": "ERR_SPLIT",
                                    },
                                ],
                            }
                        },
                    },
                    "REVIEW": {
                        "labels": L("Review"),
                        "on": {
                            "approve": {"roles": [{"$param": "head"}], "target": "DONE"},
                            "back": {"roles": ["HEAD"], "target": "WORK"},
                            "cancel": {"roles": ["BOSS"], "target": "CANCELLED"},
                        },
                    },
                },
            },
            "DONE": {"labels": L("Done"), "final": True},
            "CANCELLED": {"labels": L("Cancelled"), "final": True},
        },
    }


def problems(source: Any, **kw: Any) -> list[Problem]:
    with pytest.raises(DefinitionError) as info:
        load_definition(source, **kw)
    return list(info.value.errors)


def write(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- resolution


def test_stages_are_flattened_into_format_1_states() -> None:
    """Only leaf states remain; the definition says it was written in format 2 and
    keeps the document as written."""
    d = load_definition(doc2())
    assert list(d.states) == ["DRAFT", "REVIEW", "DONE", "CANCELLED"]
    assert d.initial == "DRAFT"
    assert d.format == 2
    assert d.document["format"] == 1
    assert "WORK" in d.source_document["states"]


def test_a_stage_on_is_inherited_unless_a_state_overrides_it() -> None:
    """The stage's cancel reaches DRAFT; REVIEW's own cancel wins; finals inherit
    nothing."""
    d = load_definition(doc2())
    assert d.states["DRAFT"].transitions["cancel"].roles == ("HEAD",)
    assert d.states["REVIEW"].transitions["cancel"].roles == ("BOSS",)
    assert d.states["DONE"].transitions == {}


def test_null_opts_out_of_an_inherited_event() -> None:
    """``"cancel": null`` in a state keeps the stage's cancel out of it."""
    doc = doc2()
    doc["states"]["WORK"]["states"]["DRAFT"]["on"]["cancel"] = None
    d = load_definition(doc)
    assert "cancel" not in d.states["DRAFT"].transitions


def test_a_stage_deadline_is_armed_on_entry_and_scoped_to_the_stage() -> None:
    """The stage deadline sits on the states through which the stage is entered, with
    every state of the stage in its scope."""
    d = load_definition(doc2())
    (dl,) = d.states["DRAFT"].deadlines
    assert (dl.id, dl.scope, dl.timeout and dl.timeout.target) == (
        "TM",
        ("DRAFT", "REVIEW"),
        "CANCELLED",
    )
    assert d.states["REVIEW"].deadlines == ()


def test_a_target_naming_a_stage_enters_its_initial_state() -> None:
    """``back`` targets the stage WORK, so it enters DRAFT (its first child)."""
    d = load_definition(doc2())
    assert d.states["REVIEW"].transitions["back"].alternatives[0].target == "DRAFT"
    doc = doc2()
    doc["states"]["WORK"]["initial"] = "REVIEW"
    doc["initial"] = "DRAFT"
    d = load_definition(doc)
    assert d.states["REVIEW"].transitions["back"].alternatives[0].target == "REVIEW"


def test_fragments_parameters_and_cel_are_expanded() -> None:
    """``$use`` (spliced into a list), ``$param``, ``params.X``, ``defs.X`` and
    ``{params.X}`` in messages are all replaced at load time."""
    d = load_definition(doc2())
    submit = d.states["DRAFT"].transitions["submit"]
    assert submit.roles == ("AUTHOR", "HEAD")
    assert submit.guards[0].condition.raw == {"==": [{"var": "event.split"}, [40, 60]]}
    assert submit.guards[1].condition.raw == {"<=": [{"var": "event.amount"}, 1000]}
    assert d.messages["ERR_SPLIT"].labels.en == "The split must be 40/60."
    assert d.states["DRAFT"].deadlines[0].due.duration is not None


def test_keys_next_to_use_replace_the_fragment_keys() -> None:
    """``{"$use": F, "target": X}`` is F with its target replaced."""
    doc = doc2()
    doc["states"]["WORK"]["on"]["cancel"] = {"$use": "cancel", "target": "DONE"}
    d = load_definition(doc)
    assert d.states["DRAFT"].transitions["cancel"].alternatives[0].target == "DONE"


def test_the_resolved_document_is_a_format_1_definition_of_the_same_model() -> None:
    """Loading the resolved document as format 1 gives the same hash and states."""
    d = load_definition(doc2())
    again = load_definition(copy.deepcopy(dict(d.document)))
    assert (again.hash, again.format, list(again.states)) == (d.hash, 1, list(d.states))


# --------------------------------------------------------------------------- problems


def test_every_problem_is_reported_in_one_run_where_it_was_written(tmp_path: Path) -> None:
    """A fragment's dangling target, CEL syntax and a misspelt role inside a stage are
    reported together, at their own pointers and lines, with the resolved pointer."""
    doc = doc2()
    doc["$defs"]["cancel"]["target"] = "CANCELED"
    doc["states"]["WORK"]["states"]["DRAFT"]["on"]["submit"]["guards"][1]["if"] = (
        "event.amount => 3"
    )
    doc["states"]["WORK"]["states"]["REVIEW"]["on"]["approve"]["roles"] = ["HAED"]
    path = write(tmp_path / "mini2.json", doc)
    text = path.read_text("utf-8").splitlines()
    got = problems(path)
    assert [(p.code, p.pointer, p.resolved) for p in got] == [
        ("ref.state", "/$defs/cancel/target", "/states/DRAFT/on/cancel/target"),
        ("expr.cel-syntax", "/states/WORK/states/DRAFT/on/submit/guards/1/if", None),
        (
            "ref.role",
            "/states/WORK/states/REVIEW/on/approve/roles/0",
            "/states/REVIEW/on/approve/roles/0",
        ),
    ]
    for p in got:
        assert p.line is not None
        assert json.dumps(p.value) in text[p.line - 1]
    assert str(got[0]) == (
        f"{path}:{got[0].line}:/$defs/cancel/target: ref.state undefined state 'CANCELED' "
        "(did you mean 'CANCELLED'? or declare 'CANCELED' in /states) "
        "[resolved document: /states/DRAFT/on/cancel/target]"
    )


@pytest.mark.parametrize(
    ("change", "code", "pointer", "message"),
    [
        (
            lambda d: d["states"]["WORK"]["on"].update(cancel={"$use": "cancl"}),
            "ref.fragment",
            "/states/WORK/on/cancel/$use",
            "undefined fragment 'cancl'",
        ),
        (
            lambda d: (
                d["$defs"].update(loop={"$use": "loop"})
                or d["states"]["WORK"]["on"].update(cancel={"$use": "loop"})
            ),
            "fragment.cycle",
            "/$defs/loop/$use",
            "fragment 'loop' uses itself (loop → loop)",
        ),
        (
            lambda d: d["states"]["DONE"].update(labels={"$param": "perid"}),
            "param.unknown",
            "/states/DONE/labels/$param",
            "undefined parameter 'perid'",
        ),
        (
            lambda d: d["parameters"]["split"].update(default=[40, 50]),
            "param.invalid",
            "/parameters/split/default",
            "the items add up to 90, not 100",
        ),
        (
            lambda d: d["parameters"]["period"].update(default="30 days"),
            "param.invalid",
            "/parameters/period/default",
            "'30 days' is not an ISO 8601 duration such as 'P30D'",
        ),
        (
            lambda d: d["parameters"]["head"].update(default="Head"),
            "param.invalid",
            "/parameters/head/default",
            "'Head' is not a declared role",
        ),
        (
            lambda d: d["parameters"]["ceiling"].update(default=-1),
            "param.invalid",
            "/parameters/ceiling/default",
            "-1 is not at least 0",
        ),
        (
            lambda d: d["messages"]["WARN_LATE"].update(en="Late by {params.dayz}."),
            "param.unknown",
            "/messages/WARN_LATE/en",
            "undefined parameter 'dayz' in the message text",
        ),
        (
            lambda d: d["states"]["DONE"].update(on={"cancel": None}),
            "inherit.nothing",
            "/states/DONE/on/cancel",
            "'cancel' is set to null but no stage around 'DONE' defines it",
        ),
        (
            lambda d: d["states"].update(DRAFT={"labels": L("Again"), "final": True}),
            "state.duplicate",
            "/states/DRAFT",
            "the id 'DRAFT' is used twice (ids are unique across stages)",
        ),
        (
            lambda d: d["states"]["WORK"].update(initial="REVEIW"),
            "ref.state",
            "/states/WORK/initial",
            "'REVEIW' is not a state of stage 'WORK'",
        ),
        (
            lambda d: d["states"]["WORK"]["states"]["DRAFT"].update(
                deadlines={"TM": {"due": {"duration": "P1D"}}}
            ),
            "deadline.duplicate",
            "/states/WORK/deadlines/TM",
            "deadline 'TM' of stage 'WORK' is also declared in its state 'DRAFT'",
        ),
        (
            lambda d: d["states"]["WORK"].update(bogus=1),
            "schema.additional-property",
            "/states/WORK/bogus",
            None,
        ),
    ],
)
def test_format_2_problems(change: Any, code: str, pointer: str, message: str | None) -> None:
    """Each mistake of the format-2 parts is one problem at the place it was written."""
    doc = doc2()
    change(doc)
    got = problems(doc)
    assert (code, pointer) in {(p.code, p.pointer) for p in got}, got
    if message is not None:
        (p,) = [p for p in got if p.code == code]
        assert p.message == message


def test_fragment_blow_up_is_bounded() -> None:
    """Fragments that double at every level stop at MAX_NODES with one problem."""
    doc = doc2()
    doc["$defs"]["f0"] = ["x", "x"]
    for i in range(1, 20):
        doc["$defs"][f"f{i}"] = [{"$use": f"f{i - 1}"}, {"$use": f"f{i - 1}"}, [1]]
    doc["description"] = {"$use": "f19"}
    got = problems(doc)
    assert [(p.code, p.pointer) for p in got] == [("fragment.too-large", "/$defs")]
    assert str(MAX_NODES) in got[0].message


def test_named_expression_blow_up_is_bounded() -> None:
    """Named CEL expressions that each use the next one twice (20 levels: 2**20 copies
    written out) stop at MAX_NODES with one problem, instead of copying for minutes."""
    doc = doc2()
    for i in range(20):
        doc["$defs"][f"e{i}"] = f"defs.e{i + 1} && defs.e{i + 1}"
    doc["$defs"]["e20"] = "1 == 1"
    doc["states"]["WORK"]["states"]["DRAFT"]["on"]["submit"]["guards"][0]["if"] = "defs.e0"
    got = problems(doc)
    assert [p.code for p in got] == ["fragment.too-large"]
    assert got[0].pointer.startswith("/$defs/e")
    assert got[0].message == (
        f"expanding named expressions produces more than {MAX_NODES} JSON values"
    )


# --------------------------------------------------------------------------- variants


def variant(**extra: Any) -> dict[str, Any]:
    return {
        "format": 2,
        "id": "mini2-v",
        "version": "1.0.0",
        "extends": {"id": "mini2", "version": "1.0.0"},
        **extra,
    }


def test_a_variant_sets_a_parameter_in_one_line(tmp_path: Path) -> None:
    """``parameters`` of a variant replace the base's defaults everywhere they are used."""
    write(tmp_path / "mini2.json", doc2())
    path = write(tmp_path / "v.json", variant(parameters={"split": [25, 25, 25, 25]}))
    d = load_definition(path)
    guard = d.states["DRAFT"].transitions["submit"].guards[0]
    assert guard.condition.raw == {"==": [{"var": "event.split"}, [25, 25, 25, 25]]}
    assert d.messages["ERR_SPLIT"].labels.en == "The split must be 25/25/25/25."
    assert (d.extends, d.format) == ("mini2@1.0.0", 2)


def test_variant_problems_point_into_the_variant_file(tmp_path: Path) -> None:
    """A bad parameter value, an unknown parameter and a patch naming an undeclared
    role are reported in the variant file, each at its own pointer and line."""
    write(tmp_path / "mini2.json", doc2())
    path = write(
        tmp_path / "v.json",
        variant(parameters={"split": [50, 40], "perod": "P1D"}),
    )
    got = problems(path)
    assert [(p.code, p.pointer, p.file) for p in got] == [
        ("param.unknown", "/parameters/perod", str(path)),
    ]
    assert "did you mean 'period'?" in got[0].hint
    path = write(
        tmp_path / "v.json",
        variant(
            parameters={"split": [50, 40]},
            patch={"states": {"WORK": {"on": {"cancel": {"roles": ["BOS"]}}}}},
        ),
    )
    got = problems(path)
    assert [(p.code, p.pointer, p.file) for p in got] == [
        ("param.invalid", "/parameters/split", str(path)),
    ]
    path = write(
        tmp_path / "v.json",
        variant(patch={"states": {"WORK": {"on": {"cancel": {"roles": ["BOS"]}}}}}),
    )
    (p,) = problems(path)
    lines = path.read_text("utf-8").splitlines()
    assert (p.code, p.pointer, p.resolved) == (
        "ref.role",
        "/patch/states/WORK/on/cancel/roles/0",
        "/states/DRAFT/on/cancel/roles/0",
    )
    assert p.line is not None and '"BOS"' in lines[p.line - 1]


def test_a_problem_left_in_the_base_points_into_the_base(tmp_path: Path) -> None:
    """A variant that removes a role the base still uses is reported at the base's
    pointer, in the base file, saying which variant changed it."""
    base = write(tmp_path / "mini2.json", doc2())
    path = write(tmp_path / "v.json", variant(patch={"roles": {"BOSS": None}}))
    (p,) = problems(path)
    assert (p.code, p.file, p.pointer) == (
        "ref.role",
        str(base),
        "/states/WORK/states/REVIEW/on/cancel/roles/0",
    )
    assert p.message.endswith(f"(in the base, as changed by {path})")


def test_a_format_1_variant_problem_points_into_its_patch(tmp_path: Path) -> None:
    """Format 1 variants too: a problem in what the variant wrote names its pointer."""
    write(tmp_path / "mini2.json", doc2())
    path = write(
        tmp_path / "v.json",
        {
            "format": 1,
            "id": "mini2-v",
            "version": "1.0.0",
            "extends": {"id": "mini2", "version": "1.0.0"},
            "patch": {"states": {"DRAFT": {"on": {"cancel": {"roles": ["BOS"]}}}}},
        },
    )
    (p,) = problems(path)
    assert (p.code, p.pointer, p.resolved) == (
        "ref.role",
        "/patch/states/DRAFT/on/cancel/roles/0",
        "/states/DRAFT/on/cancel/roles/0",
    )
