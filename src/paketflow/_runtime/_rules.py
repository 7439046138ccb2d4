"""Rule checks and their refusal reasons: roles, segregation of duties, signatures,
payload schemas, the evaluation scope of expressions, and the bilingual rendering of
every reason and notice. Pure functions of the compiled process and the snapshot."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from paketflow._calendar import to_local_date
from paketflow._compile import CompiledProcess
from paketflow._definition.model import Exclusion, Labels, State
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


def missing_signatures(
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
                scope = build_scope(cp, inst, actor, payload, when, inst.data)
            expected.extend(strs(evaluate(cp, slot.expected, scope, errors)))
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


def check_sign(cp: CompiledProcess, inst: Instance, actor: Actor, slot: str | None) -> str:
    state = cp.definition.states[inst.state]
    rule = state.signatures
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
    reasons = exclusions(cp, inst, actor, "sign", rule.exclude)
    if reasons:
        raise Rejection(reasons)
    mine = [s for s in inst.signatures if s.actor == actor.id]
    if mine and rule.distinct_persons:
        prev = mine[0]
        who = actor.name or actor.id
        if prev.element is not None:
            code, el = "ERR_SATU_ORANG_SATU_UNSUR", prev.element or prev.slot
            raise Rejection(
                [
                    make_reason(
                        cp,
                        code,
                        {"nama": who, "name": who, "unsur": el, "element": el},
                        rule="SoD-1",
                    )
                ]
            )
        raise Rejection([make_reason(cp, "ERR_SUDAH_MENANDATANGANI", {"nama": who, "name": who})])
    counts: dict[str, int] = {}
    for sig in inst.signatures:
        counts[sig.slot] = counts.get(sig.slot, 0) + 1
    fits = [
        s
        for s in rule.slots
        if (slot is None or s.id == slot)
        and not actor.roles.isdisjoint(s.roles)
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
        raise Rejection([make_reason(cp, "ERR_SLOT_PENUH", params)])
    raise Rejection([role_reason(cp, actor, "sign", roles)])


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
