"""Exports: BPMN 2.0 XML checked against the OMG XSD (as SpiffWorkflow ships it), by
bpmnlint's recommended rules and by running it in SpiffWorkflow along the PAKET happy
path; Mermaid and DOT drawn from the compiled machine."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.util.task import TaskState

import paketflow
from paketflow._cli import main as cli
from paketflow._compile import TIMEOUT_PREFIX, compile_definition
from paketflow._export import export, to_bpmn, to_dot, to_mermaid
from paketflow._export._bpmn import due_variable
from paketflow._runtime.simulate import load_scenario, run_scenario

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = sorted((ROOT / "processes").glob("*.json"))
BPMN_NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}


@pytest.fixture(scope="module")
def paket() -> paketflow.ProcessDefinition:
    return paketflow.load_definition(ROOT / "processes" / "paket.json")


@pytest.fixture(scope="module")
def xsd() -> etree.XMLSchema:
    import SpiffWorkflow

    path = Path(SpiffWorkflow.__file__).parent / "bpmn" / "parser" / "schema" / "BPMN20.xsd"
    return etree.XMLSchema(etree.parse(str(path)))


@pytest.mark.parametrize("path", PROCESSES, ids=lambda p: p.name)
@pytest.mark.parametrize("lang", ["id", "en"])
def test_bpmn_validates_against_the_omg_xsd(path: Path, lang: str, xsd: etree.XMLSchema) -> None:
    """Every shipped definition exports to BPMN that the OMG BPMN 2.0 XSD accepts."""
    xml = to_bpmn(paketflow.load_definition(path), lang)
    doc = etree.fromstring(xml.encode())
    assert xsd.validate(doc), xsd.error_log


def test_bpmn_has_a_shape_for_every_node_and_an_edge_for_every_flow(
    paket: paketflow.ProcessDefinition,
) -> None:
    """BPMNDI: every flow node and annotation has a shape, every sequence flow and
    association an edge with at least two waypoints."""
    doc = etree.fromstring(to_bpmn(paket).encode())
    di = "http://www.omg.org/spec/BPMN/20100524/DI"
    shapes = {s.get("bpmnElement") for s in doc.iter(f"{{{di}}}BPMNShape")}
    edges = {e.get("bpmnElement"): e for e in doc.iter(f"{{{di}}}BPMNEdge")}
    process = doc.find("bpmn:process", BPMN_NS)
    assert process is not None
    for el in process:
        kind = etree.QName(el).localname
        if kind in ("sequenceFlow", "association"):
            assert len(edges[el.get("id")]) >= 2, el.get("id")
        else:
            assert el.get("id") in shapes, el.get("id")


def test_bpmn_maps_states_events_signatures_and_deadlines(
    paket: paketflow.ProcessDefinition,
) -> None:
    """A user task per non-final state, an end event per final state, a flow per
    (state, target) named by the event labels, a text annotation for each signature
    rule and a non-interrupting boundary timer per escalation tier."""
    doc = etree.fromstring(to_bpmn(paket, "id").encode())
    tasks = {t.get("id"): t.get("name") for t in doc.iterfind(".//bpmn:userTask", BPMN_NS)}
    ends = {t.get("id") for t in doc.iterfind(".//bpmn:endEvent", BPMN_NS)}
    for sid, state in paket.states.items():
        if state.final:
            assert f"End_{sid}" in ends
        else:
            assert tasks[f"Task_{sid}"] == state.labels.id
    notes = {n.get("id") for n in doc.iterfind(".//bpmn:textAnnotation", BPMN_NS)}
    assert notes == {f"Note_{s.id}" for s in paket.states.values() if s.signatures}
    timers = [b for b in doc.iterfind(".//bpmn:boundaryEvent", BPMN_NS)]
    tiers = [t for s in paket.states.values() for d in s.deadlines for t in d.escalations]
    assert len(timers) == len(tiers)
    assert all(b.get("cancelActivity") == "false" for b in timers)
    names = {f.get("name") for f in doc.iterfind(".//bpmn:sequenceFlow", BPMN_NS)}
    assert paket.events["usulan_diajukan"].labels.id in names


def test_bpmn_timer_bodies(paket: paketflow.ProcessDefinition) -> None:
    """A duration deadline's tier is a quoted ISO 8601 duration (due + offset); a
    date-dependent deadline reads the instant paketflow computed."""
    doc = etree.fromstring(to_bpmn(paket).encode())
    by_id = {b.get("id"): b for b in doc.iterfind(".//bpmn:boundaryEvent", BPMN_NS)}
    prop = by_id["Timer_TM-PROP_eskalasi"].find(".//bpmn:timeDuration", BPMN_NS)
    assert prop is not None and prop.text == '"P45D"'  # P30D + P15D
    disb = by_id["Timer_TM-DISB_h14"].find(".//bpmn:timeDate", BPMN_NS)
    assert disb is not None and disb.text == due_variable("TM-DISB", "h14") == "due_TM_DISB_h14"


def _bpmnlint(cache: pytest.Cache) -> str:
    """bpmnlint: $PAKETFLOW_BPMNLINT (what .ci/run installs), else installed from npm
    into the pytest cache. Missing npm is a failure, never a skip."""
    given = os.environ.get("PAKETFLOW_BPMNLINT")
    if given:
        return given
    where = cache.mkdir("bpmnlint")
    binary = where / "node_modules" / ".bin" / "bpmnlint"
    if not binary.exists():
        npm = shutil.which("npm")
        assert npm, "npm is needed to install bpmnlint (or set PAKETFLOW_BPMNLINT)"
        subprocess.run(
            [
                npm,
                "install",
                "--silent",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(where),
                "bpmnlint@11",
            ],
            check=True,
            timeout=300,
        )
    return str(binary)


@pytest.mark.parametrize("path", PROCESSES, ids=lambda p: p.name)
def test_bpmn_passes_bpmnlint_recommended(
    path: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """bpmnlint with the recommended rules reports no problem (exit 0, no output)."""
    binary = _bpmnlint(request.config.cache)  # type: ignore[arg-type]
    (tmp_path / ".bpmnlintrc").write_text('{"extends": "bpmnlint:recommended"}')
    target = tmp_path / "process.bpmn"
    target.write_text(to_bpmn(paketflow.load_definition(path)), encoding="utf-8")
    run = subprocess.run(
        [binary, str(target)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0 and not run.stdout.strip(), run.stdout + run.stderr


def test_bpmnlint_catches_a_broken_model(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The lint run is real: a task with no flows is reported."""
    binary = _bpmnlint(request.config.cache)  # type: ignore[arg-type]
    (tmp_path / ".bpmnlintrc").write_text('{"extends": "bpmnlint:recommended"}')
    xml = to_bpmn(paketflow.load_definition(ROOT / "processes" / "paket.json"))
    broken = xml.replace(
        '<bpmn:userTask id="Task_DRAF"',
        '<bpmn:task id="Lonely" name="x"/><bpmn:userTask id="Task_DRAF"',
        1,
    )
    (tmp_path / "broken.bpmn").write_text(broken, encoding="utf-8")
    run = subprocess.run(
        [binary, "broken.bpmn"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert run.returncode != 0 and "no-disconnected" in run.stdout


def _bpmn_js(cache: pytest.Cache) -> Path:
    """bpmn.io's viewer: $PAKETFLOW_BPMN_JS (what .ci/run installs), else bpmn-js from
    npm into the pytest cache. Missing npm is a failure, never a skip."""
    given = os.environ.get("PAKETFLOW_BPMN_JS")
    if given:
        return Path(given)
    where = cache.mkdir("bpmn-js")
    viewer = where / "node_modules" / "bpmn-js" / "dist" / "bpmn-viewer.production.min.js"
    if not viewer.exists():
        npm = shutil.which("npm")
        assert npm, "npm is needed to install bpmn-js (or set PAKETFLOW_BPMN_JS)"
        subprocess.run(
            [
                npm,
                "install",
                "--silent",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(where),
                "bpmn-js@17",
            ],
            check=True,
            timeout=300,
        )
    return viewer


@pytest.mark.parametrize("lang", ["id", "en"])
def test_bpmn_opens_in_bpmn_io_without_warnings(
    lang: str, paket: paketflow.ProcessDefinition, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """bpmn.io's own viewer (bpmn-js), run in headless Chromium, imports the PAKET
    export with no warning and draws every task."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Chromium is required: apt-get install chromium"
    viewer = _bpmn_js(request.config.cache)  # type: ignore[arg-type]
    xml = to_bpmn(paket, lang)
    page = tmp_path / "view.html"
    page.write_text(
        "<!DOCTYPE html><html><head><meta charset=utf-8></head><body>"
        "<div id=c style='width:1600px;height:900px'></div><pre id=out>pending</pre>"
        f"<script>{viewer.read_text(encoding='utf-8')}</script><script>"
        "new BpmnJS({container: '#c'}).importXML(" + json.dumps(xml) + ").then(r => {"
        "document.getElementById('out').textContent = 'imported, warnings: ' + "
        "r.warnings.length + ', tasks drawn: ' + "
        "document.querySelectorAll('[data-element-id^=Task_]').length;"
        "}).catch(e => { document.getElementById('out').textContent = 'error: ' + e.message; });"
        "</script></body></html>",
        encoding="utf-8",
    )
    dom = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=10000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    tasks = sum(1 for s in paket.states.values() if not s.final)
    assert f"imported, warnings: 0, tasks drawn: {tasks}<" in dom, dom[-500:]


def _spiff_workflow(xml: str, process_id: str) -> BpmnWorkflow:
    parser = BpmnParser()
    parser.add_bpmn_xml(etree.fromstring(xml.encode()), filename="process.bpmn")
    workflow = BpmnWorkflow(parser.get_spec(process_id))
    workflow.do_engine_steps()
    return workflow


def _due_variables(instance: paketflow.Instance) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for armed in instance.deadlines:
        for when, step in armed.steps:
            name = "timeout" if step.startswith("!") else step
            out[due_variable(armed.id, name)] = when.isoformat()
    return out


def test_spiffworkflow_runs_the_paket_happy_path_to_its_end_event(
    paket: paketflow.ProcessDefinition,
) -> None:
    """SpiffWorkflow parses the export and, completing each user task with the event
    and target paketflow recorded for SC-2 (the happy path), reaches the end event of
    SELESAI; every task it offers is the task of the state paketflow was in."""
    engine = paketflow.Engine([paket])
    scenario = load_scenario(ROOT / "processes" / "scenarios" / "sc-2-mekar-sari-2013.json")
    result = run_scenario(paket, scenario, engine=engine)
    assert result.ok and result.instance is not None and result.instance.state == "SELESAI"
    history = engine.history(result.instance.id)
    workflow = _spiff_workflow(to_bpmn(paket), "Process_paket")
    moves = 0
    for k, event in enumerate(history):
        if event.type != "fired":
            continue
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        assert [t.task_spec.bpmn_id for t in ready] == [f"Task_{event.source}"]
        after = paketflow.replay(paket, history[: k + 1])
        ready[0].set_data(event=event.name, target=event.target, **_due_variables(after))
        ready[0].run()
        workflow.do_engine_steps()
        moves += 1
    assert moves > 20
    assert workflow.is_completed()
    done = {t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED)}
    assert "End_SELESAI" in done and "End_DIBATALKAN" not in done


def _machine_moves(definition: paketflow.ProcessDefinition) -> set[tuple[str, str]]:
    machine = compile_definition(definition).machine
    return {
        (src, move.dest or src)
        for event in machine.events.values()
        for src, moves in event.transitions.items()
        for move in moves
    }


@pytest.mark.parametrize("path", PROCESSES, ids=lambda p: p.name)
def test_mermaid_draws_every_move_of_the_compiled_machine(path: Path) -> None:
    """Each (source, target) of the compiled machine is one Mermaid arrow; every state
    is declared with its label; the initial and final states are marked."""
    definition = paketflow.load_definition(path)
    text = to_mermaid(definition, "id")
    assert "stateDiagram-v2" in text
    arrows = {
        tuple(line.strip().split(":")[0].split(" --> "))
        for line in text.splitlines()
        if " --> " in line and "[*]" not in line
    }
    assert arrows == _machine_moves(definition)
    for sid, state in definition.states.items():
        assert f'state "{state.labels.id.replace(chr(34), chr(39))}" as {sid}' in text
        if state.final:
            assert f"{sid} --> [*]" in text
    assert f"[*] --> {definition.initial}" in text


def test_mermaid_labels_follow_the_language_and_carry_annotations(
    paket: paketflow.ProcessDefinition,
) -> None:
    """Arrow labels are event labels in the chosen language; notes list signatures and
    deadlines with their escalation tiers."""
    en, id_ = to_mermaid(paket, "en"), to_mermaid(paket, "id")
    assert "USULAN_DIAJUKAN --> VERIFIKASI: Verification started" in en
    assert "USULAN_DIAJUKAN --> VERIFIKASI: Verifikasi dimulai" in id_
    assert "✍ Signatures (distinct persons): 2× Pokja PAKET member" in en
    assert "⏰ Batas waktu" in id_ and "+P30D beri tahu WALIKOTA, TKPKD" in id_
    assert "note right of MENUNGGU_PENCAIRAN" in en


def test_dot_is_valid_graphviz(paket: paketflow.ProcessDefinition, tmp_path: Path) -> None:
    """The DOT export renders with Graphviz's ``dot`` (installed by .ci/run) and holds
    an edge per move of the compiled machine with annotated state labels."""
    dot = shutil.which("dot")
    assert dot, "Graphviz (dot) is required: apt-get install graphviz"
    text = to_dot(paket, "en")
    (tmp_path / "p.dot").write_text(text, encoding="utf-8")
    svg = subprocess.run(
        [dot, "-Tsvg", str(tmp_path / "p.dot")], capture_output=True, text=True, check=True
    ).stdout
    assert "<svg" in svg and "Awaiting disbursement" in svg
    for src, dst in _machine_moves(paket):
        assert f"{src} -> {dst}" in text
    assert "Proposal deadline (P30D)" in text


def test_timeouts_are_drawn(mini_doc: dict[str, Any]) -> None:
    """A deadline with a timeout appears as an arrow labelled by the deadline and its
    event in Mermaid and as an interrupting boundary timer in BPMN."""
    definition = paketflow.load_definition(mini_doc)
    timeouts = [d for s in definition.states.values() for d in s.deadlines if d.timeout is not None]
    assert timeouts, "the shared fixture has a timeout"
    dl = timeouts[0]
    assert dl.timeout is not None
    text = to_mermaid(definition, "en")
    assert f"{dl.state} --> {dl.timeout.target}" in text
    assert "⏰" in text.split(f"{dl.state} --> {dl.timeout.target}:")[1].splitlines()[0]
    doc = etree.fromstring(to_bpmn(definition).encode())
    interrupting = [
        b
        for b in doc.iterfind(".//bpmn:boundaryEvent", BPMN_NS)
        if b.get("cancelActivity") == "true"
    ]
    assert interrupting and TIMEOUT_PREFIX


def test_export_cli_writes_each_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``paketflow export DEF --format F`` prints the export; ``--output`` writes it."""
    paket = str(ROOT / "processes" / "paket.json")
    assert cli(["export", paket, "--format", "mermaid", "--lang", "id"]) == 0
    assert "stateDiagram-v2" in capsys.readouterr().out
    out = tmp_path / "p.bpmn"
    assert cli(["export", paket, "--format", "bpmn", "--output", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("<?xml")
    assert cli(["export", paket, "--format", "dot"]) == 0
    assert capsys.readouterr().out.startswith("digraph")


def test_export_cli_reports_a_bad_definition(capsys: pytest.CaptureFixture[str]) -> None:
    """A definition that does not load exits 2 with its problems on stderr."""
    bad = ROOT / "processes" / "invalid" / "15-dangling-target.json"
    assert cli(["export", str(bad), "--format", "bpmn"]) == 2
    assert "15-dangling-target.json" in capsys.readouterr().err


def test_export_rejects_unknown_format_and_language(paket: paketflow.ProcessDefinition) -> None:
    """The Python entry point names the bad argument and the choices."""
    with pytest.raises(paketflow.PaketflowError, match=r"format: 'svg' is not an export format"):
        export(paket, "svg")
    with pytest.raises(paketflow.PaketflowError, match=r"lang: 'fr' is not a language"):
        export(paket, "bpmn", "fr")


def test_docs_show_the_current_paket_diagram(paket: paketflow.ProcessDefinition) -> None:
    """docs/diagram.md embeds exactly what ``paketflow export processes/paket.json
    --format mermaid`` prints (regenerate with scripts/gen_diagram_doc.py)."""
    page = (ROOT / "docs" / "diagram.md").read_text(encoding="utf-8")
    assert "```mermaid\n" + to_mermaid(paket, "en") + "```" in page
    assert "```mermaid\n" + to_mermaid(paket, "id") + "```" in page
