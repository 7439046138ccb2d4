"""Static checks: mistakes that used to pass validate and fail only at run time are
reported, all in one run, with the place and a fix; correct definitions pass."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import paketflow
from paketflow._definition._static import ESCALATION_PARAMS
from paketflow._errors import DefinitionError, Problem

S = "/states"


def problems(doc: dict[str, Any]) -> list[Problem]:
    with pytest.raises(DefinitionError) as info:
        paketflow.load_definition(doc)
    return list(info.value.errors)


def guard(d: dict[str, Any]) -> dict[str, Any]:
    g: dict[str, Any] = d["states"]["SPEND"]["on"]["pay"]["guards"][1]
    return g


def when(d: dict[str, Any], node: Any) -> None:
    d["states"]["FUNDING"]["on"]["receive"]["alternatives"][0]["when"] = node


Change = Callable[[dict[str, Any]], Any]
CASES: list[tuple[str, Change, str, str, str]] = [
    (
        "a placeholder no parameter fills",
        lambda d: d["messages"]["ERR_OVER"].update(en="Amount {amount} over {minimum}."),
        "message.placeholder",
        f"{S}/SPEND/on/pay/guards/1/params",
        "the English text of ERR_OVER uses {minimum}, which the guard does not give "
        "(it would be printed as written)",
    ),
    (
        "an escalation message with its own placeholder",
        lambda d: d["messages"]["WARN_LATE"].update(id="{tahap} telat {n} hari."),
        "message.placeholder",
        f"{S}/DRAFT/deadlines/TM-SUBMIT/escalations/h1/message",
        "the Indonesian text of WARN_LATE uses {n}, which the escalation does not give "
        "(it would be printed as written)",
    ),
    (
        "a data path typo",
        lambda d: when(d, {"<": [{"var": "data.availble"}, 1]}),
        "expr.unknown-path",
        f"{S}/FUNDING/on/receive/alternatives/0/when",
        "data.availble: 'availble' is neither a property of /data nor written by any "
        "effect, so it is always null",
    ),
    (
        "a guessed deadline field",
        lambda d: when(d, {"<": [{"var": "deadlines.TM-SUBMIT.due"}, {"var": "at"}]}),
        "expr.unknown-path",
        f"{S}/FUNDING/on/receive/alternatives/0/when",
        "deadlines.TM-SUBMIT.due: deadlines.TM-SUBMIT is the due instant itself (an ISO "
        "date-time), it has no 'due'",
    ),
    (
        "an unknown deadline",
        lambda d: when(d, {"==": [{"var": "deadlines.TM-SUBMT"}, None]}),
        "expr.unknown-path",
        f"{S}/FUNDING/on/receive/alternatives/0/when",
        "deadlines.TM-SUBMT: no deadline 'TM-SUBMT' is declared",
    ),
    (
        "a payload field the schema does not declare",
        lambda d: when(d, {">": [{"var": "event.amout"}, 1]}),
        "expr.unknown-path",
        f"{S}/FUNDING/on/receive/alternatives/0/when",
        "event.amout: it is not a property of the payload schema, so it may be anything or null",
    ),
    (
        "an actor field that does not exist",
        lambda d: when(d, {"==": [{"var": "actor.role"}, "HEAD"]}),
        "expr.unknown-path",
        f"{S}/FUNDING/on/receive/alternatives/0/when",
        "actor.role: the actor has only id, roles, element",
    ),
    (
        "arithmetic on a string",
        lambda d: (
            d["states"]["FUNDING"]["on"]["receive"]["data"]["properties"].update(
                note={"type": "string"}
            )
            or when(d, {">": [{"+": [{"var": "event.note"}, 1]}, 1]})
        ),
        "expr.type",
        f"{S}/FUNDING/on/receive/alternatives/0/when",
        "'+' needs numbers but event.note is a string (its schema says so)",
    ),
    (
        "arithmetic on an optional payload value",
        lambda d: (
            d["states"]["FUNDING"]["on"]["receive"]["data"]["properties"].update(
                extra={"type": "integer"}
            )
            or when(d, {">": [{"+": [{"var": "event.extra"}, 1]}, 1]})
        ),
        "expr.maybe-missing",
        f"{S}/FUNDING/on/receive/alternatives/0/when",
        "'+' on event.extra, which the payload schema does not require: when it is "
        "missing the command fails with an expression error",
    ),
    (
        "a deadline compared with at as text",
        lambda d: when(d, {">": [{"var": "at"}, {"var": "deadlines.TM-SUBMIT"}]}),
        "expr.compare-instant",
        f"{S}/FUNDING/on/receive/alternatives/0/when",
        "'>' compares at and deadlines.TM-SUBMIT as text; date-times in different time "
        "zones (at is UTC, deadlines are local) then compare wrongly",
    ),
    (
        "a quorum on a role with no pool",
        lambda d: d["roles"]["CHECKER"].pop("pool"),
        "signature.quorum-without-pool",
        f"{S}/CHECK/signatures/slots/checkers/count",
        "slot 'checkers' needs 2 signers of CHECKER, which declares no pool, so nothing "
        "shows that so many people can sign",
    ),
    (
        "a hard deadline whose state can only be cancelled",
        lambda d: d["states"]["CHECK"]["on"].pop("check"),
        "deadline.no-way-out",
        f"{S}/CHECK/deadlines/TM-CHECK/timeout",
        "deadline 'TM-CHECK' has a timeout but the states it covers (CHECK) have no way "
        "forward except cancel: whatever happens, the process cannot move on",
    ),
]


@pytest.mark.parametrize(
    ("what", "change", "code", "pointer", "message"), CASES, ids=[c[0] for c in CASES]
)
def test_static_check(
    mini_doc: dict[str, Any], what: str, change: Change, code: str, pointer: str, message: str
) -> None:
    """Each mistake is one problem with its code, place and exact message."""
    change(mini_doc)
    got = [(p.code, p.pointer, p.message) for p in problems(mini_doc) if p.code == code]
    assert got == [(code, pointer, message)], problems(mini_doc)


def test_all_static_problems_in_one_run(mini_doc: dict[str, Any]) -> None:
    """Several mistakes of different kinds are reported together."""
    for _, change, *_ in CASES[:4]:
        change(mini_doc)
    codes = [p.code for p in problems(mini_doc)]
    assert codes.count("expr.unknown-path") == 1  # the last when replaces the earlier ones
    assert codes.count("message.placeholder") == 2


def test_fixes_pass(mini_doc: dict[str, Any]) -> None:
    """The fixes the hints name make the definition load: coalesce for an optional
    value, date() to compare days, a pool on the role."""
    mini_doc["states"]["FUNDING"]["on"]["receive"]["data"]["properties"].update(
        extra={"type": "integer"}
    )
    when(
        mini_doc,
        {
            "and": [
                {">": [{"+": [{"coalesce": [{"var": "event.extra"}, 0]}, 1]}, 1]},
                {">": [{"date": {"var": "at"}}, {"date": {"var": "deadlines.TM-SUBMIT"}}]},
            ]
        },
    )
    paketflow.load_definition(mini_doc)


def test_escalation_params_are_what_the_engine_passes(mini_doc: dict[str, Any]) -> None:
    """ESCALATION_PARAMS (documented) are the parameters of a fired escalation."""
    import datetime as dt

    from conftest import at

    engine = paketflow.Engine([paketflow.load_definition(mini_doc)])
    engine.start(
        definition="mini",
        instance_id="i1",
        data={"required": 1},
        actor=paketflow.Actor("u", ("HEAD",)),
        at=at("2024-01-02"),
    )
    events = engine.tick(at("2024-01-02") + dt.timedelta(days=20))
    notices = [n for e in events for n in e.notices if n.code == "WARN_LATE"]
    assert notices, events
    assert set(notices[0].params) == ESCALATION_PARAMS
