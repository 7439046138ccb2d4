"""The world the checker and the state machine act in: canonical actors, commands, a
one-instance store the engine runs against, and the canonical fingerprint of a state.

Everything goes through the public API: :class:`paketflow.Engine` runs the commands,
:class:`_ForkStore` implements the public :class:`paketflow.Store` protocol so one
compiled engine can continue from any explored snapshot (no definition is loaded or
compiled twice), and reading history goes through :mod:`._history`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from paketflow import (
    Actor,
    Engine,
    Event,
    Instance,
    ManualClock,
    PaketflowError,
    ProcessDefinition,
    Reason,
    Refused,
    ScenarioError,
    UnknownInstance,
)

__all__ = [
    "Command",
    "Node",
    "Outcome",
    "Runner",
    "canonical_actors",
    "fingerprint",
    "plain",
]

INSTANCE_ID = "check-1"


def plain(value: Any) -> Any:
    """A JSON-shaped copy of ``value`` (mappings, sequences, sets, datetimes)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return sorted(plain(v) for v in value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _default(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, frozenset | set):
        return sorted(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(f"not JSON: {value!r}")


def fingerprint(instance: Instance, now: dt.datetime) -> bytes:
    """The canonical fingerprint of an abstract state: what the rules can see (state,
    data, who signed which slot, armed deadlines, flags, person sets, the time), not
    how it was reached (signature times, names, version)."""
    doc = [
        instance.state,
        instance.data,
        sorted([s.slot, s.actor, s.element or ""] for s in instance.signatures),
        sorted(
            [a.id, a.due.isoformat(), a.fired, [[w.isoformat(), n] for w, n in a.steps]]
            for a in instance.deadlines
        ),
        sorted(instance.flags),
        {k: sorted(v) for k, v in instance.sets.items()},
        instance.entered_at.isoformat(),
        now.isoformat(),
    ]
    raw = json.dumps(doc, sort_keys=True, separators=(",", ":"), default=_default)
    return hashlib.blake2b(raw.encode(), digest_size=16).digest()


@attrs.frozen
class Command:
    """One command: ``start``, ``sign``, ``fire`` or ``tick`` at ``at``."""

    kind: str
    at: dt.datetime
    actor: Actor | None = None
    event: str | None = None
    data: Mapping[str, Any] | None = attrs.field(default=None, eq=False)
    slot: str | None = None

    def describe(self) -> str:
        who = self.actor.id if self.actor else "sistem"
        if self.kind == "fire":
            return f"{who} fires {self.event} {json.dumps(plain(self.data or {}), sort_keys=True)}"
        if self.kind == "tick":
            return f"tick at {self.at.isoformat()}"
        return f"{who} {self.kind}s" + (f" slot {self.slot}" if self.slot else "")


@attrs.frozen
class Outcome:
    """What a command did: accepted or refused (with reasons), the snapshot after, the
    events it recorded, and whether the refused command wrote anything."""

    accepted: bool
    after: Instance | None
    events: tuple[Event, ...] = ()
    reasons: tuple[Reason, ...] = ()
    wrote_on_refusal: bool = False
    error: str | None = None

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)


@attrs.frozen(eq=False)
class Node:
    """An explored state: the snapshot, its history, the time, and how it was reached
    (``parent`` + ``command``, for the shortest counterexample)."""

    instance: Instance
    history: tuple[Event, ...]
    now: dt.datetime
    depth: int = 0
    parent: Node | None = None
    command: Command | None = None
    outcome: Outcome | None = None

    def path(self) -> list[tuple[Command, Outcome]]:
        steps: list[tuple[Command, Outcome]] = []
        node: Node | None = self
        while node is not None and node.command is not None and node.outcome is not None:
            steps.append((node.command, node.outcome))
            node = node.parent
        return steps[::-1]


class _ForkStore:
    """A :class:`paketflow.Store` holding one instance, whose current snapshot the
    runner sets before each command; ``append`` only records what the engine wrote."""

    def __init__(self) -> None:
        self.current: Instance | None = None
        self.events: tuple[Event, ...] = ()
        self.appended: tuple[Instance, tuple[Event, ...]] | None = None

    def load(self, instance_id: str) -> Instance:
        if self.current is None or self.current.id != instance_id:
            raise UnknownInstance(instance_id)
        return self.current

    def append(
        self,
        instance: Instance,
        events: Sequence[Event],
        *,
        expected_version: int,
        idempotency: tuple[str, str] | None = None,
    ) -> None:
        self.appended = (instance, tuple(events))

    def history(self, instance_id: str) -> list[Event]:
        self.load(instance_id)
        return list(self.events)

    def idempotent(self, key: str) -> tuple[str, str, int] | None:
        return None

    def due(self, now: dt.datetime) -> list[str]:
        # Always "due": the engine itself must not fire a step before its time.
        return [self.current.id] if self.current is not None else []


class _Quiet:
    """A logger that drops everything: the checker runs millions of commands."""

    def bind(self, **_: Any) -> _Quiet:
        return self

    def info(self, *_: Any, **__: Any) -> None:
        return None


class Runner:
    """Runs commands on any explored snapshot with one engine (compiled once)."""

    def __init__(
        self,
        definition: ProcessDefinition,
        engine: Engine | None = None,
        instance_id: str = INSTANCE_ID,
    ) -> None:
        self.definition = definition
        self.instance_id = instance_id
        self.store = _ForkStore()
        self.clock = ManualClock(dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        self.engine = engine or Engine(
            [definition], store=self.store, clock=self.clock, logger=_Quiet()
        )
        if engine is not None:
            self.engine.store = self.store

    def run(self, node: Node | None, command: Command) -> Outcome:
        """Run ``command`` on ``node`` (``None``: nothing started yet)."""
        store = self.store
        store.current = node.instance if node else None
        store.events = node.history if node else ()
        store.appended = None
        engine = self.engine
        iid = node.instance.id if node else self.instance_id
        try:
            if command.kind == "start":
                assert command.actor is not None
                engine.start(
                    definition=self.definition,
                    instance_id=iid,
                    data=command.data or {},
                    actor=command.actor,
                    at=command.at,
                )
            elif command.kind == "sign":
                assert command.actor is not None
                engine.sign(iid, actor=command.actor, slot=command.slot, at=command.at)
            elif command.kind == "fire":
                assert command.actor is not None and command.event is not None
                engine.fire(
                    iid, command.event, actor=command.actor, data=command.data, at=command.at
                )
            else:
                engine.tick(command.at)
        except Refused as refusal:
            return Outcome(
                False,
                node.instance if node else None,
                reasons=tuple(refusal.reasons),
                wrote_on_refusal=store.appended is not None,
            )
        except PaketflowError as exc:
            return Outcome(False, node.instance if node else None, error=str(exc))
        if store.appended is None:
            return Outcome(True, node.instance if node else None)
        after, events = store.appended
        return Outcome(True, after, events)

    def allowed(self, node: Node, actor: Actor) -> Any:
        self.store.current = node.instance
        self.store.events = node.history
        return self.engine.allowed(node.instance.id, actor, at=node.now)

    def child(self, node: Node | None, command: Command, outcome: Outcome) -> Node:
        assert outcome.after is not None
        history = (*(node.history if node else ()), *outcome.events)
        now = max(command.at, node.now) if node else command.at
        return Node(
            outcome.after,
            history,
            now,
            (node.depth + 1) if node else 0,
            node,
            command,
            outcome,
        )


# -- actors ---------------------------------------------------------------------------


def canonical_actors(
    definition: ProcessDefinition, extra: Iterable[Actor] = ()
) -> tuple[Actor, ...]:
    """Canonical actors of a definition: for every role, as many persons as its
    largest signature slot needs (each representing the role's element, or each
    element when the role has none but a slot asks for one), plus one person per
    element holding every role (so segregation-of-duties exclusions are exercised),
    plus ``extra`` (a scenario's actors)."""
    need: dict[str, int] = {}
    element_slots: dict[str, set[str]] = {}
    for state in definition.states.values():
        if state.signatures is None:
            continue
        for slot in state.signatures.slots:
            for role in slot.roles:
                need[role] = max(need.get(role, 1), slot.count)
                if slot.element is not None:
                    element_slots.setdefault(role, set()).add(slot.element)
    out: list[Actor] = []
    for rid, decl in definition.roles.items():
        count = need.get(rid, 1)
        if decl.pool is not None:
            count = max(1, min(count, decl.pool))
        elements: list[str | None] = [decl.element]
        if decl.element is None and rid in element_slots:
            elements = [*sorted(element_slots[rid])]
        for element in elements:
            for n in range(count):
                suffix = f"-{element}" if element and decl.element is None else ""
                out.append(Actor(f"{rid.lower()}{suffix}-{n + 1}", {rid}, element=element))
    every = set(definition.roles)
    for element in [*definition.elements, None]:
        out.append(Actor(f"semua-{element or 'peran'}", every, element=element))
    seen = {a.id for a in out}
    for actor in extra:
        if actor.id not in seen:
            seen.add(actor.id)
            out.append(actor)
    return tuple(out)


# -- scenarios -----------------------------------------------------------------------


def moment(text: str, tz: dt.tzinfo) -> dt.datetime:
    """A scenario time: a date is local midnight; no offset means local time."""
    if len(text) == 10:
        return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(0), tz)
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=tz)


@attrs.frozen
class Prefix:
    """The first steps of a scenario, as commands, with the scenario's actors."""

    commands: tuple[Command, ...]
    steps: tuple[Mapping[str, Any], ...]
    actors: Mapping[str, Any]
    instance: str
    payloads: Mapping[str, tuple[Mapping[str, Any], ...]]
    source: str


def read_prefix(source: str | Path | Mapping[str, Any], steps: int | None, tz: dt.tzinfo) -> Prefix:
    """The first ``steps`` steps (all when ``None``) of a scenario file."""
    from paketflow._runtime.simulate import load_scenario  # the format's one reader

    doc = load_scenario(source)
    actors: Mapping[str, Any] = doc.get("actors", {})
    chosen = doc["steps"] if steps is None else doc["steps"][:steps]
    if steps is not None and steps > len(doc["steps"]):
        raise ScenarioError(
            f"{source}: --steps {steps} is more than the scenario's {len(doc['steps'])} steps; "
            "give a smaller number"
        )
    commands: list[Command] = []
    payloads: dict[str, list[Mapping[str, Any]]] = {}
    for step in doc["steps"]:
        if step["command"] == "fire" and isinstance(step.get("data"), Mapping):
            payloads.setdefault(step["event"], []).append(step["data"])
    for step in chosen:
        ref = step.get("actor")
        spec = actors[ref] if isinstance(ref, str) else ref
        commands.append(
            Command(
                step["command"],
                moment(step["at"], tz),
                Actor.from_dict(spec) if spec else None,
                step.get("event"),
                step.get("data"),
                step.get("slot"),
            )
        )
    return Prefix(
        tuple(commands),
        tuple(chosen),
        actors,
        doc.get("instance") or doc["id"],
        {k: tuple(v) for k, v in payloads.items()},
        str(source) if not isinstance(source, Mapping) else "<mapping>",
    )


def scenario_actors(actors: Mapping[str, Any]) -> list[Actor]:
    return [Actor.from_dict(spec) for spec in actors.values()]
