"""Deciding a command: from a snapshot, an actor and a payload to either every
reason for refusing it or the event that records the decision (with the data it
produces). Deadline steps that fall due are decided here too."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from paketflow._calendar import to_local_date
from paketflow._compile import TIMEOUT_PREFIX, CompiledProcess
from paketflow._definition.model import Effect
from paketflow._definition.model import Notice as NoticeSpec
from paketflow._errors import Reason
from paketflow._expr import Expr, PathSegment
from paketflow._runtime._deadlines import arm_late, transition_deadlines
from paketflow._runtime._rules import (
    Rejection,
    action_params,
    attendance_reasons,
    build_scope,
    confined_reason,
    evaluate,
    exclusions,
    expr_reason,
    first_due,
    json_pointer,
    make_notice,
    make_reason,
    missing_signatures,
    plain,
    role_reason,
    schema_reasons,
    separation_reasons,
    strs,
)
from paketflow._runtime.fold import apply_ops
from paketflow._runtime.model import (
    Actor,
    ArmedDeadline,
    DataOp,
    Escalated,
    Fired,
    Instance,
    Notice,
    TimedOut,
)

SYSTEM = Actor("sistem", frozenset({"SISTEM"}), None, "Sistem (pewaktu)")

_NO_EVENT: Any = None


def decide(
    cp: CompiledProcess,
    inst: Instance,
    name: str,
    actor: Actor,
    payload: Mapping[str, Any],
    when: dt.datetime,
    *,
    check_only: bool = False,
) -> tuple[Fired, Mapping[str, Any]]:
    """The event recording the decision, and the data it results in (already
    computed while deciding, so the fold need not apply the same operations
    again). Raises ``Rejection`` with every reason.

    Every rule is checked and every effect computed on a draft (copy-on-write data,
    a throw-away machine cursor); nothing is recorded unless all of them pass."""
    d = cp.definition
    state = d.states[inst.state]
    tr = state.transitions.get(name)
    if tr is None:
        confined = None if state.final else confined_reason(cp, actor, name)
        if confined is not None:
            raise Rejection([confined])
        code = "ERR_STATUS_AKHIR" if state.final else "ERR_EVENT_TIDAK_BERLAKU"
        raise Rejection(
            [
                make_reason(
                    cp,
                    code,
                    {
                        **action_params(cp, name),
                        "tahap": state.labels.id,
                        "state": state.labels.en,
                        "berlaku": [
                            action_params(cp, e)["aksi"] for e in sorted(state.transitions)
                        ],
                        "available": [
                            action_params(cp, e)["action"] for e in sorted(state.transitions)
                        ],
                    },
                    fix=(),
                )
            ]
        )
    if actor.roles.isdisjoint(tr.roles):
        raise Rejection([role_reason(cp, actor, name, tr.roles)])
    reasons: list[Reason] = separation_reasons(cp, actor, name) if d.separations else []
    reasons.extend(exclusions(cp, inst, actor, name, tr.exclude))
    if tr.attendance is not None:  # an incomplete meeting is the reason, before signatures
        reasons.extend(attendance_reasons(cp, inst, tr.attendance, actor, payload, when))
    if tr.require_signatures:
        reasons.extend(
            missing_signatures(cp, inst, state, actor, payload, when, tr.require_documents)
        )
    validator = cp.validators.get((state.id, name))
    if validator is not None:
        fast = cp.fast.get((state.id, name))
        if fast is None or not fast(payload):  # jsonschema only when it may fail
            reasons.extend(schema_reasons(cp, validator, payload, name))
    if reasons:
        raise Rejection(reasons)
    scope = build_scope(cp, inst, actor, payload, when, inst.data)
    inputs: dict[str, Any] = {}
    for guard in tr.guards:
        before = len(reasons)
        ok = evaluate(cp, guard.condition, scope, reasons)
        inputs[guard.id] = bool(ok)
        if ok:
            continue
        if len(reasons) > before or _exhausted(scope):
            continue  # this guard's evaluation error is already reported
        params = {k: evaluate(cp, e, scope, reasons) for k, e in guard.params.items()}
        missing = evaluate(cp, guard.missing, scope, reasons) if guard.missing else ()
        expected = evaluate(cp, guard.expected, scope, reasons) if guard.expected else ()
        reasons.append(
            make_reason(
                cp,
                guard.code,
                params,
                missing=strs(missing),
                expected=strs(expected),
                fix=guard.fix,
                rule=guard.rule,
                deadline=first_due(inst),
            )
        )
    if reasons:
        raise Rejection(reasons)
    if check_only:
        return _NO_EVENT, inst.data  # allowed(): the checks passed, nothing to record
    # -- accepted: compute the consequences ------------------------------------
    ops: list[DataOp] = []
    flags_on: set[str] = set()
    flags_off: set[str] = set()
    data, reset = apply_effects(cp, tr.effects, scope, inst.data, ops, flags_on, flags_off, False)
    scope["data"] = data

    def test(when_expr: Expr) -> bool:
        ok = evaluate(cp, when_expr, scope, reasons)
        if reasons:
            raise Rejection(reasons)
        return bool(ok)

    target, choice = cp.move(state.id, name, test)
    alt = tr.alternatives[choice]
    data, reset = apply_effects(cp, alt.effects, scope, data, ops, flags_on, flags_off, reset)
    scope["data"] = data
    notices = collect_notices(cp, (*tr.notices, *alt.notices), scope, flags_on, reasons)
    if reasons:
        raise Rejection(reasons)
    entered = target != state.id or tr.reenter
    arm: tuple[ArmedDeadline, ...] = ()
    disarm: tuple[str, ...] = ()
    if entered:
        arm, disarm = transition_deadlines(cp, inst, d.states[target], data, when)
    elif cp.late_dates.get(state.id):  # a date deadline whose date the data now holds
        arm = arm_late(cp, inst, state, data, when)
    met = cp.met_by.get(name)
    if met is not None:  # deadlines this event meets, still armed and not re-armed now
        keep = {*disarm, *(a.id for a in arm)}
        disarm += tuple(a.id for a in inst.deadlines if a.id in met and a.id not in keep)
    raised, lowered = _flag_changes(inst, flags_on, flags_off)
    event = Fired(
        instance_id=inst.id,
        seq=inst.version + 1,
        at=when,
        actor=actor,
        notices=tuple(notices),
        name=name,
        payload=payload,
        inputs=inputs,
        record=tr.record,
        reset_signatures=reset and not entered,
        source=state.id,
        target=target,
        entered=entered,
        ops=tuple(ops),
        flags_on=raised,
        flags_off=lowered,
        arm=arm,
        disarm=disarm,
    )
    return event, data


def _exhausted(scope: Mapping[str, Any]) -> bool:
    """Whether the command's evaluation budget ran out (reported once, already)."""
    budget = scope.get("_budget")
    return budget is not None and budget.left < 0


def _flag_changes(
    inst: Instance, flags_on: set[str], flags_off: set[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Only the flags that actually change (an unflag wins over a flag raised in the
    same command), sorted."""
    return tuple(sorted(flags_on - flags_off - inst.flags)), tuple(sorted(flags_off & inst.flags))


def apply_effects(
    cp: CompiledProcess,
    effects: tuple[Effect, ...],
    scope: dict[str, Any],
    data: Mapping[str, Any],
    ops: list[DataOp],
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
            path = [path_segment(cp, s, scope, errors) for s in eff.path]
            value = plain(evaluate(cp, eff.value, scope, errors)) if eff.value else None
            if errors:
                raise Rejection(errors)
            if eff.op == "add" and not isinstance(value, int | float):
                errors.append(
                    expr_reason(
                        cp,
                        eff.value.pointer if eff.value else "",
                        f"'add' needs a number, got {value!r}",
                    )
                )
                raise Rejection(errors)
            tokens = tuple(str(p) for p in path)
            if eff.op == "add" and (not isinstance(value, int | float) or isinstance(value, bool)):
                errors.append(
                    expr_reason(
                        cp,
                        eff.value.pointer if eff.value else "",
                        f"'add' needs a number, got {value!r}",
                    )
                )
                raise Rejection(errors)
            if eff.op == "add":  # recorded as the value it results in
                old = _read(data, tokens)
                if old is not None and not isinstance(old, int | float):
                    errors.append(
                        expr_reason(cp, json_pointer(tokens), f"'add' needs a number, got {old!r}")
                    )
                    raise Rejection(errors)
                op = DataOp("set", tokens, (old or 0) + value)  # type: ignore[operator]
            else:
                op = DataOp(eff.op, tokens, value)
            try:
                data = apply_ops(data, (op,))
            except (TypeError, ValueError, IndexError) as exc:
                errors.append(expr_reason(cp, json_pointer(tokens), str(exc)))
                raise Rejection(errors) from None
            ops.append(op)
    scope["data"] = data
    return data, reset


def _read(data: Any, tokens: tuple[str, ...]) -> Any:
    for t in tokens:
        if isinstance(data, Mapping):
            data = data.get(t)
        elif isinstance(data, list) and t.isdigit() and int(t) < len(data):
            data = data[int(t)]
        else:
            return None
    return data


def path_segment(
    cp: CompiledProcess, seg: PathSegment, scope: Mapping[str, Any], errors: list[Reason]
) -> str | int:
    if isinstance(seg, Expr):
        v = evaluate(cp, seg, scope, errors)
        return v if isinstance(v, int | str) and not isinstance(v, bool) else str(v)
    return seg


def collect_notices(
    cp: CompiledProcess,
    specs: Iterable[NoticeSpec],
    scope: Mapping[str, Any],
    flags_on: set[str],
    errors: list[Reason],
) -> list[Notice]:
    out: list[Notice] = []
    for spec in specs:
        if spec.when is not None and not evaluate(cp, spec.when, scope, errors):
            continue
        params = {k: evaluate(cp, e, scope, errors) for k, e in spec.params.items()}
        if spec.flag:
            flags_on.add(spec.flag)
        out.append(make_notice(cp, spec.code, params, spec.notify))
    return out


def fire_step(
    cp: CompiledProcess, inst: Instance, armed: ArmedDeadline, now: dt.datetime
) -> Escalated | TimedOut:
    d = cp.definition
    dl = cp.deadlines[armed.id]
    when, step = armed.steps[armed.fired]
    if step != "!timeout":
        esc = next(e for e in dl.escalations if e.id == step)
        notices: tuple[Notice, ...] = ()
        errors: list[Reason] = []
        scope = None
        if esc.when is not None or esc.params:
            scope = build_scope(cp, inst, SYSTEM, {}, when, inst.data)
        if (
            scope is not None and esc.when is not None and not evaluate(cp, esc.when, scope, errors)
        ):  # a conditional tier that does not apply now passes silently
            return Escalated(
                instance_id=inst.id,
                seq=inst.version + 1,
                at=now,
                actor=SYSTEM,
                notices=tuple(make_notice(cp, r.code, r.params, ()) for r in errors),
                deadline=armed.id,
                step=step,
                due=armed.due,
                step_at=when,
                flags_on=(),
            )
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
            if scope is not None:
                params.update({k: evaluate(cp, e, scope, errors) for k, e in esc.params.items()})
            notices = (make_notice(cp, esc.message, params, esc.notify),)
        return Escalated(
            instance_id=inst.id,
            seq=inst.version + 1,
            at=now,
            actor=SYSTEM,
            notices=notices,
            deadline=armed.id,
            step=step,
            due=armed.due,
            step_at=when,
            flags_on=(esc.flag,) if esc.flag and esc.flag not in inst.flags else (),
        )
    assert dl.timeout is not None
    to = dl.timeout
    scope = build_scope(cp, inst, SYSTEM, {}, now, inst.data)
    ops: list[DataOp] = []
    flags_on: set[str] = set()
    flags_off: set[str] = set()
    try:
        data, _ = apply_effects(cp, to.effects, scope, inst.data, ops, flags_on, flags_off, False)
    except Rejection as rej:
        # A timeout cannot be refused: it happens. Record why its effects failed.
        data, ops = inst.data, []
        notices = tuple(make_notice(cp, r.code, r.params, ()) for r in rej.reasons)
    else:
        notices = ()
    target, _ = cp.move(inst.state, TIMEOUT_PREFIX + armed.id, _never)
    raised, lowered = _flag_changes(inst, flags_on, flags_off)
    # The timeout happened at its scheduled time, whenever tick() noticed it: the
    # next state's deadlines count from then, so they do not depend on tick cadence.
    arm, disarm = transition_deadlines(cp, inst, d.states[target], data, when)
    if armed.id not in disarm:
        disarm = (*disarm, armed.id)
    return TimedOut(
        instance_id=inst.id,
        seq=inst.version + 1,
        at=now,
        actor=SYSTEM,
        notices=notices,
        deadline=armed.id,
        name=to.event,
        due=armed.due,
        step_at=when,
        source=inst.state,
        target=target,
        entered=True,
        ops=tuple(ops),
        flags_on=raised,
        flags_off=lowered,
        arm=arm,
        disarm=disarm,
    )


def _never(when_expr: Expr) -> bool:  # timeouts have no conditions
    raise AssertionError("a timeout transition has no condition")
