"""paketflow.testing.machine_for and the strategies."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import Phase, given, settings

import paketflow
from conftest import MINI
from paketflow import Engine, load_definition
from paketflow._runtime.simulate import load_scenario, run_scenario
from paketflow.testing import actors, commands, machine_for, payloads
from planted_bugs import PLANTED, PROCESSES, SC2, Planted

FAST = {"database": None, "derandomize": True, "phases": [Phase.generate]}


@pytest.mark.parametrize("bug", PLANTED, ids=lambda b: b.name)
def test_machine_finds_each_planted_bug(bug: Planted, tmp_path: Path) -> None:
    """From the scenario prefix the state machine hits each planted bug, fails with
    the invariant and the steps, and writes a scenario that replays them."""
    definition = bug.definition()
    target = tmp_path / "ce.json"
    machine = machine_for(
        definition, from_scenario=bug.scenario, steps=bug.steps, counterexample=target
    )
    machine.TestCase.settings = settings(
        machine.TestCase.settings, max_examples=400, stateful_step_count=20, **FAST
    )
    with pytest.raises(AssertionError, match=bug.invariant):
        machine.TestCase("runTest").runTest()
    replayed = run_scenario(definition, load_scenario(target))
    assert replayed.ok


def test_machine_is_silent_on_paket() -> None:
    """Random runs from an SC-2 prefix on the shipped definition break nothing."""
    definition = load_definition(PROCESSES / "paket.json")
    machine = machine_for(
        definition,
        from_scenario=SC2,
        steps=16,
        engine_factory=lambda d: Engine([d]),
    )
    machine.TestCase.settings = settings(
        machine.TestCase.settings, max_examples=25, stateful_step_count=15, **FAST
    )
    machine.TestCase("runTest").runTest()


def test_machine_from_the_start_of_a_small_definition() -> None:
    """Without a scenario the runs start from representative start data."""
    machine = machine_for(load_definition(MINI))
    machine.TestCase.settings = settings(
        machine.TestCase.settings, max_examples=25, stateful_step_count=15, **FAST
    )
    machine.TestCase("runTest").runTest()


def test_importing_paketflow_does_not_import_testing() -> None:
    """paketflow/__init__ never imports paketflow.testing (a fresh interpreter)."""
    import subprocess
    import sys

    code = "import sys, paketflow; print('paketflow.testing' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False"
    assert not hasattr(paketflow, "testing") or "testing" not in paketflow.__all__


MINI_DEF = load_definition(MINI)


@settings(max_examples=30, database=None)
@given(actors(MINI_DEF))
def test_actors_hold_declared_roles_and_elements(actor: paketflow.Actor) -> None:
    """Every generated actor holds declared roles and represents a declared element."""
    assert actor.roles <= set(MINI_DEF.roles)
    assert actor.element is None or actor.element in MINI_DEF.elements


@settings(max_examples=30, database=None)
@given(payloads(MINI_DEF, "pay"))
def test_payloads_are_json_objects(payload: object) -> None:
    """Payloads from a payload schema are JSON objects."""
    assert isinstance(payload, dict)
    json.dumps(payload)


@settings(max_examples=30, database=None)
@given(commands(MINI_DEF, at=dt.datetime(2012, 6, 4, tzinfo=dt.UTC)))
def test_commands_name_declared_events(command: paketflow.testing.Command) -> None:
    """Generated commands are sign, or fire of a declared event."""
    assert command.kind in ("sign", "fire")
    assert command.kind == "sign" or command.event in MINI_DEF.events
