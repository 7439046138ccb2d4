"""Scenarios: run a timeline of commands on a fresh engine and check expectations.

The format is described in docs/scenarios.md; its JSON Schema ships as
``paketflow/_definition/schemas/scenario-v1.json``. ``paketflow simulate`` calls
:func:`main`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import IO, Any, TextIO

import attrs
import structlog
from jsonschema import Draft202012Validator

from paketflow._calendar import zone
from paketflow._clock import local_time
from paketflow._definition.model import ProcessDefinition
from paketflow._errors import (
    DefinitionError,
    PaketflowError,
    Reason,
    Refused,
    ScenarioError,
    StoreError,
)
from paketflow._runtime.engine import Engine
from paketflow._runtime.model import Actor, Escalated, Instance, Notice, TimedOut
from paketflow._store import open_store

__all__ = ["ScenarioResult", "StepResult", "load_scenario", "main", "run_scenario"]


@attrs.frozen
class StepResult:
    """What one scenario step did and which expectations failed."""

    index: int
    at: dt.datetime
    command: str
    actor: Actor | None
    event: str | None
    accepted: bool
    state_before: str | None
    state_after: str | None
    reasons: tuple[Reason, ...] = ()
    notices: tuple[Notice, ...] = ()
    ticked: tuple[Escalated | TimedOut, ...] = ()
    failures: tuple[str, ...] = ()
    note: str | None = None


@attrs.frozen
class ScenarioResult:
    """The outcome of :func:`run_scenario`."""

    scenario: str
    definition: str
    steps: tuple[StepResult, ...]
    instance: Instance | None

    @property
    def ok(self) -> bool:
        return all(not s.failures for s in self.steps)


def _schema() -> Draft202012Validator:
    text = resources.files("paketflow._definition").joinpath("schemas/scenario-v1.json").read_text()
    return Draft202012Validator(json.loads(text))


def _no_dupes(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def load_scenario(source: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """Read and validate a scenario; raise :class:`ScenarioError` naming the place."""
    where = "<mapping>"
    if isinstance(source, Mapping):
        doc: Any = dict(source)
    else:
        where = str(source)
        try:
            text = Path(source).read_text(encoding="utf-8")
            doc = json.loads(text, object_pairs_hook=_no_dupes, parse_constant=_reject_constant)
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise ScenarioError(f"{where}: cannot read scenario: {exc}") from None
    errors = sorted(_schema().iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"{where}:{_ptr(e.absolute_path)}: {e.message}" for e in errors[:10]]
        raise ScenarioError(
            "scenario does not match the format (docs/scenarios.md):\n" + "\n".join(lines)
        )
    actors = doc.get("actors", {})
    for i, step in enumerate(doc["steps"]):
        ref = step.get("actor")
        if isinstance(ref, str) and ref not in actors:
            raise ScenarioError(
                f"{where}:/steps/{i}/actor: unknown actor {ref!r}; declare it under /actors"
            )
    return dict(doc)


def _ptr(path: Sequence[Any]) -> str:
    return "".join(f"/{p}" for p in path) or "/"


def _moment(text: str, tz: dt.tzinfo) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text) if len(text) != 10 else None
    if moment is not None and moment.tzinfo is not None:
        return moment  # an explicit offset is kept as written
    return local_time(text, tz)


def _actor(ref: Any, actors: Mapping[str, Any]) -> Actor | None:
    if ref is None:
        return None
    if isinstance(ref, str):
        return actors[ref]  # type: ignore[no-any-return]
    return Actor.from_dict(ref)


def _resolve_pointer(data: Any, pointer: str) -> Any:
    if pointer in ("", "/"):
        return data
    cur = data
    for raw in pointer.lstrip("/").split("/"):
        seg = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(cur, Mapping):
            if seg not in cur:
                return _ABSENT
            cur = cur[seg]
        elif isinstance(cur, list) and seg.isdigit() and int(seg) < len(cur):
            cur = cur[int(seg)]
        else:
            return _ABSENT
    return cur


_ABSENT = object()


def run_scenario(
    definition: ProcessDefinition,
    scenario: Mapping[str, Any],
    *,
    engine: Engine | None = None,
) -> ScenarioResult:
    """Run ``scenario`` on ``engine`` (default: a fresh engine with ``definition``)."""
    wanted = scenario.get("definition")
    bases = {definition.id, (definition.extends or "").split("@")[0]}
    if wanted is not None and wanted not in bases:
        raise ScenarioError(
            f"scenario {scenario['id']!r} is written for definition {wanted!r}, not "
            f"{definition.key}; pass the matching definition file"
        )
    engine = engine or Engine([definition])
    tz = zone(definition.timezone)
    actors = {k: Actor.from_dict(v) for k, v in scenario.get("actors", {}).items()}
    iid = scenario.get("instance") or f"{scenario['id']}"
    results: list[StepResult] = []
    instance: Instance | None = None
    for i, step in enumerate(scenario["steps"]):
        at = _moment(step["at"], tz)
        cmd = step["command"]
        actor = _actor(step.get("actor"), actors)
        before = instance.state if instance else None
        reasons: tuple[Reason, ...] = ()
        notices: tuple[Notice, ...] = ()
        ticked: tuple[Escalated | TimedOut, ...] = ()
        accepted = True
        try:
            if cmd == "start":
                assert actor is not None
                instance = engine.start(
                    definition=definition,
                    instance_id=iid,
                    data=step.get("data", {}),
                    actor=actor,
                    at=at,
                )
            elif cmd == "tick":
                ticked = tuple(engine.tick(at))
                notices = tuple(n for ev in ticked for n in ev.notices)
            elif cmd == "sign":
                assert actor is not None
                instance = engine.sign(iid, actor=actor, slot=step.get("slot"), at=at)
            else:
                assert actor is not None
                instance = engine.fire(
                    iid, step["event"], actor=actor, data=step.get("data"), at=at
                )
                notices = engine.history(iid)[-1].notices
        except Refused as refusal:
            accepted = False
            reasons = refusal.reasons
        except PaketflowError as exc:  # e.g. a step before `start`: report, do not crash
            accepted = False
            reasons = (Reason("ERR_SKENARIO", str(exc), str(exc)),)
        if instance is not None and cmd != "start":
            instance = engine.get(iid)
        failures = _check(step.get("expect", {}), accepted, reasons, notices, ticked, instance)
        results.append(
            StepResult(
                i + 1,
                at,
                cmd,
                actor,
                step.get("event"),
                accepted,
                before,
                instance.state if instance else None,
                reasons,
                notices,
                ticked,
                tuple(failures),
                step.get("note"),
            )
        )
    return ScenarioResult(scenario["id"], definition.key, tuple(results), instance)


def _check(
    expect: Mapping[str, Any],
    accepted: bool,
    reasons: Sequence[Reason],
    notices: Sequence[Notice],
    ticked: Sequence[Escalated | TimedOut],
    instance: Instance | None,
) -> list[str]:
    out: list[str] = []
    codes = [r.code for r in reasons]
    want_refused = expect.get("refused")
    if want_refused is not None or expect.get("accepted") is False:
        if accepted:
            out.append(f"expected a refusal {want_refused or ''}, but it was accepted")
        for code in want_refused or ():
            if not accepted and code not in codes:
                out.append(f"expected refusal code {code}, got {codes}")
    elif not accepted:
        out.append(f"expected acceptance, but it was refused: {codes}")
    missing = {m for r in reasons for m in r.missing}
    for m in expect.get("missing", ()):
        if m not in missing and not any(m in str(r.params) for r in reasons):
            out.append(f"expected {m!r} among what is missing, got {sorted(missing)}")
    if "state" in expect and (instance is None or instance.state != expect["state"]):
        out.append(f"expected state {expect['state']}, got {instance.state if instance else None}")
    for flag in expect.get("flags", ()):
        if instance is None or flag not in instance.flags:
            out.append(
                f"expected flag {flag!r}, flags are {sorted(instance.flags) if instance else []}"
            )
    got_notices = [n.code for n in notices]
    for code in expect.get("notices", ()):
        if code not in got_notices:
            out.append(f"expected notice {code}, got {got_notices}")
    fired = [e.name for e in ticked]
    for name in expect.get("escalations", ()):
        if name not in fired:
            out.append(f"expected deadline step {name}, fired {fired}")
    for pointer, value in expect.get("data", {}).items():
        got = _resolve_pointer(instance.data if instance else {}, pointer)
        if got is _ABSENT or got != value:
            shown = "nothing" if got is _ABSENT else repr(got)
            out.append(f"expected data {pointer} == {value!r}, got {shown}")
    return out


def _fmt_actor(actor: Actor | None) -> str:
    if actor is None:
        return "SISTEM"
    return f"{actor.name or actor.id} ({', '.join(sorted(actor.roles))})"


def render_text(result: ScenarioResult, lang: str = "en") -> str:
    """A human-readable timeline."""
    words = {
        "id": ("DITOLAK", "diterima", "ekspektasi gagal", "Hasil", "langkah", "ekspektasi gagal"),
        "en": (
            "REFUSED",
            "accepted",
            "expectation failed",
            "Result",
            "steps",
            "failed expectations",
        ),
    }[lang]
    lines = [f"{result.scenario} — {result.definition}"]
    for s in result.steps:
        what = s.command if s.command != "fire" else f"fire {s.event}"
        move = ""
        if s.state_before != s.state_after:
            move = f"  {s.state_before or '∅'} → {s.state_after}"
        elif s.state_after:
            move = f"  [{s.state_after}]"
        verdict = words[1] if s.accepted else words[0]
        lines.append(
            f"{s.index:>3}  {s.at.isoformat()}  {_fmt_actor(s.actor)}  {what}: {verdict}{move}"
        )
        if s.note:
            lines.append(f"       # {s.note}")
        for r in s.reasons:
            extra = f" [missing: {', '.join(r.missing)}]" if r.missing else ""
            lines.append(f"       ✗ {r.code}: {r.message(lang)}{extra}")
        for ev in s.ticked:
            lines.append(f"       ⏰ {ev.name} ({ev.type})")
        for n in s.notices:
            to = f" → {', '.join(n.notify)}" if n.notify else ""
            lines.append(f"       ! {n.code}: {n.message(lang)}{to}")
        for f in s.failures:
            lines.append(f"       !! {words[2]}: {f}")
    failed = sum(1 for s in result.steps if s.failures)
    lines.append(f"{words[3]}: {len(result.steps)} {words[4]}, {failed} {words[5]}.")
    return "\n".join(lines)


def render_json(result: ScenarioResult) -> str:
    """A machine-readable timeline."""
    doc = {
        "scenario": result.scenario,
        "definition": result.definition,
        "ok": result.ok,
        "steps": [
            {
                "index": s.index,
                "at": s.at.isoformat(),
                "command": s.command,
                "event": s.event,
                "actor": s.actor.as_dict() if s.actor else None,
                "accepted": s.accepted,
                "state_before": s.state_before,
                "state_after": s.state_after,
                "reasons": [r.as_dict() for r in s.reasons],
                "notices": [n.as_dict() for n in s.notices],
                "ticked": [e.name for e in s.ticked],
                "failures": list(s.failures),
                "note": s.note,
            }
            for s in result.steps
        ],
        "instance": {
            "state": result.instance.state,
            "flags": sorted(result.instance.flags),
            "data": result.instance.data,
        }
        if result.instance
        else None,
    }
    return json.dumps(doc, ensure_ascii=False, indent=2)


def main(
    definition_path: str,
    scenario_path: str,
    *,
    lang: str = "en",
    fmt: str = "text",
    out: IO[str],
    err: TextIO | None = None,
    verbose: bool = False,
    on_result: Callable[[ProcessDefinition, ScenarioResult, Engine], None] | None = None,
    store: str | None = None,
) -> int:
    """Run a scenario file against a definition file; print the timeline to ``out``.
    Return 0 when every expectation holds, 1 when one fails, 2 when a file or the
    store is bad. ``store`` is a store URL to record the run in (default memory).

    The engine logs to ``err`` at info level when ``verbose``, else not at all; the
    global structlog configuration is never touched. ``on_result`` is called with the
    definition, the result and the engine after the run (``--report`` uses it)."""
    from paketflow._definition import load_definition

    err = err or sys.stderr
    try:
        definition = load_definition(definition_path)
        scenario = load_scenario(scenario_path)
    except DefinitionError as exc:
        for p in exc.errors:
            err.write(f"{p}\n")
        return 2
    except ScenarioError as exc:
        err.write(f"{exc}\n")
        return 2
    level = logging.INFO if verbose else logging.CRITICAL
    logger = structlog.wrap_logger(
        structlog.PrintLogger(err),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(sort_keys=True),
        ],
    )
    try:
        where = open_store(store) if store is not None else None
        engine = Engine([definition], logger=logger, store=where)
        result = run_scenario(definition, scenario, engine=engine)
    except (ScenarioError, StoreError) as exc:
        err.write(f"{exc}\n")
        return 2
    out.write((render_json(result) if fmt == "json" else render_text(result, lang)) + "\n")
    if on_result is not None:
        on_result(definition, result, engine)
    return 0 if result.ok else 1
