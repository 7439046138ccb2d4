"""paketflow.testing: prove that a process definition keeps its invariants.

Install with the ``testing`` extra (``pip install paketflow[testing]``); ``import
paketflow`` never imports this package. Three entry points (see docs/testing.md):

- :func:`machine_for` returns a Hypothesis ``RuleBasedStateMachine`` class that drives
  random valid and invalid commands through an engine with a manual clock and checks
  every invariant after every step;
- :func:`check` explores every distinct state within a number of commands (what
  ``paketflow check`` runs) and returns the shortest counterexample of each violated
  invariant; :func:`counterexample` turns one into a scenario file;
- the strategies (:func:`actors`, :func:`payloads`, :func:`commands`) for tests of
  your own.

Invariants are the built-in ones (:data:`BUILTIN_INVARIANTS`) plus those the
definition declares in ``/invariants``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from hypothesis import strategies as st

from paketflow import Actor, ProcessDefinition
from paketflow.testing._check import DEFAULT_BUDGET, CheckResult, Finding, check, counterexample
from paketflow.testing._invariants import BUILTIN as BUILTIN_INVARIANTS
from paketflow.testing._invariants import Violation
from paketflow.testing._machine import machine_for
from paketflow.testing._payloads import strategy as _strategy
from paketflow.testing._world import Command, canonical_actors

__all__ = [
    "BUILTIN_INVARIANTS",
    "DEFAULT_BUDGET",
    "CheckResult",
    "Command",
    "Finding",
    "Violation",
    "actors",
    "check",
    "commands",
    "counterexample",
    "machine_for",
    "payloads",
]


def actors(definition: ProcessDefinition, extra: Iterable[Actor] = ()) -> st.SearchStrategy[Actor]:
    """Actors holding the definition's roles and elements: one person per role (as
    many as its largest signature slot needs), one person per element holding every
    role, and ``extra``."""
    return st.sampled_from(canonical_actors(definition, extra))


def payloads(definition: ProcessDefinition, event: str) -> st.SearchStrategy[Any]:
    """Payloads for ``event`` from its payload schema (the first state that declares
    it), mostly valid, sometimes not."""
    for state in definition.states.values():
        tr = state.transitions.get(event)
        if tr is not None:
            return _strategy(tr.data_schema or {"type": "object"})
    return _strategy({"type": "object"})


def commands(
    definition: ProcessDefinition, *, at: dt.datetime, extra: Iterable[Actor] = ()
) -> st.SearchStrategy[Command]:
    """Single commands (``fire`` any declared event with a payload, or ``sign``) by
    the canonical actors at ``at``; ``st.lists(commands(...))`` gives sequences."""
    people = canonical_actors(definition, extra)
    events = sorted(definition.events)
    fire = st.tuples(st.sampled_from(people), st.sampled_from(events)).flatmap(
        lambda pair: payloads(definition, pair[1]).map(
            lambda data: Command("fire", at, pair[0], pair[1], data)
        )
    )
    sign = st.sampled_from(people).map(lambda a: Command("sign", at, a))
    return fire | sign
