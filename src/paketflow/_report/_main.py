"""``paketflow report`` and ``paketflow simulate … --report FILE``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TextIO

from paketflow._definition import load_definition
from paketflow._definition.model import ProcessDefinition
from paketflow._errors import DefinitionError, PaketflowError
from paketflow._report._model import Refusal, Report, build_report
from paketflow._report._render import render_html, render_json, render_text
from paketflow._runtime.model import Event
from paketflow._runtime.simulate import ScenarioResult

__all__ = ["FORMATS", "add_parser", "format_for", "main", "render", "scenario_report"]

FORMATS = ("text", "json", "html")


def render(report: Report, fmt: str) -> str:
    """``report`` as ``text``, ``json`` or ``html``."""
    if fmt == "html":
        return render_html(report)
    if fmt == "json":
        return render_json(report) + "\n"
    if fmt == "text":
        return render_text(report)
    choices = ", ".join(FORMATS)
    raise PaketflowError(f"format: {fmt!r} is not a report format; use one of {choices}")


def format_for(path: str) -> str:
    """The report format a file name asks for: ``.html``/``.htm``, ``.json``, else text."""
    suffix = Path(path).suffix.lower()
    return {".html": "html", ".htm": "html", ".json": "json"}.get(suffix, "text")


def scenario_report(
    definition: ProcessDefinition,
    result: ScenarioResult,
    history: list[Event],
    lang: str,
) -> Report:
    """The report of a scenario run, with the refusals the runner saw."""
    from paketflow._report._render import WORDS

    def action(event: str | None, command: str) -> str:
        if event is not None and event in definition.events:
            return definition.events[event].labels.get(lang)
        return WORDS[lang]["sign"] if command == "sign" else event or command

    refusals = [
        Refusal(s.at, s.actor, action(s.event, s.command), s.reasons)
        for s in result.steps
        if not s.accepted and s.reasons
    ]
    return build_report(definition, history, lang=lang, refusals=refusals)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``report`` on the CLI's subparsers."""
    p = sub.add_parser(
        "report",
        help="write the compliance report of an instance in a store",
        description="Write the compliance report (planned vs actual per stage, delays, "
        "escalations, incomplete meetings, deferred budget lines, warnings, funding) of "
        "an instance kept in a store.",
    )
    p.add_argument("instance", metavar="INSTANCE", help="instance id")
    p.add_argument("--store", required=True, metavar="URL", help="store URL (sqlite:///FILE …)")
    p.add_argument(
        "--definition",
        metavar="DEF",
        help="definition file the instance runs on (its hash must match); by default "
        "the copy the store kept when an engine ran on it",
    )
    p.add_argument("--lang", choices=("id", "en"), default="en", help="report language")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format")
    p.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")
    p.set_defaults(handler=main)


def _write(text: str, output: str | None, out: TextIO) -> None:
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        out.write(text)


def main(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run ``paketflow report``: 0 written, 2 bad definition, store or instance."""
    from paketflow._store import open_store

    try:
        store = open_store(args.store)
        history = store.history(args.instance)
        definition = _definition_of(store, args.store, args.instance, args.definition)
        report = build_report(definition, history, lang=args.lang)
    except DefinitionError as exc:
        for problem in exc.errors:
            err.write(f"{problem}\n")
        return 2
    except PaketflowError as exc:
        err.write(f"{exc}\n")
        return 2
    _write(render(report, args.format), args.output, out)
    return 0


def _definition_of(store: Any, url: str, instance_id: str, path: str | None) -> ProcessDefinition:
    """The definition ``instance_id`` runs on: the file ``path`` (its hash must match
    the instance's), else the resolved document the store kept under the instance's
    definition hash."""
    pinned = store.load(instance_id).definition_hash
    if path is not None:
        definition = load_definition(path)
        if definition.hash != pinned:
            raise PaketflowError(
                f"--definition: {path} has hash {definition.hash}, but instance "
                f"{instance_id!r} runs on {pinned}; pass the definition file it was "
                "started with, or leave --definition out to use the store's copy"
            )
        return definition
    body = getattr(store, "definition_body", lambda _hash: None)(pinned)
    if body is None:
        raise PaketflowError(
            f"--store: {url} keeps no copy of definition {pinned} that instance "
            f"{instance_id!r} runs on (written before paketflow kept definitions, "
            "schema 1); pass --definition FILE"
        )
    return load_definition(json.loads(body))
