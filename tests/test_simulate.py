"""Scenario runner: loading and validating scenario files, running steps, checking
every kind of expectation, rendering text and JSON, and the CLI exit codes."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

import paketflow
from paketflow import ScenarioError
from paketflow._runtime.simulate import load_scenario, main, render_json, render_text, run_scenario

ACTORS = {
    "ani": {"id": "ani", "roles": ["MEMBER"], "element": "a", "name": "Ani"},
    "budi": {"id": "budi", "roles": ["MEMBER"], "element": "b"},
    "hadi": {"id": "hadi", "roles": ["HEAD"]},
}


def scenario(*steps: dict[str, Any]) -> dict[str, Any]:
    start = {
        "at": "2012-03-05T09:00:00+07:00",
        "actor": "hadi",
        "command": "start",
        "data": {"required": 10},
        "expect": {"state": "DRAFT"},
    }
    return {
        "format": 1,
        "id": "T",
        "definition": "mini",
        "instance": "t",
        "actors": ACTORS,
        "steps": [start, *steps],
    }


@pytest.fixture
def definition(mini_doc: dict[str, Any]) -> paketflow.ProcessDefinition:
    return paketflow.load_definition(mini_doc)


def test_all_expectations_met(definition: paketflow.ProcessDefinition) -> None:
    """Accepted steps, refusals with codes and missing items, flags, escalations and
    data pointers are checked; a scenario that meets them all is ok."""
    result = run_scenario(
        definition,
        scenario(
            {"at": "2012-03-06", "actor": "ani", "command": "sign"},
            {
                "at": "2012-03-06",
                "actor": "hadi",
                "command": "fire",
                "event": "submit",
                "expect": {"refused": ["ERR_TANDA_TANGAN_KURANG"], "missing": ["b", "head"]},
            },
            {
                "at": "2012-03-16",
                "command": "tick",
                "expect": {
                    "escalations": ["TM-SUBMIT/h1"],
                    "flags": ["late"],
                    "data": {"/required": 10},
                },
            },
        ),
    )
    assert result.ok, [s.failures for s in result.steps]
    assert [s.accepted for s in result.steps] == [True, True, False, True]


def test_unmet_expectations_are_reported(definition: paketflow.ProcessDefinition) -> None:
    """Each unmet expectation becomes one failure line on its step."""
    result = run_scenario(
        definition,
        scenario(
            {
                "at": "2012-03-06",
                "actor": "ani",
                "command": "sign",
                "expect": {
                    "refused": ["ERR_X"],
                    "state": "CHECK",
                    "flags": ["late"],
                    "notices": ["NOTE_SHORT"],
                    "data": {"/nope": 1},
                },
            },
        ),
    )
    assert not result.ok
    assert result.steps[1].failures == (
        "expected a refusal ['ERR_X'], but it was accepted",
        "expected state CHECK, got DRAFT",
        "expected flag 'late', flags are []",
        "expected notice NOTE_SHORT, got []",
        "expected data /nope == 1, got nothing",
    )


def test_step_before_start_is_a_failure_not_a_crash(
    definition: paketflow.ProcessDefinition,
) -> None:
    """A command on an instance that does not exist yet is reported as refused."""
    doc = scenario()
    doc["steps"] = [{"at": "2012-03-06", "actor": "ani", "command": "sign"}]
    result = run_scenario(definition, doc)
    assert result.steps[0].failures
    assert result.steps[0].reasons[0].code == "ERR_SKENARIO"


def test_scenario_for_another_definition_is_refused(
    definition: paketflow.ProcessDefinition,
) -> None:
    """A scenario names the definition it was written for; running it on another is a
    ScenarioError."""
    doc = scenario()
    doc["definition"] = "paket"
    with pytest.raises(ScenarioError, match="written for definition 'paket'"):
        run_scenario(definition, doc)


def test_load_scenario_reports_the_place_of_a_format_error(tmp_path: Path) -> None:
    """A malformed scenario names the file and the JSON Pointer."""
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": 1, "id": "x", "steps": [{"command": "fly"}]}))
    with pytest.raises(ScenarioError) as info:
        load_scenario(bad)
    assert f"{bad}:/steps/0: 'at' is a required property" in str(info.value)


def test_load_scenario_rejects_unknown_actor_and_duplicate_keys(tmp_path: Path) -> None:
    """Steps must refer to declared actors; duplicate JSON keys are refused."""
    doc = scenario({"at": "2012-03-06", "actor": "zoe", "command": "sign"})
    with pytest.raises(ScenarioError, match=r"/steps/1/actor: unknown actor 'zoe'"):
        load_scenario(doc)
    dup = tmp_path / "dup.json"
    dup.write_text('{"format": 1, "format": 1, "id": "x", "steps": []}')
    with pytest.raises(ScenarioError, match="duplicate key 'format'"):
        load_scenario(dup)


def test_render_text_and_json(definition: paketflow.ProcessDefinition) -> None:
    """The text timeline shows verdicts in the chosen language; the JSON form is valid
    JSON carrying the same steps."""
    result = run_scenario(
        definition,
        scenario(
            {
                "at": "2012-03-06",
                "actor": "hadi",
                "command": "fire",
                "event": "submit",
                "expect": {"refused": ["ERR_TANDA_TANGAN_KURANG"]},
            },
        ),
    )
    text_id = render_text(result, "id")
    assert "DITOLAK" in text_id and "Tanda tangan belum lengkap" in text_id
    assert "REFUSED" in render_text(result, "en")
    doc = json.loads(render_json(result))
    assert doc["ok"] is True
    assert doc["steps"][1]["reasons"][0]["code"] == "ERR_TANDA_TANGAN_KURANG"


def test_main_exit_codes(tmp_path: Path, mini_doc: dict[str, Any]) -> None:
    """main() returns 0 when all expectations hold, 1 when one fails, 2 for bad
    files; JSON output on stdout parses, logs stay off stdout."""
    (tmp_path / "mini.json").write_text(json.dumps(mini_doc))
    good = tmp_path / "good.json"
    good.write_text(json.dumps(scenario()))
    failing = tmp_path / "failing.json"
    failing.write_text(
        json.dumps(
            scenario(
                {"at": "2012-03-06", "actor": "ani", "command": "sign", "expect": {"state": "X"}}
            )
        )
    )
    out, err = io.StringIO(), io.StringIO()
    assert main(str(tmp_path / "mini.json"), str(good), fmt="json", out=out, err=err) == 0
    assert json.loads(out.getvalue())["ok"] is True
    assert main(str(tmp_path / "mini.json"), str(failing), out=io.StringIO(), err=err) == 1
    assert main(str(tmp_path / "nope.json"), str(good), out=io.StringIO(), err=err) == 2
    assert (
        main(str(tmp_path / "mini.json"), str(tmp_path / "nope.json"), out=io.StringIO(), err=err)
        == 2
    )


def test_verbose_logs_go_to_stderr_as_json(tmp_path: Path, mini_doc: dict[str, Any]) -> None:
    """With verbose, engine log events are JSON lines on the error stream."""
    (tmp_path / "mini.json").write_text(json.dumps(mini_doc))
    good = tmp_path / "good.json"
    good.write_text(json.dumps(scenario()))
    out, err = io.StringIO(), io.StringIO()
    main(str(tmp_path / "mini.json"), str(good), out=out, err=err, verbose=True)
    first = json.loads(err.getvalue().splitlines()[0])
    assert first["event"] == "instance_started"
    assert "required" not in err.getvalue()  # instance data is never logged
