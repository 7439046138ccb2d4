"""paketflow check / paketflow.testing.check: the bounded exhaustive checker."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import pytest

from conftest import MINI
from paketflow import load_definition
from paketflow._cli import main
from paketflow._runtime.simulate import load_scenario, run_scenario
from paketflow.testing import check, counterexample
from planted_bugs import PLANTED, PROCESSES, SC1, SC2, Planted


@pytest.mark.parametrize("bug", PLANTED, ids=lambda b: b.name)
def test_check_finds_each_planted_bug_with_a_replayable_counterexample(bug: Planted) -> None:
    """Each planted bug is reported with its invariant, and the shortest
    counterexample is a scenario that `paketflow simulate` replays without a failed
    expectation, its last step naming the violated invariant."""
    definition = bug.definition()
    result = check(definition, depth=2, from_scenario=bug.scenario, steps=bug.steps)
    found = {f.violation.id: f for f in result.findings}
    assert bug.invariant in found
    scenario = counterexample(result, found[bug.invariant], definition)
    assert bug.invariant in scenario["steps"][-1]["note"]
    replayed = run_scenario(definition, load_scenario(scenario))
    assert replayed.ok, [s.failures for s in replayed.steps if s.failures]


@pytest.mark.parametrize(
    ("name", "scenario", "steps", "depth"),
    [
        ("paket", SC2, 1, 4),
        ("paket", SC2, 14, 2),
        ("paket", SC2, 19, 2),
        ("paket", SC2, 45, 2),
        ("paket-kabupaten", SC2, 19, 2),
        ("paket-blm-3-tahap", SC2, 30, 1),
        ("paket-tahap-tunggal", SC1, 45, 2),
        ("paket-tahap-tunggal", SC1, 8, 2),
    ],
)
def test_check_is_silent_on_the_shipped_definitions(
    name: str, scenario: Path, steps: int, depth: int
) -> None:
    """No built-in or declared invariant is violated near the shipped scenarios of
    the shipped PAKET definitions (the planted bugs are found from the same places)."""
    definition = load_definition(PROCESSES / f"{name}.json")
    result = check(definition, depth=depth, from_scenario=scenario, steps=steps, budget=3000)
    assert [str(f.violation) for f in result.findings] == []
    assert result.states > 1


def _cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    import contextlib

    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def test_cli_exit_0_prints_states_and_rate(tmp_path: Path) -> None:
    """A clean check exits 0 and prints the number of states and states per second."""
    code, out, _ = _cli(
        "check", str(PROCESSES / "paket.json"), "--from", str(SC2), "--steps", "19", "--depth", "1"
    )
    assert code == 0
    assert "states visited" in out and "states/s" in out and "no invariant violated" in out


def test_cli_exit_1_writes_the_counterexample(tmp_path: Path) -> None:
    """A violation exits 1, lists the invariant and writes the counterexample file."""
    bug = PLANTED[2]
    definition_file = tmp_path / "bug.json"
    definition_file.write_text(json.dumps(bug.definition().document), "utf-8")
    target = tmp_path / "ce.json"
    code, out, _ = _cli(
        "check",
        str(definition_file),
        "--from",
        str(bug.scenario),
        "--steps",
        str(bug.steps),
        "--depth",
        "1",
        "--counterexample",
        str(target),
    )
    assert code == 1
    assert f"VIOLATED {bug.invariant}" in out
    assert json.loads(target.read_text("utf-8"))["id"] == f"CE-{bug.invariant}"
    assert _cli("simulate", str(definition_file), str(target))[0] == 0


def test_cli_exit_2_on_usage_errors(tmp_path: Path) -> None:
    """A missing file, --steps without --from, or a bad number exit 2."""
    assert _cli("check", str(tmp_path / "missing.json"))[0] == 2
    code, _, err = _cli("check", str(PROCESSES / "paket.json"), "--steps", "3")
    assert code == 2 and err == "paketflow check: --steps needs --from SCENARIO\n"
    assert _cli("check", str(PROCESSES / "paket.json"), "--depth", "-1")[0] == 2
    code, _, err = _cli(
        "check", str(PROCESSES / "paket.json"), "--from", str(SC2), "--steps", "999"
    )
    assert code == 2 and "more than the scenario's 55 steps" in err


def test_budget_stops_the_search_cleanly() -> None:
    """The search stops at the state budget and says so."""
    definition = load_definition(PROCESSES / "paket.json")
    result = check(definition, depth=6, from_scenario=SC2, steps=14, budget=50)
    assert result.stopped and result.states == 50
    code, out, _ = _cli(
        "check",
        str(PROCESSES / "paket.json"),
        "--from",
        str(SC2),
        "--steps",
        "14",
        "--budget",
        "50",
    )
    assert code == 0 and "stopped at the state budget (50 states)" in out


def _mini(**changes: object) -> dict[str, object]:
    doc = copy.deepcopy(MINI)
    doc.update(changes)
    return doc


def test_check_explores_from_the_start_without_a_scenario() -> None:
    """Without --from the search starts from representative start data."""
    result = check(load_definition(MINI), depth=5)
    assert result.ok and result.states > 10


def _trap(x: int) -> dict[str, object]:
    L = {"id": "t", "en": "t"}
    stay = [
        {"when": {"==": [{"var": "data.x"}, 1]}, "target": "B"},
        {"otherwise": True, "target": "END"},
    ]
    return {
        "format": 1,
        "id": "trap",
        "version": "1.0.0",
        "labels": L,
        "roles": {"R": {"labels": L}},
        "events": {"go": {"labels": L}, "loop": {"labels": L}},
        "data": {"type": "object", "properties": {"x": {"const": x}}, "required": ["x"]},
        "initial": "A",
        "states": {
            "A": {"labels": L, "on": {"go": {"roles": ["R"], "target": "B"}}},
            "B": {"labels": L, "on": {"loop": {"roles": ["R"], "alternatives": stay}}},
            "END": {"labels": L, "final": True},
        },
        "invariants": {"FINAL": {"labels": L, "reachable": "final"}},
    }


def test_a_trap_state_breaks_a_reachable_invariant_with_the_shortest_path() -> None:
    """A state from which no final state can be reached (here: data decides that the
    loop never ends, so the start state is already doomed) is reported for
    `reachable: "final"` with the shortest path to it; with data that lets the loop
    end, nothing is reported."""
    result = check(load_definition(_trap(1)), depth=4)
    (finding,) = result.findings
    assert finding.violation.id == "FINAL"
    assert finding.violation.detail == (
        "from state A no run reaches END (every continuation was explored)"
    )
    assert [c.kind for c, _ in finding.path] == ["start"]
    assert check(load_definition(_trap(2)), depth=4).ok


def test_a_state_invariant_is_checked_in_every_reached_state() -> None:
    """A declared state invariant that a reachable state breaks is reported with the
    path to the first such state."""
    doc = _mini(
        invariants={
            "SMALL": {
                "labels": {"id": "kecil", "en": "small"},
                "always": {"<": [{"var": "data.required"}, 0]},
            }
        }
    )
    result = check(load_definition(doc), depth=1)
    (finding,) = result.findings
    assert finding.violation.id == "SMALL" and finding.violation.kind == "declared"
    assert [c.kind for c, _ in finding.path] == ["start"]
