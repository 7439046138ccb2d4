"""Invariants declared in a definition (``/invariants``): static checks and the model.

The engine never evaluates invariants; :mod:`paketflow.testing` and ``paketflow
check`` do. The loader calls :func:`invariant_problems` after the semantic checks so a
wrong invariant (an undefined state or event, an expression that does not compile, a
state invariant that reads the payload) is a :class:`~paketflow.DefinitionError` like
any other. :func:`compile_invariants` turns the section of a loaded definition into
frozen model objects, one class per kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from paketflow._definition.model import Labels
from paketflow._errors import Problem
from paketflow._expr import Expr, ExprSyntaxError, compile_expr, var_roots

__all__ = [
    "Invariant",
    "ReachInvariant",
    "StateInvariant",
    "TransitionInvariant",
    "compile_invariants",
    "invariant_problems",
]

#: ``var`` roots a state invariant may read: the state, never a command.
STATE_ROOTS = frozenset({"data", "state", "flags", "sets", "signers", "deadlines", "at", "today"})


@attrs.frozen
class StateInvariant:
    """``always`` holds in every reachable state (or only in ``states``)."""

    id: str
    labels: Labels
    always: Expr
    states: tuple[str, ...] = ()
    rule: str | None = None


@attrs.frozen
class TransitionInvariant:
    """Whenever ``event`` is accepted (from ``sources``, to ``targets``; empty: any),
    ``require`` holds on the state before, with the payload and the actor."""

    id: str
    labels: Labels
    event: str
    require: Expr
    sources: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    rule: str | None = None


@attrs.frozen
class ReachInvariant:
    """From every reachable state one of ``targets`` can still be reached
    (``targets == ()``: any final state)."""

    id: str
    labels: Labels
    targets: tuple[str, ...] = ()
    rule: str | None = None


Invariant = StateInvariant | TransitionInvariant | ReachInvariant


def _esc(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _roots(node: Any) -> set[str]:
    return set(var_roots(node))


def invariant_problems(doc: Mapping[str, Any], file: str) -> list[Problem]:
    """Every problem of ``/invariants`` in a schema-valid resolved document."""
    problems: list[Problem] = []
    states: Mapping[str, Any] = doc.get("states", {})
    events: Mapping[str, Any] = doc.get("events", {})

    def add(code: str, pointer: str, message: str, hint: str, value: Any = None) -> None:
        problems.append(Problem(code, pointer, message, hint, file, value))

    def state_refs(names: Any, pointer: str) -> None:
        for i, name in enumerate(names or ()):
            if name not in states:
                add(
                    "ref.state",
                    f"{pointer}/{i}",
                    f"undefined state {name!r}",
                    f"declare {name!r} in /states or remove it",
                    name,
                )

    def expr(node: Any, pointer: str) -> None:
        try:
            compile_expr(node, pointer)
        except ExprSyntaxError as exc:
            add(
                exc.code,
                exc.pointer,
                exc.message,
                "see Expressions in docs/definition-language.md",
                exc.value if not isinstance(exc.value, dict) else None,
            )

    for iid, inv in doc.get("invariants", {}).items():
        base = f"/invariants/{_esc(iid)}"
        for lang, name in (("id", "Indonesian"), ("en", "English")):
            if not inv["labels"][lang].strip():
                add(
                    "labels.missing",
                    f"{base}/labels/{lang}",
                    f"the {name} text is empty",
                    "write the label in both Indonesian and English",
                    inv["labels"][lang],
                )
        if "always" in inv:
            expr(inv["always"], f"{base}/always")
            bad = sorted(_roots(inv["always"]) - STATE_ROOTS)
            if bad:
                add(
                    "invariant.reads-command",
                    f"{base}/always",
                    f"a state invariant reads {', '.join(bad)}, which only a command has",
                    "use a transition invariant (on + require) to speak about a command",
                    bad[0],
                )
            state_refs(inv.get("in"), f"{base}/in")
        elif "on" in inv:
            if inv["on"] not in events:
                add(
                    "ref.event",
                    f"{base}/on",
                    f"undefined event {inv['on']!r}",
                    f"declare {inv['on']!r} in /events",
                    inv["on"],
                )
            expr(inv["require"], f"{base}/require")
            state_refs(inv.get("from"), f"{base}/from")
            state_refs(inv.get("to"), f"{base}/to")
        else:
            targets = inv["reachable"]
            if targets == "final":
                continue
            state_refs(targets, f"{base}/reachable")
    return problems


def compile_invariants(doc: Mapping[str, Any]) -> tuple[Invariant, ...]:
    """The model of ``/invariants`` of a loaded (checked) document, in document order."""
    out: list[Invariant] = []
    for iid, inv in doc.get("invariants", {}).items():
        base = f"/invariants/{_esc(iid)}"
        labels = Labels(inv["labels"]["id"], inv["labels"]["en"])
        rule = inv.get("rule")
        if "always" in inv:
            out.append(
                StateInvariant(
                    iid,
                    labels,
                    compile_expr(inv["always"], f"{base}/always"),
                    tuple(inv.get("in", ())),
                    rule,
                )
            )
        elif "on" in inv:
            out.append(
                TransitionInvariant(
                    iid,
                    labels,
                    inv["on"],
                    compile_expr(inv["require"], f"{base}/require"),
                    tuple(inv.get("from", ())),
                    tuple(inv.get("to", ())),
                    rule,
                )
            )
        else:
            targets = inv["reachable"]
            out.append(
                ReachInvariant(iid, labels, () if targets == "final" else tuple(targets), rule)
            )
    return tuple(out)
