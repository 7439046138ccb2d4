"""Mermaid ``stateDiagram-v2`` and Graphviz DOT of a definition, drawn by
``transitions``' diagram support from the compiled machine, with the labels of the chosen
language and notes on signatures and deadlines."""

from __future__ import annotations

from typing import Literal

from paketflow._compile import TIMEOUT_PREFIX, compile_definition, machine_graph
from paketflow._definition.model import Deadline, ProcessDefinition, State

__all__ = ["notes_for", "to_dot", "to_mermaid"]

_WORDS = {
    "id": {
        "sign": "Tanda tangan",
        "distinct": "orang berbeda",
        "deadline": "Batas waktu",
        "after": "setelah",
        "notify": "beri tahu",
        "timeout": "habis",
        "from_data": "tanggal dari data",
        "working_days": "hari kerja",
    },
    "en": {
        "sign": "Signatures",
        "distinct": "distinct persons",
        "deadline": "Deadline",
        "after": "after",
        "notify": "notify",
        "timeout": "timeout",
        "from_data": "date from data",
        "working_days": "working days",
    },
}


def _due(dl: Deadline, lang: str) -> str:
    w = _WORDS[lang]
    if dl.due.kind == "duration" and dl.due.duration is not None:
        return dl.due.duration.text
    if dl.due.kind == "workingDays":
        return f"{dl.due.working_days} {w['working_days']}"
    return w["from_data"]


def notes_for(state: State, lang: str) -> list[str]:
    """Lines describing the signature rule and the deadlines of ``state``."""
    w = _WORDS[lang]
    lines: list[str] = []
    if state.signatures is not None:
        slots = []
        for slot in state.signatures.slots:
            name = slot.labels.get(lang) if slot.labels is not None else slot.id
            slots.append(f"{slot.count}× {name}" if slot.count != 1 else name)
        extra = f" ({w['distinct']})" if state.signatures.distinct_persons else ""
        lines.append(f"✍ {w['sign']}{extra}: " + ", ".join(slots))
    for dl in state.deadlines:
        name = dl.labels.get(lang) if dl.labels is not None else dl.id
        tiers = []
        for tier in dl.escalations:
            after = (
                tier.after.duration.text if tier.after.duration else str(tier.after.working_days)
            )
            notify = f" {w['notify']} {', '.join(tier.notify)}" if tier.notify else ""
            tiers.append(f"+{after}{notify}")
        if dl.timeout is not None:
            tiers.append(f"{w['timeout']} → {dl.timeout.target}")
        lines.append(
            f"⏰ {w['deadline']} {name} ({_due(dl, lang)})"
            + (": " if tiers else "")
            + " · ".join(tiers)
        )
    return lines


def _labels(definition: ProcessDefinition, lang: str) -> tuple[dict[str, str], dict[str, str]]:
    states = {sid: s.labels.get(lang) for sid, s in definition.states.items()}
    triggers = {eid: e.labels.get(lang) for eid, e in definition.events.items()}
    for state in definition.states.values():
        for dl in state.deadlines:
            if dl.timeout is not None:
                name = dl.labels.get(lang) if dl.labels is not None else dl.id
                event = triggers.get(dl.timeout.event, dl.timeout.event)
                triggers[TIMEOUT_PREFIX + dl.id] = f"⏰ {name}: {event}"
    return states, triggers


def _mermaid_text(text: str) -> str:
    # Mermaid ends a state description at a double quote and a statement at ';'.
    return text.replace('"', "'").replace(";", ",").replace("\n", " ")


def _graph(
    definition: ProcessDefinition,
    lang: str,
    engine: Literal["mermaid", "graphviz"],
    states: dict[str, str],
) -> str:
    _, triggers = _labels(definition, lang)
    return machine_graph(
        compile_definition(definition),
        engine=engine,
        title=definition.labels.get(lang),
        state_labels=states,
        trigger_labels=triggers,
    )


def to_mermaid(definition: ProcessDefinition, lang: str = "en") -> str:
    """A Mermaid state diagram: one arrow per move, labelled by the events that take
    it; final states end in ``[*]``; notes carry signatures and deadlines."""
    states, triggers = _labels(definition, lang)
    safe_states = {k: _mermaid_text(v) for k, v in states.items()}
    source = _graph(definition, lang, "mermaid", safe_states)
    lines = [_mermaid_text(line) if "-->" in line else line for line in source.splitlines()]
    del triggers
    for sid, state in definition.states.items():
        if state.final:
            lines.append(f"  {sid} --> [*]")
        notes = notes_for(state, lang)
        if notes:
            lines.append(f"  note right of {sid}")
            lines.extend(f"    {_mermaid_text(n)}" for n in notes)
            lines.append("  end note")
    return "\n".join(lines) + "\n"


def to_dot(definition: ProcessDefinition, lang: str = "en") -> str:
    """A Graphviz DOT digraph; each state's label lists its signatures and deadlines."""
    states, _ = _labels(definition, lang)
    for sid, state in definition.states.items():
        notes = notes_for(state, lang)
        if notes:
            states[sid] = "\\l".join([states[sid], *notes])
    return _graph(definition, lang, "graphviz", states)
