"""Compile a :class:`~paketflow._definition.model.ProcessDefinition` onto a
``transitions`` machine, once per definition hash.

This is the only module that imports ``transitions``. One ``Machine`` is built per
definition (``model=None``, ``auto_transitions=False``, ``send_event=True``) and shared
by every instance: instances are never attached to it. To move an instance the engine
hands the machine a throw-away cursor carrying the current state and triggers the
event.

The machine chooses the target: each alternative of a definition transition becomes one
``transitions`` transition (in the definition's order, ``otherwise`` last) whose
condition is the alternative's compiled ``when`` expression, so the first alternative
whose condition holds is taken, as ``transitions`` does. Conditions are callables from
this module (never strings, which ``transitions`` would resolve as module paths); they
evaluate through a ``test`` callable the engine passes with the trigger, which reads
the command's draft data and reports evaluation errors as refusals. Nothing is
committed by the move itself: the cursor is thrown away, and the engine records the
move only when every later rule (the alternative's effects and notices) passed.

``transitions`` logs every state entry at INFO on the ``transitions`` logger; unless the
host has set a level on that logger, paketflow sets it to WARNING when this module is
imported, so a host's INFO logs carry paketflow's own events only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Literal

import attrs
from jsonschema import Draft202012Validator
from transitions import Machine, State

from paketflow._calendar import WorkingCalendar, zone
from paketflow._definition._payload import payload_validator
from paketflow._definition.model import Deadline, ProcessDefinition
from paketflow._expr import Expr, var_roots
from paketflow._fastschema import fast_predicate

__all__ = ["CompiledProcess", "compile_definition", "machine_graph"]

TIMEOUT_PREFIX = "!timeout:"

_TRANSITIONS_LOG = logging.getLogger("transitions")
if _TRANSITIONS_LOG.level == logging.NOTSET:
    _TRANSITIONS_LOG.setLevel(logging.WARNING)


class _Cursor:
    """The throw-away model ``transitions`` moves; ``state`` is the only attribute."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


def _alternative(index: int, when: Expr | None) -> Callable[[Any], bool]:
    """The condition of alternative ``index``: its ``when`` holds (``otherwise``: always).
    The machine stops at the first that holds; it records its index for the engine."""

    if when is None:

        def otherwise(event_data: Any) -> bool:
            event_data.kwargs["chosen"][0] = index
            return True

        return otherwise

    def condition(event_data: Any) -> bool:
        kw = event_data.kwargs
        if not kw["test"](when):
            return False
        kw["chosen"][0] = index
        return True

    return condition


@attrs.frozen
class CompiledProcess:
    """A definition with its shared machine, payload validators and calendars."""

    definition: ProcessDefinition
    machine: Any = attrs.field(repr=False)
    validators: Mapping[tuple[str, str], Draft202012Validator] = attrs.field(repr=False)
    data_validator: Draft202012Validator | None = attrs.field(repr=False)
    calendars: Mapping[str, WorkingCalendar] = attrs.field(repr=False)
    tz: Any = attrs.field(repr=False)
    roots: frozenset[str] = attrs.field(repr=False, default=frozenset())
    fast: Mapping[tuple[str, str], Callable[[Any], bool]] = attrs.field(repr=False, factory=dict)
    deadlines: Mapping[str, Deadline] = attrs.field(repr=False, factory=dict)
    #: Event name → the deadlines it meets (``met_by``).
    met_by: Mapping[str, frozenset[str]] = attrs.field(repr=False, factory=dict)
    late_dates: Mapping[str, bool] = attrs.field(repr=False, factory=dict)
    """Per state: whether it has date deadlines without ``met_by`` (armed late, by a
    transition within the state, when their date appears)."""

    def move(self, source: str, trigger: str, test: Callable[[Expr], bool]) -> tuple[str, int]:
        """Trigger ``trigger`` from ``source``: the machine takes the first alternative
        whose condition holds (``test`` evaluates a ``when`` expression). Returns the
        resulting state and the index of the alternative taken. Raises ``RuntimeError``
        if no alternative can be taken (every definition transition ends with an
        ``otherwise`` or the loader proves one holds, so this is a bug, never a user
        error)."""
        cursor = _Cursor(source)
        chosen = [-1]
        if not self.machine.events[trigger].trigger(cursor, test=test, chosen=chosen):
            raise RuntimeError(f"machine took no alternative of {trigger!r} from {source!r}")
        return cursor.state, chosen[0]


def compile_definition(definition: ProcessDefinition) -> CompiledProcess:
    """Build the shared machine and validators of ``definition``."""
    transitions: list[dict[str, Any]] = []
    fast: dict[tuple[str, str], Callable[[Any], bool]] = {}
    validators: dict[tuple[str, str], Draft202012Validator] = {}
    for state in definition.states.values():
        for event, tr in state.transitions.items():
            for i, alt in enumerate(tr.alternatives):
                is_internal = alt.target == state.id and not tr.reenter
                transitions.append(
                    {
                        "trigger": event,
                        "source": state.id,
                        "dest": None if is_internal else alt.target,
                        "conditions": [_alternative(i, alt.when)],
                    }
                )
            if tr.data_schema is not None:
                validators[(state.id, event)] = payload_validator(tr.data_schema)
                check = fast_predicate(tr.data_schema)
                if check is not None:
                    fast[(state.id, event)] = check
        for deadline in state.deadlines:
            if deadline.timeout is None:
                continue
            for source in deadline.scope:
                transitions.append(
                    {
                        "trigger": TIMEOUT_PREFIX + deadline.id,
                        "source": source,
                        "dest": deadline.timeout.target,
                        "conditions": [_alternative(0, None)],
                    }
                )
    machine = Machine(
        model=None,
        states=list(definition.states),
        transitions=transitions,
        initial=None,
        auto_transitions=False,
        send_event=True,
        ignore_invalid_triggers=False,
    )
    calendars = {
        cid: WorkingCalendar(
            spec.country,
            cuti_bersama=spec.cuti_bersama,
            extra_holidays=spec.extra_holidays,
            workdays=spec.workdays,
        )
        for cid, spec in definition.calendars.items()
    }
    data_validator = (
        payload_validator(definition.data_schema) if definition.data_schema is not None else None
    )
    return CompiledProcess(
        definition=definition,
        machine=machine,
        validators=validators,
        data_validator=data_validator,
        calendars=calendars,
        tz=zone(definition.timezone),
        roots=_roots(definition.document),
        fast=fast,
        deadlines={dl.id: dl for st in definition.states.values() for dl in st.deadlines},
        met_by=_met_by(definition),
        late_dates={
            sid: any(dl.due.kind == "date" and not dl.met_by for dl in st.deadlines)
            for sid, st in definition.states.items()
        },
    )


def _met_by(definition: ProcessDefinition) -> dict[str, frozenset[str]]:
    met: dict[str, set[str]] = {}
    for state in definition.states.values():
        for dl in state.deadlines:
            for event in dl.met_by:
                met.setdefault(event, set()).add(dl.id)
    return {event: frozenset(ids) for event, ids in met.items()}


def _roots(document: Any) -> frozenset[str]:
    """Which ``var`` roots the definition's expressions read, so the engine builds
    only those parts of the evaluation scope."""
    return var_roots(document)


class _LabelledState(State):
    """A ``transitions`` state that carries the label its diagram shows."""

    def __init__(self, *args: Any, label: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.label = label


def machine_graph(
    compiled: CompiledProcess,
    *,
    engine: Literal["mermaid", "graphviz"],
    title: str,
    state_labels: Mapping[str, str],
    trigger_labels: Mapping[str, str],
) -> str:
    """The source of a diagram (Mermaid ``stateDiagram-v2`` or Graphviz DOT) of the
    compiled machine, drawn by ``transitions``' own diagram support.

    The states and transitions are read from ``compiled.machine`` (the machine every
    instance moves on), not from the document, so the picture cannot drift from what
    runs. Labels replace ids; one arrow per (source, target) pair joins the labels of
    every trigger that takes it.
    """
    from transitions.extensions.diagrams import GraphMachine

    class _Graph(GraphMachine):
        state_cls = _LabelledState

    class _Model:  # the diagram needs one model; it never moves
        pass

    machine = compiled.machine
    specs: list[dict[str, Any]] = []
    for name, event in machine.events.items():
        for source, moves in event.transitions.items():
            for move in moves:
                spec: dict[str, Any] = {
                    "trigger": name,
                    "source": source,
                    "dest": move.dest,
                    "label": trigger_labels.get(name, name),
                }
                if spec not in specs:
                    specs.append(spec)
    model = _Model()
    graph = _Graph(
        model=model,
        states=[{"name": s, "label": state_labels.get(s, s)} for s in machine.states],
        transitions=specs,
        initial=compiled.definition.initial,
        auto_transitions=False,
        graph_engine=engine,
        title=title,
    )
    drawing: Any = graph.model_graphs[id(model)]
    drawing.reset_styling()  # no "active" state: this is the process, not an instance
    return str(drawing.get_graph(title=title).source)
