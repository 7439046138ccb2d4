"""The engine: start instances, collect signatures, fire events, tick deadlines.

Every command follows the same path: load the snapshot, decide (rules → reasons, or
effects → an :class:`~paketflow.runtime.model.Event`), fold the event into a new
snapshot with :func:`~paketflow.runtime.fold.apply_event` (the same function replay
uses), and append both to the store in one call. A refused command raises
:class:`~paketflow.errors.Refused` before anything is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any, NoReturn

import structlog

from paketflow.calendar import WorkingCalendar, to_local_date
from paketflow.clock import Clock, SystemClock
from paketflow.compile import TIMEOUT_PREFIX, CompiledProcess, compile_definition
from paketflow.definition.model import (
    Deadline,
    Effect,
    Exclusion,
    Labels,
    Offset,
    ProcessDefinition,
    State,
)
from paketflow.definition.model import (
    Notice as NoticeSpec,
)
from paketflow.errors import Reason, Refused, UnknownDefinition
from paketflow.expr import Expr, ExprEvalError, PathSegment
from paketflow.runtime.fold import apply_event, apply_ops, fold
from paketflow.runtime.messages import BUILTIN, render
from paketflow.runtime.model import (
    Actor,
    ArmedDeadline,
    Event,
    Instance,
    Notice,
    Permissions,
)
from paketflow.store.base import Store
from paketflow.store.memory import MemoryStore

__all__ = ["Engine", "replay"]

SYSTEM = Actor("sistem", frozenset({"SISTEM"}), None, "Sistem (pewaktu)")


class _Rejection(Exception):
    """Internal: carries reasons out of a decision."""

    def __init__(self, reasons: list[Reason]) -> None:
        self.reasons = reasons


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
    ``store``: persistence (default :class:`~paketflow.store.MemoryStore`); ``clock``:
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
        payload = _plain(data or {})
        if instance_id is None:
            seed = json.dumps([d.hash, actor.id, when.isoformat(), payload], sort_keys=True)
            instance_id = f"{d.id}-{hashlib.sha256(seed.encode()).hexdigest()[:12]}"
        done, record = self._idempotency(idempotency_key, instance_id, ["start", d.hash, payload])
        if done is not None:
            return done
        if cp.data_validator is not None:
            reasons = self._schema_reasons(cp, cp.data_validator, payload, "start")
            if reasons:
                self._refuse(instance_id, "start", actor, reasons)
        state = d.states[d.initial]
        arm = self._arm_deadlines(cp, state, payload, when, ())
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
            chosen = self._check_sign(cp, inst, actor, slot)
        except _Rejection as rej:
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

        Returns the new snapshot, or raises :class:`~paketflow.errors.Refused` with
        every reason; a refused command changes nothing. With ``idempotency_key``, a
        repeated command returns the current snapshot without firing again.
        """
        when = self._when(at)
        payload = _plain(data or {})
        command = ["fire", event, actor.id, payload]
        done, record = self._idempotency(idempotency_key, instance_id, command)
        if done is not None:
            return done
        inst = self.store.load(instance_id)
        cp = self._by_hash[inst.definition_hash]
        try:
            rec, data_after = self._decide(cp, inst, event, actor, payload, when)
        except _Rejection as rej:
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
                    ev = self._fire_step(cp, cur, armed, when)
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
                self._decide(cp, inst, name, actor, {}, when, check_only=True)
                ok.append(name)
            except _Rejection as rej:
                refused[name] = tuple(rej.reasons)
        sign: str | None = None
        sign_refused: tuple[Reason, ...] = ()
        if state.signatures is not None:
            try:
                sign = self._check_sign(cp, inst, actor, None)
            except _Rejection as rej:
                sign_refused = tuple(rej.reasons)
        return Permissions(inst.state, tuple(ok), refused, sign, sign_refused)

    # -- decisions ----------------------------------------------------------------------

    def _decide(
        self,
        cp: CompiledProcess,
        inst: Instance,
        name: str,
        actor: Actor,
        payload: Mapping[str, Any],
        when: dt.datetime,
        *,
        check_only: bool = False,
    ) -> tuple[Event, Mapping[str, Any]]:
        """The event recording the decision, and the data it results in (already
        computed while deciding, so the fold need not apply the same operations
        again). Raises ``_Rejection`` with every reason."""
        d = cp.definition
        state = d.states[inst.state]
        tr = state.transitions.get(name)
        if tr is None:
            code = "ERR_STATUS_AKHIR" if state.final else "ERR_EVENT_TIDAK_BERLAKU"
            raise _Rejection(
                [
                    self._reason(
                        cp,
                        code,
                        {
                            "aksi": name,
                            "action": name,
                            "tahap": state.labels.id,
                            "state": state.labels.en,
                            "berlaku": sorted(state.transitions),
                            "available": sorted(state.transitions),
                        },
                        fix=(),
                    )
                ]
            )
        if not (actor.roles & frozenset(tr.roles)):
            raise _Rejection([self._role_reason(cp, actor, name, tr.roles)])
        reasons: list[Reason] = []
        reasons.extend(self._exclusions(cp, inst, actor, name, tr.exclude))
        if tr.require_signatures:
            reasons.extend(self._missing_signatures(cp, inst, state, actor, payload, when))
        validator = cp.validators.get((state.id, name))
        if validator is not None:
            fast = cp.fast.get((state.id, name))
            if fast is None or not fast(payload):  # jsonschema only when it may fail
                reasons.extend(self._schema_reasons(cp, validator, payload, name))
        if reasons:
            raise _Rejection(reasons)
        scope = self._scope(cp, inst, actor, payload, when, inst.data)
        inputs: dict[str, Any] = {}
        for guard in tr.guards:
            ok = self._eval(cp, guard.condition, scope, reasons)
            inputs[guard.id] = bool(ok)
            if ok:
                continue
            if ok is None and reasons:
                continue  # evaluation error already reported
            params = {k: self._eval(cp, e, scope, reasons) for k, e in guard.params.items()}
            missing = self._eval(cp, guard.missing, scope, reasons) if guard.missing else ()
            expected = self._eval(cp, guard.expected, scope, reasons) if guard.expected else ()
            reasons.append(
                self._reason(
                    cp,
                    guard.code,
                    params,
                    missing=_strs(missing),
                    expected=_strs(expected),
                    fix=guard.fix,
                    rule=guard.rule,
                    deadline=_first_due(inst),
                )
            )
        if reasons:
            raise _Rejection(reasons)
        if check_only:
            return _NO_EVENT, inst.data  # allowed(): the checks passed, nothing to record
        # -- accepted: compute the consequences ------------------------------------
        ops: list[list[Any]] = []
        flags_on: set[str] = set()
        flags_off: set[str] = set()
        reset = False
        data = inst.data
        data, reset = self._effects(cp, tr.effects, scope, data, ops, flags_on, flags_off, reset)
        choice = 0
        alt = tr.alternatives[0]
        for i, candidate in enumerate(tr.alternatives):
            if candidate.when is None:
                choice, alt = i, candidate
                break
            scope["data"] = data
            if self._eval(cp, candidate.when, scope, reasons):
                choice, alt = i, candidate
                break
            if reasons:
                raise _Rejection(reasons)
        data, reset = self._effects(cp, alt.effects, scope, data, ops, flags_on, flags_off, reset)
        scope["data"] = data
        notices = self._notices(cp, (*tr.notices, *alt.notices), scope, flags_on, reasons)
        if reasons:
            raise _Rejection(reasons)
        target = cp.move(state.id, name, choice)
        delta: dict[str, Any] = {}
        if ops:
            delta["ops"] = ops
        sets = {s: [actor.id] for s in tr.record}
        external = target != state.id or tr.reenter
        if external:
            delta["state"] = target
            delta["entered"] = True
            self._transition_deadlines(cp, inst, d.states[target], data, when, delta)
        elif reset:
            delta["reset_signatures"] = True
        flags_on -= flags_off
        if flags_on - inst.flags:
            delta["flags_on"] = sorted(flags_on - inst.flags)
        if flags_off & inst.flags:
            delta["flags_off"] = sorted(flags_off & inst.flags)
        if sets:
            delta["sets"] = sets
        event = Event(
            inst.id,
            inst.version + 1,
            "fired",
            when,
            actor,
            name,
            state.id,
            target,
            delta,
            inputs,
            tuple(notices),
        )
        return event, data

    def _effects(
        self,
        cp: CompiledProcess,
        effects: tuple[Effect, ...],
        scope: dict[str, Any],
        data: Mapping[str, Any],
        ops: list[list[Any]],
        flags_on: set[str],
        flags_off: set[str],
        reset: bool,
    ) -> tuple[Mapping[str, Any], bool]:
        errors: list[Reason] = []
        for eff in effects:
            if eff.op == "flag":
                assert eff.name is not None
                flags_on.add(eff.name)
                flags_off.discard(eff.name)
            elif eff.op == "unflag":
                assert eff.name is not None
                flags_off.add(eff.name)
                flags_on.discard(eff.name)
            elif eff.op == "resetSignatures":
                reset = True
            else:
                scope["data"] = data
                path = [self._segment(cp, s, scope, errors) for s in eff.path]
                value = _plain(self._eval(cp, eff.value, scope, errors)) if eff.value else None
                if errors:
                    raise _Rejection(errors)
                if eff.op == "add" and not isinstance(value, int | float):
                    errors.append(
                        self._expr_reason(
                            cp,
                            eff.value.pointer if eff.value else "",
                            f"'add' needs a number, got {value!r}",
                        )
                    )
                    raise _Rejection(errors)
                op = [eff.op, path, value]
                try:
                    data = apply_ops(data, [op])
                except (TypeError, ValueError, IndexError) as exc:
                    errors.append(self._expr_reason(cp, "/".join(map(str, path)), str(exc)))
                    raise _Rejection(errors) from None
                ops.append(op)
        scope["data"] = data
        return data, reset

    def _segment(
        self, cp: CompiledProcess, seg: PathSegment, scope: Mapping[str, Any], errors: list[Reason]
    ) -> str | int:
        if isinstance(seg, Expr):
            v = self._eval(cp, seg, scope, errors)
            return v if isinstance(v, int | str) and not isinstance(v, bool) else str(v)
        return seg

    def _notices(
        self,
        cp: CompiledProcess,
        specs: Iterable[NoticeSpec],
        scope: Mapping[str, Any],
        flags_on: set[str],
        errors: list[Reason],
    ) -> list[Notice]:
        out: list[Notice] = []
        for spec in specs:
            if spec.when is not None and not self._eval(cp, spec.when, scope, errors):
                continue
            params = {k: self._eval(cp, e, scope, errors) for k, e in spec.params.items()}
            if spec.flag:
                flags_on.add(spec.flag)
            out.append(self._notice(cp, spec.code, params, spec.notify))
        return out

    def _notice(
        self, cp: CompiledProcess, code: str, params: Mapping[str, Any], notify: Iterable[str]
    ) -> Notice:
        tid, ten = self._templates(cp, code)
        clean = {k: _plain(v) for k, v in params.items()}
        return Notice(code, render(tid, clean), render(ten, clean), tuple(notify), clean)

    def _exclusions(
        self,
        cp: CompiledProcess,
        inst: Instance,
        actor: Actor,
        action: str,
        exclude: tuple[Exclusion, ...],
    ) -> list[Reason]:
        out = []
        for ex in exclude:
            if actor.id in inst.sets.get(ex.set, ()):
                why = ex.reason or Labels(
                    f"termasuk kelompok '{ex.set}'", f"belongs to the group '{ex.set}'"
                )
                out.append(
                    self._reason(
                        cp,
                        "ERR_PEMISAHAN_TUGAS",
                        {
                            "nama": actor.name or actor.id,
                            "name": actor.name or actor.id,
                            "aksi": action,
                            "action": action,
                            "alasan": why.id,
                            "reason": why.en,
                            "sod": ex.rule or "-",
                        },
                        rule=ex.rule,
                        fix=(),
                    )
                )
        return out

    def _missing_signatures(
        self,
        cp: CompiledProcess,
        inst: Instance,
        state: State,
        actor: Actor,
        payload: Mapping[str, Any],
        when: dt.datetime,
    ) -> list[Reason]:
        rule = state.signatures
        if rule is None:
            return []
        counts: dict[str, int] = {}
        for sig in inst.signatures:
            counts[sig.slot] = counts.get(sig.slot, 0) + 1
        missing: list[str] = []
        expected: list[str] = []
        fix: list[str] = []
        scope = None
        errors: list[Reason] = []
        for slot in rule.slots:
            have = counts.get(slot.id, 0)
            if have >= slot.count:
                continue
            label = slot.element or slot.id
            missing.append(label if slot.count - have == 1 else f"{label} ({slot.count - have})")
            fix.extend(r for r in slot.roles if r not in fix)
            if slot.expected is not None:
                if scope is None:
                    scope = self._scope(cp, inst, actor, payload, when, inst.data)
                expected.extend(_strs(self._eval(cp, slot.expected, scope, errors)))
        if not missing:
            return []
        params = {
            "kurang": missing,
            "missing": missing,
            "diharapkan": expected or fix,
            "expected": expected or fix,
        }
        return [
            self._reason(
                cp,
                "ERR_TANDA_TANGAN_KURANG",
                params,
                missing=tuple(missing),
                expected=tuple(expected),
                fix=tuple(fix),
                deadline=_first_due(inst),
            )
        ]

    def _check_sign(
        self, cp: CompiledProcess, inst: Instance, actor: Actor, slot: str | None
    ) -> str:
        state = cp.definition.states[inst.state]
        rule = state.signatures
        if rule is None:
            raise _Rejection(
                [
                    self._reason(
                        cp,
                        "ERR_TIDAK_ADA_TANDA_TANGAN",
                        {"tahap": state.labels.id, "state": state.labels.en},
                    )
                ]
            )
        reasons = self._exclusions(cp, inst, actor, "sign", rule.exclude)
        if reasons:
            raise _Rejection(reasons)
        mine = [s for s in inst.signatures if s.actor == actor.id]
        if mine and rule.distinct_persons:
            prev = mine[0]
            who = actor.name or actor.id
            if prev.element is not None:
                code, el = "ERR_SATU_ORANG_SATU_UNSUR", prev.element or prev.slot
                raise _Rejection(
                    [
                        self._reason(
                            cp,
                            code,
                            {"nama": who, "name": who, "unsur": el, "element": el},
                            rule="SoD-1",
                        )
                    ]
                )
            raise _Rejection(
                [self._reason(cp, "ERR_SUDAH_MENANDATANGANI", {"nama": who, "name": who})]
            )
        counts: dict[str, int] = {}
        for sig in inst.signatures:
            counts[sig.slot] = counts.get(sig.slot, 0) + 1
        fits = [
            s
            for s in rule.slots
            if (slot is None or s.id == slot)
            and actor.roles & frozenset(s.roles)
            and (s.element is None or s.element == actor.element)
        ]
        for s in fits:
            if counts.get(s.id, 0) < s.count:
                return s.id
        roles = sorted({r for s in rule.slots for r in s.roles})
        if fits:
            who = actor.name or actor.id
            slots = [s.id for s in fits]
            params = {"nama": who, "name": who, "slot": slots}
            raise _Rejection([self._reason(cp, "ERR_SLOT_PENUH", params)])
        raise _Rejection([self._role_reason(cp, actor, "sign", roles)])

    def _role_reason(
        self, cp: CompiledProcess, actor: Actor, action: str, roles: Iterable[str]
    ) -> Reason:
        d = cp.definition
        names = sorted(actor.roles) or ["-"]
        allowed = sorted(roles)
        lab_id = [d.roles[r].labels.id if r in d.roles else r for r in names]
        lab_en = [d.roles[r].labels.en if r in d.roles else r for r in names]
        ok_id = [d.roles[r].labels.id if r in d.roles else r for r in allowed]
        ok_en = [d.roles[r].labels.en if r in d.roles else r for r in allowed]
        return self._reason(
            cp,
            "ERR_PERAN_TIDAK_BERWENANG",
            {
                "peran": lab_id,
                "role": lab_en,
                "aksi": action,
                "action": action,
                "berwenang": ok_id,
                "authorised": ok_en,
            },
            fix=tuple(allowed),
        )

    # -- deadlines ----------------------------------------------------------------------

    def _transition_deadlines(
        self,
        cp: CompiledProcess,
        inst: Instance,
        target: State,
        data: Mapping[str, Any],
        when: dt.datetime,
        delta: dict[str, Any],
    ) -> None:
        disarm = [a.id for a in inst.deadlines if target.id not in cp.deadlines[a.id].scope]
        if disarm:
            delta["disarm"] = disarm
        kept = tuple(a.id for a in inst.deadlines if a.id not in disarm)
        arm = self._arm_deadlines(cp, target, data, when, kept)
        if arm:
            delta["arm"] = arm

    def _arm_deadlines(
        self,
        cp: CompiledProcess,
        state: State,
        data: Mapping[str, Any],
        when: dt.datetime,
        armed: tuple[str, ...],
    ) -> list[dict[str, Any]]:
        """The deadlines of ``state`` to arm on entry at ``when``, in their JSON form."""
        out = []
        for dl in state.deadlines:
            if dl.id in armed:
                continue
            due = self._due(cp, dl, data, when)
            if due is None:
                continue  # a date deadline whose date is not in the data yet
            steps = [(self._offset(cp, due, esc.after), esc.id) for esc in dl.escalations]
            if dl.timeout is not None:
                steps.append((self._offset(cp, due, dl.timeout.after), "!timeout"))
            steps.sort(key=lambda s: s[0])
            out.append(ArmedDeadline(dl.id, due, tuple(steps)).as_dict())
        return out

    def _due(
        self, cp: CompiledProcess, dl: Deadline, data: Mapping[str, Any], when: dt.datetime
    ) -> dt.datetime | None:
        due = dl.due
        tz = cp.tz
        if due.kind == "duration":
            assert due.duration is not None
            return due.duration.add_to(when, tz)
        if due.kind == "workingDays":
            assert due.working_days is not None and due.calendar is not None
            day = cp.calendars[due.calendar].add_working_days(
                to_local_date(when, tz), due.working_days
            )
            return dt.datetime.combine(day, dt.time(0), tz)
        assert due.date is not None
        errors: list[Reason] = []
        value = self._eval(cp, due.date, {"data": data, "at": when.isoformat(), "_tz": tz}, errors)
        if value is None or errors:
            return None
        try:
            if isinstance(value, str) and len(value) > 10:
                moment = dt.datetime.fromisoformat(value)
                return moment if moment.tzinfo else moment.replace(tzinfo=tz)
            return dt.datetime.combine(dt.date.fromisoformat(str(value)), dt.time(0), tz)
        except ValueError:
            return None

    def _offset(self, cp: CompiledProcess, due: dt.datetime, off: Offset) -> dt.datetime:
        if off.duration is not None:
            return off.duration.add_to(due, cp.tz)
        assert off.working_days is not None and off.calendar is not None
        day = cp.calendars[off.calendar].add_working_days(
            to_local_date(due, cp.tz), off.working_days
        )
        return dt.datetime.combine(day, dt.time(0), cp.tz)

    def _fire_step(
        self, cp: CompiledProcess, inst: Instance, armed: ArmedDeadline, now: dt.datetime
    ) -> Event:
        d = cp.definition
        dl = cp.deadlines[armed.id]
        when, step = armed.steps[armed.fired]
        fired = {armed.id: armed.fired + 1}
        if step != "!timeout":
            esc = next(e for e in dl.escalations if e.id == step)
            delta: dict[str, Any] = {"fired": fired}
            if esc.flag and esc.flag not in inst.flags:
                delta["flags_on"] = [esc.flag]
            notices: tuple[Notice, ...] = ()
            if esc.message:
                days = (to_local_date(when, cp.tz) - to_local_date(armed.due, cp.tz)).days
                st = d.states[inst.state]
                label = dl.labels or st.labels
                params = {
                    "tahap": label.id,
                    "stage": label.en,
                    "hari": days,
                    "days": days,
                    "tanggal": to_local_date(armed.due, cp.tz).isoformat(),
                    "date": to_local_date(armed.due, cp.tz).isoformat(),
                    "penerima": [d.roles[r].labels.id for r in esc.notify if r in d.roles],
                    "recipient": [d.roles[r].labels.en for r in esc.notify if r in d.roles],
                    "alasan": f"{label.id}: batas waktu {to_local_date(armed.due, cp.tz)}",
                    "reason": f"{label.en}: deadline {to_local_date(armed.due, cp.tz)}",
                }
                notices = (self._notice(cp, esc.message, params, esc.notify),)
            return Event(
                inst.id,
                inst.version + 1,
                "escalated",
                now,
                SYSTEM,
                f"{armed.id}/{step}",
                inst.state,
                inst.state,
                delta,
                {"due": armed.due.isoformat(), "step_at": when.isoformat()},
                notices,
            )
        assert dl.timeout is not None
        to = dl.timeout
        scope = self._scope(cp, inst, SYSTEM, {}, now, inst.data)
        ops: list[list[Any]] = []
        flags_on: set[str] = set()
        flags_off: set[str] = set()
        try:
            data, _ = self._effects(
                cp, to.effects, scope, inst.data, ops, flags_on, flags_off, False
            )
        except _Rejection as rej:
            # A timeout cannot be refused: it happens. Record why its effects failed.
            data, ops = inst.data, []
            notices = tuple(self._notice(cp, r.code, r.params, ()) for r in rej.reasons)
        else:
            notices = ()
        target = cp.move(inst.state, TIMEOUT_PREFIX + armed.id, 0)
        delta = {"state": target, "entered": True}
        if ops:
            delta["ops"] = ops
        if flags_on - inst.flags:
            delta["flags_on"] = sorted(flags_on - inst.flags)
        if flags_off & inst.flags:
            delta["flags_off"] = sorted(flags_off & inst.flags)
        # The timeout happened at its scheduled time, whenever tick() noticed it: the
        # next state's deadlines count from then, so they do not depend on tick cadence.
        self._transition_deadlines(cp, inst, d.states[target], data, when, delta)
        disarm = delta.setdefault("disarm", [])
        if armed.id not in disarm:
            disarm.append(armed.id)
        return Event(
            inst.id,
            inst.version + 1,
            "timed_out",
            now,
            SYSTEM,
            to.event,
            inst.state,
            target,
            delta,
            {"due": armed.due.isoformat(), "step_at": when.isoformat()},
            notices,
        )

    # -- helpers ------------------------------------------------------------------------

    def _scope(
        self,
        cp: CompiledProcess,
        inst: Instance,
        actor: Actor,
        payload: Mapping[str, Any],
        when: dt.datetime,
        data: Mapping[str, Any],
    ) -> dict[str, Any]:
        scope: dict[str, Any] = {
            "data": data,
            "event": payload,
            "_tz": cp.tz,
            "_calendars": cp.calendars,
        }
        roots = cp.roots
        if "actor" in roots:
            scope["actor"] = actor.as_dict()
        if "at" in roots:
            scope["at"] = when.isoformat()
        if "today" in roots:
            scope["today"] = to_local_date(when, cp.tz).isoformat()
        if "state" in roots:
            scope["state"] = inst.state
        if "flags" in roots:
            scope["flags"] = sorted(inst.flags)
        if "sets" in roots:
            scope["sets"] = {k: sorted(v) for k, v in inst.sets.items()}
        if "signers" in roots:
            scope["signers"] = [
                {"actor": s.actor, "slot": s.slot, "element": s.element, "name": s.name}
                for s in inst.signatures
            ]
        if "deadlines" in roots:
            scope["deadlines"] = {a.id: a.due.isoformat() for a in inst.deadlines}
        return scope

    def _eval(
        self, cp: CompiledProcess, expr: Expr, scope: Mapping[str, Any], errors: list[Reason]
    ) -> Any:
        try:
            return expr(scope)
        except ExprEvalError as exc:
            errors.append(self._expr_reason(cp, exc.pointer, exc.message))
        except (TypeError, ValueError, ArithmeticError, RecursionError) as exc:
            errors.append(self._expr_reason(cp, expr.pointer, str(exc)))
        return None

    def _expr_reason(self, cp: CompiledProcess, pointer: str, detail: str) -> Reason:
        return self._reason(
            cp,
            "ERR_EKSPRESI",
            {"lokasi": pointer, "location": pointer, "rincian": detail, "detail": detail},
        )

    def _templates(self, cp: CompiledProcess, code: str) -> tuple[str, str]:
        msg = cp.definition.messages.get(code)
        if msg is not None:
            return msg.labels.id, msg.labels.en
        return BUILTIN.get(code, (code, code))

    def _reason(
        self,
        cp: CompiledProcess,
        code: str,
        params: Mapping[str, Any],
        *,
        missing: tuple[str, ...] = (),
        expected: tuple[str, ...] = (),
        fix: Iterable[str] = (),
        rule: str | None = None,
        deadline: dt.datetime | None = None,
    ) -> Reason:
        tid, ten = self._templates(cp, code)
        clean = {k: _plain(v) for k, v in params.items()}
        return Reason(
            code,
            render(tid, clean),
            render(ten, clean),
            missing,
            expected,
            tuple(fix),
            deadline,
            rule,
            clean,
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

    def _schema_reasons(
        self, cp: CompiledProcess, validator: Any, payload: Mapping[str, Any], action: str
    ) -> list[Reason]:
        """Up to three ERR_DATA_TIDAK_VALID reasons, each naming the JSON Pointer of the
        offending (or missing) field."""
        out = []
        for err in sorted(validator.iter_errors(payload), key=lambda e: list(e.path))[:3]:
            path = list(err.path)
            if err.validator == "required" and isinstance(err.instance, Mapping):
                absent = [k for k in err.validator_value if k not in err.instance]
                path += absent[:1]
            ptr = _pointer(path)
            params = {
                "aksi": action,
                "action": action,
                "lokasi": ptr,
                "location": ptr,
                "rincian": err.message,
                "detail": err.message,
            }
            out.append(self._reason(cp, "ERR_DATA_TIDAK_VALID", params, missing=(ptr,)))
        return out

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


_NO_EVENT: Any = None


def _first_due(inst: Instance) -> dt.datetime | None:
    dues = [a.due for a in inst.deadlines]
    return min(dues) if dues else None


def _strs(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value if v is not None)
    return (str(value),)


def _pointer(path: Iterable[Any]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path) or "/"


_SCALARS = (str, int, float, bool, type(None))


def _plain(value: Any) -> Any:
    """A JSON-shaped copy (dicts, lists, str, int, float, bool, None)."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, frozenset | set):
        return sorted(_plain(v) for v in value)
    return value


def _fingerprint(command: list[Any]) -> str:
    raw = json.dumps(_plain(command), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def _semver(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in version.split("-")[0].split("."))
    except ValueError:
        return (0,)
