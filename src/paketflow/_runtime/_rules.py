"""Rule checks and their refusal reasons: roles, segregation of duties, signatures,
payload schemas, the evaluation scope of expressions, and the bilingual rendering of
every reason and notice. Pure functions of the compiled process and the snapshot."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from paketflow._calendar import to_local_date
from paketflow._compile import CompiledProcess
from paketflow._definition.model import Attendance, Exclusion, Labels, SignatureRule, Slot, State
from paketflow._errors import Reason
from paketflow._expr import Budget, Expr, ExprEvalError, ExprLimitError
from paketflow._json import FrozenDict, FrozenList, pointer
from paketflow._runtime.messages import BUILTIN, render
from paketflow._runtime.model import Actor, Instance, Notice

_AS_IS = frozenset({str, int, float, bool, type(None), FrozenDict, FrozenList})


class Rejection(Exception):
    """Internal: carries every reason out of a decision."""

    def __init__(self, reasons: list[Reason]) -> None:
        super().__init__(reasons)
        self.reasons = reasons


def exclusions(
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
                make_reason(
                    cp,
                    "ERR_PEMISAHAN_TUGAS",
                    {
                        "nama": actor.name or actor.id,
                        "name": actor.name or actor.id,
                        **action_params(cp, action),
                        "alasan": why.id,
                        "reason": why.en,
                        "sod": ex.rule or "-",
                    },
                    rule=ex.rule,
                    fix=(),
                )
            )
    return out


def expected_signers(
    cp: CompiledProcess,
    inst: Instance,
    rule: SignatureRule,
    actor: Actor,
    payload: Mapping[str, Any],
    when: dt.datetime,
    errors: list[Reason],
) -> dict[str, tuple[str, ...]]:
    """Per slot with ``only``, the persons (ids or names) it names now; a slot whose
    ``only`` evaluates to nothing is left out (anyone fitting may sign)."""
    out: dict[str, tuple[str, ...]] = {}
    scope = None
    for slot in rule.slots:
        if slot.only is None:
            continue
        if scope is None:
            scope = build_scope(cp, inst, actor, payload, when, inst.data)
        names = strs(evaluate(cp, slot.only, scope, errors))
        if names:
            out[slot.id] = names
    return out


def _is(person_id: str, name: str | None, names: tuple[str, ...]) -> bool:
    return person_id in names or (name is not None and name in names)


def signature_counts(inst: Instance, expected: Mapping[str, tuple[str, ...]]) -> dict[str, int]:
    """Signatures per slot that still count: a signature by a person the slot's
    expectation no longer names (a representative replaced since) does not."""
    counts: dict[str, int] = {}
    for sig in inst.signatures:
        want = expected.get(sig.slot)
        if want is not None and not _is(sig.actor, sig.name, want):
            continue
        counts[sig.slot] = counts.get(sig.slot, 0) + 1
    return counts


def missing_signatures(
    cp: CompiledProcess,
    inst: Instance,
    state: State,
    actor: Actor,
    payload: Mapping[str, Any],
    when: dt.datetime,
    documents: tuple[str, ...] = (),
) -> list[Reason]:
    """ERR_TANDA_TANGAN_KURANG when a slot (of ``documents``, or any) is short."""
    rule = state.signatures
    if rule is None:
        return []
    errors: list[Reason] = []
    want = expected_signers(cp, inst, rule, actor, payload, when, errors)
    if errors:
        return errors
    counts = signature_counts(inst, want)
    missing: list[str] = []
    expected: list[str] = []
    fix: list[str] = []
    scope = None
    for slot in rule.slots:
        if documents and slot.document not in documents:
            continue
        have = counts.get(slot.id, 0)
        if have >= slot.count:
            continue
        label = slot.element or slot.id
        missing.append(label if slot.count - have == 1 else f"{label} ({slot.count - have})")
        fix.extend(r for r in slot.roles if r not in fix)
        if slot.expected is not None:
            if scope is None:
                scope = build_scope(cp, inst, actor, payload, when, inst.data)
            expected.extend(strs(evaluate(cp, slot.expected, scope, errors)))
        else:
            expected.extend(want.get(slot.id, ()))
    if not missing:
        return []
    params = {
        "kurang": missing,
        "missing": missing,
        "diharapkan": expected or fix,
        "expected": expected or fix,
    }
    return [
        make_reason(
            cp,
            "ERR_TANDA_TANGAN_KURANG",
            params,
            missing=tuple(missing),
            expected=tuple(expected),
            fix=tuple(fix),
            deadline=first_due(inst),
        )
    ]


def check_sign(
    cp: CompiledProcess,
    inst: Instance,
    actor: Actor,
    slot: str | None,
    when: dt.datetime,
) -> str:
    """The slot ``actor``'s signature goes to, or Rejection. ``slot`` names a slot or
    a document of the state's rule; without it the actor's free slots must all belong
    to one document (else the signature is ambiguous and refused, listing the
    choices)."""
    state = cp.definition.states[inst.state]
    rule = state.signatures
    who = actor.name or actor.id
    if rule is None:
        raise Rejection(
            [
                make_reason(
                    cp,
                    "ERR_TIDAK_ADA_TANDA_TANGAN",
                    {"tahap": state.labels.id, "state": state.labels.en},
                )
            ]
        )
    reasons = separation_reasons(cp, actor, "sign") + exclusions(
        cp, inst, actor, "sign", rule.exclude
    )
    if reasons:
        raise Rejection(reasons)
    ids = [s.id for s in rule.slots]
    if slot is not None and slot not in ids and slot not in rule.documents:
        choices = [*rule.documents, *ids]
        params = {
            "slot": slot,
            "tahap": state.labels.id,
            "state": state.labels.en,
            "pilihan": choices,
            "choices": choices,
        }
        raise Rejection([make_reason(cp, "ERR_SLOT_TIDAK_DIKENAL", params, fix=())])
    mine = [s for s in inst.signatures if s.actor == actor.id]
    if mine and rule.distinct_persons:
        prev = mine[0]
        if prev.element is not None:
            code, el = "ERR_SATU_ORANG_SATU_UNSUR", prev.element or prev.slot
            raise Rejection(
                [
                    make_reason(
                        cp,
                        code,
                        {"nama": who, "name": who, "unsur": el, "element": el},
                        rule=rule.rule or "SoD-1",
                    )
                ]
            )
        params = {"nama": who, "name": who}
        raise Rejection([make_reason(cp, "ERR_SUDAH_MENANDATANGANI", params, rule=rule.rule)])
    errors: list[Reason] = []
    want = expected_signers(cp, inst, rule, actor, {}, when, errors)
    if errors:
        raise Rejection(errors)
    counts = signature_counts(inst, want)
    fits_role = [
        s
        for s in rule.slots
        if (slot is None or slot in (s.id, s.document))
        and not actor.roles.isdisjoint(s.roles)
        and (s.element is None or s.element == actor.element)
    ]
    fits = [s for s in fits_role if s.id not in want or _is(actor.id, actor.name, want[s.id])]
    free = [s for s in fits if counts.get(s.id, 0) < s.count]
    if slot is None and len({s.document for s in free}) > 1:
        choices = list(dict.fromkeys(s.document or s.id for s in free))
        params = {"nama": who, "name": who, "pilihan": choices, "choices": choices}
        raise Rejection(
            [make_reason(cp, "ERR_TANDA_TANGAN_AMBIGU", params, missing=tuple(choices))]
        )
    if free:
        return free[0].id
    if fits:
        slots = [s.id for s in fits]
        params = {"nama": who, "name": who, "slot": slots}
        raise Rejection([make_reason(cp, "ERR_SLOT_PENUH", params)])
    if fits_role:
        shown = expected_names(cp, inst, fits_role, actor, when)
        expected = shown or [n for s in fits_role for n in want.get(s.id, ())]
        slots = [s.id for s in fits_role]
        params = {
            "nama": who,
            "name": who,
            "slot": slots,
            "diharapkan": expected,
            "expected": expected,
        }
        raise Rejection(
            [
                make_reason(
                    cp,
                    "ERR_BUKAN_PENANDATANGAN",
                    params,
                    expected=tuple(expected),
                    fix=tuple(dict.fromkeys(r for s in fits_role for r in s.roles)),
                )
            ]
        )
    roles = sorted({r for s in rule.slots for r in s.roles})
    raise Rejection([role_reason(cp, actor, "sign", roles)])


def expected_names(
    cp: CompiledProcess, inst: Instance, slots: Iterable[Slot], actor: Actor, when: dt.datetime
) -> list[str]:
    """The names the slots' ``expected`` expressions give (for refusals)."""
    out: list[str] = []
    errors: list[Reason] = []
    scope = None
    for slot in slots:
        if slot.expected is None:
            continue
        if scope is None:
            scope = build_scope(cp, inst, actor, {}, when, inst.data)
        out.extend(n for n in strs(evaluate(cp, slot.expected, scope, errors)) if n not in out)
    return out


def separation_reasons(cp: CompiledProcess, actor: Actor, action: str) -> list[Reason]:
    """ERR_PEMISAHAN_TUGAS for every ``/separations`` rule whose roles ``actor``
    holds together (SoD-10: secretariat staff may not be BKM members or unit staff)."""
    out = []
    for sep in cp.definition.separations:
        held = sorted(actor.roles.intersection(sep.roles))
        also = sorted(actor.roles.intersection(sep.not_with))
        if not held or not also:
            continue
        why = sep.reason or Labels(
            f"peran {', '.join(held)} tidak boleh dirangkap dengan {', '.join(also)}",
            f"role {', '.join(held)} may not be held together with {', '.join(also)}",
        )
        out.append(
            make_reason(
                cp,
                "ERR_PEMISAHAN_TUGAS",
                {
                    "nama": actor.name or actor.id,
                    "name": actor.name or actor.id,
                    **action_params(cp, action),
                    "alasan": why.id,
                    "reason": why.en,
                    "sod": sep.rule,
                },
                rule=sep.rule,
                fix=(),
            )
        )
    return out


def confined_reason(cp: CompiledProcess, actor: Actor, action: str) -> Reason | None:
    """ERR_PEMISAHAN_TUGAS for an event declared with a ``rule`` that confines it to
    the states offering it (SoD-9: the prioritised list changes only in a
    musyawarah), fired in a state that does not offer it; None for other events."""
    decl = cp.definition.events.get(action)
    if decl is None or decl.rule is None:
        return None
    why = decl.reason or Labels(
        "aksi ini hanya sah pada tahap yang menyediakannya",
        "this action is only valid in the states that offer it",
    )
    return make_reason(
        cp,
        "ERR_PEMISAHAN_TUGAS",
        {
            "nama": actor.name or actor.id,
            "name": actor.name or actor.id,
            **action_params(cp, action),
            "alasan": why.id,
            "reason": why.en,
            "sod": decl.rule,
        },
        rule=decl.rule,
        fix=(),
    )


def attendance_reasons(
    cp: CompiledProcess,
    inst: Instance,
    att: Attendance,
    actor: Actor,
    payload: Mapping[str, Any],
    when: dt.datetime,
) -> list[Reason]:
    """ERR_UNSUR_TIDAK_LENGKAP when an element of ``att`` has fewer than ``min``
    attendees (current members only, where ``members`` names any)."""
    errors: list[Reason] = []
    scope = build_scope(cp, inst, actor, payload, when, inst.data)
    present = evaluate(cp, att.present, scope, errors)
    members = evaluate(cp, att.members, scope, errors) if att.members is not None else None
    shown = evaluate(cp, att.expected, scope, errors) if att.expected is not None else members
    if errors:
        return errors
    missing: list[str] = []
    expected: list[str] = []
    for el in att.elements:
        here = present.get(el) if isinstance(present, Mapping) else None
        known = strs(members.get(el)) if isinstance(members, Mapping) else ()
        if isinstance(here, int) and not isinstance(here, bool):
            count = here if not known else 0
        elif isinstance(here, list | tuple):
            persons = {str(p) for p in here if p is not None}
            count = len(persons & set(known)) if known else len(persons)
        else:
            count = 0
        if count < att.min:
            missing.append(el)
            names = strs(shown.get(el)) if isinstance(shown, Mapping) else ()
            expected.extend(n for n in names if n not in expected)
    if not missing:
        return []
    d = cp.definition
    lab_id = [d.elements[e].labels.id if e in d.elements else e for e in missing]
    lab_en = [d.elements[e].labels.en if e in d.elements else e for e in missing]
    due = first_due(inst)
    date = to_local_date(due, cp.tz).isoformat() if due is not None else None
    params = {
        "unsur": lab_id,
        "elements": lab_en,
        "nama": expected,
        "names": expected,
        "tanggal": date,
        "date": date,
        "kode_unsur": missing,
    }
    fix = sorted({r.id for r in d.roles.values() if r.element in missing})
    return [
        make_reason(
            cp,
            "ERR_UNSUR_TIDAK_LENGKAP",
            params,
            missing=tuple(missing),
            expected=tuple(expected),
            fix=fix,
            deadline=due,
        )
    ]


#: How the engine's own commands are named in messages (events use their labels).
_COMMAND_NAMES = {
    "sign": ("penandatanganan", "signing"),
    "start": ("pembukaan proses", "starting the process"),
}


def action_params(cp: CompiledProcess, action: str) -> dict[str, str]:
    """Message parameters naming ``action`` in each language: an event by its quoted
    label, ``sign``/``start`` by a word; ``event`` keeps the id for programs."""
    named = _COMMAND_NAMES.get(action)
    if named is None:
        decl = cp.definition.events.get(action)
        named = (f"“{decl.labels.id}”", f"“{decl.labels.en}”") if decl else (action, action)
    return {"aksi": named[0], "action": named[1], "event": action}


def role_reason(cp: CompiledProcess, actor: Actor, action: str, roles: Iterable[str]) -> Reason:
    d = cp.definition
    names = sorted(actor.roles) or ["-"]
    allowed = sorted(roles)
    lab_id = [d.roles[r].labels.id if r in d.roles else r for r in names]
    lab_en = [d.roles[r].labels.en if r in d.roles else r for r in names]
    ok_id = [d.roles[r].labels.id if r in d.roles else r for r in allowed]
    ok_en = [d.roles[r].labels.en if r in d.roles else r for r in allowed]
    return make_reason(
        cp,
        "ERR_PERAN_TIDAK_BERWENANG",
        {
            "peran": lab_id,
            "role": lab_en,
            **action_params(cp, action),
            "berwenang": ok_id,
            "authorised": ok_en,
        },
        fix=tuple(allowed),
    )


def build_scope(
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
        "_budget": Budget(),  # one per command: shared by its guards and effects
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


def evaluate(
    cp: CompiledProcess, expr: Expr, scope: Mapping[str, Any], errors: list[Reason]
) -> Any:
    try:
        return expr(scope)
    except ExprLimitError as exc:
        if not any(r.code == "ERR_BATAS_EVALUASI" for r in errors):  # once per command
            errors.append(limit_reason(cp, exc))
    except ExprEvalError as exc:
        errors.append(expr_reason(cp, exc.pointer, exc.message))
    except (TypeError, ValueError, ArithmeticError, RecursionError) as exc:
        errors.append(expr_reason(cp, expr.pointer, str(exc)))
    return None


_LIMITS = {  # ExprLimitError.limit → (Indonesian, English) name of the limit
    "operations": ("operasi", "operations"),
    "text": ("karakter per teks", "characters per text"),
    "items": ("butir per daftar", "items per list"),
    "integer": ("bilangan bulat terbesar", "largest integer"),
}


def limit_reason(cp: CompiledProcess, exc: ExprLimitError) -> Reason:
    batas, limit = _LIMITS[exc.limit]
    return make_reason(
        cp,
        "ERR_BATAS_EVALUASI",
        {
            "lokasi": exc.pointer,
            "location": exc.pointer,
            "batas": batas,
            "limit": limit,
            "nilai": exc.bound,
            "value": exc.bound,
        },
    )


def expr_reason(cp: CompiledProcess, pointer: str, detail: str) -> Reason:
    return make_reason(
        cp,
        "ERR_EKSPRESI",
        {"lokasi": pointer, "location": pointer, "rincian": detail, "detail": detail},
    )


def templates(cp: CompiledProcess, code: str) -> tuple[str, str]:
    msg = cp.definition.messages.get(code)
    if msg is not None:
        return msg.labels.id, msg.labels.en
    return BUILTIN.get(code, (code, code))


def make_reason(
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
    tid, ten = templates(cp, code)
    clean = {k: plain(v) for k, v in params.items()}
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
        category=cp.definition.category(code),
    )


def schema_reasons(
    cp: CompiledProcess, validator: Any, payload: Mapping[str, Any], action: str
) -> list[Reason]:
    """Up to three ERR_DATA_TIDAK_VALID reasons, each naming the JSON Pointer of the
    offending (or missing) field."""
    out = []
    reported: set[str] = set()
    for err in sorted(validator.iter_errors(payload), key=lambda e: list(e.path))[:3]:
        path = list(err.path)
        if err.validator == "required" and isinstance(err.instance, Mapping):
            # one error per missing property, each listing them all: name the next one
            absent = [k for k in err.validator_value if k not in err.instance]
            fresh = [k for k in absent if json_pointer([*path, k]) not in reported]
            path += (fresh or absent)[:1]
        ptr = json_pointer(path)
        reported.add(ptr)
        detail_id, detail_en = _schema_detail(err)
        params = {
            **action_params(cp, action),
            "lokasi": ptr,
            "location": ptr,
            "rincian": detail_id,
            "detail": detail_en,
        }
        out.append(make_reason(cp, "ERR_DATA_TIDAK_VALID", params, missing=(ptr,)))
    return out


def _schema_detail(err: Any) -> tuple[str, str]:
    """What is wrong with a value, in Indonesian and English (jsonschema's own
    messages are English only)."""
    kind, want = err.validator, err.validator_value
    if kind == "required":
        return "wajib diisi", "is required"
    if kind == "enum":
        choices = ", ".join(repr(v) for v in want)
        return f"harus salah satu dari {choices}", f"must be one of {choices}"
    if kind == "const":
        return f"harus {want!r}", f"must be {want!r}"
    if kind == "type":
        kinds = want if isinstance(want, list) else [want]
        return f"harus bertipe {' atau '.join(kinds)}", f"must be of type {' or '.join(kinds)}"
    if kind in ("minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems"):
        word_id = {
            "minLength": "panjang minimal",
            "maxLength": "panjang maksimal",
            "minimum": "minimal",
            "maximum": "maksimal",
            "minItems": "jumlah isi minimal",
            "maxItems": "jumlah isi maksimal",
        }[kind]
        word_en = {
            "minLength": "length at least",
            "maxLength": "length at most",
            "minimum": "at least",
            "maximum": "at most",
            "minItems": "at least",
            "maxItems": "at most",
        }[kind]
        suffix_en = " items" if kind in ("minItems", "maxItems") else ""
        return f"{word_id} {want}", f"must be {word_en} {want}{suffix_en}"
    if kind == "additionalProperties":
        return "berisi bidang yang tidak dikenal", "has fields that are not allowed"
    if kind == "pattern":
        return f"{err.instance!r} tidak cocok dengan pola {want!r}", str(err.message)
    return f"tidak memenuhi aturan '{kind}'", f"does not satisfy '{kind}'"


def make_notice(
    cp: CompiledProcess, code: str, params: Mapping[str, Any], notify: Iterable[str]
) -> Notice:
    tid, ten = templates(cp, code)
    clean = {k: plain(v) for k, v in params.items()}
    return Notice(code, render(tid, clean), render(ten, clean), tuple(notify), clean)


def first_due(inst: Instance) -> dt.datetime | None:
    dues = [a.due for a in inst.deadlines]
    return min(dues) if dues else None


def strs(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value if v is not None)
    return (str(value),)


def json_pointer(path: Iterable[Any]) -> str:
    """The RFC 6901 pointer of ``path`` for messages (``/`` for the root)."""
    return pointer(path) or "/"


def plain(value: Any) -> Any:
    """A frozen JSON value (frozen dicts and lists, str, int, float, bool, None):
    dates become ISO 8601 text and sets sorted lists. Frozen parts (read from instance
    data or the payload) are shared, not copied."""
    if type(value) in _AS_IS:
        return value
    if isinstance(value, Mapping):
        return FrozenDict({str(k): plain(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return FrozenList([plain(v) for v in value])
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, frozenset | set):
        return FrozenList(sorted(plain(v) for v in value))
    return value
