"""The engine: start instances, collect signatures, fire events, tick deadlines.

Every command follows the same path: load the snapshot, decide (rules → reasons, or
effects → an :class:`~paketflow._runtime.model.Event`), fold the event into a new
snapshot with :func:`~paketflow._runtime.fold.apply_event` (the same function replay
uses), and append both to the store in one call. A refused command raises
:class:`~paketflow._errors.Refused` before anything is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any, NoReturn

import structlog

from paketflow._calendar import WorkingCalendar
from paketflow._clock import Clock, SystemClock
from paketflow._compile import CompiledProcess, compile_definition
from paketflow._definition.model import ProcessDefinition
from paketflow._errors import Reason, Refused, UnknownDefinition
from paketflow._runtime._deadlines import arm_deadlines
from paketflow._runtime._decide import decide, fire_step
from paketflow._runtime._rules import Rejection, check_sign, plain, schema_reasons
from paketflow._runtime.fold import apply_event, fold
from paketflow._runtime.messages import BUILTIN, render
from paketflow._runtime.model import Actor, Event, Instance, Permissions
from paketflow._store.base import Store
from paketflow._store.memory import MemoryStore

__all__ = ["Engine", "replay"]


def replay(definition: ProcessDefinition, events: Iterable[Event]) -> Instance:
    """Rebuild an instance from its history: a pure fold over the recorded events.

    No rule is re-evaluated, so a later change of code or definition cannot change
    history. Raises ``ValueError`` if the history was recorded on another definition
    (the content hash differs).
    """
    instance = fold(events)
    if instance.definition_hash != definition.hash:
        raise ValueError(
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
    ``logger``: a structlog logger (default ``structlog.get_logger("paketflow")``).
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
        for definition in definitions:
            self.add_definition(definition)
        self.store: Store = store if store is not None else MemoryStore()
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.log = logger if logger is not None else structlog.get_logger("paketflow")

    # -- definitions ------------------------------------------------------------------

    def add_definition(self, definition: ProcessDefinition) -> None:
        """Make ``definition`` available to :meth:`start` (compiled once per hash)."""
        compiled = self._by_hash.get(definition.hash)
        if compiled is None:
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
        if isinstance(ref, ProcessDefinition):
            if ref.hash not in self._by_hash:
                self.add_definition(ref)
            return self._by_hash[ref.hash]
        found = self._by_hash.get(ref) or self._by_key.get(ref) or self._latest.get(ref)
        if found is None:
            known = ", ".join(sorted(self._by_key)) or "none"
            raise UnknownDefinition(
                f"no definition {ref!r} in this engine (known: {known}); pass it to "
                "Engine([...]) or Engine.add_definition()"
            )
        return found

    # -- reading ----------------------------------------------------------------------

    def get(self, instance_id: str) -> Instance:
        """The current snapshot of an instance."""
        return self.store.load(instance_id)

    def history(self, instance_id: str) -> list[Event]:
        """Every event of an instance, oldest first."""
        return self.store.history(instance_id)

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

        ``data`` is checked against the definition's data schema; ``instance_id``
        defaults to a deterministic id derived from the definition, the actor, the
        time and the data.
        """
        cp = self._resolve(definition)
        d = cp.definition
        when = self._when(at)
        payload = plain(data or {})
        if instance_id is None:
            seed = json.dumps([d.hash, actor.id, when.isoformat(), payload], sort_keys=True)
            instance_id = f"{d.id}-{hashlib.sha256(seed.encode()).hexdigest()[:12]}"
        done, record = self._idempotency(idempotency_key, instance_id, ["start", d.hash, payload])
        if done is not None:
            return done
        if cp.data_validator is not None:
            reasons = schema_reasons(cp, cp.data_validator, payload, "start")
            if reasons:
                self._refuse(instance_id, "start", actor, reasons)
        state = d.states[d.initial]
        arm = arm_deadlines(cp, state, payload, when, ())
        sets = {"starter": [actor.id]}
        event = Event(
            instance_id=instance_id,
            seq=1,
            type="started",
            at=when,
            actor=actor,
            name=None,
            source=None,
            target=state.id,
            delta={
                "definition": {"id": d.id, "version": d.version, "hash": d.hash},
                "state": state.id,
                "data": payload,
                "sets": sets,
                **({"arm": arm} if arm else {}),
            },
        )
        instance = apply_event(None, event)
        self.store.append(instance, [event], expected_version=0, idempotency=record)
        self.log.info(
            "instance_started",
            instance_id=instance_id,
            actor=actor.id,
            definition=d.key,
            state=state.id,
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
        """Add ``actor``'s signature to the current state's signature rule (the first
        free slot the actor fits, or ``slot``)."""
        when = self._when(at)
        done, record = self._idempotency(idempotency_key, instance_id, ["sign", actor.id, slot])
        if done is not None:
            return done
        inst = self.store.load(instance_id)
        cp = self._by_hash[inst.definition_hash]
        try:
            chosen = check_sign(cp, inst, actor, slot)
        except Rejection as rej:
            self._refuse(instance_id, "sign", actor, rej.reasons)
        rule = cp.definition.states[inst.state].signatures
        assert rule is not None
        delta: dict[str, Any] = {
            "signature": {
                "slot": chosen,
                "actor": actor.id,
                "element": actor.element,
                "name": actor.name,
            }
        }
        if rule.record:
            delta["sets"] = {rule.record: [actor.id]}
        event = Event(
            instance_id,
            inst.version + 1,
            "signed",
            when,
            actor,
            chosen,
            inst.state,
            inst.state,
            delta,
        )
        new = apply_event(inst, event)
        self.store.append(new, [event], expected_version=inst.version, idempotency=record)
        self.log.info(
            "signature_added",
            instance_id=instance_id,
            actor=actor.id,
            state=inst.state,
            slot=chosen,
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

        Returns the new snapshot, or raises :class:`~paketflow._errors.Refused` with
        every reason; a refused command changes nothing. With ``idempotency_key``, a
        repeated command returns the current snapshot without firing again.
        """
        when = self._when(at)
        payload = plain(data or {})
        command = ["fire", event, actor.id, payload]
        done, record = self._idempotency(idempotency_key, instance_id, command)
        if done is not None:
            return done
        inst = self.store.load(instance_id)
        cp = self._by_hash[inst.definition_hash]
        try:
            rec, data_after = decide(cp, inst, event, actor, payload, when)
        except Rejection as rej:
            self._refuse(instance_id, event, actor, rej.reasons)
        new = apply_event(inst, rec, data=data_after)
        self.store.append(new, [rec], expected_version=inst.version, idempotency=record)
        if new.state != inst.state:
            self.log.info(
                "transition_taken",
                instance_id=instance_id,
                command=event,
                actor=actor.id,
                source=inst.state,
                target=new.state,
            )
        else:
            self.log.info(
                "event_recorded",
                instance_id=instance_id,
                command=event,
                actor=actor.id,
                state=inst.state,
            )
        for n in rec.notices:
            self.log.info(
                "notice_emitted",
                instance_id=instance_id,
                command=event,
                code=n.code,
                notify=list(n.notify),
            )
        return new

    def tick(self, now: dt.datetime | None = None) -> list[Event]:
        """Fire every escalation tier and timeout due at or before ``now``; return the
        events recorded. Idempotent: a second call with the same ``now`` fires
        nothing."""
        when = self._when(now)
        out: list[Event] = []
        for iid in self.store.due(when):
            inst = self.store.load(iid)
            cp = self._by_hash[inst.definition_hash]
            events: list[Event] = []
            cur = inst
            progressed = True
            while progressed:
                progressed = False
                for armed in sorted(cur.deadlines, key=lambda a: (a.next_at or when, a.id)):
                    nxt = armed.next_at
                    if nxt is None or nxt > when:
                        continue
                    ev = fire_step(cp, cur, armed, when)
                    cur = apply_event(cur, ev)
                    events.append(ev)
                    progressed = True
                    break
            if events:
                self.store.append(cur, events, expected_version=inst.version)
                for ev in events:
                    if ev.type == "escalated":
                        self.log.info("deadline_escalated", instance_id=iid, step=ev.name)
                    else:
                        self.log.info(
                            "deadline_timed_out", instance_id=iid, name=ev.name, target=ev.target
                        )
                out.extend(events)
        return out

    def allowed(self, instance_id: str, actor: Actor, at: dt.datetime | None = None) -> Permissions:
        """What ``actor`` may do now on the instance, and why each other event of the
        current state is refused. Guards are evaluated on an empty payload, so an
        event whose guards read the payload may still be refused when fired."""
        when = self._when(at)
        inst = self.store.load(instance_id)
        cp = self._by_hash[inst.definition_hash]
        state = cp.definition.states[inst.state]
        ok: list[str] = []
        refused: dict[str, tuple[Reason, ...]] = {}
        for name in state.transitions:
            try:
                decide(cp, inst, name, actor, {}, when, check_only=True)
                ok.append(name)
            except Rejection as rej:
                refused[name] = tuple(rej.reasons)
        sign: str | None = None
        sign_refused: tuple[Reason, ...] = ()
        if state.signatures is not None:
            try:
                sign = check_sign(cp, inst, actor, None)
            except Rejection as rej:
                sign_refused = tuple(rej.reasons)
        return Permissions(inst.state, tuple(ok), refused, sign, sign_refused)

    # -- decisions ----------------------------------------------------------------------

    # -- deadlines ----------------------------------------------------------------------

    # -- helpers ------------------------------------------------------------------------

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

    def _idempotency(
        self, key: str | None, instance_id: str, command: list[Any]
    ) -> tuple[Instance | None, tuple[str, str] | None]:
        """``(done, record)``: ``done`` is the current snapshot when this exact command
        was already applied under ``key``; ``record`` is what to store with the new
        events. The same key for a different command is refused."""
        if key is None:
            return None, None
        fingerprint = _fingerprint(command)
        hit = self.store.idempotent(key)
        if hit is None:
            return None, (key, fingerprint)
        iid, recorded, _version = hit
        if iid != instance_id or recorded != fingerprint:
            tid, ten = BUILTIN["ERR_DUPLIKAT_PERINTAH"]
            params = {"kunci": key, "key": key}
            reason = Reason(
                "ERR_DUPLIKAT_PERINTAH", render(tid, params), render(ten, params), params=params
            )
            self.log.info(
                "command_refused",
                instance_id=instance_id,
                command=str(command[0]),
                codes=[reason.code],
            )
            raise Refused(instance_id, str(command[0]), [reason])
        return self.store.load(iid), (key, fingerprint)

    def _when(self, at: dt.datetime | None) -> dt.datetime:
        when = self.clock.now() if at is None else at
        if not isinstance(when, dt.datetime) or when.tzinfo is None:
            raise ValueError(
                f"'at' must be a timezone-aware datetime, got {when!r}; e.g. "
                "datetime(2012, 9, 4, 10, tzinfo=ZoneInfo('Asia/Pontianak'))"
            )
        return when


def _fingerprint(command: list[Any]) -> str:
    raw = json.dumps(plain(command), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def _semver(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in version.split("-")[0].split("."))
    except ValueError:
        return (0,)
