"""The engine: start instances, collect signatures, fire events, tick deadlines.

Every command follows the same path: check the arguments (:mod:`._boundary`), load the
snapshot, decide (rules → reasons, or effects → a typed event), fold the event into a
new snapshot with :func:`~paketflow._runtime.fold.apply_event` (the same function
replay uses), and append both to the store in one call. A refused command raises
:class:`~paketflow.Refused` before anything is written.

Threads: an ``Engine`` may be shared. Commands on one instance are serialised by a
lock (striped by instance id), commands on different instances run independently, and
the store's ``append`` is atomic. A command that loses a race with another writer of
the same store (another engine or process) is decided again on the fresh snapshot, a
few times, before :class:`~paketflow.ConcurrencyError` is raised; ``tick`` never raises
for contention (the other writer's result stands).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NoReturn, TypeVar

import attrs

from paketflow._calendar import WorkingCalendar
from paketflow._categories import BUILTIN_CATEGORIES
from paketflow._clock import Clock, SystemClock
from paketflow._compile import CompiledProcess, compile_definition
from paketflow._definition.loader import definition_body
from paketflow._definition.model import ProcessDefinition
from paketflow._errors import (
    ArgumentTypeError,
    ConcurrencyError,
    DuplicateInstance,
    HistoryError,
    Reason,
    Refused,
    UnknownDefinition,
    UnknownInstance,
)
from paketflow._json import canonical
from paketflow._logging import DefaultLogger
from paketflow._runtime._boundary import (
    Invalid,
    check_actor,
    check_data,
    check_id,
    check_key,
    check_name,
    check_time,
)
from paketflow._runtime._deadlines import arm_deadlines
from paketflow._runtime._decide import decide, fire_step
from paketflow._runtime._rules import Rejection, check_sign, schema_reasons
from paketflow._runtime.fold import apply_event, fold
from paketflow._runtime.messages import BUILTIN, render
from paketflow._runtime.model import (
    Actor,
    DefinitionRef,
    Escalated,
    Event,
    Instance,
    Permissions,
    Signed,
    Started,
    TimedOut,
)
from paketflow._store.base import Store
from paketflow._store.memory import MemoryStore

__all__ = ["Engine", "replay"]

#: How many times a command that lost a race with another writer is decided again.
RETRIES = 5
_STRIPES = 64
#: Instances claimed per round trip by tick() on stores that offer claim_due.
_CLAIM_BATCH = 500
_T = TypeVar("_T")


def replay(definition: ProcessDefinition, events: Iterable[Event]) -> Instance:
    """Rebuild an instance from its history: a pure fold over the recorded events.

    No rule is re-evaluated, so a later change of code or definition cannot change
    history. Raises :class:`~paketflow.HistoryError` (a ``ValueError``) if the history
    is not one the engine can have recorded, or was recorded on another definition
    (the content hash differs).
    """
    if not isinstance(definition, ProcessDefinition):
        raise ArgumentTypeError(
            f"replay(definition=...) must be a ProcessDefinition (from load_definition), "
            f"got {type(definition).__name__}"
        )
    if isinstance(events, str | bytes | Mapping):
        raise ArgumentTypeError("replay(events=...) must be an iterable of paketflow.Event")
    checked = []
    for ev in events:
        if not isinstance(ev, Event):
            raise ArgumentTypeError(
                f"replay(events=...) must hold paketflow.Event objects, got "
                f"{type(ev).__name__}; read stored JSON with Event.from_dict()"
            )
        checked.append(ev)
    instance = fold(checked)
    if instance.definition_hash != definition.hash:
        raise HistoryError(
            f"history of {instance.id!r} was recorded on {instance.definition_hash}, not on "
            f"{definition.key} ({definition.hash}); replay it with that definition"
        )
    return instance


class Engine:
    """Runs instances of process definitions.

    ``definitions``: the definitions this engine runs (each compiled once, by hash);
    ``store``: persistence (default :class:`~paketflow._store.MemoryStore`); ``clock``:
    time used when a command has no ``at`` (default the wall clock);
    ``calendars``: extra working-day calendars by id (override the definitions' own);
    ``logger``: any object with structlog's ``info(event, **fields)`` (default: the
    standard-library logger ``paketflow``, silent unless enabled, or structlog once
    the host configures it; see docs/logging.md).

    An engine may be shared by threads (see the module docs); idempotency keys are
    recorded in the store, so they are shared by every engine on that store.
    """

    def __init__(
        self,
        definitions: Iterable[ProcessDefinition],
        *,
        store: Store | None = None,
        clock: Clock | None = None,
        calendars: Mapping[str, WorkingCalendar] | None = None,
        logger: Any = None,
    ) -> None:
        self._by_hash: dict[str, CompiledProcess] = {}
        self._by_key: dict[str, CompiledProcess] = {}
        self._latest: dict[str, CompiledProcess] = {}
        self._extra_calendars = dict(calendars or {})
        self.store: Store = store if store is not None else MemoryStore()
        for definition in definitions:
            self.add_definition(definition)
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.log = logger if logger is not None else DefaultLogger()
        self._locks = tuple(threading.RLock() for _ in range(_STRIPES))

    # -- definitions ------------------------------------------------------------------

    def add_definition(self, definition: ProcessDefinition) -> None:
        """Make ``definition`` available to :meth:`start` (compiled once per hash). A
        store that keeps definitions (``save_definition``: every shipped store) gets its
        resolved document, so reports and audits of the store need no file."""
        compiled = self._by_hash.get(definition.hash)
        if compiled is None:
            save = getattr(self.store, "save_definition", None)
            if save is not None:
                save(definition.hash, definition_body(definition))
            compiled = compile_definition(definition)
            if self._extra_calendars:
                cals = {**compiled.calendars, **self._extra_calendars}
                object.__setattr__(compiled, "calendars", cals)
            self._by_hash[definition.hash] = compiled
        self._by_key[definition.key] = compiled
        latest = self._latest.get(definition.id)
        if latest is None or _semver(definition.version) >= _semver(latest.definition.version):
            self._latest[definition.id] = compiled

    def definition(self, ref: str) -> ProcessDefinition:
        """The definition by ``id`` (latest version), ``id@version`` or hash."""
        return self._resolve(ref).definition

    def _resolve(self, ref: str | ProcessDefinition) -> CompiledProcess:
        if not isinstance(ref, str | ProcessDefinition):
            raise ArgumentTypeError(
                f"definition must be an id, 'id@version', a hash or a ProcessDefinition, "
                f"got {type(ref).__name__}"
            )
        if isinstance(ref, ProcessDefinition):
            if ref.hash not in self._by_hash:
                self.add_definition(ref)
            return self._by_hash[ref.hash]
        found = self._by_hash.get(ref) or self._by_key.get(ref) or self._latest.get(ref)
        if found is None:
            known = ", ".join(sorted(self._by_key)) or "none"
            raise UnknownDefinition(
                f"no definition {ref[:200]!r} in this engine (known: {known}); pass it to "
                "Engine([...]) or Engine.add_definition()"
            )
        return found

    def _compiled(self, inst: Instance) -> CompiledProcess:
        cp = self._by_hash.get(inst.definition_hash)
        if cp is None:
            raise UnknownDefinition(
                f"instance {inst.id!r} runs {inst.definition}@{inst.definition_version} "
                f"({inst.definition_hash}), which this engine does not have; pass that "
                "definition to Engine([...]) or Engine.add_definition()"
            )
        return cp

    # -- reading ----------------------------------------------------------------------

    def get(self, instance_id: str) -> Instance:
        """The current snapshot of an instance (read-only); raises
        :class:`~paketflow.UnknownInstance`."""
        if not isinstance(instance_id, str):
            raise ArgumentTypeError(f"instance_id must be a string, got {instance_id!r}")
        return self.store.load(instance_id)

    def history(self, instance_id: str) -> list[Event]:
        """Every event of an instance, oldest first (read-only records)."""
        if not isinstance(instance_id, str):
            raise ArgumentTypeError(f"instance_id must be a string, got {instance_id!r}")
        return list(self.store.history(instance_id))

    # -- commands ---------------------------------------------------------------------

    def start(
        self,
        *,
        definition: str | ProcessDefinition,
        instance_id: str | None = None,
        data: Mapping[str, Any] | None = None,
        actor: Actor,
        at: dt.datetime | None = None,
        idempotency_key: str | None = None,
    ) -> Instance:
        """Start an instance in the definition's initial state.

        ``data`` is checked against the definition's data schema. ``instance_id``
        defaults to a deterministic id: with an ``idempotency_key``, derived from the
        definition and the key (so a retry however late finds the first result);
        without one, from the definition, the actor, the time and the data. Raises
        :class:`~paketflow.DuplicateInstance` when the id exists (and the command is
        not a retry of the one that created it).
        """
        cp = self._resolve(definition)
        d = cp.definition
        try:
            actor = check_actor(actor)
            when = _in_zone(self._when(at), cp)
            payload = check_data(data, "data")
            key = check_key(idempotency_key)
            if instance_id is not None:
                check_id(instance_id, "instance_id")
        except Invalid as bad:
            self._invalid(instance_id, "start", actor, bad)
        if instance_id is None:
            seed: list[Any] = (
                [d.hash, "key", key]
                if key is not None
                else [d.hash, actor.id, when.isoformat(), payload]
            )
            instance_id = f"{d.id}-{_digest(seed)[:16]}"
        iid: str = instance_id
        fingerprint = _digest(["start", d.hash, actor.to_dict(), payload]) if key else ""

        def attempt() -> Instance:
            done = self._replayed(key, iid, fingerprint, "start", actor)
            if done is not None:
                return done
            if cp.data_validator is not None:
                reasons = schema_reasons(cp, cp.data_validator, payload, "start")
                if reasons:
                    self._refuse(iid, "start", actor, reasons)
            state = d.states[d.initial]
            try:
                arm = arm_deadlines(cp, state, payload, when, ())
            except OverflowError:
                self._out_of_range(iid, "start", actor, when)
            event = Started(
                instance_id=iid,
                seq=1,
                at=when,
                actor=actor,
                definition=DefinitionRef(d.id, d.version, d.hash),
                state=state.id,
                data=payload,
                arm=arm,
            )
            instance = apply_event(None, event)
            try:
                self.store.append(
                    instance, [event], expected_version=0, idempotency=_rec(key, fingerprint)
                )
            except DuplicateInstance:
                won = self._replayed(key, iid, fingerprint, "start", actor)
                if won is None:
                    raise
                return won  # the same keyed start won meanwhile elsewhere
            return instance

        instance = self._serialised(iid, attempt)
        self.log.info(
            "instance_started",
            instance_id=iid,
            actor=actor.id,
            command="start",
            definition=d.key,
            state=instance.state,
        )
        return instance

    def sign(
        self,
        instance_id: str,
        *,
        actor: Actor,
        slot: str | None = None,
        at: dt.datetime | None = None,
        idempotency_key: str | None = None,
    ) -> Instance:
        """Add ``actor``'s signature to the current state's signature rule: to
        ``slot`` (a slot id or a document id of the rule), else to the first free slot
        the actor fits (refused as ambiguous when those slots sign different
        documents)."""
        try:
            check_id(instance_id, "instance_id")
            actor = check_actor(actor)
            if slot is not None:
                check_name(slot, "slot")
            when = self._when(at)
            key = check_key(idempotency_key)
        except Invalid as bad:
            self._invalid(instance_id, "sign", actor, bad)
        fingerprint = _digest(["sign", instance_id, actor.to_dict(), slot]) if key else ""

        def attempt() -> Instance:
            done = self._replayed(key, instance_id, fingerprint, "sign", actor)
            if done is not None:
                return done
            inst = self.store.load(instance_id)
            cp = self._compiled(inst)
            local = _in_zone(when, cp)
            try:
                chosen = check_sign(cp, inst, actor, slot, when)
            except Rejection as rej:
                won = self._replayed(key, instance_id, fingerprint, "sign", actor)
                if won is not None:  # the same keyed command won meanwhile elsewhere
                    return won
                self._refuse(instance_id, "sign", actor, rej.reasons)
            rule = cp.definition.states[inst.state].signatures
            assert rule is not None
            event = Signed(
                instance_id=instance_id,
                seq=inst.version + 1,
                at=local,
                actor=actor,
                slot=chosen,
                record=rule.record,
            )
            new = apply_event(inst, event)
            self.store.append(
                new, [event], expected_version=inst.version, idempotency=_rec(key, fingerprint)
            )
            return new

        new = self._serialised(instance_id, attempt)
        self.log.info(
            "signature_added",
            instance_id=instance_id,
            actor=actor.id,
            command="sign",
            state=new.state,
            slot=new.signatures[-1].slot if new.signatures else slot,
        )
        return new

    def fire(
        self,
        instance_id: str,
        event: str,
        *,
        actor: Actor,
        data: Mapping[str, Any] | None = None,
        at: dt.datetime | None = None,
        idempotency_key: str | None = None,
    ) -> Instance:
        """Fire ``event`` as ``actor`` with payload ``data``.

        Returns the new snapshot (its ``notices`` are this command's warnings and
        notes), or raises :class:`~paketflow.Refused` with every reason; a refused
        command changes nothing. With ``idempotency_key``, a repeated
        command returns the snapshot it first produced without firing again.
        """
        try:
            check_id(instance_id, "instance_id")
            check_name(event, "event")
            actor = check_actor(actor)
            when = self._when(at)
            payload = check_data(data, "data")
            key = check_key(idempotency_key)
        except Invalid as bad:
            self._invalid(instance_id, event if isinstance(event, str) else "fire", actor, bad)
        fingerprint = _digest(["fire", instance_id, event, actor.to_dict(), payload]) if key else ""
        before: list[Instance] = []
        notices: list[Any] = []

        def attempt() -> Instance:
            done = self._replayed(key, instance_id, fingerprint, event, actor)
            if done is not None:
                return done
            inst = self.store.load(instance_id)
            cp = self._compiled(inst)
            local = _in_zone(when, cp)
            try:
                rec, data_after = decide(cp, inst, event, actor, payload, local)
            except Rejection as rej:
                won = self._replayed(key, instance_id, fingerprint, event, actor)
                if won is not None:  # the same keyed command won meanwhile elsewhere
                    return won
                self._refuse(instance_id, event, actor, rej.reasons)
            except OverflowError:
                self._out_of_range(instance_id, event, actor, local)
            new = apply_event(inst, rec, data=data_after)
            self.store.append(
                new, [rec], expected_version=inst.version, idempotency=_rec(key, fingerprint)
            )
            before[:] = [inst]
            notices[:] = rec.notices
            return new

        new = self._serialised(instance_id, attempt)
        if not before:  # an idempotent repeat: nothing happened now
            return new
        source = before[0].state
        if new.state != source:
            self.log.info(
                "transition_taken",
                instance_id=instance_id,
                command=event,
                actor=actor.id,
                source=source,
                target=new.state,
            )
        else:
            self.log.info(
                "event_recorded",
                instance_id=instance_id,
                command=event,
                actor=actor.id,
                state=source,
            )
        for n in notices:
            self.log.info(
                "notice_emitted",
                instance_id=instance_id,
                command=event,
                actor=actor.id,
                code=n.code,
                notify=list(n.notify),
            )
        return attrs.evolve(new, notices=tuple(notices))  # the command's notices, at hand

    def tick(self, now: dt.datetime | None = None) -> list[Escalated | TimedOut]:
        """Fire every escalation tier and timeout due at or before ``now``; return the
        events recorded. Idempotent: a second call with the same ``now`` fires
        nothing. Never raises for contention: an instance another writer changed
        meanwhile is reloaded, and skipped if it is no longer due. On a store that
        offers ``claim_due`` (SQLite, PostgreSQL) the due instances are claimed batch by
        batch, so several workers ticking one store share the work."""
        try:
            when = self._when(now)
        except Invalid as bad:
            self._invalid(None, "tick", None, bad)
        out: list[Escalated | TimedOut] = []
        for iid in self._due(when):
            with self._locks[hash(iid) % _STRIPES]:
                for _ in range(RETRIES):
                    try:
                        events = self._tick_one(iid, when)
                    except (ConcurrencyError, UnknownInstance):
                        continue
                    out.extend(events)
                    break
        return out

    def _tick_one(self, iid: str, when: dt.datetime) -> list[Escalated | TimedOut]:
        inst = self.store.load(iid)
        cp = self._by_hash.get(inst.definition_hash)
        if cp is None:  # another engine's definition: that engine ticks it
            return []
        when = _in_zone(when, cp)
        events: list[Escalated | TimedOut] = []
        states: list[str] = []
        cur = inst
        progressed = True
        while progressed:
            progressed = False
            for armed in sorted(cur.deadlines, key=lambda a: (a.next_at or when, a.id)):
                nxt = armed.next_at
                if nxt is None or nxt > when:
                    continue
                ev = fire_step(cp, cur, armed, when)
                states.append(cur.state)
                cur = apply_event(cur, ev)
                events.append(ev)
                progressed = True
                break
        if not events:
            return []
        self.store.append(cur, events, expected_version=inst.version)
        for ev, state in zip(events, states, strict=True):
            if isinstance(ev, Escalated):
                self.log.info(
                    "deadline_escalated",
                    instance_id=iid,
                    deadline=ev.deadline,
                    step=ev.step,
                    state=state,
                )
            else:
                self.log.info(
                    "deadline_timed_out",
                    instance_id=iid,
                    deadline=ev.deadline,
                    timeout_event=ev.name,
                    source=ev.source,
                    target=ev.target,
                )
        return events

    def _due(self, when: dt.datetime) -> Iterator[str]:
        """Instances to tick. A store with ``claim_due`` hands out claims, so workers
        ticking at once get different instances; each batch claimed is worked through
        before the next is claimed. A store without it (the :class:`Store` protocol,
        MemoryStore) is read once with ``due``."""
        claim = getattr(self.store, "claim_due", None)
        if claim is None:
            yield from self.store.due(when)
            return
        seen: set[str] = set()
        while fresh := [iid for iid in claim(when, _CLAIM_BATCH) if iid not in seen]:
            seen.update(fresh)  # an instance is ticked at most once per call
            yield from fresh

    def allowed(self, instance_id: str, actor: Actor, at: dt.datetime | None = None) -> Permissions:
        """What ``actor`` may do now on the instance, and why each other event of the
        current state is refused.

        Rules are evaluated on an empty payload. An event that takes a payload (its
        transition has a ``data`` schema) and is refused only by what the payload may
        change is listed in ``with_payload`` with its schema and required fields, not
        as refused; it may still be refused when fired with a payload that breaks a
        rule. Labels of the state and events are in ``labels``."""
        try:
            check_id(instance_id, "instance_id")
            actor = check_actor(actor)
            when = self._when(at)
        except Invalid as bad:
            self._invalid(instance_id, "allowed", actor, bad)
        inst = self.store.load(instance_id)
        cp = self._compiled(inst)
        state = cp.definition.states[inst.state]
        ok: list[str] = []
        refused: dict[str, tuple[Reason, ...]] = {}
        needs: dict[str, dict[str, Any]] = {}
        for name, tr in state.transitions.items():
            try:
                decide(cp, inst, name, actor, {}, when, check_only=True)
                ok.append(name)
            except Rejection as rej:
                if tr.data_schema is None:
                    refused[name] = tuple(rej.reasons)
                    continue
                # Checked on an empty payload: when something the payload cannot
                # change refuses it (who may act, the state, missing signatures), it
                # is refused; otherwise the rest is the payload's to satisfy.
                if any(_independent_of_payload(r) for r in rej.reasons):
                    refused[name] = tuple(rej.reasons)  # every reason, as fire gives
                else:
                    required = tr.data_schema.get("required", ())
                    needs[name] = {"schema": tr.data_schema, "required": list(required)}
        sign: str | None = None
        sign_refused: tuple[Reason, ...] = ()
        if state.signatures is not None:
            try:
                sign = check_sign(cp, inst, actor, None, when)
            except Rejection as rej:
                sign_refused = tuple(rej.reasons)
        d = cp.definition
        labels = {inst.state: (state.labels.id, state.labels.en)}
        for name in state.transitions:
            decl = d.events.get(name)
            if decl is not None:
                labels[name] = (decl.labels.id, decl.labels.en)
        return Permissions(
            inst.state, tuple(ok), refused, sign, sign_refused, with_payload=needs, labels=labels
        )

    # -- helpers ------------------------------------------------------------------------

    def _serialised(self, instance_id: str, attempt: Callable[[], _T]) -> _T:
        """Run ``attempt`` under the instance's lock, again on a fresh snapshot when
        another writer of the store won a race."""
        with self._locks[hash(instance_id) % _STRIPES]:
            for _ in range(RETRIES - 1):
                try:
                    return attempt()
                except ConcurrencyError:
                    continue
            return attempt()

    def _invalid(self, instance_id: Any, command: str, actor: Any, bad: Invalid) -> NoReturn:
        tid, ten = BUILTIN[bad.code]
        reason = Reason(
            bad.code,
            render(tid, bad.params),
            render(ten, bad.params),
            params=bad.params,
            category=BUILTIN_CATEGORIES[bad.code],
        )
        iid = instance_id if isinstance(instance_id, str) and len(instance_id) <= 200 else "-"
        self.log.info(
            "command_refused",
            instance_id=iid,
            command=command if len(command) <= 200 else command[:200],
            actor=actor.id if isinstance(actor, Actor) and isinstance(actor.id, str) else None,
            codes=[bad.code],
        )
        raise Refused(iid, command[:200], [reason]) from None

    def _out_of_range(
        self, instance_id: str, command: str, actor: Actor, when: dt.datetime
    ) -> NoReturn:
        self._invalid(
            instance_id,
            command,
            actor,
            Invalid(
                "ERR_WAKTU_TIDAK_VALID",
                {
                    "argumen": "at (tenggat turunan)",
                    "argument": "at (a derived deadline)",
                    "nilai": when.isoformat(),
                    "value": when.isoformat(),
                    "awal": "1970-01-01",
                    "earliest": "1970-01-01",
                    "akhir": "9999-12-31",
                    "latest": "9999-12-31",
                },
            ),
        )

    def _refuse(
        self, instance_id: str, command: str, actor: Actor, reasons: list[Reason]
    ) -> NoReturn:
        self.log.info(
            "command_refused",
            instance_id=instance_id,
            command=command,
            actor=actor.id,
            codes=[r.code for r in reasons],
        )
        raise Refused(instance_id, command, reasons) from None

    def _replayed(
        self, key: str | None, instance_id: str, fingerprint: str, command: str, actor: Actor
    ) -> Instance | None:
        """The snapshot this exact command first produced when it was already applied
        under ``key``; ``None`` when the key is new. The same key for a different
        command (another instance, event, actor or payload) is refused."""
        if key is None:
            return None
        hit = self.store.idempotent(key)
        if hit is None:
            return None
        iid, recorded, version = hit
        if iid != instance_id or recorded != fingerprint:
            params = {"kunci": key, "key": key}
            tid, ten = BUILTIN["ERR_DUPLIKAT_PERINTAH"]
            reason = Reason(
                "ERR_DUPLIKAT_PERINTAH",
                render(tid, params),
                render(ten, params),
                params=params,
                category=BUILTIN_CATEGORIES["ERR_DUPLIKAT_PERINTAH"],
            )
            self._refuse(instance_id, command, actor, [reason])
        current = self.store.load(iid)
        if current.version == version:
            return current
        return fold(self.store.history(iid)[:version])

    def _when(self, at: dt.datetime | None) -> dt.datetime:
        return check_time(self.clock.now() if at is None else at, "at")


def _digest(value: Any) -> str:
    return hashlib.sha256(canonical(value)).hexdigest()


def _rec(key: str | None, fingerprint: str) -> tuple[str, str] | None:
    return None if key is None else (key, fingerprint)


def _semver(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in version.split("-")[0].split("."))
    except ValueError:
        return (0,)


def _in_zone(when: dt.datetime, cp: CompiledProcess) -> dt.datetime:
    """``when`` expressed in the process time zone (histories keep process-zone times,
    whatever offset the caller used; the instant is the same)."""
    return when if when.tzinfo is cp.tz else when.astimezone(cp.tz)


#: Refusal categories that an event's payload cannot change.
_GATES = frozenset({"permission", "segregation_of_duties", "state"})


def _independent_of_payload(reason: Reason) -> bool:
    return reason.kind in _GATES or reason.code == "ERR_TANDA_TANGAN_KURANG"
